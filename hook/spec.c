/* SPDX-License-Identifier: Apache-2.0 */
#include "spec.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "fileio.h"
#include "json.h"

#include <yajl/yajl_parse.h>

bool spec_path_is_dev_shm(const char *path)
{
        static const char *const parts[] = {"dev", "shm"};
        const char *p = path;

        for (size_t i = 0; i < ARRAY_SIZE(parts); i++) {
                while (*p == '/')
                        p++;
                size_t len = strlen(parts[i]);
                if (strncmp(p, parts[i], len) != 0 || (p[len] != '/' && p[len] != '\0'))
                        return false;
                p += len;
        }
        while (*p == '/')
                p++;
        return *p == '\0';
}

static bool path_has_dotdot(const char *path)
{
        for (const char *p = path; (p = strstr(p, "..")); p += 2)
                if ((p == path || p[-1] == '/') && (p[2] == '/' || p[2] == '\0'))
                        return true;
        return false;
}

/*
 * config.json is read with yajl's event parser, not its tree: a Kubernetes
 * config is tens of kilobytes and may be megabytes, and the hook needs five
 * fields of it. A tree cost a heap allocation per value at every container
 * start (28M instructions and 1,000 page faults for 1 MiB, tests/bench).
 * Every value is still checked: the JSON is strict, and each field the hook
 * reads must have its type.
 */
enum node {
        NODE_IGNORED, /* not read by the hook: only validated as JSON */
        NODE_TOP,
        NODE_ROOT,
        NODE_ROOT_PATH,
        NODE_MOUNTS,
        NODE_MOUNT,
        NODE_MOUNT_DESTINATION,
        NODE_MOUNT_TYPE,
        NODE_MOUNT_SOURCE,
        NODE_MOUNT_OPTIONS,
        NODE_MOUNT_OPTION,
        NODE_ANNOTATIONS,
        NODE_ANNOTATION,
        NODE_LINUX,
        NODE_RESOURCES,
        NODE_MEMORY,
        NODE_MEMORY_LIMIT,
};

enum shape { SHAPE_ANY, SHAPE_OBJECT, SHAPE_ARRAY, SHAPE_STRING, SHAPE_INTEGER };

static const struct {
        const char *name;
        enum shape shape;
} nodes[] = {
    [NODE_IGNORED] = {"", SHAPE_ANY},
    [NODE_TOP] = {"config.json", SHAPE_OBJECT},
    [NODE_ROOT] = {"config.root", SHAPE_OBJECT},
    [NODE_ROOT_PATH] = {"config.root.path", SHAPE_STRING},
    [NODE_MOUNTS] = {"config.mounts", SHAPE_ARRAY},
    [NODE_MOUNT] = {"config.mounts[]", SHAPE_OBJECT},
    [NODE_MOUNT_DESTINATION] = {"config.mounts[].destination", SHAPE_STRING},
    [NODE_MOUNT_TYPE] = {"config.mounts[].type", SHAPE_STRING},
    [NODE_MOUNT_SOURCE] = {"config.mounts[].source", SHAPE_STRING},
    [NODE_MOUNT_OPTIONS] = {"config.mounts[].options", SHAPE_ARRAY},
    [NODE_MOUNT_OPTION] = {"config.mounts[].options[]", SHAPE_STRING},
    [NODE_ANNOTATIONS] = {"config.annotations", SHAPE_OBJECT},
    [NODE_ANNOTATION] = {"config.annotations{}", SHAPE_STRING},
    [NODE_LINUX] = {"config.linux", SHAPE_OBJECT},
    [NODE_RESOURCES] = {"config.linux.resources", SHAPE_OBJECT},
    [NODE_MEMORY] = {"config.linux.resources.memory", SHAPE_OBJECT},
    [NODE_MEMORY_LIMIT] = {"config.linux.resources.memory.limit", SHAPE_INTEGER},
};

struct spec_parser {
        struct oci_spec *spec;
        struct shm_error *err;
        unsigned depth;
        enum node stack[JSON_MAX_DEPTH + 1]; /* the container at each depth */
        enum node next;                      /* the node of the next value in a map */
        char *root_path;
        /* the mounts[] entry being read */
        size_t mount_index;
        char *destination, *type, *source;
        bool bind;
        /* the annotation whose value comes next */
        char *annotation_key;
        size_t cap_annotations;
        struct json_stream stream;
        /* top-level keys, for the duplicate check */
        char **top_keys;
        size_t n_top_keys;
};

static int parser_fail(struct spec_parser *p, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int parser_fail(struct spec_parser *p, int code, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->err->message, sizeof(p->err->message), fmt, ap);
        va_end(ap);
        p->err->code = code;
        return 0; /* stops yajl */
}

/* The node of the value that starts now. */
static enum node value_node(const struct spec_parser *p)
{
        if (p->depth == 0)
                return NODE_TOP;
        switch (p->stack[p->depth]) {
        case NODE_MOUNTS:
                return NODE_MOUNT;
        case NODE_MOUNT_OPTIONS:
                return NODE_MOUNT_OPTION;
        case NODE_IGNORED:
                return NODE_IGNORED;
        default:
                return p->next; /* in an object: set by its key */
        }
}

static int wrong_type(struct spec_parser *p, enum node n, const char *what)
{
        if (n == NODE_TOP)
                return parser_fail(p, EINVAL, "config.json is not a JSON object");
        if (n == NODE_ANNOTATION)
                return parser_fail(p, EINVAL, "annotation '%s' is not a string", p->annotation_key);
        if (n == NODE_MOUNT)
                return parser_fail(p, EINVAL, "'config.mounts[%zu]' is not an object",
                                   p->mount_index);
        if (n == NODE_MOUNT_OPTION)
                return parser_fail(p, EINVAL,
                                   "'config.mounts[%zu].options' holds a value that is not a "
                                   "string",
                                   p->mount_index);
        return parser_fail(p, EINVAL, "'%s' is not %s", nodes[n].name, what);
}

static const char *shape_name(enum shape shape)
{
        switch (shape) {
        case SHAPE_OBJECT:
                return "an object";
        case SHAPE_ARRAY:
                return "an array";
        case SHAPE_STRING:
                return "a string";
        case SHAPE_INTEGER:
                return "an integer";
        default:
                return "valid";
        }
}

/* A value of `shape` arrives for node n: 1 when n takes it, 0 (failed) when not. */
static int check_shape(struct spec_parser *p, enum node n, enum shape shape)
{
        if (nodes[n].shape == SHAPE_ANY || nodes[n].shape == shape)
                return 1;
        return wrong_type(p, n, shape_name(nodes[n].shape));
}

static char *copy_string(struct spec_parser *p, const unsigned char *s, size_t len)
{
        char *copy = strndup((const char *)s, len);
        if (!copy)
                parser_fail(p, ENOMEM, "out of memory");
        return copy;
}

static int on_null(void *ctx)
{
        struct spec_parser *p = ctx;
        enum node n = value_node(p);
        /* null reads as absent, except where a string must be. */
        if (n == NODE_ANNOTATION || n == NODE_MOUNT_OPTION || n == NODE_TOP)
                return wrong_type(p, n, "a string");
        if (n == NODE_ANNOTATION)
                free(steal_pointer(&p->annotation_key));
        return 1;
}

static int on_boolean(void *ctx, int value)
{
        struct spec_parser *p = ctx;
        (void)value;
        enum node n = value_node(p);
        return nodes[n].shape == SHAPE_ANY ? 1 : wrong_type(p, n, shape_name(nodes[n].shape));
}

static int on_number(void *ctx, const char *text, size_t len)
{
        struct spec_parser *p = ctx;
        enum node n = value_node(p);
        int64_t value = 0;
        size_t i = 0;
        bool negative = false;

        if (nodes[n].shape == SHAPE_ANY)
                return 1;
        if (n != NODE_MEMORY_LIMIT)
                return wrong_type(p, n, shape_name(nodes[n].shape));
        if (len && text[0] == '-') {
                negative = true;
                i++;
        }
        if (i == len)
                return wrong_type(p, n, "an integer");
        for (; i < len; i++) {
                if (text[i] < '0' || text[i] > '9' || __builtin_mul_overflow(value, 10, &value) ||
                    __builtin_add_overflow(value, text[i] - '0', &value))
                        return wrong_type(p, n, "an integer");
        }
        /* -1 (and 0) mean "no limit" in runtimes' practice. */
        p->spec->memory_limit = !negative && value > 0 ? (uint64_t)value : 0;
        return 1;
}

static int on_string(void *ctx, const unsigned char *s, size_t len)
{
        struct spec_parser *p = ctx;
        enum node n = value_node(p);

        if (memchr(s, '\0', len))
                return parser_fail(p, EINVAL, "config.json contains a NUL character in a string");
        if (!check_shape(p, n, SHAPE_STRING))
                return 0;
        switch (n) {
        case NODE_ROOT_PATH:
                free(p->root_path);
                return (p->root_path = copy_string(p, s, len)) != NULL;
        case NODE_MOUNT_DESTINATION:
                free(p->destination);
                return (p->destination = copy_string(p, s, len)) != NULL;
        case NODE_MOUNT_TYPE:
                free(p->type);
                if (!(p->type = copy_string(p, s, len)))
                        return 0;
                p->bind |= strcmp(p->type, "bind") == 0;
                return 1;
        case NODE_MOUNT_SOURCE:
                free(p->source);
                return (p->source = copy_string(p, s, len)) != NULL;
        case NODE_MOUNT_OPTION:
                p->bind |= (len == 4 && memcmp(s, "bind", 4) == 0) ||
                           (len == 5 && memcmp(s, "rbind", 5) == 0);
                return 1;
        case NODE_ANNOTATION: {
                struct oci_spec *spec = p->spec;
                char *value = copy_string(p, s, len);
                if (!value)
                        return 0;
                spec->annotations[spec->n_annotations++] =
                    (struct annotation){.key = steal_pointer(&p->annotation_key), .value = value};
                return 1;
        }
        default:
                return 1;
        }
}

/* An object or array starts: check its shape and the depth, and enter it. */
static int enter(struct spec_parser *p, enum node n, enum shape shape)
{
        if (!check_shape(p, n, shape))
                return 0;
        if (p->depth == JSON_MAX_DEPTH)
                return parser_fail(p, EINVAL, "config.json is nested deeper than %d levels",
                                   JSON_MAX_DEPTH);
        p->stack[++p->depth] = n;
        p->next = NODE_IGNORED;
        return 1;
}

static int on_start_map(void *ctx)
{
        struct spec_parser *p = ctx;
        enum node n = value_node(p);

        if (!enter(p, n, SHAPE_OBJECT))
                return 0;
        if (n == NODE_MOUNT) {
                free(steal_pointer(&p->destination));
                free(steal_pointer(&p->type));
                free(steal_pointer(&p->source));
                p->bind = false;
        }
        return 1;
}

static int on_map_key(void *ctx, const unsigned char *key, size_t len)
{
        struct spec_parser *p = ctx;
        static const struct {
                enum node parent;
                const char *key;
                enum node child;
        } children[] = {
            {NODE_TOP, "root", NODE_ROOT},
            {NODE_TOP, "mounts", NODE_MOUNTS},
            {NODE_TOP, "annotations", NODE_ANNOTATIONS},
            {NODE_TOP, "linux", NODE_LINUX},
            {NODE_ROOT, "path", NODE_ROOT_PATH},
            {NODE_MOUNT, "destination", NODE_MOUNT_DESTINATION},
            {NODE_MOUNT, "type", NODE_MOUNT_TYPE},
            {NODE_MOUNT, "source", NODE_MOUNT_SOURCE},
            {NODE_MOUNT, "options", NODE_MOUNT_OPTIONS},
            {NODE_LINUX, "resources", NODE_RESOURCES},
            {NODE_RESOURCES, "memory", NODE_MEMORY},
            {NODE_MEMORY, "limit", NODE_MEMORY_LIMIT},
        };
        enum node parent = p->stack[p->depth];

        if (memchr(key, '\0', len))
                return parser_fail(p, EINVAL, "config.json contains a NUL character in a string");
        p->next = NODE_IGNORED;
        if (parent == NODE_IGNORED)
                return 1;
        if (parent == NODE_ANNOTATIONS) {
                struct oci_spec *spec = p->spec;
                if (spec->n_annotations == SPEC_MAX_ANNOTATIONS)
                        return parser_fail(p, E2BIG, "config.json has more than %d annotations",
                                           SPEC_MAX_ANNOTATIONS);
                if (spec->n_annotations == p->cap_annotations) {
                        size_t cap = p->cap_annotations ? p->cap_annotations * 2 : 16;
                        struct annotation *grown = realloc(spec->annotations, cap * sizeof(*grown));
                        if (!grown)
                                return parser_fail(p, ENOMEM, "out of memory");
                        spec->annotations = grown;
                        p->cap_annotations = cap;
                }
                free(p->annotation_key);
                if (!(p->annotation_key = copy_string(p, key, len)))
                        return 0;
                p->next = NODE_ANNOTATION;
                return 1;
        }
        if (parent == NODE_TOP) {
                if (p->n_top_keys == SPEC_MAX_ANNOTATIONS)
                        return parser_fail(p, E2BIG, "config.json has more than %d keys",
                                           SPEC_MAX_ANNOTATIONS);
                char **grown = realloc(p->top_keys, (p->n_top_keys + 1) * sizeof(*grown));
                if (!grown)
                        return parser_fail(p, ENOMEM, "out of memory");
                p->top_keys = grown;
                if (!(p->top_keys[p->n_top_keys] = copy_string(p, key, len)))
                        return 0;
                p->n_top_keys++;
        }
        for (size_t i = 0; i < ARRAY_SIZE(children); i++)
                if (children[i].parent == parent && strlen(children[i].key) == len &&
                    memcmp(children[i].key, key, len) == 0) {
                        p->next = children[i].child;
                        break;
                }
        return 1;
}

static int on_end_map(void *ctx)
{
        struct spec_parser *p = ctx;
        struct oci_spec *spec = p->spec;

        if (p->depth == 1)
                json_stream_ended(&p->stream);
        if (p->stack[p->depth] == NODE_MOUNT) {
                if (!p->destination)
                        return parser_fail(p, EINVAL, "'config.mounts[%zu]' has no destination",
                                           p->mount_index);
                if (p->source && strcmp(p->destination, "/etc/hostname") == 0) {
                        free(spec->hostname_source);
                        spec->hostname_source = steal_pointer(&p->source);
                }
                if (spec_path_is_dev_shm(p->destination)) {
                        free(spec->shm.type);
                        free(spec->shm.source);
                        spec->shm = (struct spec_mount){.present = true,
                                                        .bind = p->bind,
                                                        .type = steal_pointer(&p->type),
                                                        .source = steal_pointer(&p->source)};
                }
                p->mount_index++;
        }
        p->depth--;
        return 1;
}

static int on_start_array(void *ctx)
{
        struct spec_parser *p = ctx;
        enum node n = value_node(p);

        return enter(p, n, SHAPE_ARRAY);
}

static int on_end_array(void *ctx)
{
        struct spec_parser *p = ctx;
        if (p->stack[p->depth] == NODE_MOUNTS && p->mount_index > SPEC_MAX_MOUNTS)
                return parser_fail(p, E2BIG, "config.json has more than %d mounts",
                                   SPEC_MAX_MOUNTS);
        p->depth--;
        return 1;
}

static const yajl_callbacks spec_callbacks = {
    .yajl_null = on_null,
    .yajl_boolean = on_boolean,
    .yajl_number = on_number,
    .yajl_string = on_string,
    .yajl_start_map = on_start_map,
    .yajl_map_key = on_map_key,
    .yajl_end_map = on_end_map,
    .yajl_start_array = on_start_array,
    .yajl_end_array = on_end_array,
};

static int compare_strings(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Keys seen twice in keys[0..n): the first such key, or NULL. Sorts keys. */
static const char *duplicate_key(char **keys, size_t n)
{
        if (n < 2)
                return NULL;
        qsort(keys, n, sizeof(*keys), compare_strings);
        for (size_t i = 1; i < n; i++)
                if (strcmp(keys[i - 1], keys[i]) == 0)
                        return keys[i];
        return NULL;
}

static void spec_parser_free(struct spec_parser *p)
{
        free(p->root_path);
        free(p->destination);
        free(p->type);
        free(p->source);
        free(p->annotation_key);
        for (size_t i = 0; i < p->n_top_keys; i++)
                free(p->top_keys[i]);
        free(p->top_keys);
}

static int finish(struct spec_parser *p, const char *bundle)
{
        struct oci_spec *spec = p->spec;
        const char *dup;

        if ((dup = duplicate_key(p->top_keys, p->n_top_keys)))
                return shm_error_set(p->err, EINVAL, "config.json has key '%s' twice", dup);
        if (spec->n_annotations) {
                char **keys = malloc(spec->n_annotations * sizeof(*keys));
                if (!keys)
                        return shm_error_set(p->err, ENOMEM, "out of memory");
                for (size_t i = 0; i < spec->n_annotations; i++)
                        keys[i] = (char *)spec->annotations[i].key;
                dup = duplicate_key(keys, spec->n_annotations);
                int r = dup ? shm_error_set(p->err, EINVAL,
                                            "'config.annotations' has key '%s' twice", dup)
                            : 0;
                free(keys);
                if (r < 0)
                        return r;
        }
        if (!p->root_path || !*p->root_path)
                return shm_error_set(p->err, EINVAL, "config.json has no 'root.path'");
        if (p->root_path[0] == '/') {
                spec->root_path = steal_pointer(&p->root_path);
                return 0;
        }
        if (path_has_dotdot(p->root_path))
                return shm_error_set(p->err, EINVAL,
                                     "'root.path' '%s' leaves the bundle through '..'",
                                     p->root_path);
        if (asprintf(&spec->root_path, "%s/%s", bundle, p->root_path) < 0) {
                spec->root_path = NULL;
                return shm_error_set(p->err, ENOMEM, "out of memory");
        }
        return 0;
}

static int parser_begin(struct spec_parser *p, struct oci_spec *spec, struct shm_error *err)
{
        memset(spec, 0, sizeof(*spec));
        *p = (struct spec_parser){.spec = spec, .err = err};
        return json_stream_begin(&p->stream, &spec_callbacks, p, "config.json", err);
}

/* Finish (when r is still 0) and release the parser; on failure *spec is empty. */
static int parser_end(struct spec_parser *p, const char *bundle, int r)
{
        if (r == 0)
                r = json_stream_finish(&p->stream);
        if (r == 0)
                r = finish(p, bundle);
        json_stream_free(&p->stream);
        spec_parser_free(p);
        if (r < 0)
                oci_spec_free(p->spec);
        return r;
}

int oci_spec_parse(const char *buf, size_t len, const char *bundle, struct oci_spec *spec,
                   struct shm_error *err)
{
        struct spec_parser p;
        int r = parser_begin(&p, spec, err);
        if (r < 0)
                return r;
        return parser_end(&p, bundle, json_stream_feed(&p.stream, buf, len));
}

int oci_spec_load(const char *bundle, struct oci_spec *spec, struct shm_error *err)
{
        _cleanup_close_ int bundle_fd = -1, fd = -1;
        struct spec_parser p;
        int r;

        memset(spec, 0, sizeof(*spec));
        bundle_fd = open(bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (bundle_fd < 0)
                return shm_error_set(err, errno, "cannot open bundle '%s': %s", bundle,
                                     strerror(errno));
        fd = open_regular_file(bundle_fd, "config.json", SPEC_MAX_BYTES, err);
        if (fd < 0)
                return shm_error_prefix(err, "bundle '%s'", bundle);
        r = parser_begin(&p, spec, err);
        if (r < 0)
                return r;
        /* In pieces, not whole: a 1 MiB config.json costs 64 KiB of memory. */
        r = parser_end(&p, bundle, json_stream_read(&p.stream, fd, SPEC_MAX_BYTES));
        return r < 0 ? shm_error_prefix(err, "bundle '%s'", bundle) : 0;
}

void oci_spec_free(struct oci_spec *spec)
{
        free(spec->root_path);
        for (size_t i = 0; i < spec->n_annotations; i++) {
                free((char *)spec->annotations[i].key);
                free((char *)spec->annotations[i].value);
        }
        free(spec->annotations);
        free(spec->shm.type);
        free(spec->shm.source);
        free(spec->hostname_source);
        memset(spec, 0, sizeof(*spec));
}

const char *oci_spec_annotation(const struct oci_spec *spec, const char *key)
{
        for (size_t i = 0; i < spec->n_annotations; i++)
                if (strcmp(spec->annotations[i].key, key) == 0)
                        return spec->annotations[i].value;
        return NULL;
}
