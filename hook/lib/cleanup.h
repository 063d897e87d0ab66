/* SPDX-License-Identifier: Apache-2.0 */
/* Scope-bound cleanup helpers, in the style of systemd and crun. */
#pragma once

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <yajl/yajl_tree.h>

static inline void cleanup_freep(void *p)
{
        free(*(void **)p);
}

static inline void cleanup_closep(int *fd)
{
        if (*fd >= 0) {
                int saved = errno;
                close(*fd);
                errno = saved;
        }
}

static inline void cleanup_fclosep(FILE **f)
{
        if (*f)
                fclose(*f);
}

static inline void cleanup_yajl_treep(yajl_val *v)
{
        if (*v)
                yajl_tree_free(*v);
}

#define _cleanup_free_      __attribute__((cleanup(cleanup_freep)))
#define _cleanup_close_     __attribute__((cleanup(cleanup_closep)))
#define _cleanup_fclose_    __attribute__((cleanup(cleanup_fclosep)))
#define _cleanup_yajl_tree_ __attribute__((cleanup(cleanup_yajl_treep)))

/* Hand ownership out of a cleanup-scoped variable. */
#define steal_pointer(p)                                                                           \
        ({                                                                                         \
                __typeof__(*(p)) _tmp = *(p);                                                      \
                *(p) = NULL;                                                                       \
                _tmp;                                                                              \
        })

#define steal_fd(fd)                                                                               \
        ({                                                                                         \
                int _tmp = *(fd);                                                                  \
                *(fd) = -1;                                                                        \
                _tmp;                                                                              \
        })

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
