/* SPDX-License-Identifier: Apache-2.0 */
#include "engine.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "json.h"
#include "spec.h"

#include <yajl/yajl_parse.h>

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

/* Copy of `path` without its last n components (and the slashes before them). */
static char *dirname_n(const char *path, unsigned n)
{
        char *copy = strdup(path);
        if (!copy)
                return NULL;
        for (unsigned i = 0; i < n; i++) {
                size_t len = strlen(copy);
                while (len > 1 && copy[len - 1] == '/')
                        copy[--len] = '\0';
                char *slash = strrchr(copy, '/');
                if (!slash || slash == copy) {
                        free(copy);
                        return NULL;
                }
                *slash = '\0';
        }
        return copy;
}

static const char *last_component(const char *path, unsigned skip, size_t *len)
{
        const char *end = path + strlen(path);
        for (unsigned i = 0;; i++) {
                while (end > path && end[-1] == '/')
                        end--;
                const char *start = end;
                while (start > path && start[-1] != '/')
                        start--;
                if (i == skip) {
                        *len = (size_t)(end - start);
                        return start;
                }
                if (start == path)
                        return NULL;
                end = start;
        }
}

/*
 * containers.json holds every container of the storage: on a busy Podman host
 * it is large, so it is read as a stream, keeping only the "metadata" string
 * of the entry whose "id" is ours. Still strict JSON, and depth-capped.
 */
struct storage_search {
        const char *id;
        unsigned depth;
        bool top_is_array;
        enum { KEY_OTHER, KEY_ID, KEY_METADATA } key; /* of the entry's current member */
        bool entry_matches, entry_metadata_bad;
        char *entry_metadata;
        bool found, metadata_bad;
        char *metadata;
        struct json_stream stream;
};

/* A value of the entry's current member arrives (depth 2 is inside an entry). */
static bool in_entry(const struct storage_search *s)
{
        return s->top_is_array && s->depth == 2;
}

static int search_fail(struct storage_search *s, int code, const char *message)
{
        shm_error_set(s->stream.err, code, "%s", message);
        return 0; /* stops yajl */
}

static void search_other_value(struct storage_search *s)
{
        if (in_entry(s) && s->key == KEY_METADATA)
                s->entry_metadata_bad = true;
}

static int search_null(void *ctx)
{
        (void)ctx;
        return 1;
}

static int search_boolean(void *ctx, int value)
{
        (void)value;
        search_other_value(ctx);
        return 1;
}

static int search_number(void *ctx, const char *text, size_t len)
{
        (void)text;
        (void)len;
        search_other_value(ctx);
        return 1;
}

static int search_string(void *ctx, const unsigned char *text, size_t len)
{
        struct storage_search *s = ctx;
        if (!in_entry(s))
                return 1;
        if (s->key == KEY_ID)
                s->entry_matches = len == strlen(s->id) && memcmp(text, s->id, len) == 0;
        else if (s->key == KEY_METADATA) {
                free(s->entry_metadata);
                s->entry_metadata = strndup((const char *)text, len);
                if (!s->entry_metadata)
                        return search_fail(s, ENOMEM, "out of memory");
        }
        return 1;
}

static int search_enter(struct storage_search *s)
{
        if (s->depth == JSON_MAX_DEPTH)
                return search_fail(s, EINVAL, "containers.json is nested deeper than 64 levels");
        s->depth++;
        return 1;
}

static int search_start_map(void *ctx)
{
        struct storage_search *s = ctx;
        search_other_value(s);
        if (!search_enter(s))
                return 0;
        if (in_entry(s)) {
                s->key = KEY_OTHER;
                s->entry_matches = s->entry_metadata_bad = false;
                free(s->entry_metadata);
                s->entry_metadata = NULL;
        }
        return 1;
}

static int search_map_key(void *ctx, const unsigned char *key, size_t len)
{
        struct storage_search *s = ctx;
        if (in_entry(s))
                s->key = len == 2 && memcmp(key, "id", 2) == 0         ? KEY_ID
                         : len == 8 && memcmp(key, "metadata", 8) == 0 ? KEY_METADATA
                                                                       : KEY_OTHER;
        return 1;
}

static int search_end_map(void *ctx)
{
        struct storage_search *s = ctx;
        if (in_entry(s) && s->entry_matches && !s->found) {
                s->found = true;
                s->metadata = steal_pointer(&s->entry_metadata);
                s->metadata_bad = s->entry_metadata_bad;
        }
        if (--s->depth == 0)
                json_stream_ended(&s->stream);
        return 1;
}

static int search_start_array(void *ctx)
{
        struct storage_search *s = ctx;
        search_other_value(s);
        if (s->depth == 0)
                s->top_is_array = true;
        return search_enter(s);
}

static int search_end_array(void *ctx)
{
        struct storage_search *s = ctx;
        if (--s->depth == 0)
                json_stream_ended(&s->stream);
        return 1;
}

static const yajl_callbacks storage_callbacks = {
    .yajl_null = search_null,
    .yajl_boolean = search_boolean,
    .yajl_number = search_number,
    .yajl_string = search_string,
    .yajl_start_map = search_start_map,
    .yajl_map_key = search_map_key,
    .yajl_end_map = search_end_map,
    .yajl_start_array = search_start_array,
    .yajl_end_array = search_end_array,
};

/* Stream dir/containers.json through the search. */
static int search_storage(int dir_fd, struct storage_search *s, struct shm_error *err)
{
        _cleanup_close_ int fd =
            open_regular_file(dir_fd, "containers.json", ENGINE_FILE_MAX_BYTES, err);
        int r;

        if (fd < 0)
                return fd;
        r = json_stream_begin(&s->stream, &storage_callbacks, s, "containers.json", err);
        if (r == 0)
                r = json_stream_read(&s->stream, fd, ENGINE_FILE_MAX_BYTES);
        if (r == 0)
                r = json_stream_finish(&s->stream);
        json_stream_free(&s->stream);
        return r;
}

/* Podman: <graphroot>/<driver>-containers/<id>/userdata is the bundle. */
static char *podman_image(const char *id, const char *bundle, char *note, size_t note_size)
{
        _cleanup_free_ char *dir = NULL;
        _cleanup_close_ int dir_fd = -1;
        _cleanup_yajl_tree_ yajl_val metadata = NULL;
        struct storage_search search = {.id = id};
        struct shm_error e = {0};
        char *image = NULL;
        const char *c;
        size_t len;

        c = last_component(bundle, 0, &len);
        if (!c || len != 8 || memcmp(c, "userdata", 8) != 0)
                return NULL;
        c = last_component(bundle, 1, &len);
        if (!c || len != strlen(id) || memcmp(c, id, len) != 0)
                return NULL;
        dir = dirname_n(bundle, 2);
        if (!dir)
                return NULL;
        dir_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0) {
                set_note(note, note_size, "containers-storage '%s': %s", dir, strerror(errno));
                return NULL;
        }
        if (search_storage(dir_fd, &search, &e) < 0) {
                set_note(note, note_size, "containers-storage '%s/containers.json': %s", dir,
                         e.message);
                goto out;
        }
        e = (struct shm_error){0};
        if (!search.found) {
                set_note(note, note_size, "container '%s' is not in '%s/containers.json'", id, dir);
                goto out;
        }
        /* "metadata" is itself JSON, in a string. */
        if (search.metadata_bad || !search.metadata ||
            json_parse_object(search.metadata, strlen(search.metadata), "container metadata",
                              &metadata, &e) < 0) {
                set_note(note, note_size, "containers-storage entry of '%s': %s", id,
                         search.metadata_bad ? "'container.metadata' is not a string"
                         : e.code            ? e.message
                                             : "no metadata");
                goto out;
        }
        const char *name = NULL;
        if (json_get_string(metadata, "image-name", "metadata", &name, &e) == 0 && name)
                image = strdup(name);
out:
        free(search.metadata);
        free(search.entry_metadata);
        return image;
}

/* Docker: <data-root>/containers/<id>/hostname is the /etc/hostname source. */
static char *docker_image(const char *id, const struct oci_spec *spec, char *note, size_t note_size)
{
        _cleanup_free_ char *dir = NULL, *text = NULL;
        _cleanup_close_ int dir_fd = -1;
        _cleanup_yajl_tree_ yajl_val tree = NULL;
        struct shm_error e = {0};
        yajl_val config;
        const char *c, *image;
        size_t len;

        if (!spec->hostname_source || spec->hostname_source[0] != '/')
                return NULL;
        c = last_component(spec->hostname_source, 1, &len);
        if (!c || len != strlen(id) || memcmp(c, id, len) != 0)
                return NULL;
        c = last_component(spec->hostname_source, 2, &len);
        if (!c || len != 10 || memcmp(c, "containers", 10) != 0)
                return NULL;
        dir = dirname_n(spec->hostname_source, 1);
        if (!dir)
                return NULL;
        dir_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0 ||
            read_file_bounded(dir_fd, "config.v2.json", ENGINE_FILE_MAX_BYTES, &text, &len, &e) <
                0 ||
            json_parse_object(text, len, "config.v2.json", &tree, &e) < 0 ||
            json_get_object(tree, "Config", "config.v2", &config, &e) < 0 ||
            json_get_string(config, "Image", "config.v2.Config", &image, &e) < 0) {
                set_note(note, note_size, "Docker '%s/config.v2.json': %s", dir,
                         e.code ? e.message : strerror(errno));
                return NULL;
        }
        /* `docker run IMAGE-ID` records the ID: it names no image a rule could mean. */
        if (!image || strncmp(image, "sha256:", 7) == 0 ||
            (strlen(image) >= 12 && strspn(image, "0123456789abcdef") == strlen(image)))
                return NULL;
        return strdup(image);
}

bool engine_is_pod_sandbox(const struct oci_spec *spec)
{
        const char *containerd = oci_spec_annotation(spec, "io.kubernetes.cri.container-type");
        const char *crio = oci_spec_annotation(spec, "io.kubernetes.cri-o.ContainerType");
        return (containerd && strcmp(containerd, "sandbox") == 0) ||
               (crio && strcmp(crio, "sandbox") == 0);
}

static bool take_annotation(const struct oci_spec *spec, const char *key, char **ref,
                            const char **source, const char *name)
{
        const char *v = oci_spec_annotation(spec, key);
        if (!v || !*v)
                return false;
        *ref = strdup(v);
        *source = name;
        return *ref != NULL;
}

void engine_image_reference(const char *id, const char *bundle, const struct oci_spec *spec,
                            char **ref, const char **source, char *note, size_t note_size)
{
        static const char containerd_key[] = "io.kubernetes.cri.image-name";
        static const char crio_key[] = "io.kubernetes.cri-o.ImageName";
        const char *manager = oci_spec_annotation(spec, "io.container.manager");
        bool valid_id = id && container_id_valid(id);

        *ref = NULL;
        *source = NULL;
        if (note && note_size)
                note[0] = '\0';

        /*
         * Believe the engine that made the container, and only it: annotations
         * can also come from users (podman --annotation, docker --annotation,
         * pod annotations that CRI-O passes on), and a container that could
         * name its own image could claim another image's rule, shm=host
         * included. Podman marks its containers io.container.manager=libpod
         * and keeps the image in containers-storage (its pod containers also
         * carry CRI-O-style annotations, but no ImageName); CRI-O marks its own
         * with ContainerType and sets ImageName after the pod's annotations.
         */
        if (manager && strcmp(manager, "libpod") == 0) {
                if (valid_id && bundle && (*ref = podman_image(id, bundle, note, note_size)))
                        *source = "containers-storage";
                return;
        }
        if (oci_spec_annotation(spec, "io.kubernetes.cri-o.ContainerType")) {
                take_annotation(spec, crio_key, ref, source,
                                "annotation io.kubernetes.cri-o.ImageName");
                return;
        }
        if (valid_id && (*ref = docker_image(id, spec, note, note_size))) {
                *source = "docker config.v2.json";
                return;
        }
        /* containerd (it passes pod annotations only when allowed by pod_annotations), or
         * a bundle written by hand. */
        if (take_annotation(spec, containerd_key, ref, source,
                            "annotation io.kubernetes.cri.image-name") ||
            take_annotation(spec, crio_key, ref, source,
                            "annotation io.kubernetes.cri-o.ImageName"))
                return;
        if (valid_id && bundle && (*ref = podman_image(id, bundle, note, note_size)))
                *source = "containers-storage";
}
