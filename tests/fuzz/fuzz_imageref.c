/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: image references (annotations, containers.json, config.v2.json). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imageref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct shm_error err = {0};
        struct image_ref ref, again;
        char *text = malloc(size + 1);

        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = '\0';
        if (image_ref_parse(text, &ref, &err) == 0) {
                if (ref.n_forms < 1 || ref.n_forms > 4)
                        abort();
                for (size_t i = 0; i < ref.n_forms; i++) {
                        for (size_t j = 0; j < i; j++)
                                if (strcmp(ref.forms[i], ref.forms[j]) == 0)
                                        abort();
                        /* policy.c relies on it: every form is part of the first. */
                        if (!strstr(ref.forms[0], ref.forms[i]))
                                abort();
                }
                /* Normalizing is idempotent: the full form parses to itself. */
                if (image_ref_parse(ref.forms[0], &again, &err) != 0 ||
                    strcmp(again.forms[0], ref.forms[0]) != 0)
                        abort();
                image_ref_free(&again);
                image_ref_free(&ref);
        }
        free(text);
        return 0;
}
