/* SPDX-License-Identifier: Apache-2.0 */
#include "path.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

bool path_part_from_end(const char *path, unsigned n, struct path_part *part)
{
        const char *end = path + strlen(path);

        for (unsigned i = 0;; i++) {
                while (end > path && end[-1] == '/')
                        end--;
                const char *start = end;
                while (start > path && start[-1] != '/')
                        start--;
                if (start == end)
                        return false;
                if (i == n) {
                        *part = (struct path_part){start, (size_t)(end - start)};
                        return true;
                }
                end = start;
        }
}

bool path_part_is(const struct path_part *part, const char *word)
{
        return part->len == strlen(word) && memcmp(part->s, word, part->len) == 0;
}

char *path_strip(const char *path, unsigned n)
{
        struct path_part part;

        if (!path_part_from_end(path, n ? n - 1 : 0, &part)) {
                errno = EINVAL;
                return NULL;
        }
        size_t len = n ? (size_t)(part.s - path) : strlen(path);
        while (len > 1 && path[len - 1] == '/')
                len--;
        if (len == 0) {
                errno = EINVAL;
                return NULL;
        }
        return strndup(path, len);
}

bool path_is_engine_id(const char *s, size_t len)
{
        if (len != 64)
                return false;
        for (size_t i = 0; i < len; i++)
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                        return false;
        return true;
}
