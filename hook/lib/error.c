/* SPDX-License-Identifier: Apache-2.0 */
#include "error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int shm_error_set(struct shm_error *err, int code, const char *fmt, ...)
{
        if (code <= 0)
                code = EINVAL;
        if (err) {
                va_list ap;
                va_start(ap, fmt);
                vsnprintf(err->message, sizeof(err->message), fmt, ap);
                va_end(ap);
                err->code = code;
        }
        return -code;
}

int shm_error_prefix(struct shm_error *err, const char *fmt, ...)
{
        char prefix[512];
        char joined[sizeof(prefix) + sizeof(err->message) + 2];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(prefix, sizeof(prefix), fmt, ap);
        va_end(ap);
        snprintf(joined, sizeof(joined), "%s: %s", prefix, err->message);
        /* Keep the start: it says which object failed. */
        size_t len = strlen(joined);
        if (len >= sizeof(err->message))
                len = sizeof(err->message) - 1;
        memcpy(err->message, joined, len);
        err->message[len] = '\0';
        return -err->code;
}
