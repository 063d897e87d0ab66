/* SPDX-License-Identifier: Apache-2.0 */
#include "mountinfo.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

static bool is_octal(char c)
{
        return c >= '0' && c <= '7';
}

/* A copy of the field that starts at *s, with \ooo escapes decoded; *s moves past it. */
static char *take_field(const char **s)
{
        const char *start = *s;
        size_t len = strcspn(start, " \n");
        char *out = malloc(len + 1), *d = out;

        if (!out)
                return NULL;
        for (size_t i = 0; i < len; i++) {
                if (start[i] == '\\' && i + 3 < len && is_octal(start[i + 1]) &&
                    is_octal(start[i + 2]) && is_octal(start[i + 3]) && start[i + 1] <= '3') {
                        *d++ = (char)((start[i + 1] - '0') << 6 | (start[i + 2] - '0') << 3 |
                                      (start[i + 3] - '0'));
                        i += 3;
                } else {
                        *d++ = start[i];
                }
        }
        *d = '\0';
        *s = start + len;
        if (**s == ' ')
                (*s)++;
        return out;
}

/* Skip one field and the space after it; false when there is none. */
static bool skip_field(const char **s)
{
        size_t len = strcspn(*s, " \n");
        if (len == 0)
                return false;
        *s += len;
        if (**s == ' ')
                (*s)++;
        return true;
}

static bool parse_uint(const char **s, char stop, unsigned long max, unsigned long *out)
{
        const char *p = *s;
        unsigned long v = 0;

        if (*p < '0' || *p > '9')
                return false;
        for (; *p >= '0' && *p <= '9'; p++) {
                v = v * 10 + (unsigned long)(*p - '0');
                if (v > max)
                        return false;
        }
        if (*p != stop)
                return false;
        *s = p + 1;
        *out = v;
        return true;
}

int mountinfo_parse_line(const char *line, struct mountinfo_entry *e)
{
        unsigned long id, parent, major, minor;
        const char *p = line;

        *e = (struct mountinfo_entry){0};
        if (!parse_uint(&p, ' ', 0x7fffffff, &id) || !parse_uint(&p, ' ', 0x7fffffff, &parent) ||
            !parse_uint(&p, ':', 0xffffffff, &major) || !parse_uint(&p, ' ', 0xffffffff, &minor))
                return -EINVAL;
        e->id = (int)id;
        e->parent_id = (int)parent;
        e->major = (unsigned)major;
        e->minor = (unsigned)minor;

        if (!(e->root = take_field(&p)) || !(e->mount_point = take_field(&p)))
                goto oom;
        if (!skip_field(&p)) /* per-mount options */
                goto invalid;
        /* Optional fields (shared:N, master:N, ...) end at a lone "-". */
        while (!(p[0] == '-' && p[1] == ' '))
                if (!skip_field(&p))
                        goto invalid;
        p += 2;
        if (!(e->fstype = take_field(&p)) || !(e->source = take_field(&p)))
                goto oom;
        if (!e->fstype[0])
                goto invalid;
        return 0;

invalid:
        mountinfo_entry_free(e);
        return -EINVAL;
oom:
        mountinfo_entry_free(e);
        return -ENOMEM;
}

int mountinfo_find(const char *path, int id, struct mountinfo_entry *e, struct shm_error *err)
{
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_free_ char *line = NULL;
        char prefix[16];
        size_t cap = 0, prefix_len;

        *e = (struct mountinfo_entry){0};
        prefix_len = (size_t)snprintf(prefix, sizeof(prefix), "%d ", id);
        f = fopen(path, "re");
        if (!f)
                return shm_error_set(err, errno, "cannot read '%s': %s", path, strerror(errno));
        while (getline(&line, &cap, f) > 0) {
                if (strncmp(line, prefix, prefix_len) != 0)
                        continue;
                int r = mountinfo_parse_line(line, e);
                if (r == -ENOMEM)
                        return shm_error_set(err, ENOMEM, "out of memory");
                if (r < 0)
                        return shm_error_set(err, EIO, "'%s' has a malformed line for mount %d",
                                             path, id);
                return 0;
        }
        if (ferror(f))
                return shm_error_set(err, EIO, "cannot read '%s'", path);
        return shm_error_set(err, ENOENT, "mount %d is not in '%s'", id, path);
}

void mountinfo_entry_free(struct mountinfo_entry *e)
{
        free(e->root);
        free(e->mount_point);
        free(e->fstype);
        free(e->source);
        *e = (struct mountinfo_entry){0};
}
