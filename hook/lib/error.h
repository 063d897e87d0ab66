/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Errors: a function that can fail returns 0 or a negative errno and fills a
 * struct shm_error. Only main() prints or logs it, once.
 */
#pragma once

#include <stddef.h>

struct shm_error {
        int code; /* positive errno, 0 when unset */
        char message[1024];
};

/* Set *err (when not NULL) and return -code. */
int shm_error_set(struct shm_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefix an existing message with more context: "context: message". */
int shm_error_prefix(struct shm_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
