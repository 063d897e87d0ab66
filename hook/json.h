/* SPDX-License-Identifier: Apache-2.0 */
/* Strict, bounded JSON on top of yajl's tree API. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <yajl/yajl_tree.h>

#include "error.h"

/* Deeper documents are refused before yajl sees them (its tree free recurses). */
#define JSON_MAX_DEPTH 64

/*
 * Parse buf[0..len) as one JSON object. Refuses NUL bytes (raw or \u0000),
 * nesting deeper than JSON_MAX_DEPTH, comments, trailing data and any top
 * level value that is not an object. `what` names the document in errors.
 * buf[len] must be '\0' (yajl_tree_parse reads a C string).
 */
int json_parse_object(const char *buf, size_t len, const char *what, yajl_val *out,
                      struct shm_error *err);

/* The same for any top-level value (containers-storage files are arrays). */
int json_parse_value(const char *buf, size_t len, const char *what, yajl_val *out,
                     struct shm_error *err);

/* The member `key` of `object`, or NULL when absent (or object is not one). */
yajl_val json_member(yajl_val object, const char *key);

/* Refuse an object that holds the same key twice (yajl keeps both). */
int json_check_unique_keys(yajl_val object, const char *where, struct shm_error *err);

/*
 * Typed member access. Each returns 0 and sets *out (NULL/absent flag when
 * the member is missing or null), or -EINVAL with a message naming
 * "where.key" when the member has another type.
 */
int json_get_string(yajl_val object, const char *key, const char *where, const char **out,
                    struct shm_error *err);
int json_get_object(yajl_val object, const char *key, const char *where, yajl_val *out,
                    struct shm_error *err);
int json_get_array(yajl_val object, const char *key, const char *where, yajl_val *out,
                   struct shm_error *err);
/* *present is false when the member is missing or null. Floats are refused. */
int json_get_int64(yajl_val object, const char *key, const char *where, int64_t *out, bool *present,
                   struct shm_error *err);
