/* SPDX-License-Identifier: Apache-2.0 */
#include "engine.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "json_reader.h"
#include "path.h"

#define CONTAINERD_IMAGE     "io.kubernetes.cri.image-name"
#define CONTAINERD_TYPE      "io.kubernetes.cri.container-type"
#define CONTAINERD_NAMESPACE "io.kubernetes.cri.sandbox-namespace"
#define CONTAINERD_POD       "io.kubernetes.cri.sandbox-name"
#define CONTAINERD_CONTAINER "io.kubernetes.cri.container-name"
#define CONTAINERD_SANDBOX   "io.kubernetes.cri.sandbox-id"
#define CRIO_IMAGE           "io.kubernetes.cri-o.ImageName"
#define CRIO_TYPE            "io.kubernetes.cri-o.ContainerType"
#define CRIO_NAME            "io.kubernetes.cri-o.ContainerName"

static const char *const keys[] = {
    CONTAINERD_IMAGE,
    CONTAINERD_TYPE,
    CONTAINERD_NAMESPACE,
    CONTAINERD_POD,
    CONTAINERD_CONTAINER,
    CONTAINERD_SANDBOX,
    CRIO_IMAGE,
    CRIO_TYPE,
    CRIO_NAME,
};
const struct spec_keys engine_keys = {.keys = keys, .n = ARRAY_SIZE(keys)};

static void set_note(char *note, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_note(char *note, size_t size, const char *fmt, ...)
{
        va_list ap;
        if (!note || !size)
                return;
        va_start(ap, fmt);
        vsnprintf(note, size, fmt, ap);
        va_end(ap);
}

const char *engine_name(enum engine_kind kind)
{
        switch (kind) {
        case ENGINE_PODMAN:
                return "podman";
        case ENGINE_CRIO:
                return "cri-o";
        case ENGINE_CONTAINERD:
                return "containerd";
        case ENGINE_DOCKER:
                return "docker";
        case ENGINE_NONE:
                break;
        }
        return "none";
}

/* Is part n from the end of path exactly `id`? */
static bool part_is_id(const char *path, unsigned n, const char *id)
{
        struct path_part part;
        return path_part_from_end(path, n, &part) && path_part_is(&part, id) &&
               path_is_engine_id(part.s, part.len);
}

/* "<driver>-containers", as containers-storage names its container directories. */
static bool part_is_storage_dir(const char *path, unsigned n)
{
        static const char suffix[] = "-containers";
        const size_t suffix_len = sizeof(suffix) - 1;
        struct path_part part;

        if (!path_part_from_end(path, n, &part) || part.len <= suffix_len ||
            memcmp(part.s + part.len - suffix_len, suffix, suffix_len) != 0)
                return false;
        for (size_t i = 0; i < part.len - suffix_len; i++)
                if (!((part.s[i] >= 'a' && part.s[i] <= 'z') ||
                      (part.s[i] >= '0' && part.s[i] <= '9')))
                        return false;
        return true;
}

static bool part_is(const char *path, unsigned n, const char *word)
{
        struct path_part part;
        return path_part_from_end(path, n, &part) && path_part_is(&part, word);
}

static bool regular_file_at(const char *dir, const char *name)
{
        _cleanup_close_ int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        struct stat st;
        return fd >= 0 && fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

/* The layout says which engine wrote the bundle; nothing in config.json is believed yet. */
static enum engine_kind kind_from_layout(const char *id, const char *bundle,
                                         const struct oci_spec *spec, char **dir)
{
        const char *hostname = spec->hostname_source;

        if (part_is(bundle, 0, "userdata") && part_is_id(bundle, 1, id) &&
            part_is_storage_dir(bundle, 2)) {
                if (!(*dir = path_strip(bundle, 2)))
                        return ENGINE_NONE;
                /* Podman keeps its bundles in the graph root beside the storage's record;
                 * CRI-O keeps them in the run root, which has none. */
                return regular_file_at(*dir, "containers.json") ? ENGINE_PODMAN : ENGINE_CRIO;
        }
        if (part_is_id(bundle, 0, id) && part_is(bundle, 1, "k8s.io") &&
            part_is(bundle, 2, "io.containerd.runtime.v2.task"))
                return (*dir = path_strip(bundle, 3)) ? ENGINE_CONTAINERD : ENGINE_NONE;
        if (hostname && hostname[0] == '/' && part_is(hostname, 0, "hostname") &&
            part_is_id(hostname, 1, id) && part_is(hostname, 2, "containers")) {
                _cleanup_free_ char *container_dir = path_strip(hostname, 1);
                if (container_dir && regular_file_at(container_dir, "config.v2.json"))
                        return (*dir = path_strip(hostname, 2)) ? ENGINE_DOCKER : ENGINE_NONE;
        }
        return ENGINE_NONE;
}

static int copy_annotation(const struct oci_spec *spec, const char *key, char **out,
                           struct shm_error *err)
{
        const char *value = oci_spec_annotation(spec, key);
        if (!value || !*value)
                return 0;
        *out = strdup(value);
        return *out ? 0 : shm_error_set(err, ENOMEM, "out of memory");
}

/*
 * CRI-O names a container k8s_<container>_<pod>_<namespace>_<uid>_<attempt>
 * from the kubelet's metadata; Kubernetes names hold no '_'.
 */
static int crio_identity(const struct oci_spec *spec, struct engine *engine, struct shm_error *err)
{
        const char *name = oci_spec_annotation(spec, CRIO_NAME), *part[3];
        size_t len[3];

        if (!name || strncmp(name, "k8s_", 4) != 0)
                return 0;
        const char *p = name + 4;
        for (int i = 0; i < 3; i++) {
                part[i] = p;
                len[i] = strcspn(p, "_");
                if (!len[i] || p[len[i]] != '_')
                        return 0;
                p += len[i] + 1;
        }
        engine->k8s_container = strndup(part[0], len[0]);
        engine->k8s_pod = strndup(part[1], len[1]);
        engine->k8s_namespace = strndup(part[2], len[2]);
        if (!engine->k8s_container || !engine->k8s_pod || !engine->k8s_namespace)
                return shm_error_set(err, ENOMEM, "out of memory");
        return 0;
}

static int containerd_identity(const struct oci_spec *spec, struct engine *engine,
                               struct shm_error *err)
{
        int r;
        if ((r = copy_annotation(spec, CONTAINERD_NAMESPACE, &engine->k8s_namespace, err)) < 0 ||
            (r = copy_annotation(spec, CONTAINERD_POD, &engine->k8s_pod, err)) < 0 ||
            (r = copy_annotation(spec, CONTAINERD_CONTAINER, &engine->k8s_container, err)) < 0 ||
            (r = copy_annotation(spec, CONTAINERD_SANDBOX, &engine->sandbox_id, err)) < 0)
                return r;
        return 0;
}

static bool annotation_is(const struct oci_spec *spec, const char *key, const char *value)
{
        const char *v = oci_spec_annotation(spec, key);
        return v && strcmp(v, value) == 0;
}

int engine_identify(const char *id, const char *bundle, const struct oci_spec *spec,
                    struct engine *engine, struct shm_error *err)
{
        *engine = (struct engine){0};
        engine->kind = kind_from_layout(id, bundle, spec, &engine->dir);
        switch (engine->kind) {
        case ENGINE_CONTAINERD:
                /* containerd sets its io.kubernetes.cri.* keys after copying pod annotations. */
                engine->sandbox = annotation_is(spec, CONTAINERD_TYPE, "sandbox");
                return containerd_identity(spec, engine, err);
        case ENGINE_CRIO:
                /* CRI-O sets its own keys after the pod's annotations, likewise. */
                engine->sandbox = annotation_is(spec, CRIO_TYPE, "sandbox");
                return crio_identity(spec, engine, err);
        case ENGINE_NONE:
                /* Written by hand, by someone who could write anything: its annotations may
                 * name the image and mark a sandbox, but it is no Kubernetes pod, so
                 * namespace=, pod= and container= never hold. */
                engine->sandbox = annotation_is(spec, CONTAINERD_TYPE, "sandbox") ||
                                  annotation_is(spec, CRIO_TYPE, "sandbox");
                return 0;
        case ENGINE_PODMAN:
        case ENGINE_DOCKER:
                break;
        }
        return 0;
}

void engine_free(struct engine *engine)
{
        free(engine->dir);
        free(engine->k8s_namespace);
        free(engine->k8s_pod);
        free(engine->k8s_container);
        free(engine->sandbox_id);
        *engine = (struct engine){0};
}

/* ---- containers-storage: containers.json, streamed to our entry ---- */

enum { S_LIST, S_ENTRY, S_ID, S_METADATA };
static const struct json_field storage_fields[] = {
    [S_LIST] = {-1, NULL, JSON_SHAPE_ARRAY, "containers.json"},
    [S_ENTRY] = {S_LIST, NULL, JSON_SHAPE_OBJECT, "containers.json[]"},
    [S_ID] = {S_ENTRY, "id", JSON_SHAPE_STRING, "containers.json[].id"},
    [S_METADATA] = {S_ENTRY, "metadata", JSON_SHAPE_STRING, "containers.json[].metadata"},
};

struct storage_search {
        const char *id;
        bool entry_matches;
        char *entry_metadata;
        bool found;
};

static int storage_value(struct json_reader *r, int field, const char *key, const char *text,
                         size_t len, struct shm_error *err)
{
        struct storage_search *s = r->ctx;
        (void)key;
        if (field == S_ID)
                s->entry_matches = len == strlen(s->id) && memcmp(text, s->id, len) == 0;
        if (field != S_METADATA)
                return 0;
        free(s->entry_metadata);
        s->entry_metadata = strndup(text, len);
        return s->entry_metadata ? 0 : shm_error_set(err, ENOMEM, "out of memory");
}

static int storage_begin(struct json_reader *r, int field, struct shm_error *err)
{
        struct storage_search *s = r->ctx;
        (void)err;
        if (field == S_ENTRY) {
                s->entry_matches = false;
                free(steal_pointer(&s->entry_metadata));
        }
        return 0;
}

/* Our entry is complete: the rest of the file is other containers'. */
static int storage_end(struct json_reader *r, int field, struct shm_error *err)
{
        struct storage_search *s = r->ctx;
        (void)err;
        if (field != S_ENTRY || !s->entry_matches)
                return 0;
        s->found = true;
        return JSON_READER_STOP;
}

static const struct json_reader_ops storage_ops = {
    .value = storage_value, .begin = storage_begin, .end = storage_end};

enum { M_OBJECT, M_IMAGE_NAME };
static const struct json_field metadata_fields[] = {
    [M_OBJECT] = {-1, NULL, JSON_SHAPE_OBJECT, "container metadata"},
    [M_IMAGE_NAME] = {M_OBJECT, "image-name", JSON_SHAPE_STRING, "metadata.image-name"},
};

/* One string field: the reader's ctx is where it goes. */
static int keep_string(struct json_reader *r, int field, const char *key, const char *text,
                       size_t len, struct shm_error *err)
{
        char **out = r->ctx;
        (void)field;
        (void)key;
        free(*out);
        *out = strndup(text, len);
        return *out ? 0 : shm_error_set(err, ENOMEM, "out of memory");
}

static const struct json_reader_ops keep_string_ops = {.value = keep_string};

static char *storage_image(const struct engine *engine, const char *id, bool *warn, char *note,
                           size_t note_size)
{
        _cleanup_close_ int dir_fd = -1, fd = -1;
        struct storage_search s = {.id = id};
        struct shm_error e = {0};
        char *image = NULL;

        *warn = true;
        dir_fd = open(engine->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        fd = dir_fd < 0
                 ? -1
                 : open_regular_file(dir_fd, "containers.json", ENGINE_FILE_MAX_BYTES, NULL, &e);
        if (fd < 0 || json_read_fd(storage_fields, ARRAY_SIZE(storage_fields), &storage_ops, &s,
                                   "containers.json", fd, ENGINE_FILE_MAX_BYTES, &e) < 0) {
                set_note(note, note_size, "containers-storage '%s/containers.json': %s",
                         engine->dir, e.code ? e.message : strerror(errno));
        } else if (!s.found) {
                set_note(note, note_size, "container '%s' is not in '%s/containers.json'", id,
                         engine->dir);
        } else if (!s.entry_metadata ||
                   json_read_buffer(metadata_fields, ARRAY_SIZE(metadata_fields), &keep_string_ops,
                                    &image, "container metadata", s.entry_metadata,
                                    strlen(s.entry_metadata), &e) < 0) {
                free(steal_pointer(&image)); /* read before the metadata proved malformed */
                set_note(note, note_size, "containers-storage entry of '%s': %s", id,
                         e.code ? e.message : "no metadata");
        } else if (!image) {
                set_note(note, note_size, "containers-storage entry of '%s' names no image", id);
                *warn = false; /* a container made from a root file system, not an image */
        } else {
                *warn = false;
        }
        free(s.entry_metadata);
        return image;
}

/* ---- Docker: config.v2.json, streamed to Config.Image ---- */

enum { D_CONFIG_V2, D_ID, D_CONFIG, D_IMAGE };
static const struct json_field docker_fields[] = {
    [D_CONFIG_V2] = {-1, NULL, JSON_SHAPE_OBJECT, "config.v2.json"},
    [D_ID] = {D_CONFIG_V2, "ID", JSON_SHAPE_STRING, "config.v2.ID"},
    [D_CONFIG] = {D_CONFIG_V2, "Config", JSON_SHAPE_OBJECT, "config.v2.Config"},
    [D_IMAGE] = {D_CONFIG, "Image", JSON_SHAPE_STRING, "config.v2.Config.Image"},
};

struct docker_search {
        char *id, *image;
};

static int docker_value(struct json_reader *r, int field, const char *key, const char *text,
                        size_t len, struct shm_error *err)
{
        struct docker_search *s = r->ctx;
        char **out = field == D_ID ? &s->id : field == D_IMAGE ? &s->image : NULL;
        (void)key;
        if (!out)
                return 0;
        free(*out);
        *out = strndup(text, len);
        if (!*out)
                return shm_error_set(err, ENOMEM, "out of memory");
        return s->id && s->image ? JSON_READER_STOP : 0;
}

static const struct json_reader_ops docker_ops = {.value = docker_value};

static bool is_image_id(const char *image)
{
        /* `docker run IMAGE-ID` records the ID: it names no image a rule could mean. */
        return strncmp(image, "sha256:", 7) == 0 ||
               (strlen(image) >= 12 && strspn(image, "0123456789abcdef") == strlen(image));
}

static char *docker_image(const struct engine *engine, const char *id, bool *warn, char *note,
                          size_t note_size)
{
        _cleanup_free_ char *dir = NULL;
        _cleanup_close_ int dir_fd = -1, fd = -1;
        struct docker_search s = {0};
        struct shm_error e = {0};
        char *image = NULL;

        *warn = true;
        if (asprintf(&dir, "%s/%s", engine->dir, id) < 0) {
                dir = NULL;
                set_note(note, note_size, "out of memory");
                return NULL;
        }
        dir_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        fd = dir_fd < 0
                 ? -1
                 : open_regular_file(dir_fd, "config.v2.json", ENGINE_FILE_MAX_BYTES, NULL, &e);
        if (fd < 0 || json_read_fd(docker_fields, ARRAY_SIZE(docker_fields), &docker_ops, &s,
                                   "config.v2.json", fd, ENGINE_FILE_MAX_BYTES, &e) < 0)
                set_note(note, note_size, "Docker '%s/config.v2.json': %s", dir,
                         e.code ? e.message : strerror(errno));
        else if (!s.id || strcmp(s.id, id) != 0)
                set_note(note, note_size, "Docker '%s/config.v2.json' is not the record of '%s'",
                         dir, id);
        else if (s.image && !is_image_id(s.image))
                image = steal_pointer(&s.image);
        else {
                set_note(note, note_size, "Docker ran '%s' by image ID", id);
                *warn = false;
        }
        if (image)
                *warn = false;
        free(s.id);
        free(s.image);
        return image;
}

static char *annotation_image(const struct oci_spec *spec, const char *key)
{
        const char *v = oci_spec_annotation(spec, key);
        return v && *v ? strdup(v) : NULL;
}

void engine_find_image(const struct engine *engine, const char *id, const struct oci_spec *spec,
                       char **ref, const char **source, bool *warn, char *note, size_t note_size)
{
        *ref = NULL;
        *source = NULL;
        *warn = false;
        set_note(note, note_size, "%s", "");
        switch (engine->kind) {
        case ENGINE_PODMAN:
                *source = "containers-storage";
                *ref = storage_image(engine, id, warn, note, note_size);
                break;
        case ENGINE_DOCKER:
                *source = "docker-config";
                *ref = docker_image(engine, id, warn, note, note_size);
                break;
        case ENGINE_CONTAINERD:
                *source = "containerd-annotation";
                *ref = annotation_image(spec, CONTAINERD_IMAGE);
                break;
        case ENGINE_CRIO:
                *source = "crio-annotation";
                *ref = annotation_image(spec, CRIO_IMAGE);
                break;
        case ENGINE_NONE:
                *source = "annotation-unverified";
                if (!(*ref = annotation_image(spec, CONTAINERD_IMAGE)))
                        *ref = annotation_image(spec, CRIO_IMAGE);
                break;
        }
        if (!*ref && note && !note[0])
                set_note(note, note_size, "%s sets no image name for it",
                         engine->kind == ENGINE_NONE ? "no engine claims the bundle; it"
                                                     : engine_name(engine->kind));
        if (!*ref)
                *source = NULL;
}

/* ---- the engine's own shm, which a pod or IPC-sharing containers bind ---- */

static bool has_dot_parts(const char *path)
{
        for (const char *p = path; *p;) {
                size_t len = strcspn(p, "/");
                if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
                        return true;
                p += len;
                p += strspn(p, "/");
        }
        return false;
}

/* The engine's shm path shapes: the directory before the parts, and its kind. */
static enum engine_kind shm_layout(const char *source, char **dir)
{
        struct path_part id;

        *dir = NULL;
        if (!part_is(source, 0, "shm"))
                return ENGINE_NONE;
        /* containerd CRI: <state>/io.containerd.grpc.v1.cri/sandboxes/<id>/shm */
        if (path_part_from_end(source, 1, &id) && path_is_engine_id(id.s, id.len) &&
            part_is(source, 2, "sandboxes") && part_is(source, 3, "io.containerd.grpc.v1.cri"))
                return (*dir = path_strip(source, 4)) ? ENGINE_CONTAINERD : ENGINE_NONE;
        /* Docker: <data-root>/containers/<id>/mounts/shm */
        if (part_is(source, 1, "mounts") && path_part_from_end(source, 2, &id) &&
            path_is_engine_id(id.s, id.len) && part_is(source, 3, "containers"))
                return (*dir = path_strip(source, 3)) ? ENGINE_DOCKER : ENGINE_NONE;
        /* containers-storage (Podman, CRI-O): <dir>/<driver>-containers/<id>/userdata/shm */
        if (part_is(source, 1, "userdata") && path_part_from_end(source, 2, &id) &&
            path_is_engine_id(id.s, id.len) && part_is_storage_dir(source, 3))
                return (*dir = path_strip(source, 3)) ? ENGINE_PODMAN : ENGINE_NONE;
        return ENGINE_NONE;
}

bool engine_shm_source_is_own(const struct engine *engine, const char *source)
{
        _cleanup_free_ char *dir = NULL;
        enum engine_kind kind;

        if (!source || source[0] != '/' || has_dot_parts(source))
                return false;
        kind = shm_layout(source, &dir);
        if (kind == ENGINE_NONE)
                return false;
        if (engine->kind == ENGINE_NONE)
                return true; /* a bundle written by hand, binding a pod's tmpfs itself */
        if (engine->kind == ENGINE_CRIO)
                kind = ENGINE_CRIO; /* the same layout as Podman's */
        /* The same directory, by name or, through an admin's symlink, by inode. */
        if (kind != engine->kind || (strcmp(dir, engine->dir) != 0 && !same_file(dir, engine->dir)))
                return false;
        if (kind != ENGINE_CONTAINERD || !engine->sandbox_id)
                return true;
        /* Kubernetes pods share their own sandbox's tmpfs, and no other. */
        struct path_part id;
        return path_part_from_end(source, 1, &id) && path_part_is(&id, engine->sandbox_id);
}
