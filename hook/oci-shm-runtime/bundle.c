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

/* The stages of the OCI runtime spec's "hooks" object (runc's spec.Hooks fields). */
static const char *const hook_stages[] = {"prestart",       "createRuntime", "createContainer",
                                          "startContainer", "poststart",     "poststop"};

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

static int gen_str_array(yajl_gen g, const char *const *list)
{
        GEN(yajl_gen_array_open(g));
        for (size_t i = 0; i < BUNDLE_MAX_HOOK_ARGS && list[i]; i++)
                if (gen_str(g, list[i]) < 0)
                        return -EINVAL;
        GEN(yajl_gen_array_close(g));
        return 0;
}

static int gen_entry(yajl_gen g, const struct hook_entry *h)
{
        GEN(yajl_gen_map_open(g));
        if (gen_str(g, "path") < 0 || gen_str(g, h->path) < 0 || gen_str(g, "args") < 0 ||
            gen_str_array(g, h->args) < 0)
                return -EINVAL;
        if (h->env[0] && (gen_str(g, "env") < 0 || gen_str_array(g, h->env) < 0))
                return -EINVAL;
        if (h->timeout > 0) {
                if (gen_str(g, "timeout") < 0)
                        return -EINVAL;
                GEN(yajl_gen_integer(g, h->timeout));
        }
        GEN(yajl_gen_map_close(g));
        return 0;
}

/*
 * What is inserted, by how much is missing: 0 the entry, 1 [entry],
 * 2 {"<stage>":[entry]}, 3 {"hooks":{"<stage>":[entry]}}.
 */
static int gen_insertion(yajl_gen g, int level, const char *stage, const struct hook_entry *h)
{
        if (level == 0)
                return gen_entry(g, h);
        if (level == 1) {
                GEN(yajl_gen_array_open(g));
                if (gen_entry(g, h) < 0)
                        return -EINVAL;
                GEN(yajl_gen_array_close(g));
                return 0;
        }
        GEN(yajl_gen_map_open(g));
        if (gen_str(g, level == 3 ? "hooks" : stage) < 0 ||
            gen_insertion(g, level - 1, stage, h) < 0)
                return -EINVAL;
        GEN(yajl_gen_map_close(g));
        return 0;
}

/*
 * Does key equal the ASCII field name the way Go's encoding/json matches a
 * key to a struct field: ASCII case ignored, and U+212A KELVIN SIGN for 'k',
 * U+017F LONG S for 's' (their simple case folds).
 */
static bool go_fold_equal(const char *key, const char *name)
{
        const unsigned char *k = (const unsigned char *)key;

        for (const char *n = name; *n; n++) {
                char c = *n >= 'A' && *n <= 'Z' ? (char)(*n + 32) : *n;
                unsigned char kc = *k >= 'A' && *k <= 'Z' ? (unsigned char)(*k + 32) : *k;
                if (kc == (unsigned char)c && kc < 0x80) {
                        k++;
                } else if (c == 'k' && strncmp((const char *)k, "\xe2\x84\xaa", 3) == 0) {
                        k += 3;
                } else if (c == 's' && strncmp((const char *)k, "\xc5\xbf", 2) == 0) {
                        k += 2;
                } else {
                        return false;
                }
        }
        return *k == '\0';
}

/* A key for a message: control characters and DEL shown as '?', at most 120 bytes. */
static const char *shown_key(const char *key, char *buf, size_t size)
{
        size_t i;

        for (i = 0; key[i] && i + 4 < size && i < 120; i++)
                buf[i] = (unsigned char)key[i] < 0x20 || key[i] == 0x7f ? '?' : key[i];
        if (key[i])
                buf[i++] = '.', buf[i++] = '.', buf[i++] = '.';
        buf[i] = '\0';
        return buf;
}

/*
 * A key that is one of `names` only when case is ignored is read by runc
 * (whose decoder folds case, the last match winning) and not by crun: the
 * two would run different hooks.
 */
static int check_folded_keys(yajl_val object, const char *const *names, size_t n, const char *where,
                             struct shm_error *err)
{
        char shown[128];

        for (size_t i = 0; i < object->u.object.len; i++) {
                const char *key = object->u.object.keys[i];
                for (size_t j = 0; j < n; j++)
                        if (strcmp(key, names[j]) != 0 && go_fold_equal(key, names[j]))
                                return shm_error_set(
                                    err, EINVAL,
                                    "%s has key '%s', which runc reads as '%s' and crun ignores; "
                                    "refusing it",
                                    where, shown_key(key, shown, sizeof(shown)), names[j]);
        }
        return 0;
}

/* Does an entry of this hook list run `path` (the same name or the same file)? */
static bool list_has_hook(yajl_val list, const char *path)
{
        for (size_t j = 0; YAJL_IS_ARRAY(list) && j < list->u.array.len; j++) {
                yajl_val p = json_member(list->u.array.values[j], "path");
                if (YAJL_IS_STRING(p) &&
                    (strcmp(p->u.string, path) == 0 || same_file(p->u.string, path)))
                        return true;
        }
        return false;
}

/* Check the keys and types on the way to hooks.<stage>; tell whether the hook is there. */
static int check_hooks(yajl_val root, const char *stage, const char *path, bool *present,
                       struct shm_error *err)
{
        static const char *const top[] = {"hooks"};
        yajl_val hooks = json_member(root, "hooks"), list;
        int r;

        *present = false;
        if ((r = json_check_unique_keys(root, "config.json", err)) < 0 ||
            (r = check_folded_keys(root, top, 1, "config.json", err)) < 0)
                return r;
        if (!hooks || YAJL_IS_NULL(hooks))
                return 0;
        if (!YAJL_IS_OBJECT(hooks))
                return shm_error_set(err, EINVAL, "'config.hooks' is not an object");
        if ((r = json_check_unique_keys(hooks, "'config.hooks'", err)) < 0 ||
            (r = check_folded_keys(hooks, hook_stages, ARRAY_SIZE(hook_stages), "'config.hooks'",
                                   err)) < 0)
                return r;
        list = json_member(hooks, stage);
        if (list && !YAJL_IS_NULL(list) && !YAJL_IS_ARRAY(list))
                return shm_error_set(err, EINVAL, "'config.hooks.%s' is not an array", stage);
        for (size_t i = 0; i < hooks->u.object.len && !*present; i++)
                *present = list_has_hook(hooks->u.object.values[i], path);
        return 0;
}

/*
 * A scanner over text that yajl has accepted: it only finds where values
 * begin and end, so it need not check anything. Offsets index the text,
 * which ends with a NUL byte.
 */
static size_t skip_ws(const char *t, size_t i)
{
        return i + strspn(t + i, " \t\r\n");
}

static size_t skip_string(const char *t, size_t i)
{
        for (i++; t[i] && t[i] != '"'; i++)
                if (t[i] == '\\' && t[i + 1])
                        i++;
        return t[i] ? i + 1 : i;
}

static size_t skip_value(const char *t, size_t i)
{
        size_t depth = 0;

        if (t[i] == '"')
                return skip_string(t, i);
        if (t[i] != '{' && t[i] != '[')
                return i + strcspn(t + i, ",]} \t\r\n");
        do {
                if (t[i] == '"') {
                        i = skip_string(t, i);
                        continue;
                }
                if (t[i] == '{' || t[i] == '[')
                        depth++;
                else if (t[i] == '}' || t[i] == ']')
                        depth--;
                i++;
        } while (depth > 0 && t[i]);
        return i;
}

/*
 * yajl takes a vertical tab or a form feed as white space; JSON, runc and
 * this scanner do not.
 */
static int check_white_space(const char *t, size_t len, struct shm_error *err)
{
        for (size_t i = 0; i < len; i++) {
                if (t[i] == '"')
                        i = skip_string(t, i) - 1;
                else if (t[i] == '\v' || t[i] == '\f')
                        return shm_error_set(err, EINVAL,
                                             "config.json is not valid JSON: a %s at offset %zu",
                                             t[i] == '\v' ? "vertical tab" : "form feed", i);
        }
        return 0;
}

struct member {
        size_t value, end; /* where the value begins, and just past it */
};

/*
 * The next member of the object whose '{', or the ',' after the previous
 * member, is at *pos. At the end *pos is the closing '}'.
 */
static bool next_member(const char *t, size_t *pos, struct member *m)
{
        size_t i;

        if (t[*pos] != '{' && t[*pos] != ',')
                return false;
        i = skip_ws(t, *pos + 1);
        if (t[i] != '"') {
                *pos = i;
                return false;
        }
        i = skip_ws(t, skip_string(t, i)); /* at ':' */
        m->value = skip_ws(t, i + 1);
        m->end = skip_value(t, m->value);
        *pos = skip_ws(t, m->end);
        return true;
}

/* Where and what to insert: `level` as for gen_insertion; `cut` bytes (a null) replaced. */
struct edit {
        size_t at, cut;
        int level;
        bool comma; /* a member or element comes before */
        bool strip; /* insert a member, not an object: drop the braces */
};

/* hooks.<stage> is null or an array: replace the null, or append to the array. */
static void locate_in_stage(const char *t, const struct member *m, yajl_val list, struct edit *e)
{
        size_t i = skip_ws(t, m->value + 1), last = 0;

        if (YAJL_IS_NULL(list)) {
                *e = (struct edit){.at = m->value, .cut = 4, .level = 1};
                return;
        }
        while (t[i] && t[i] != ']') {
                last = skip_value(t, i);
                i = skip_ws(t, last);
                if (t[i] == ',')
                        i = skip_ws(t, i + 1);
        }
        *e = (struct edit){.at = last ? last : i, .level = 0, .comma = last != 0};
}

/* Members of the object at m (its values in the tree, in the same order). */
static int locate_member(const char *t, const struct member *at, yajl_val object, const char *key,
                         struct member *found, size_t *last_end, size_t *close)
{
        size_t pos = at->value, i = 0;
        struct member m;

        *last_end = 0;
        while (next_member(t, &pos, &m)) {
                if (i >= object->u.object.len)
                        return -EINVAL;
                if (strcmp(object->u.object.keys[i++], key) == 0) {
                        *found = m;
                        return 1;
                }
                *last_end = m.end;
        }
        *close = pos;
        return i == object->u.object.len && t[pos] == '}' ? 0 : -EINVAL;
}

static int locate(const char *t, yajl_val root, const char *stage, struct edit *e,
                  struct shm_error *err)
{
        struct member doc = {.value = skip_ws(t, 0)}, hooks, list;
        size_t last, close;
        int r;

        r = locate_member(t, &doc, root, "hooks", &hooks, &last, &close);
        if (r == 0) {
                *e = (struct edit){
                    .at = last ? last : close, .level = 3, .comma = last != 0, .strip = true};
                return 0;
        }
        yajl_val hooks_v = json_member(root, "hooks");
        if (r > 0 && YAJL_IS_NULL(hooks_v)) {
                *e = (struct edit){.at = hooks.value, .cut = 4, .level = 2};
                return 0;
        }
        if (r > 0)
                r = locate_member(t, &hooks, hooks_v, stage, &list, &last, &close);
        if (r == 0) {
                *e = (struct edit){
                    .at = last ? last : close, .level = 2, .comma = last != 0, .strip = true};
                return 0;
        }
        if (r > 0) {
                locate_in_stage(t, &list, json_member(hooks_v, stage), e);
                return 0;
        }
        return shm_error_set(err, EINVAL, "cannot find where to add the hook in config.json");
}

/* buf with the edit applied: the bytes before e->at, the insertion, the rest. */
static int apply_edit(const char *buf, size_t len, const struct edit *e, const char *ins,
                      size_t ins_len, char **out, size_t *out_len, struct shm_error *err)
{
        size_t skip = e->strip ? 1 : 0, n = ins_len - 2 * skip;
        char *p = malloc(len - e->cut + n + 2);

        if (!p)
                return shm_error_set(err, ENOMEM, "out of memory");
        memcpy(p, buf, e->at);
        *out_len = e->at;
        if (e->comma)
                p[(*out_len)++] = ',';
        memcpy(p + *out_len, ins + skip, n);
        *out_len += n;
        memcpy(p + *out_len, buf + e->at + e->cut, len - e->at - e->cut);
        *out_len += len - e->at - e->cut;
        p[*out_len] = '\0';
        *out = p;
        return 0;
}

int bundle_config_add_hook(const char *buf, size_t len, const char *stage,
                           const struct hook_entry *hook, char **out, size_t *out_len, bool *added,
                           struct shm_error *err)
{
        _cleanup_yajl_tree_ yajl_val root = NULL;
        _cleanup_yajl_gen_ yajl_gen g = NULL;
        const unsigned char *ins;
        size_t ins_len;
        struct edit e = {0};
        bool present;
        int r;

        *out = NULL;
        *out_len = 0;
        *added = false;
        if ((r = json_parse_object(buf, len, "config.json", &root, err)) < 0 ||
            (r = check_white_space(buf, len, err)) < 0 ||
            (r = check_hooks(root, stage, hook->path, &present, err)) < 0)
                return r;
        if (present)
                return 0;
        if ((r = locate(buf, root, stage, &e, err)) < 0)
                return r;
        g = yajl_gen_alloc(NULL);
        if (!g || !yajl_gen_config(g, yajl_gen_validate_utf8, 1))
                return shm_error_set(err, ENOMEM, "out of memory");
        if (gen_insertion(g, e.level, stage, hook) < 0 ||
            yajl_gen_get_buf(g, &ins, &ins_len) != yajl_gen_status_ok)
                return shm_error_set(err, EINVAL, "cannot write the hook entry as JSON");
        if ((r = apply_edit(buf, len, &e, (const char *)ins, ins_len, out, out_len, err)) < 0)
                return r;
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

/* A new file in the bundle directory, no other process's. */
static int create_temporary(int dir_fd, char *name, size_t size, struct shm_error *err)
{
        for (unsigned attempt = 0;; attempt++) {
                snprintf(name, size, ".config.json.oci-shm-runtime.%ld.%u", (long)getpid(),
                         attempt);
                int fd =
                    openat(dir_fd, name,
                           O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
                if (fd >= 0)
                        return fd;
                if (errno != EEXIST || attempt >= 100)
                        return shm_error_set(err, errno, "cannot create a file: %s",
                                             strerror(errno));
        }
}

/* Write text to a temporary file with st's mode (and owner), fsync, rename over config.json. */
static int replace_config(int dir_fd, const struct stat *st, const char *text, size_t len,
                          struct shm_error *err)
{
        char tmp[64];
        _cleanup_close_ int fd = create_temporary(dir_fd, tmp, sizeof(tmp), err);
        int r = 0;

        if (fd < 0)
                return fd;
        /* The new file keeps the old one's permissions and, as root, its owner. */
        if (geteuid() == 0 && (st->st_uid != 0 || st->st_gid != 0) &&
            fchown(fd, st->st_uid, st->st_gid) < 0)
                r = shm_error_set(err, errno, "cannot chown '%s': %s", tmp, strerror(errno));
        else if (fchmod(fd, st->st_mode & 07777) < 0 || (r = write_all(fd, text, len)) < 0 ||
                 fsync(fd) < 0 || close(steal_fd(&fd)) < 0)
                r = shm_error_set(err, r < 0 ? -r : errno, "cannot write '%s': %s", tmp,
                                  strerror(r < 0 ? -r : errno));
        else if (renameat(dir_fd, tmp, dir_fd, "config.json") < 0)
                r = shm_error_set(err, errno, "cannot replace 'config.json': %s", strerror(errno));
        if (r < 0) {
                unlinkat(dir_fd, tmp, 0);
                return r;
        }
        /* The rename is durable once the directory is. */
        fsync(dir_fd);
        return 0;
}

int bundle_add_hook(const char *bundle, const char *stage, const struct hook_entry *hook,
                    bool *added, struct shm_error *err)
{
        _cleanup_close_ int dir_fd = -1, fd = -1;
        _cleanup_free_ char *text = NULL, *new_text = NULL;
        size_t len, new_len;
        struct stat st;
        int r;

        *added = false;
        dir_fd = open(bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0)
                return shm_error_set(err, errno, "cannot open bundle '%s': %s", bundle,
                                     strerror(errno));
        fd = open_regular_file(dir_fd, "config.json", BUNDLE_MAX_BYTES, NULL, err);
        if (fd < 0)
                return shm_error_prefix(err, "bundle '%s'", bundle);
        if (fstat(fd, &st) < 0)
                return shm_error_set(err, errno, "bundle '%s': cannot stat 'config.json': %s",
                                     bundle, strerror(errno));
        if ((r = read_fd_bounded(fd, (size_t)st.st_size, BUNDLE_MAX_BYTES, "'config.json'", &text,
                                 &len, err)) < 0 ||
            (r = bundle_config_add_hook(text, len, stage, hook, &new_text, &new_len, added, err)) <
                0)
                return shm_error_prefix(err, "bundle '%s'", bundle);
        if (!*added)
                return 0;
        *added = false;
        /* The hook reads config.json with the same cap: it must still fit. */
        if (new_len > BUNDLE_MAX_BYTES)
                return shm_error_set(err, EFBIG,
                                     "bundle '%s': 'config.json' with the hook would be larger "
                                     "than %u bytes",
                                     bundle, BUNDLE_MAX_BYTES);
        if ((r = replace_config(dir_fd, &st, new_text, new_len, err)) < 0)
                return shm_error_prefix(err, "bundle '%s'", bundle);
        *added = true;
        return 0;
}
