/* SPDX-License-Identifier: Apache-2.0 */
#include "userns.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "fileio.h"

/* One unsigned decimal field, after blanks (the kernel pads them to ten columns). */
static bool parse_field(const char **s, const char *end, uint64_t *value)
{
        const char *p = *s;
        uint64_t v = 0;

        while (p < end && *p == ' ')
                p++;
        if (p == end || *p < '0' || *p > '9')
                return false;
        for (; p < end && *p >= '0' && *p <= '9'; p++) {
                v = v * 10 + (uint64_t)(*p - '0');
                if (v > UINT32_MAX + 1ULL)
                        return false;
        }
        *s = p;
        *value = v;
        return true;
}

/* uid 4294967295 is (uid_t)-1, never mapped: a range ends at or below it. */
static bool parse_line(const char *line, const char *end, uint64_t f[3])
{
        const char *s = line;
        for (int i = 0; i < 3; i++)
                if (!parse_field(&s, end, &f[i]))
                        return false;
        while (s < end && *s == ' ')
                s++;
        return s == end && f[0] <= UINT32_MAX && f[1] <= UINT32_MAX && f[2] &&
               f[0] + f[2] <= UINT32_MAX && f[1] + f[2] <= UINT32_MAX;
}

int userns_parse_uid_map(const char *text, size_t len, struct userns *out, struct shm_error *err)
{
        size_t n_lines = 0;
        bool identity_all = false;

        *out = (struct userns){.overflow_uid = USERNS_OVERFLOW_UID};
        for (const char *line = text, *end = text + len; line < end;) {
                const char *nl = memchr(line, '\n', (size_t)(end - line));
                const char *stop = nl ? nl : end;
                uint64_t f[3];

                if (!parse_line(line, stop, f))
                        return shm_error_set(err, EINVAL,
                                             "uid_map line '%.*s' is not "
                                             "'INSIDE OUTSIDE COUNT'",
                                             (int)(stop - line > 80 ? 80 : stop - line), line);
                n_lines++;
                identity_all = f[0] == 0 && f[1] == 0 && f[2] == UINT32_MAX;
                if (f[0] == 0) {
                        out->root_mapped = true;
                        out->root_uid = (uint32_t)f[1];
                }
                line = nl ? nl + 1 : end;
        }
        /* The kernel's map of the initial namespace; a namespace made with the same map
         * needs every uid of its parent mapped, so only root can make one, and the strict
         * rule applies to it too. */
        out->initial = n_lines == 1 && identity_all;
        return 0;
}

/* /proc/sys/kernel/overflowuid, when it can be read; the kernel's default otherwise. */
static uint32_t overflow_uid(void)
{
        _cleanup_free_ char *text = NULL;
        const char *s;
        uint64_t v;
        size_t len;

        if (read_file_bounded(AT_FDCWD, "/proc/sys/kernel/overflowuid", 32, &text, &len, NULL) < 0)
                return USERNS_OVERFLOW_UID;
        s = text;
        if (!parse_field(&s, text + len, &v) || v > UINT32_MAX)
                return USERNS_OVERFLOW_UID;
        return (uint32_t)v;
}

/*
 * The initial user namespace has a fixed inode on nsfs (PROC_USER_INIT_INO,
 * Linux 3.8), and every other namespace's is allocated above 0xF0000000: a
 * match is never wrong, and a rootful start takes one stat instead of
 * reading and parsing uid_map.
 */
#define USERNS_INITIAL_INO 0xEFFFFFFDU

static const struct userns initial_userns = {
    .initial = true, .root_mapped = true, .overflow_uid = USERNS_OVERFLOW_UID};

static bool in_initial_userns(void)
{
        struct stat st;
        return stat("/proc/self/ns/user", &st) == 0 && st.st_ino == USERNS_INITIAL_INO;
}

void userns_current(struct userns *out, struct shm_error *err)
{
        _cleanup_free_ char *text = NULL;
        size_t len;

        if (in_initial_userns()) {
                *out = initial_userns;
                return;
        }
        if (read_file_bounded(AT_FDCWD, "/proc/self/uid_map", USERNS_UID_MAP_MAX, &text, &len,
                              err) < 0 ||
            userns_parse_uid_map(text, len, out, err) < 0) {
                *out = initial_userns;
                return;
        }
        if (!out->initial) /* read only where it is used: rootful runs never pay for it */
                out->overflow_uid = overflow_uid();
}

bool userns_owner_trusted(const struct userns *ns, uid_t owner, uid_t euid)
{
        if (owner == 0 || owner == euid)
                return true;
        return !ns->initial && owner == ns->overflow_uid;
}

struct userns_text userns_format(const struct userns *ns)
{
        struct userns_text t = {""};

        if (ns->initial)
                return t;
        if (ns->root_mapped)
                snprintf(t.s, sizeof(t.s), "userns=rootless uid=%u", (unsigned)ns->root_uid);
        else
                snprintf(t.s, sizeof(t.s), "userns=rootless uid=unmapped");
        return t;
}
