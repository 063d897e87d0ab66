/* SPDX-License-Identifier: Apache-2.0 */
#include "json_reader.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

bool json_key_folds_to(const char *key, size_t len, const char *field)
{
        const unsigned char *k = (const unsigned char *)key, *end = k + len;

        for (const char *f = field; *f; f++) {
                char lower = (char)(*f | 0x20);
                if (k == end)
                        return false;
                if ((*k | 0x20) == lower &&
                    ((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z'))) {
                        k++;
                } else if (*k == (unsigned char)*f) {
                        k++;
                } else if (lower == 's' && end - k >= 2 && k[0] == 0xc5 && k[1] == 0xbf) {
                        k += 2; /* U+017F LATIN SMALL LETTER LONG S */
                } else if (lower == 'k' && end - k >= 3 && k[0] == 0xe2 && k[1] == 0x84 &&
                           k[2] == 0xaa) {
                        k += 3; /* U+212A KELVIN SIGN */
                } else {
                        return false;
                }
        }
        return k == end;
}

int json_integer_value(const char *text, size_t len, long long *out)
{
        size_t i = len && text[0] == '-';
        long long value = 0;

        if (i == len)
                return -EINVAL;
        for (; i < len; i++) {
                if (text[i] < '0' || text[i] > '9')
                        return -EINVAL;
                if (__builtin_mul_overflow(value, 10, &value) ||
                    __builtin_add_overflow(value, text[i] - '0', &value))
                        return -ERANGE;
        }
        *out = text[0] == '-' ? -value : value;
        return 0;
}

const char *json_reader_path(const struct json_reader *r, int field, char *buf, size_t size)
{
        const char *path = r->fields[field].path, *brackets = strstr(path, "[]");
        size_t index = 0;

        if (!brackets) {
                snprintf(buf, size, "%s", path);
                return buf;
        }
        /* The outermost array open is the one the first "[]" names. */
        for (unsigned d = 0; d < r->known_depth; d++)
                if (r->fields[r->level[d].field].shape == JSON_SHAPE_ARRAY) {
                        index = r->level[d].index;
                        break;
                }
        snprintf(buf, size, "%.*s[%zu]%s", (int)(brackets - path), path, index, brackets + 2);
        return buf;
}

static int reader_fail(struct json_reader *r, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int reader_fail(struct json_reader *r, int code, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->stream.err->message, sizeof(r->stream.err->message), fmt, ap);
        va_end(ap);
        r->stream.err->code = code;
        return 0; /* stops yajl */
}

/* A callback's result as yajl's: 1 to go on, 0 to stop (error or JSON_READER_STOP). */
static int reader_result(struct json_reader *r, int result)
{
        if (result == JSON_READER_STOP) {
                r->stream.stopped = true;
                return 0;
        }
        return result < 0 ? 0 : 1;
}

static int child_of(const struct json_reader *r, int parent, const char *name, size_t len)
{
        for (size_t i = 0; i < r->n_fields; i++) {
                const struct json_field *f = &r->fields[i];
                if (f->parent != parent)
                        continue;
                if (!name ? !f->name
                          : f->name && strlen(f->name) == len && !memcmp(f->name, name, len))
                        return (int)i;
        }
        return -1;
}

/* The known field of the value that starts now, or -1 when it is skipped. */
static int value_field(const struct json_reader *r)
{
        if (r->depth > r->known_depth)
                return -1;
        if (r->depth == 0)
                return child_of(r, -1, NULL, 0);
        int parent = r->level[r->known_depth - 1].field;
        if (r->fields[parent].shape == JSON_SHAPE_ARRAY)
                return child_of(r, parent, NULL, 0);
        return r->next;
}

/* A value is complete: the next element of an enclosing known array. */
static void value_done(struct json_reader *r)
{
        if (r->depth == r->known_depth && r->known_depth > 0 &&
            r->fields[r->level[r->known_depth - 1].field].shape == JSON_SHAPE_ARRAY)
                r->level[r->known_depth - 1].index++;
        r->next = -1;
}

static const char *shape_name(enum json_shape shape)
{
        switch (shape) {
        case JSON_SHAPE_OBJECT:
        case JSON_SHAPE_MAP:
                return "an object";
        case JSON_SHAPE_ARRAY:
                return "an array";
        case JSON_SHAPE_STRING:
                return "a string";
        case JSON_SHAPE_INTEGER:
                return "an integer";
        }
        return "valid";
}

static int wrong_shape(struct json_reader *r, int field)
{
        char path[256];
        if (r->fields[field].parent >= 0 &&
            r->fields[r->fields[field].parent].shape == JSON_SHAPE_MAP)
                return reader_fail(r, EINVAL, "'%s' value of key '%s' is not %s",
                                   json_reader_path(r, r->fields[field].parent, path, sizeof(path)),
                                   r->key, shape_name(r->fields[field].shape));
        return reader_fail(r, EINVAL, "'%s' is not %s",
                           json_reader_path(r, field, path, sizeof(path)),
                           shape_name(r->fields[field].shape));
}

static int deliver(struct json_reader *r, int field, const char *text, size_t len)
{
        bool in_map = r->fields[field].parent >= 0 &&
                      r->fields[r->fields[field].parent].shape == JSON_SHAPE_MAP;
        char path[256];
        int result;

        if (!in_map && r->fields[field].shape == JSON_SHAPE_STRING && memchr(text, '\0', len))
                return reader_fail(r, EINVAL, "'%s' contains a NUL character",
                                   json_reader_path(r, field, path, sizeof(path)));
        result = r->ops->value(r, field, in_map ? r->key : NULL, text, len, r->stream.err);
        value_done(r);
        return reader_result(r, result);
}

static int on_null(void *ctx)
{
        /* null reads as absent, as Go's decoder leaves the field alone. */
        value_done(ctx);
        return 1;
}

static int on_boolean(void *ctx, int value)
{
        struct json_reader *r = ctx;
        int field = value_field(r);
        (void)value;
        if (field >= 0)
                return wrong_shape(r, field);
        value_done(r);
        return 1;
}

static int on_number(void *ctx, const char *text, size_t len)
{
        struct json_reader *r = ctx;
        int field = value_field(r);
        long long ignored;

        if (field < 0) {
                value_done(r);
                return 1;
        }
        if (r->fields[field].shape != JSON_SHAPE_INTEGER)
                return wrong_shape(r, field);
        if (json_integer_value(text, len, &ignored) == -EINVAL)
                return wrong_shape(r, field);
        return deliver(r, field, text, len);
}

static int on_string(void *ctx, const unsigned char *text, size_t len)
{
        struct json_reader *r = ctx;
        int field = value_field(r);

        if (field < 0) {
                value_done(r);
                return 1;
        }
        if (r->fields[field].shape != JSON_SHAPE_STRING)
                return wrong_shape(r, field);
        return deliver(r, field, (const char *)text, len);
}

static int enter(struct json_reader *r, bool is_array)
{
        int field = value_field(r);

        r->depth++;
        r->next = -1;
        if (field < 0)
                return 1;
        enum json_shape shape = r->fields[field].shape;
        if (is_array ? shape != JSON_SHAPE_ARRAY
                     : shape != JSON_SHAPE_OBJECT && shape != JSON_SHAPE_MAP) {
                r->depth--;
                return wrong_shape(r, field);
        }
        if (r->known_depth == JSON_READER_DEPTH)
                return reader_fail(r, EINVAL, "internal error: fields nest too deep");
        r->level[r->known_depth++] = (typeof(r->level[0])){.field = field};
        return r->ops->begin ? reader_result(r, r->ops->begin(r, field, r->stream.err)) : 1;
}

static int leave(struct json_reader *r)
{
        int result = 0;

        if (r->depth == r->known_depth) {
                int field = r->level[r->known_depth - 1].field;
                if (r->ops->end)
                        result = r->ops->end(r, field, r->stream.err);
                r->known_depth--;
        }
        if (--r->depth == 0)
                json_stream_ended(&r->stream);
        value_done(r);
        return reader_result(r, result);
}

static int on_start_map(void *ctx)
{
        return enter(ctx, false);
}

static int on_start_array(void *ctx)
{
        return enter(ctx, true);
}

static int on_end(void *ctx)
{
        return leave(ctx);
}

static int keep_key(struct json_reader *r, const char *key, size_t len)
{
        if (len + 1 > r->key_cap) {
                size_t cap = len + 1 < 64 ? 64 : len + 1;
                char *grown = realloc(r->key, cap);
                if (!grown)
                        return reader_fail(r, ENOMEM, "out of memory");
                r->key = grown;
                r->key_cap = cap;
        }
        memcpy(r->key, key, len);
        r->key[len] = '\0';
        return 1;
}

/* A member of a known object: which field it is, refusing case variants and repeats. */
static int object_member(struct json_reader *r, int parent, const char *key, size_t len)
{
        char path[256];
        int field = child_of(r, parent, key, len);

        if (field >= 0) {
                unsigned long long bit = 1ULL << (field % 64);
                if (r->level[r->known_depth - 1].seen & bit)
                        return reader_fail(r, EINVAL, "'%s' has key '%.*s' twice",
                                           json_reader_path(r, parent, path, sizeof(path)),
                                           (int)len, key);
                r->level[r->known_depth - 1].seen |= bit;
                r->next = field;
                return 1;
        }
        for (size_t i = 0; i < r->n_fields; i++)
                if (r->fields[i].parent == parent && r->fields[i].name &&
                    json_key_folds_to(key, len, r->fields[i].name))
                        return reader_fail(r, EINVAL,
                                           "'%s' has key '%.*s', which runc reads as '%s' and "
                                           "crun ignores; refusing the ambiguous config",
                                           json_reader_path(r, parent, path, sizeof(path)),
                                           (int)len, key, r->fields[i].name);
        r->next = -1;
        return 1;
}

static int on_map_key(void *ctx, const unsigned char *key, size_t len)
{
        struct json_reader *r = ctx;

        r->next = -1;
        if (r->depth > r->known_depth)
                return 1;
        int parent = r->level[r->known_depth - 1].field;
        if (r->fields[parent].shape == JSON_SHAPE_MAP) {
                r->next = child_of(r, parent, NULL, 0);
                return keep_key(r, (const char *)key, len);
        }
        return object_member(r, parent, (const char *)key, len);
}

static const yajl_callbacks reader_callbacks = {
    .yajl_null = on_null,
    .yajl_boolean = on_boolean,
    .yajl_number = on_number,
    .yajl_string = on_string,
    .yajl_start_map = on_start_map,
    .yajl_map_key = on_map_key,
    .yajl_end_map = on_end,
    .yajl_start_array = on_start_array,
    .yajl_end_array = on_end,
};

static int reader_run(struct json_reader *r, const char *what, const char *text, size_t len, int fd,
                      size_t max, struct shm_error *err)
{
        int result = json_stream_begin(&r->stream, &reader_callbacks, r, what, err);
        if (result == 0)
                result = text ? json_stream_feed(&r->stream, text, len)
                              : json_stream_read(&r->stream, fd, max);
        if (result == 0)
                result = json_stream_finish(&r->stream);
        json_stream_free(&r->stream);
        free(r->key);
        r->key = NULL;
        return result;
}

int json_read_buffer(const struct json_field *fields, size_t n_fields,
                     const struct json_reader_ops *ops, void *ctx, const char *what,
                     const char *text, size_t len, struct shm_error *err)
{
        struct json_reader r = {
            .fields = fields, .n_fields = n_fields, .ops = ops, .ctx = ctx, .next = -1};
        return reader_run(&r, what, text ? text : "", len, -1, 0, err);
}

int json_read_fd(const struct json_field *fields, size_t n_fields,
                 const struct json_reader_ops *ops, void *ctx, const char *what, int fd, size_t max,
                 struct shm_error *err)
{
        struct json_reader r = {
            .fields = fields, .n_fields = n_fields, .ops = ops, .ctx = ctx, .next = -1};
        return reader_run(&r, what, NULL, 0, fd, max, err);
}
