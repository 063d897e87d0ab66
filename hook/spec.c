/* SPDX-License-Identifier: Apache-2.0 */
#include "spec.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "fileio.h"
#include "json.h"

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

static int parse_mounts(yajl_val tree, struct oci_spec *spec, struct shm_error *err)
{
        yajl_val mounts;
        int r;

        r = json_get_array(tree, "mounts", "config", &mounts, err);
        if (r < 0 || !mounts)
                return r;
        if (mounts->u.array.len > SPEC_MAX_MOUNTS)
                return shm_error_set(err, E2BIG, "config.json has more than %d mounts",
                                     SPEC_MAX_MOUNTS);
        for (size_t i = 0; i < mounts->u.array.len; i++) {
                yajl_val m = mounts->u.array.values[i], options;
                const char *destination, *type, *source;

                if (!YAJL_IS_OBJECT(m))
                        return shm_error_set(err, EINVAL, "'config.mounts[%zu]' is not an object",
                                             i);
                if ((r = json_get_string(m, "destination", "config.mounts[]", &destination, err)) <
                        0 ||
                    (r = json_get_string(m, "type", "config.mounts[]", &type, err)) < 0 ||
                    (r = json_get_string(m, "source", "config.mounts[]", &source, err)) < 0 ||
                    (r = json_get_array(m, "options", "config.mounts[]", &options, err)) < 0)
                        return r;
                if (!destination)
                        return shm_error_set(err, EINVAL, "'config.mounts[%zu]' has no destination",
                                             i);
                if (source && strcmp(destination, "/etc/hostname") == 0)
                        spec->hostname_source = source;
                if (!spec_path_is_dev_shm(destination))
                        continue;

                bool bind = type && strcmp(type, "bind") == 0;
                for (size_t j = 0; options && j < options->u.array.len; j++) {
                        yajl_val o = options->u.array.values[j];
                        if (!YAJL_IS_STRING(o))
                                return shm_error_set(err, EINVAL,
                                                     "'config.mounts[%zu].options' holds a "
                                                     "value that is not a string",
                                                     i);
                        bind |=
                            strcmp(o->u.string, "bind") == 0 || strcmp(o->u.string, "rbind") == 0;
                }
                spec->shm = (struct spec_mount){
                    .present = true, .bind = bind, .type = type, .source = source};
        }
        return 0;
}

static int parse_annotations(yajl_val tree, struct oci_spec *spec, struct shm_error *err)
{
        yajl_val annotations;
        int r;

        r = json_get_object(tree, "annotations", "config", &annotations, err);
        if (r < 0 || !annotations)
                return r;
        size_t n = annotations->u.object.len;
        if (n > SPEC_MAX_ANNOTATIONS)
                return shm_error_set(err, E2BIG, "config.json has more than %d annotations",
                                     SPEC_MAX_ANNOTATIONS);
        r = json_check_unique_keys(annotations, "'config.annotations'", err);
        if (r < 0)
                return r;
        spec->annotations = calloc(n ? n : 1, sizeof(*spec->annotations));
        if (!spec->annotations)
                return shm_error_set(err, ENOMEM, "out of memory");
        for (size_t i = 0; i < n; i++) {
                yajl_val v = annotations->u.object.values[i];
                if (!YAJL_IS_STRING(v))
                        return shm_error_set(err, EINVAL, "annotation '%s' is not a string",
                                             annotations->u.object.keys[i]);
                spec->annotations[i] =
                    (struct annotation){.key = annotations->u.object.keys[i], .value = v->u.string};
        }
        spec->n_annotations = n;
        return 0;
}

static int parse_memory_limit(yajl_val tree, struct oci_spec *spec, struct shm_error *err)
{
        yajl_val linux_obj, resources, memory;
        int64_t limit;
        bool present;
        int r;

        if ((r = json_get_object(tree, "linux", "config", &linux_obj, err)) < 0 ||
            (r = json_get_object(linux_obj, "resources", "config.linux", &resources, err)) < 0 ||
            (r = json_get_object(resources, "memory", "config.linux.resources", &memory, err)) <
                0 ||
            (r = json_get_int64(memory, "limit", "config.linux.resources.memory", &limit, &present,
                                err)) < 0)
                return r;
        /* -1 (and 0) mean "no limit" in runtimes' practice. */
        spec->memory_limit = present && limit > 0 ? (uint64_t)limit : 0;
        return 0;
}

int oci_spec_parse(const char *buf, size_t len, const char *bundle, struct oci_spec *spec,
                   struct shm_error *err)
{
        yajl_val root;
        const char *root_path;
        int r;

        memset(spec, 0, sizeof(*spec));
        r = json_parse_object(buf, len, "config.json", &spec->tree, err);
        if (r < 0)
                return r;
        if ((r = json_check_unique_keys(spec->tree, "config.json", err)) < 0 ||
            (r = json_get_object(spec->tree, "root", "config", &root, err)) < 0 ||
            (r = json_get_string(root, "path", "config.root", &root_path, err)) < 0)
                goto fail;
        if (!root_path || !*root_path) {
                r = shm_error_set(err, EINVAL, "config.json has no 'root.path'");
                goto fail;
        }
        if (root_path[0] != '/' && path_has_dotdot(root_path)) {
                r = shm_error_set(err, EINVAL, "'root.path' '%s' leaves the bundle through '..'",
                                  root_path);
                goto fail;
        }
        if (root_path[0] == '/')
                spec->root_path = strdup(root_path);
        else if (asprintf(&spec->root_path, "%s/%s", bundle, root_path) < 0)
                spec->root_path = NULL;
        if (!spec->root_path) {
                r = shm_error_set(err, ENOMEM, "out of memory");
                goto fail;
        }
        if ((r = parse_mounts(spec->tree, spec, err)) < 0 ||
            (r = parse_annotations(spec->tree, spec, err)) < 0 ||
            (r = parse_memory_limit(spec->tree, spec, err)) < 0)
                goto fail;
        return 0;
fail:
        oci_spec_free(spec);
        return r;
}

int oci_spec_load(const char *bundle, struct oci_spec *spec, struct shm_error *err)
{
        _cleanup_close_ int bundle_fd = -1;
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r;

        memset(spec, 0, sizeof(*spec));
        bundle_fd = open(bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (bundle_fd < 0)
                return shm_error_set(err, errno, "cannot open bundle '%s': %s", bundle,
                                     strerror(errno));
        r = read_file_bounded(bundle_fd, "config.json", SPEC_MAX_BYTES, &text, &len, err);
        if (r < 0)
                return shm_error_prefix(err, "bundle '%s'", bundle);
        return oci_spec_parse(text, len, bundle, spec, err);
}

void oci_spec_free(struct oci_spec *spec)
{
        if (spec->tree)
                yajl_tree_free(spec->tree);
        free(spec->root_path);
        free(spec->annotations);
        memset(spec, 0, sizeof(*spec));
}

const char *oci_spec_annotation(const struct oci_spec *spec, const char *key)
{
        for (size_t i = 0; i < spec->n_annotations; i++)
                if (strcmp(spec->annotations[i].key, key) == 0)
                        return spec->annotations[i].value;
        return NULL;
}
