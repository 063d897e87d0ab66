/* SPDX-License-Identifier: Apache-2.0 */
#include "spec.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "fileio.h"
#include "json_reader.h"
#include "size.h"

char *oci_spec_clean_path(const char *path)
{
        /* Cleaning only drops characters, but for the leading '/': it always fits. */
        char *out = malloc(strlen(path) + 2);
        size_t n = 0;

        if (!out)
                return NULL;
        out[n++] = '/';
        for (const char *p = path; *p;) {
                size_t len = strcspn(p, "/");
                if ((len == 1 && p[0] == '.') || len == 0) {
                        /* nothing */
                } else if (len == 2 && p[0] == '.' && p[1] == '.') {
                        /* Up one, never above the root. */
                        while (n > 1 && out[n - 1] != '/')
                                n--;
                        if (n > 1)
                                n--;
                } else {
                        if (n > 1)
                                out[n++] = '/';
                        memcpy(out + n, p, len);
                        n += len;
                }
                p += len;
                while (*p == '/')
                        p++;
        }
        out[n] = '\0';
        return out;
}

static bool path_has_dotdot(const char *path)
{
        for (const char *p = path; (p = strstr(p, "..")); p += 2)
                if ((p == path || p[-1] == '/') && (p[2] == '/' || p[2] == '\0'))
                        return true;
        return false;
}

/*
 * config.json is streamed, not parsed into a tree: a Kubernetes config is
 * tens of kilobytes and may be megabytes, and the hook needs a few fields.
 */
enum field {
        F_CONFIG,
        F_ROOT,
        F_ROOT_PATH,
        F_MOUNTS,
        F_MOUNT,
        F_MOUNT_DESTINATION,
        F_MOUNT_TYPE,
        F_MOUNT_SOURCE,
        F_MOUNT_OPTIONS,
        F_MOUNT_OPTION,
        F_ANNOTATIONS,
        F_ANNOTATION,
        F_LINUX,
        F_RESOURCES,
        F_MEMORY,
        F_MEMORY_LIMIT,
        F_UNIFIED,
        F_UNIFIED_VALUE,
};

static const struct json_field spec_fields[] = {
    [F_CONFIG] = {-1, NULL, JSON_SHAPE_OBJECT, "config.json"},
    [F_ROOT] = {F_CONFIG, "root", JSON_SHAPE_OBJECT, "config.root"},
    [F_ROOT_PATH] = {F_ROOT, "path", JSON_SHAPE_STRING, "config.root.path"},
    [F_MOUNTS] = {F_CONFIG, "mounts", JSON_SHAPE_ARRAY, "config.mounts"},
    [F_MOUNT] = {F_MOUNTS, NULL, JSON_SHAPE_OBJECT, "config.mounts[]"},
    [F_MOUNT_DESTINATION] = {F_MOUNT, "destination", JSON_SHAPE_STRING,
                             "config.mounts[].destination"},
    [F_MOUNT_TYPE] = {F_MOUNT, "type", JSON_SHAPE_STRING, "config.mounts[].type"},
    [F_MOUNT_SOURCE] = {F_MOUNT, "source", JSON_SHAPE_STRING, "config.mounts[].source"},
    [F_MOUNT_OPTIONS] = {F_MOUNT, "options", JSON_SHAPE_ARRAY, "config.mounts[].options"},
    [F_MOUNT_OPTION] = {F_MOUNT_OPTIONS, NULL, JSON_SHAPE_STRING, "config.mounts[].options[]"},
    [F_ANNOTATIONS] = {F_CONFIG, "annotations", JSON_SHAPE_MAP, "config.annotations"},
    [F_ANNOTATION] = {F_ANNOTATIONS, NULL, JSON_SHAPE_STRING, "config.annotations"},
    [F_LINUX] = {F_CONFIG, "linux", JSON_SHAPE_OBJECT, "config.linux"},
    [F_RESOURCES] = {F_LINUX, "resources", JSON_SHAPE_OBJECT, "config.linux.resources"},
    [F_MEMORY] = {F_RESOURCES, "memory", JSON_SHAPE_OBJECT, "config.linux.resources.memory"},
    [F_MEMORY_LIMIT] = {F_MEMORY, "limit", JSON_SHAPE_INTEGER,
                        "config.linux.resources.memory.limit"},
    [F_UNIFIED] = {F_RESOURCES, "unified", JSON_SHAPE_MAP, "config.linux.resources.unified"},
    [F_UNIFIED_VALUE] = {F_UNIFIED, NULL, JSON_SHAPE_STRING, "config.linux.resources.unified"},
};

struct spec_parser {
        struct oci_spec *spec;
        const struct spec_keys *keys;
        char *root_path;
        /* the mounts[] entry being read */
        char *destination, *type, *source;
        bool bind;
        size_t cap_annotations, cap_bind_sources;
        uint64_t limit, unified_max; /* 0: not set */
};

static int set_string(char **field, const char *text, size_t len, struct shm_error *err)
{
        free(*field);
        *field = strndup(text, len);
        return *field ? 0 : shm_error_set(err, ENOMEM, "out of memory");
}

static int grow(void **array, size_t *cap, size_t n, size_t item, struct shm_error *err)
{
        if (n < *cap)
                return 0;
        size_t new_cap = *cap ? *cap * 2 : 8;
        void *grown = reallocarray(*array, new_cap, item);
        if (!grown)
                return shm_error_set(err, ENOMEM, "out of memory");
        *array = grown;
        *cap = new_cap;
        return 0;
}

static bool key_wanted(const struct spec_keys *keys, const char *key)
{
        if (!keys)
                return true;
        for (size_t i = 0; i < keys->n; i++)
                if (strcmp(keys->keys[i], key) == 0)
                        return true;
        return false;
}

static int add_annotation(struct spec_parser *p, const char *key, const char *text, size_t len,
                          struct shm_error *err)
{
        struct oci_spec *spec = p->spec;
        bool all = !p->keys;

        /* Asked for by name, a value is part of the decision: it must be plain. */
        if (!key_wanted(p->keys, key) || (all && spec->n_annotations == SPEC_MAX_ANNOTATIONS) ||
            (all && memchr(text, '\0', len))) {
                spec->n_annotations_skipped++;
                return 0;
        }
        if (memchr(text, '\0', len))
                return shm_error_set(err, EINVAL, "annotation '%s' contains a NUL character", key);
        int r = grow((void **)&spec->annotations, &p->cap_annotations, spec->n_annotations,
                     sizeof(*spec->annotations), err);
        if (r < 0)
                return r;
        char *k = strdup(key), *v = strndup(text, len);
        if (!k || !v) {
                free(k);
                free(v);
                return shm_error_set(err, ENOMEM, "out of memory");
        }
        spec->annotations[spec->n_annotations++] = (struct annotation){.key = k, .value = v};
        return 0;
}

/* "max" or a number of bytes, as the kernel takes memory.max. */
static int set_unified_max(struct spec_parser *p, const char *text, size_t len,
                           struct shm_error *err)
{
        long long value;

        if (len == 3 && memcmp(text, "max", 3) == 0)
                return 0;
        if (len == 0 || text[0] == '-' || json_integer_value(text, len, &value) < 0)
                return shm_error_set(err, EINVAL,
                                     "'config.linux.resources.unified' has 'memory.max' '%.*s', "
                                     "which is neither a number of bytes nor 'max'",
                                     (int)(len > 64 ? 64 : len), text);
        p->unified_max = value > 0 ? (uint64_t)value : 0;
        return 0;
}

static int on_value(struct json_reader *r, int field, const char *key, const char *text, size_t len,
                    struct shm_error *err)
{
        struct spec_parser *p = r->ctx;
        long long value;

        switch (field) {
        case F_ROOT_PATH:
                return set_string(&p->root_path, text, len, err);
        case F_MOUNT_DESTINATION:
                return set_string(&p->destination, text, len, err);
        case F_MOUNT_TYPE:
                p->bind |= len == 4 && memcmp(text, "bind", 4) == 0;
                return set_string(&p->type, text, len, err);
        case F_MOUNT_SOURCE:
                return set_string(&p->source, text, len, err);
        case F_MOUNT_OPTION:
                p->bind |= (len == 4 && memcmp(text, "bind", 4) == 0) ||
                           (len == 5 && memcmp(text, "rbind", 5) == 0);
                return 0;
        case F_ANNOTATION:
                return add_annotation(p, key, text, len, err);
        case F_MEMORY_LIMIT:
                if (json_integer_value(text, len, &value) < 0)
                        return shm_error_set(err, ERANGE,
                                             "'config.linux.resources.memory.limit' is out of "
                                             "range");
                /* -1 (and 0) mean "no limit" in runtimes' practice. */
                p->limit = value > 0 ? (uint64_t)value : 0;
                return 0;
        case F_UNIFIED_VALUE:
                return strcmp(key, "memory.max") == 0 ? set_unified_max(p, text, len, err) : 0;
        default:
                return 0;
        }
}

static int on_begin(struct json_reader *r, int field, struct shm_error *err)
{
        struct spec_parser *p = r->ctx;
        (void)err;
        if (field == F_MOUNT) {
                free(steal_pointer(&p->destination));
                free(steal_pointer(&p->type));
                free(steal_pointer(&p->source));
                p->bind = false;
        }
        return 0;
}

static int mount_done(struct json_reader *r, struct spec_parser *p, struct shm_error *err)
{
        struct oci_spec *spec = p->spec;
        _cleanup_free_ char *clean = NULL;
        char where[64];
        int e;

        if (!p->destination)
                return shm_error_set(err, EINVAL, "'%s' has no destination",
                                     json_reader_path(r, F_MOUNT, where, sizeof(where)));
        if (!(clean = oci_spec_clean_path(p->destination)))
                return shm_error_set(err, ENOMEM, "out of memory");
        if (p->bind && p->source && p->source[0]) {
                if ((e = grow((void **)&spec->bind_sources, &p->cap_bind_sources,
                              spec->n_bind_sources, sizeof(char *), err)) < 0 ||
                    !(spec->bind_sources[spec->n_bind_sources] = strdup(p->source)))
                        return e < 0 ? e : shm_error_set(err, ENOMEM, "out of memory");
                spec->n_bind_sources++;
        }
        if (p->source && strcmp(clean, "/etc/hostname") == 0) {
                free(spec->hostname_source);
                spec->hostname_source = steal_pointer(&p->source);
        }
        if (strcmp(clean, "/dev/shm") == 0) {
                free(spec->shm.type);
                free(spec->shm.source);
                spec->shm = (struct spec_mount){.present = true,
                                                .bind = p->bind,
                                                .type = steal_pointer(&p->type),
                                                .source = steal_pointer(&p->source)};
        }
        return 0;
}

static int on_end(struct json_reader *r, int field, struct shm_error *err)
{
        return field == F_MOUNT ? mount_done(r, r->ctx, err) : 0;
}

static const struct json_reader_ops spec_ops = {
    .value = on_value,
    .begin = on_begin,
    .end = on_end,
};

static int compare_annotation_keys(const void *a, const void *b)
{
        return strcmp(((const struct annotation *)a)->key, ((const struct annotation *)b)->key);
}

/* Go's map keeps the last of a repeated key, libocispec the first: refuse. */
static int check_unique_annotations(struct oci_spec *spec, struct shm_error *err)
{
        if (spec->n_annotations < 2)
                return 0;
        qsort(spec->annotations, spec->n_annotations, sizeof(*spec->annotations),
              compare_annotation_keys);
        for (size_t i = 1; i < spec->n_annotations; i++)
                if (strcmp(spec->annotations[i - 1].key, spec->annotations[i].key) == 0)
                        return shm_error_set(err, EINVAL, "'config.annotations' has key '%s' twice",
                                             spec->annotations[i].key);
        return 0;
}

static int finish(struct spec_parser *p, const char *bundle, struct shm_error *err)
{
        struct oci_spec *spec = p->spec;
        int r = check_unique_annotations(spec, err);

        if (r < 0)
                return r;
        spec->memory_limit = size_lower_limit(p->limit, p->unified_max);
        if (!p->root_path || !*p->root_path)
                return shm_error_set(err, EINVAL, "config.json has no 'root.path'");
        if (p->root_path[0] == '/') {
                spec->root_path = steal_pointer(&p->root_path);
                return 0;
        }
        if (path_has_dotdot(p->root_path))
                return shm_error_set(err, EINVAL, "'root.path' '%s' leaves the bundle through '..'",
                                     p->root_path);
        if (asprintf(&spec->root_path, "%s/%s", bundle, p->root_path) < 0) {
                spec->root_path = NULL;
                return shm_error_set(err, ENOMEM, "out of memory");
        }
        return 0;
}

static void spec_parser_free(struct spec_parser *p)
{
        free(p->root_path);
        free(p->destination);
        free(p->type);
        free(p->source);
}

/* Finish (when r is still 0) and release the parser; on failure *spec is empty. */
static int parser_end(struct spec_parser *p, const char *bundle, int r, struct shm_error *err)
{
        if (r == 0)
                r = finish(p, bundle, err);
        spec_parser_free(p);
        if (r < 0)
                oci_spec_free(p->spec);
        return r;
}

int oci_spec_parse(const char *buf, size_t len, const char *bundle, const struct spec_keys *keys,
                   struct oci_spec *spec, struct shm_error *err)
{
        struct spec_parser p = {.spec = spec, .keys = keys};

        memset(spec, 0, sizeof(*spec));
        int r = json_read_buffer(spec_fields, ARRAY_SIZE(spec_fields), &spec_ops, &p, "config.json",
                                 buf, len, err);
        return parser_end(&p, bundle, r, err);
}

int oci_spec_load(const char *bundle, const struct spec_keys *keys, struct oci_spec *spec,
                  struct shm_error *err)
{
        _cleanup_close_ int bundle_fd = -1, fd = -1;
        struct spec_parser p = {.spec = spec, .keys = keys};
        int r;

        memset(spec, 0, sizeof(*spec));
        bundle_fd = open(bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (bundle_fd < 0)
                return shm_error_set(err, errno, "cannot open bundle '%s': %s", bundle,
                                     strerror(errno));
        fd = open_regular_file(bundle_fd, "config.json", SPEC_MAX_BYTES, NULL, err);
        if (fd < 0)
                return shm_error_prefix(err, "bundle '%s'", bundle);
        r = json_read_fd(spec_fields, ARRAY_SIZE(spec_fields), &spec_ops, &p, "config.json", fd,
                         SPEC_MAX_BYTES, err);
        r = parser_end(&p, bundle, r, err);
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
        for (size_t i = 0; i < spec->n_bind_sources; i++)
                free(spec->bind_sources[i]);
        free(spec->bind_sources);
        memset(spec, 0, sizeof(*spec));
}

const char *oci_spec_annotation(const struct oci_spec *spec, const char *key)
{
        for (size_t i = 0; i < spec->n_annotations; i++)
                if (strcmp(spec->annotations[i].key, key) == 0)
                        return spec->annotations[i].value;
        return NULL;
}
