/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: one line of mountinfo, as the hook reads it by mount ID. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mountinfo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct mountinfo_entry e;
        char *line = malloc(size + 1);

        if (!line)
                return 0;
        memcpy(line, data, size);
        line[size] = '\0';
        int r = mountinfo_parse_line(line, &e);
        if (r == 0) {
                /* Decoding only shortens fields; every field is there. */
                if (!e.root || !e.mount_point || !e.fstype || !e.source || !e.fstype[0] ||
                    e.id < 0 || e.parent_id < 0 || strlen(e.root) > size ||
                    strlen(e.mount_point) > size)
                        abort();
                mountinfo_entry_free(&e);
        } else if (r != -EINVAL && r != -ENOMEM) {
                abort();
        } else if (e.root || e.fstype) {
                abort();
        }
        free(line);
        return 0;
}
