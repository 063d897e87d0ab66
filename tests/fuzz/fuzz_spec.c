/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: a bundle's config.json. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct oci_spec spec;
        struct shm_error err = {0};
        char *buf = malloc(size + 1);

        if (!buf)
                return 0;
        memcpy(buf, data, size);
        buf[size] = '\0';
        if (oci_spec_parse(buf, size, "/run/bundle", NULL, &spec, &err) == 0) {
                if (!spec.root_path || spec.root_path[0] != '/')
                        abort();
                /* Touch everything a caller reads, so ASan sees stale pointers. */
                size_t total = strlen(spec.root_path);
                for (size_t i = 0; i < spec.n_annotations; i++)
                        total +=
                            strlen(spec.annotations[i].key) + strlen(spec.annotations[i].value);
                if (spec.shm.present) {
                        total += spec.shm.type ? strlen(spec.shm.type) : 0;
                        total += spec.shm.source ? strlen(spec.shm.source) : 0;
                }
                if (spec.hostname_source)
                        total += strlen(spec.hostname_source);
                if (spec.n_annotations)
                        (void)oci_spec_annotation(&spec, spec.annotations[0].key);
                (void)total;
                oci_spec_free(&spec);
        } else if (!err.message[0] || err.code <= 0) {
                abort();
        }
        free(buf);
        return 0;
}
