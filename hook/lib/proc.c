/* SPDX-License-Identifier: Apache-2.0 */
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "state.h"

int proc_parse_u64(const char *s, uint64_t *out)
{
        uint64_t v = 0;
        if (!*s || (s[0] == '0' && s[1]))
                return -EINVAL;
        for (; *s; s++) {
                if (*s < '0' || *s > '9' || v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
                        return -EINVAL;
                v = v * 10 + (uint64_t)(*s - '0');
        }
        *out = v;
        return 0;
}

int proc_stat_parse(const char *buf, char *state, pid_t *ppid, uint64_t *start_time)
{
        /* The comm is in parentheses and may itself hold ") ": the last one ends it. */
        const char *p = strrchr(buf, ')');
        char field[32];
        if (!p)
                return -EINVAL;
        p++;
        for (int n = 3; n <= 22; n++) {
                while (*p == ' ')
                        p++;
                size_t len = strcspn(p, " \n");
                if (len == 0 || len >= sizeof(field))
                        return -EINVAL;
                memcpy(field, p, len);
                field[len] = '\0';
                p += len;
                if (n == 3 && state)
                        *state = field[0];
                if (n == 4 && ppid) {
                        uint64_t v;
                        if (proc_parse_u64(field, &v) < 0 || v > STATE_PID_LIMIT)
                                return -EINVAL;
                        *ppid = (pid_t)v;
                }
                if (n == 22)
                        return proc_parse_u64(field, start_time);
        }
        return -EINVAL;
}

int proc_start_time(pid_t pid, pid_t *ppid, uint64_t *start_time)
{
        char path[64], buf[1024];
        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return errno == ENOENT || errno == ESRCH ? -ENOENT : -errno;
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        if (n < 0)
                return errno == ESRCH ? -ENOENT : -errno;
        buf[n] = '\0';
        char state = '?';
        int ret = proc_stat_parse(buf, &state, ppid, start_time);
        /* A zombie has let go of its namespaces: as good as gone. */
        return ret == 0 && (state == 'Z' || state == 'X') ? -ENOENT : ret;
}
