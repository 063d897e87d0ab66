/* SPDX-License-Identifier: Apache-2.0 */
#include "bundle.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "cleanup.h"
#include "fileio.h"
#include "json.h"
#include "spec.h"

static void cleanup_yajl_genp(yajl_gen *g)
{
        if (*g)
                yajl_gen_free(*g);
}
#define _cleanup_yajl_gen_ __attribute__((cleanup(cleanup_yajl_genp)))

#define GEN(call)                                                                                  \
        do {                                                                                       \
                if ((call) != yajl_gen_status_ok)                                                  \
                        return -EINVAL;                                                            \
        } while (0)

static int gen_str(yajl_gen g, const char *s)
{
        GEN(yajl_gen_string(g, (const unsigned char *)s, strlen(s)));
        return 0;
}

/* Write a parsed value back; numbers keep their original text (big integers, exponents). */
static int gen_value(yajl_gen g, yajl_val v)
{
        int r;

        switch (v->type) {
        case yajl_t_string:
                return gen_str(g, v->u.string);
        case yajl_t_number:
                GEN(yajl_gen_number(g, v->u.number.r, strlen(v->u.number.r)));
                return 0;
        case yajl_t_true:
        case yajl_t_false:
                GEN(yajl_gen_bool(g, v->type == yajl_t_true));
                return 0;
        case yajl_t_null:
                GEN(yajl_gen_null(g));
                return 0;
        case yajl_t_array:
                GEN(yajl_gen_array_open(g));
                for (size_t i = 0; i < v->u.array.len; i++)
                        if ((r = gen_value(g, v->u.array.values[i])) < 0)
                                return r;
                GEN(yajl_gen_array_close(g));
                return 0;
        case yajl_t_object:
                GEN(yajl_gen_map_open(g));
                for (size_t i = 0; i < v->u.object.len; i++) {
                        if ((r = gen_str(g, v->u.object.keys[i])) < 0 ||
                            (r = gen_value(g, v->u.object.values[i])) < 0)
                                return r;
                }
                GEN(yajl_gen_map_close(g));
                return 0;
        default:
                return -EINVAL;
        }
}

static int gen_entry(yajl_gen g, const struct hook_entry *h)
{
        int r;

        GEN(yajl_gen_map_open(g));
        if ((r = gen_str(g, "path")) < 0 || (r = gen_str(g, h->path)) < 0 ||
            (r = gen_str(g, "args")) < 0)
                return r;
        GEN(yajl_gen_array_open(g));
        for (size_t i = 0; i < BUNDLE_MAX_HOOK_ARGS && h->args[i]; i++)
                if ((r = gen_str(g, h->args[i])) < 0)
                        return r;
        GEN(yajl_gen_array_close(g));
        if (h->env[0]) {
                if ((r = gen_str(g, "env")) < 0)
                        return r;
                GEN(yajl_gen_array_open(g));
                for (size_t i = 0; i < BUNDLE_MAX_HOOK_ARGS && h->env[i]; i++)
                        if ((r = gen_str(g, h->env[i])) < 0)
                                return r;
                GEN(yajl_gen_array_close(g));
        }
        if (h->timeout > 0) {
                if ((r = gen_str(g, "timeout")) < 0)
                        return r;
                GEN(yajl_gen_integer(g, h->timeout));
        }
        GEN(yajl_gen_map_close(g));
        return 0;
}

/* hooks.<stage>: the existing entries, then ours. */
static int gen_stage(yajl_gen g, yajl_val existing, const struct hook_entry *h)
{
        int r;

        GEN(yajl_gen_array_open(g));
        for (size_t i = 0; YAJL_IS_ARRAY(existing) && i < existing->u.array.len; i++)
                if ((r = gen_value(g, existing->u.array.values[i])) < 0)
                        return r;
        if ((r = gen_entry(g, h)) < 0)
                return r;
        GEN(yajl_gen_array_close(g));
        return 0;
}

static int gen_hooks(yajl_gen g, yajl_val hooks, const char *stage, const struct hook_entry *h)
{
        bool done = false;
        int r;

        GEN(yajl_gen_map_open(g));
        for (size_t i = 0; YAJL_IS_OBJECT(hooks) && i < hooks->u.object.len; i++) {
                const char *key = hooks->u.object.keys[i];
                if ((r = gen_str(g, key)) < 0)
                        return r;
                if (strcmp(key, stage) == 0) {
                        r = gen_stage(g, hooks->u.object.values[i], h);
                        done = true;
                } else {
                        r = gen_value(g, hooks->u.object.values[i]);
                }
                if (r < 0)
                        return r;
        }
        if (!done && ((r = gen_str(g, stage)) < 0 || (r = gen_stage(g, NULL, h)) < 0))
                return r;
        GEN(yajl_gen_map_close(g));
        return 0;
}

static int gen_config(yajl_gen g, yajl_val root, const char *stage, const struct hook_entry *h)
{
        bool done = false;
        int r;

        GEN(yajl_gen_map_open(g));
        for (size_t i = 0; i < root->u.object.len; i++) {
                const char *key = root->u.object.keys[i];
                if ((r = gen_str(g, key)) < 0)
                        return r;
                if (strcmp(key, "hooks") == 0) {
                        r = gen_hooks(g, root->u.object.values[i], stage, h);
                        done = true;
                } else {
                        r = gen_value(g, root->u.object.values[i]);
                }
                if (r < 0)
                        return r;
        }
        if (!done && ((r = gen_str(g, "hooks")) < 0 || (r = gen_hooks(g, NULL, stage, h)) < 0))
                return r;
        GEN(yajl_gen_map_close(g));
        return 0;
}

/* Check the types on the way to hooks.<stage>; tell whether the hook is already there. */
static int check_hooks(yajl_val root, const char *stage, const char *path, bool *present,
                       struct shm_error *err)
{
        yajl_val hooks = json_member(root, "hooks");
        int r;

        *present = false;
        if (!hooks || YAJL_IS_NULL(hooks))
                return 0;
        if (!YAJL_IS_OBJECT(hooks))
                return shm_error_set(err, EINVAL, "'config.hooks' is not an object");
        r = json_check_unique_keys(hooks, "'config.hooks'", err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < hooks->u.object.len; i++) {
                yajl_val list = hooks->u.object.values[i];
                const char *key = hooks->u.object.keys[i];
                if (YAJL_IS_NULL(list))
                        continue;
                if (!YAJL_IS_ARRAY(list)) {
                        if (strcmp(key, stage) == 0)
                                return shm_error_set(err, EINVAL,
                                                     "'config.hooks.%s' is not an array", key);
                        continue;
                }
                for (size_t j = 0; j < list->u.array.len; j++) {
                        yajl_val p = json_member(list->u.array.values[j], "path");
                        if (YAJL_IS_STRING(p) &&
                            (strcmp(p->u.string, path) == 0 || same_file(p->u.string, path)))
                                *present = true;
                }
        }
        return 0;
}

int bundle_config_add_hook(const char *buf, size_t len, const char *stage,
                           const struct hook_entry *hook, char **out, size_t *out_len, bool *added,
                           struct shm_error *err)
{
        _cleanup_yajl_tree_ yajl_val root = NULL;
        _cleanup_yajl_gen_ yajl_gen g = NULL;
        const unsigned char *text;
        size_t text_len;
        bool present;
        int r;

        *out = NULL;
        *out_len = 0;
        *added = false;
        if ((r = json_parse_object(buf, len, "config.json", &root, err)) < 0 ||
            (r = json_check_unique_keys(root, "config.json", err)) < 0 ||
            (r = check_hooks(root, stage, hook->path, &present, err)) < 0)
                return r;
        if (present)
                return 0;

        g = yajl_gen_alloc(NULL);
        if (!g)
                return shm_error_set(err, ENOMEM, "out of memory");
        if (gen_config(g, root, stage, hook) < 0 ||
            yajl_gen_get_buf(g, &text, &text_len) != yajl_gen_status_ok)
                return shm_error_set(err, EINVAL, "cannot write config.json back as JSON");
        *out = malloc(text_len + 2);
        if (!*out)
                return shm_error_set(err, ENOMEM, "out of memory");
        memcpy(*out, text, text_len);
        (*out)[text_len] = '\n';
        (*out)[text_len + 1] = '\0';
        *out_len = text_len + 1;
        *added = true;
        return 0;
}

static int write_all(int fd, const char *buf, size_t len)
{
        while (len > 0) {
                ssize_t n = write(fd, buf, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                buf += n;
                len -= (size_t)n;
        }
        return 0;
}

int bundle_add_hook(const char *bundle, const char *stage, const struct hook_entry *hook,
                    bool *added, struct shm_error *err)
{
        _cleanup_close_ int dir_fd = -1, fd = -1, tmp_fd = -1;
        _cleanup_free_ char *text = NULL, *new_text = NULL;
        char tmp_name[64];
        size_t len, new_len;
        struct stat st;
        int r;

        *added = false;
        dir_fd = open(bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0)
                return shm_error_set(err, errno, "cannot open bundle '%s': %s", bundle,
                                     strerror(errno));
        fd = openat(dir_fd, "config.json",
                    O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                if (errno == ELOOP)
                        return shm_error_set(
                            err, ELOOP, "'%s/config.json' is a symbolic link; refusing it", bundle);
                return shm_error_set(err, errno, "cannot open '%s/config.json': %s", bundle,
                                     strerror(errno));
        }
        if (fstat(fd, &st) < 0)
                return shm_error_set(err, errno, "cannot stat '%s/config.json': %s", bundle,
                                     strerror(errno));
        if (!S_ISREG(st.st_mode))
                return shm_error_set(err, EINVAL, "'%s/config.json' is not a regular file", bundle);
        if ((uint64_t)st.st_size > SPEC_MAX_BYTES)
                return shm_error_set(err, EFBIG, "'%s/config.json' is larger than %u bytes", bundle,
                                     SPEC_MAX_BYTES);
        r = read_fd_bounded(fd, SPEC_MAX_BYTES, "config.json", &text, &len, err);
        if (r < 0)
                return shm_error_prefix(err, "bundle '%s'", bundle);
        r = bundle_config_add_hook(text, len, stage, hook, &new_text, &new_len, added, err);
        if (r < 0)
                return shm_error_prefix(err, "bundle '%s'", bundle);
        if (!*added)
                return 0;
        *added = false;

        for (unsigned attempt = 0; tmp_fd < 0; attempt++) {
                snprintf(tmp_name, sizeof(tmp_name), ".config.json.oci-shm-runtime.%ld.%u",
                         (long)getpid(), attempt);
                tmp_fd =
                    openat(dir_fd, tmp_name,
                           O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
                if (tmp_fd < 0 && (errno != EEXIST || attempt >= 100))
                        return shm_error_set(err, errno, "cannot create a file in bundle '%s': %s",
                                             bundle, strerror(errno));
        }
        /* The new file keeps the old one's permissions and, as root, its owner. */
        if (geteuid() == 0 && (st.st_uid != 0 || st.st_gid != 0) &&
            fchown(tmp_fd, st.st_uid, st.st_gid) < 0) {
                r = shm_error_set(err, errno, "cannot chown '%s/%s': %s", bundle, tmp_name,
                                  strerror(errno));
                goto fail;
        }
        if (fchmod(tmp_fd, st.st_mode & 07777) < 0 ||
            (r = write_all(tmp_fd, new_text, new_len)) < 0 || fsync(tmp_fd) < 0) {
                int e = r < 0 ? -r : errno;
                r = shm_error_set(err, e, "cannot write '%s/%s': %s", bundle, tmp_name,
                                  strerror(e));
                goto fail;
        }
        r = close(steal_fd(&tmp_fd));
        if (r < 0) {
                r = shm_error_set(err, errno, "cannot write '%s/%s': %s", bundle, tmp_name,
                                  strerror(errno));
                goto fail;
        }
        if (renameat(dir_fd, tmp_name, dir_fd, "config.json") < 0) {
                r = shm_error_set(err, errno, "cannot replace '%s/config.json': %s", bundle,
                                  strerror(errno));
                goto fail;
        }
        /* The rename is durable once the directory is. */
        fsync(dir_fd);
        *added = true;
        return 0;
fail:
        unlinkat(dir_fd, tmp_name, 0);
        return r;
}
