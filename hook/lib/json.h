/* SPDX-License-Identifier: Apache-2.0 */
/* Strict, bounded JSON on top of yajl: a tree parser and a streamed event parser. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <yajl/yajl_parse.h>
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

/* How much of a streamed document is read at a time: a 30 KB config.json in
 * two reads, into four pages of memory rather than eight. */
#define JSON_STREAM_PIECE (16u << 10)

/*
 * A document streamed through yajl's event parser in pieces (config.json,
 * containers.json): strict JSON, NUL bytes refused, and nothing but white
 * space after the document, which yajl alone lets pass ('{...}"x').
 * The callbacks get `ctx`; they call json_stream_ended() when the top-level
 * value closes, and stop the parse by filling *err and returning 0, or, when
 * they have what they need, by setting `stopped` and returning 0.
 * `what` names the document in messages.
 */
struct json_stream {
        yajl_handle handle;
        struct shm_error *err;
        const char *what;
        bool ended;   /* the document is complete */
        size_t end;   /* where it ended in the piece that completed it */
        bool stopped; /* a callback set this and returned 0: the rest is not needed */
};

int json_stream_begin(struct json_stream *s, const yajl_callbacks *callbacks, void *ctx,
                      const char *what, struct shm_error *err);
/* Parse the next piece of the text. */
int json_stream_feed(struct json_stream *s, const char *buf, size_t len);
/* Feed all of fd, at most max bytes, in pieces of JSON_STREAM_PIECE. */
int json_stream_read(struct json_stream *s, int fd, size_t max);
/* The end of the text: the document must be complete. */
int json_stream_finish(struct json_stream *s);
void json_stream_free(struct json_stream *s);
/* For the end_map/end_array callback that closes the top-level value. */
void json_stream_ended(struct json_stream *s);
