/* SPDX-License-Identifier: Apache-2.0 */
/* Shared helpers for the cmocka unit tests. */
#pragma once

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Fail with both strings shown when `needle` is not in `haystack`. */
#define assert_contains(haystack, needle)                                                          \
        do {                                                                                       \
                const char *h_ = (haystack), *n_ = (needle);                                       \
                if (!h_ || !strstr(h_, n_)) {                                                      \
                        print_error("'%s' does not contain '%s'\n", h_ ? h_ : "(null)", n_);       \
                        fail();                                                                    \
                }                                                                                  \
        } while (0)

/* A fresh directory under $TMPDIR (or /tmp); caller frees and removes it. */
static inline char *unit_mkdtemp(void)
{
        const char *tmp = getenv("TMPDIR");
        char *dir;
        assert_true(asprintf(&dir, "%s/unit-test.XXXXXX", tmp && *tmp ? tmp : "/tmp") > 0);
        assert_non_null(mkdtemp(dir));
        return dir;
}

static inline int unit_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st;
        (void)flag;
        (void)ftw;
        return remove(path);
}

static inline void unit_rm_rf(char *dir)
{
        if (!dir)
                return;
        nftw(dir, unit_rm_one, 16, FTW_DEPTH | FTW_PHYS);
        free(dir);
}

/* mkdir -p dir/rel */
static inline void unit_mkdirs(const char *dir, const char *rel)
{
        char path[4096];
        assert_true((size_t)snprintf(path, sizeof(path), "%s/%s", dir, rel) < sizeof(path));
        for (char *p = path + strlen(dir) + 1;; p++) {
                if (*p == '/' || *p == '\0') {
                        char saved = *p;
                        *p = '\0';
                        if (mkdir(path, 0755) < 0 && errno != EEXIST)
                                fail_msg("mkdir %s: %s", path, strerror(errno));
                        *p = saved;
                        if (!saved)
                                break;
                }
        }
}

/* Write `len` bytes of `text` to dir/rel (parent directories created). */
static inline void unit_write_len(const char *dir, const char *rel, const char *text, size_t len)
{
        char path[4096];
        assert_true((size_t)snprintf(path, sizeof(path), "%s/%s", dir, rel) < sizeof(path));
        char *slash = strrchr(path, '/');
        if (slash > path + strlen(dir)) {
                *slash = '\0';
                unit_mkdirs(dir, path + strlen(dir) + 1);
                *slash = '/';
        }
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                fail_msg("open %s: %s", path, strerror(errno));
        assert_int_equal(write(fd, text, len), (ssize_t)len);
        close(fd);
}

static inline void unit_write(const char *dir, const char *rel, const char *text)
{
        unit_write_len(dir, rel, text, strlen(text));
}

/* "dir/rel", caller frees. */
static inline char *unit_path(const char *dir, const char *rel)
{
        char *path;
        assert_true(asprintf(&path, "%s/%s", dir, rel) > 0);
        return path;
}
