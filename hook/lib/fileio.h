/* SPDX-License-Identifier: Apache-2.0 */
/* Bounded reads: every input the hook takes has a size cap. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/*
 * Read all of fd into a NUL-terminated buffer. size is what fstat said of a
 * regular file the caller opened, or 0 when unknown (/proc and cgroup files
 * say 0): with it the read takes one allocation and ends without a read of
 * the end. Fails with EFBIG when the input is larger than max. `what` names
 * the input in error messages.
 */
int read_fd_bounded(int fd, size_t size, size_t max, const char *what, char **out, size_t *out_len,
                    struct shm_error *err);

/*
 * Open dirfd/path for reading: a regular file of at most max bytes, not
 * through a symlink in its last component. Returns the fd (O_CLOEXEC), and
 * its size in *size when size is not NULL.
 */
int open_regular_file(int dirfd, const char *path, size_t max, size_t *size, struct shm_error *err);

/* open_regular_file() and read_fd_bounded() together; the message names the path. */
int read_file_bounded(int dirfd, const char *path, size_t max, char **out, size_t *out_len,
                      struct shm_error *err);

/* Return 1 when buf[0..len) contains a NUL byte. */
int has_nul_byte(const char *buf, size_t len);

/* Do the two paths name one file (the same inode)? */
bool same_file(const char *a, const char *b);
