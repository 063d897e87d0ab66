/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading the few known fields of a streamed JSON document (config.json, the
 * state, containers.json, config.v2.json) and skipping the rest unread.
 *
 * The fields are a table. Every value of a known field must have its shape;
 * everything else is only lexed, at any depth and any size, so odd input the
 * hook does not need (thousands of annotations, deep process.env trees) never
 * refuses a container. In objects (not maps) a member that names a known
 * field only when letter case is ignored, or a known field given twice, is
 * refused: Go's encoding/json (runc, containerd) folds case and keeps the
 * last duplicate, yajl-based crun does neither, so the hook could not know
 * which value the runtime used.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "json.h"

enum json_shape {
        JSON_SHAPE_OBJECT,  /* members are fields of the table */
        JSON_SHAPE_MAP,     /* members are data (annotations): exact keys, no checks */
        JSON_SHAPE_ARRAY,   /* elements are the child with name NULL */
        JSON_SHAPE_STRING,  /* no NUL character, except as a map value */
        JSON_SHAPE_INTEGER, /* digits with an optional '-', no fraction or exponent */
};

struct json_field {
        int parent;       /* index in the table; -1 for the document itself */
        const char *name; /* member name; NULL for array elements and map values */
        enum json_shape shape;
        const char *path; /* for messages: "config.mounts[].destination" */
};

/* Return from json_reader_ops.value or .end to stop reading: the rest is not needed. */
#define JSON_READER_STOP 1

struct json_reader;

struct json_reader_ops {
        /* A string or integer value of known field `field`; `key` is the member name
         * when the parent is a map (NULL otherwise). 0, JSON_READER_STOP or -errno
         * with *err filled. reader->ctx is the caller's. */
        int (*value)(struct json_reader *reader, int field, const char *key, const char *text,
                     size_t len, struct shm_error *err);
        /* An object or array of a known field starts or ends (either may be NULL). */
        int (*begin)(struct json_reader *reader, int field, struct shm_error *err);
        int (*end)(struct json_reader *reader, int field, struct shm_error *err);
};

#define JSON_READER_DEPTH 8 /* known fields nest at most this deep */

struct json_reader {
        const struct json_field *fields;
        size_t n_fields;
        const struct json_reader_ops *ops;
        void *ctx;
        struct json_stream stream;
        unsigned depth;       /* containers open, known or skipped */
        unsigned known_depth; /* the first known_depth of them are known fields */
        struct {
                int field;
                unsigned long long seen; /* child fields met, by index */
                size_t index;            /* next element, in arrays */
        } level[JSON_READER_DEPTH];
        int next;  /* the field of the value that follows a key; -1: skipped */
        char *key; /* the current key of a map */
        size_t key_cap;
};

/* Read all of text (or, with an fd, at most max bytes of it) against the table. */
int json_read_buffer(const struct json_field *fields, size_t n_fields,
                     const struct json_reader_ops *ops, void *ctx, const char *what,
                     const char *text, size_t len, struct shm_error *err);
int json_read_fd(const struct json_field *fields, size_t n_fields,
                 const struct json_reader_ops *ops, void *ctx, const char *what, int fd, size_t max,
                 struct shm_error *err);

/* The field's path for a message, with the current array index: "config.mounts[3].type". */
const char *json_reader_path(const struct json_reader *r, int field, char *buf, size_t size);

/* Parse an INTEGER field's text; -ERANGE when it does not fit. */
int json_integer_value(const char *text, size_t len, long long *out);

/*
 * Does `key` name `field` under Go's case folding (ASCII letters in either
 * case, and U+017F 'ſ' for s, U+212A Kelvin sign for k), as encoding/json
 * matches a member to a struct field that has no exact match?
 */
bool json_key_folds_to(const char *key, size_t len, const char *field);
