/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the strict JSON layer (prescan + yajl tree + typed getters). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Depth of a yajl tree; the prescan promises at most JSON_MAX_DEPTH. */
static unsigned depth_of(yajl_val v)
{
        unsigned max = 0, d;
        if (YAJL_IS_OBJECT(v)) {
                for (size_t i = 0; i < v->u.object.len; i++)
                        if ((d = depth_of(v->u.object.values[i])) > max)
                                max = d;
                return max + 1;
        }
        if (YAJL_IS_ARRAY(v)) {
                for (size_t i = 0; i < v->u.array.len; i++)
                        if ((d = depth_of(v->u.array.values[i])) > max)
                                max = d;
                return max + 1;
        }
        if (YAJL_IS_STRING(v) && strlen(v->u.string) != strlen(v->u.string))
                abort();
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct shm_error err = {0};
        yajl_val tree = NULL;
        char *buf = malloc(size + 1);

        if (!buf)
                return 0;
        memcpy(buf, data, size);
        buf[size] = '\0';
        if (json_parse_value(buf, size, "input", &tree, &err) == 0) {
                if (memchr(buf, '\0', size) || depth_of(tree) > JSON_MAX_DEPTH)
                        abort();
                yajl_tree_free(tree);
        }
        if (json_parse_object(buf, size, "input", &tree, &err) == 0) {
                const char *s;
                yajl_val v;
                int64_t n;
                bool present;
                if (!YAJL_IS_OBJECT(tree))
                        abort();
                (void)json_check_unique_keys(tree, "input", &err);
                (void)json_get_string(tree, "id", "input", &s, &err);
                (void)json_get_object(tree, "root", "input", &v, &err);
                (void)json_get_array(tree, "mounts", "input", &v, &err);
                (void)json_get_int64(tree, "pid", "input", &n, &present, &err);
                yajl_tree_free(tree);
        }
        free(buf);
        return 0;
}
