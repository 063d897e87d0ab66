/* SPDX-License-Identifier: Apache-2.0 */
#include "json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * One pass over the raw text before parsing: depth, NUL bytes and comments.
 * Strings are skipped so brackets inside them do not count. The text is a C
 * string (yajl_tree_parse needs one): buf[len] is '\0', so the strcspn()
 * jumps, which glibc vectorizes, stop at the end.
 */
static int json_prescan(const char *buf, size_t len, const char *what, struct shm_error *err)
{
        const char *p = buf, *end = buf + len, *doc_end = NULL;
        unsigned depth = 0;

        if (memchr(buf, '\0', len))
                return shm_error_set(err, EINVAL, "%s contains a NUL byte", what);
        while ((p += strcspn(p, "\"{[}]/")) < end) {
                switch (*p++) {
                case '"':
                        /* To the closing quote; an escape takes two bytes. */
                        while ((p += strcspn(p, "\"\\")) < end && *p == '\\') {
                                if (end - p > 5 && memcmp(p + 1, "u0000", 5) == 0)
                                        return shm_error_set(
                                            err, EINVAL, "%s contains a NUL character in a string",
                                            what);
                                if (end - p < 2)
                                        goto done; /* unterminated: see below */
                                p += 2;
                        }
                        if (p < end)
                                p++;
                        break;
                case '{':
                case '[':
                        if (++depth > JSON_MAX_DEPTH)
                                return shm_error_set(err, EINVAL,
                                                     "%s is nested deeper than %d levels", what,
                                                     JSON_MAX_DEPTH);
                        break;
                case '}':
                case ']':
                        if (depth > 0 && --depth == 0 && !doc_end)
                                doc_end = p;
                        break;
                default: /* '/' */
                        return shm_error_set(err, EINVAL, "%s is not valid JSON: comment", what);
                }
        }
done:
        /* yajl lets an unfinished string after the document pass ('{}"x'). */
        if (doc_end && strspn(doc_end, " \t\r\n") != (size_t)(end - doc_end))
                return shm_error_set(err, EINVAL, "%s is not valid JSON: trailing garbage", what);
        return 0;
}

int json_parse_value(const char *buf, size_t len, const char *what, yajl_val *out,
                     struct shm_error *err)
{
        char yajl_message[256] = "";
        yajl_val tree;
        int r;

        r = json_prescan(buf, len, what, err);
        if (r < 0)
                return r;
        tree = yajl_tree_parse(buf, yajl_message, sizeof(yajl_message));
        if (!tree) {
                /* yajl's messages span lines and quote the input; keep the first line. */
                yajl_message[strcspn(yajl_message, "\n")] = '\0';
                return shm_error_set(err, EINVAL, "%s is not valid JSON: %s", what,
                                     yajl_message[0] ? yajl_message : "parse error");
        }
        *out = tree;
        return 0;
}

int json_parse_object(const char *buf, size_t len, const char *what, yajl_val *out,
                      struct shm_error *err)
{
        int r = json_parse_value(buf, len, what, out, err);
        if (r < 0)
                return r;
        if (!YAJL_IS_OBJECT(*out)) {
                yajl_tree_free(*out);
                *out = NULL;
                return shm_error_set(err, EINVAL, "%s is not a JSON object", what);
        }
        return 0;
}

yajl_val json_member(yajl_val object, const char *key)
{
        if (!YAJL_IS_OBJECT(object))
                return NULL;
        for (size_t i = 0; i < object->u.object.len; i++)
                if (strcmp(object->u.object.keys[i], key) == 0)
                        return object->u.object.values[i];
        return NULL;
}

static int compare_keys(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int json_check_unique_keys(yajl_val object, const char *where, struct shm_error *err)
{
        if (!YAJL_IS_OBJECT(object))
                return 0;
        size_t n = object->u.object.len;
        const char **keys = (const char **)object->u.object.keys;

        if (n <= 16) {
                for (size_t i = 1; i < n; i++)
                        for (size_t j = 0; j < i; j++)
                                if (strcmp(keys[i], keys[j]) == 0)
                                        return shm_error_set(err, EINVAL, "%s has key '%s' twice",
                                                             where, keys[i]);
                return 0;
        }
        /* Thousands of annotations: sort a copy, O(n log n), then look at neighbours. */
        const char **sorted = malloc(n * sizeof(*sorted));
        if (!sorted)
                return shm_error_set(err, ENOMEM, "out of memory");
        memcpy(sorted, keys, n * sizeof(*sorted));
        qsort(sorted, n, sizeof(*sorted), compare_keys);
        for (size_t i = 1; i < n; i++)
                if (strcmp(sorted[i], sorted[i - 1]) == 0) {
                        int r =
                            shm_error_set(err, EINVAL, "%s has key '%s' twice", where, sorted[i]);
                        free(sorted);
                        return r;
                }
        free(sorted);
        return 0;
}

/* The member, or NULL when absent or null; -EINVAL when it is not of `type`. */
static int get_typed(yajl_val object, const char *key, const char *where, yajl_type type,
                     const char *type_name, yajl_val *out, struct shm_error *err)
{
        yajl_val v = json_member(object, key);
        *out = NULL;
        if (!v || YAJL_IS_NULL(v))
                return 0;
        if (v->type != type)
                return shm_error_set(err, EINVAL, "'%s.%s' is not %s", where, key, type_name);
        *out = v;
        return 0;
}

int json_get_string(yajl_val object, const char *key, const char *where, const char **out,
                    struct shm_error *err)
{
        yajl_val v;
        int r = get_typed(object, key, where, yajl_t_string, "a string", &v, err);
        *out = v ? v->u.string : NULL;
        return r;
}

int json_get_object(yajl_val object, const char *key, const char *where, yajl_val *out,
                    struct shm_error *err)
{
        return get_typed(object, key, where, yajl_t_object, "an object", out, err);
}

int json_get_array(yajl_val object, const char *key, const char *where, yajl_val *out,
                   struct shm_error *err)
{
        return get_typed(object, key, where, yajl_t_array, "an array", out, err);
}

int json_get_int64(yajl_val object, const char *key, const char *where, int64_t *out, bool *present,
                   struct shm_error *err)
{
        yajl_val v = json_member(object, key);
        *present = false;
        *out = 0;
        if (!v || YAJL_IS_NULL(v))
                return 0;
        if (!YAJL_IS_INTEGER(v))
                return shm_error_set(err, EINVAL, "'%s.%s' is not an integer", where, key);
        *out = YAJL_GET_INTEGER(v);
        *present = true;
        return 0;
}

/*
 * yajl does not check its own allocations (yajl_buf_ensure_available writes
 * through a failed realloc: a segfault under RLIMIT_AS or memory pressure).
 * No error can travel back through it, so a failed allocation ends the
 * process at once with a one-line reason and exit status 1: for the hook,
 * the documented refusal instead of a crash.
 */
static void __attribute__((noreturn)) yajl_out_of_memory(void)
{
        static const char msg[] = ": error: out of memory while parsing JSON\n";
        const char *name = program_invocation_short_name;
        (void)!write(STDERR_FILENO, name, strlen(name));
        (void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
        _exit(EXIT_FAILURE);
}

static void *yajl_checked_malloc(void *ctx, size_t size)
{
        (void)ctx;
        void *p = malloc(size);
        if (!p)
                yajl_out_of_memory();
        return p;
}

static void *yajl_checked_realloc(void *ctx, void *ptr, size_t size)
{
        (void)ctx;
        void *p = realloc(ptr, size);
        if (!p)
                yajl_out_of_memory();
        return p;
}

static void yajl_checked_free(void *ctx, void *ptr)
{
        (void)ctx;
        free(ptr);
}

static yajl_alloc_funcs yajl_checked_allocs = {yajl_checked_malloc, yajl_checked_realloc,
                                               yajl_checked_free, NULL};

int json_stream_begin(struct json_stream *s, const yajl_callbacks *callbacks, void *ctx,
                      const char *what, struct shm_error *err)
{
        *s = (struct json_stream){.err = err, .what = what};
        err->code = 0;
        s->handle = yajl_alloc(callbacks, &yajl_checked_allocs, ctx);
        if (!s->handle)
                return shm_error_set(err, ENOMEM, "out of memory");
        /* Bytes, not text: Go's decoder (runc) takes invalid UTF-8, so a value no one
         * reads must not refuse a container; paths the hook reads are bytes anyway. */
        yajl_config(s->handle, yajl_dont_validate_strings, 1);
        return 0;
}

void json_stream_ended(struct json_stream *s)
{
        s->ended = true;
        s->end = yajl_get_bytes_consumed(s->handle);
}

static int stream_error(struct json_stream *s, yajl_status status)
{
        if (status == yajl_status_client_canceled)
                return -s->err->code;
        unsigned char *message = yajl_get_error(s->handle, 0, NULL, 0);
        const char *text = message ? (const char *)message : "parse error";
        int r = shm_error_set(s->err, EINVAL, "%s is not valid JSON: %.*s", s->what,
                              (int)strcspn(text, "\n"), text);
        if (message)
                yajl_free_error(s->handle, message);
        return r;
}

static bool all_blank(const char *p, size_t len)
{
        for (size_t i = 0; i < len; i++)
                if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
                        return false;
        return true;
}

int json_stream_feed(struct json_stream *s, const char *buf, size_t len)
{
        bool ended_before = s->ended;
        yajl_status status;

        if (s->stopped)
                return 0;
        if (memchr(buf, '\0', len))
                return shm_error_set(s->err, EINVAL, "%s contains a NUL byte", s->what);
        status = yajl_parse(s->handle, (const unsigned char *)buf, len);
        if (s->stopped)
                return 0;
        if (status != yajl_status_ok)
                return stream_error(s, status);
        size_t from = ended_before ? 0 : s->ended ? s->end : len;
        if (!all_blank(buf + from, len - from))
                return shm_error_set(s->err, EINVAL, "%s is not valid JSON: trailing garbage",
                                     s->what);
        return 0;
}

int json_stream_read(struct json_stream *s, int fd, size_t max)
{
        char *buf = malloc(JSON_STREAM_PIECE);
        size_t total = 0;
        int r = 0;

        if (!buf)
                return shm_error_set(s->err, ENOMEM, "out of memory");
        for (;;) {
                ssize_t n = read(fd, buf, JSON_STREAM_PIECE);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        r = shm_error_set(s->err, errno, "cannot read %s: %s", s->what,
                                          strerror(errno));
                        break;
                }
                if (n == 0)
                        break;
                total += (size_t)n;
                if (total > max) {
                        r = shm_error_set(s->err, EFBIG, "%s is larger than %zu bytes", s->what,
                                          max);
                        break;
                }
                r = json_stream_feed(s, buf, (size_t)n);
                if (r < 0 || s->stopped)
                        break;
        }
        free(buf);
        return r;
}

int json_stream_finish(struct json_stream *s)
{
        if (s->stopped)
                return 0;
        yajl_status status = yajl_complete_parse(s->handle);
        return status == yajl_status_ok ? 0 : stream_error(s, status);
}

void json_stream_free(struct json_stream *s)
{
        if (s->handle)
                yajl_free(s->handle);
        s->handle = NULL;
}
