/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: SIZE and N% (policy values and shm=request annotations). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "size.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct shm_error err = {0};
        uint64_t bytes = 0;
        unsigned percent = 0;
        char *text = malloc(size + 1);

        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = '\0'; /* an embedded NUL ends the text, as in C strings */
        if (size_parse(text, &bytes, &err) == 0) {
                /* The grammar: digits first (leading zeros are decimal, never octal), not
                 * zero, at most SIZE_TEXT_MAX characters, no sign, space, dot or x. */
                if (bytes == 0 || text[0] < '0' || text[0] > '9' || strlen(text) > SIZE_TEXT_MAX ||
                    strpbrk(text, "+- .xX;%"))
                        abort();
                struct size_text t = size_format(bytes);
                if (!t.s[0])
                        abort();
        }
        if (percent_parse(text, &percent, &err) == 0) {
                if (percent < 1 || percent > 100)
                        abort();
                uint64_t total = 0;
                memcpy(&total, data, size < sizeof(total) ? size : sizeof(total));
                uint64_t part = size_percent_of(total, percent);
                if (part > total || part % 4096)
                        abort();
        }
        free(text);
        return 0;
}
