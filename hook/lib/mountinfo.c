/* SPDX-License-Identifier: Apache-2.0 */
#include "mountinfo.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

#define MOUNTINFO_READ_BUFFER 16384

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

/* The mount ID and device at the start of a line, without parsing the rest. */
static bool line_id_and_dev(const char *line, unsigned long *id, unsigned long *major,
                            unsigned long *minor)
{
        unsigned long parent;
        return parse_uint(&line, ' ', 0x7fffffff, id) &&
               parse_uint(&line, ' ', 0x7fffffff, &parent) &&
               parse_uint(&line, ':', 0xffffffff, major) &&
               parse_uint(&line, ' ', 0xffffffff, minor);
}

static int take_line(const char *path, int id, const char *line, struct mountinfo_entry *e,
                     struct shm_error *err)
{
        int r = mountinfo_parse_line(line, e);
        if (r == -ENOMEM)
                return shm_error_set(err, ENOMEM, "out of memory");
        if (r < 0)
                return shm_error_set(err, EIO, "'%s' has a malformed line for mount %d", path, id);
        return 0;
}

int mountinfo_find_twin(const char *path, int id, unsigned major, unsigned minor,
                        struct mountinfo_entry *e, struct mountinfo_entry *twin,
                        struct shm_error *err)
{
        /* Declared before f, so released after it. procfs reports a 1 KiB block, and
         * glibc sizes its own buffer by that: this one reads a node's table in a few
         * reads, not dozens. */
        _cleanup_free_ char *buffer = malloc(MOUNTINFO_READ_BUFFER);
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_free_ char *line = NULL;
        size_t cap = 0;
        int r;

        *e = (struct mountinfo_entry){0};
        if (twin)
                *twin = (struct mountinfo_entry){0};
        if (!buffer)
                return shm_error_set(err, ENOMEM, "out of memory");
        f = fopen(path, "re");
        if (!f)
                return shm_error_set(err, errno, "cannot read '%s': %s", path, strerror(errno));
        setvbuf(f, buffer, _IOFBF, MOUNTINFO_READ_BUFFER);
        while (getline(&line, &cap, f) > 0) {
                unsigned long line_id, line_major, line_minor;
                if (!line_id_and_dev(line, &line_id, &line_major, &line_minor))
                        continue;
                if ((int)line_id == id && !e->fstype) {
                        if ((r = take_line(path, id, line, e, err)) < 0)
                                return r;
                } else if (twin && !twin->fstype && line_major == major && line_minor == minor) {
                        if ((r = take_line(path, (int)line_id, line, twin, err)) < 0) {
                                mountinfo_entry_free(e);
                                return r;
                        }
                }
                if (e->fstype && (!twin || twin->fstype))
                        return 0;
        }
        if (ferror(f)) {
                mountinfo_entry_free(e);
                mountinfo_entry_free(twin);
                return shm_error_set(err, EIO, "cannot read '%s'", path);
        }
        if (e->fstype)
                return 0;
        if (twin)
                mountinfo_entry_free(twin);
        return shm_error_set(err, ENOENT, "mount %d is not in '%s'", id, path);
}

int mountinfo_find(const char *path, int id, struct mountinfo_entry *e, struct shm_error *err)
{
        return mountinfo_find_twin(path, id, 0, 0, e, NULL, err);
}

void mountinfo_entry_free(struct mountinfo_entry *e)
{
        if (!e)
                return;
        free(e->root);
        free(e->mount_point);
        free(e->fstype);
        free(e->source);
        *e = (struct mountinfo_entry){0};
}
