/* SPDX-License-Identifier: Apache-2.0 */
#include "engine.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "fileio.h"
#include "json.h"

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

/* Podman: <graphroot>/<driver>-containers/<id>/userdata is the bundle. */
static char *podman_image(const char *id, const char *bundle, char *note, size_t note_size)
{
        _cleanup_free_ char *dir = NULL, *text = NULL;
        _cleanup_close_ int dir_fd = -1;
        _cleanup_yajl_tree_ yajl_val list = NULL;
        _cleanup_yajl_tree_ yajl_val metadata = NULL;
        struct shm_error e = {0};
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
        if (dir_fd < 0 ||
            read_file_bounded(dir_fd, "containers.json", ENGINE_FILE_MAX_BYTES, &text, &len, &e) <
                0 ||
            json_parse_value(text, len, "containers.json", &list, &e) < 0) {
                set_note(note, note_size, "containers-storage '%s/containers.json': %s", dir,
                         e.code ? e.message : strerror(errno));
                return NULL;
        }
        if (!YAJL_IS_ARRAY(list))
                return NULL;
        for (size_t i = 0; i < list->u.array.len; i++) {
                yajl_val entry = list->u.array.values[i];
                const char *entry_id = NULL, *meta = NULL;
                if (json_get_string(entry, "id", "container", &entry_id, &e) < 0 || !entry_id ||
                    strcmp(entry_id, id) != 0)
                        continue;
                /* "metadata" is itself JSON, in a string. */
                if (json_get_string(entry, "metadata", "container", &meta, &e) < 0 || !meta ||
                    json_parse_object(meta, strlen(meta), "container metadata", &metadata, &e) <
                        0) {
                        set_note(note, note_size, "containers-storage entry of '%s': %s", id,
                                 e.code ? e.message : "no metadata");
                        return NULL;
                }
                const char *name = NULL;
                if (json_get_string(metadata, "image-name", "metadata", &name, &e) < 0 || !name)
                        return NULL;
                return strdup(name);
        }
        set_note(note, note_size, "container '%s' is not in '%s/containers.json'", id, dir);
        return NULL;
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
