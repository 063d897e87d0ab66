/* SPDX-License-Identifier: Apache-2.0 */
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"

int read_fd_bounded(int fd, size_t size, size_t max, const char *what, char **out, size_t *out_len,
                    struct shm_error *err)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, cap = 0, first = 16384;

        /* A known size: one allocation, no copies as it grows, and no read for the end. */
        if (size > 0)
                first = size < max ? size + 1 : max + 1;
        for (;;) {
                if (len == cap) {
                        size_t want = cap ? cap * 2 : first;
                        if (want > max + 1)
                                want = max + 1;
                        if (want <= len)
                                return shm_error_set(err, EFBIG, "%s is larger than %zu bytes",
                                                     what, max);
                        char *grown = realloc(buf, want + 1);
                        if (!grown)
                                return shm_error_set(err, ENOMEM, "cannot read %s: out of memory",
                                                     what);
                        buf = grown;
                        cap = want;
                }
                size_t asked = cap - len;
                ssize_t n = read(fd, buf + len, asked);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return shm_error_set(err, errno, "cannot read %s: %s", what,
                                             strerror(errno));
                }
                if (n == 0)
                        break;
                len += (size_t)n;
                if (len > max)
                        return shm_error_set(err, EFBIG, "%s is larger than %zu bytes", what, max);
                /* A regular file read short at its size is at its end. */
                if (size > 0 && len == size && (size_t)n < asked)
                        break;
        }
        if (!buf) {
                buf = malloc(1);
                if (!buf)
                        return shm_error_set(err, ENOMEM, "cannot read %s: out of memory", what);
        }
        buf[len] = '\0';
        *out = steal_pointer(&buf);
        if (out_len)
                *out_len = len;
        return 0;
}

int open_regular_file(int dirfd, const char *path, size_t max, size_t *size, struct shm_error *err)
{
        _cleanup_close_ int fd = -1;
        struct stat st;

        /* O_NONBLOCK only guards the open (a FIFO would block it); reads of regular
         * files never block. */
        fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                if (errno == ELOOP)
                        return shm_error_set(err, ELOOP, "'%s' is a symbolic link", path);
                return shm_error_set(err, errno, "cannot open '%s': %s", path, strerror(errno));
        }
        if (fstat(fd, &st) < 0)
                return shm_error_set(err, errno, "cannot stat '%s': %s", path, strerror(errno));
        if (!S_ISREG(st.st_mode))
                return shm_error_set(err, EINVAL, "'%s' is not a regular file", path);
        if ((size_t)st.st_size > max)
                return shm_error_set(err, EFBIG, "'%s' is larger than %zu bytes", path, max);
        if (size)
                *size = (size_t)st.st_size;
        return steal_fd(&fd);
}

int read_file_bounded(int dirfd, const char *path, size_t max, char **out, size_t *out_len,
                      struct shm_error *err)
{
        size_t size = 0;
        _cleanup_close_ int fd = open_regular_file(dirfd, path, max, &size, err);
        char what[512];

        if (fd < 0)
                return fd;
        snprintf(what, sizeof(what), "'%s'", path);
        return read_fd_bounded(fd, size, max, what, out, out_len, err);
}

int has_nul_byte(const char *buf, size_t len)
{
        return memchr(buf, '\0', len) != NULL;
}

bool same_file(const char *a, const char *b)
{
        struct stat sa, sb;
        return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
               sa.st_ino == sb.st_ino;
}
