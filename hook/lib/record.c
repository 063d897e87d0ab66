/* SPDX-License-Identifier: Apache-2.0 */
#include "record.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "log.h"
#include "proc.h"
#include "state.h"

/* tmpfs counts a directory's size as 20 bytes an entry (BOGO_DIRENT_SIZE). */
#define TMPFS_DIRENT_SIZE  20
#define RECORD_PRUNE_EVERY 64
#define TMP_PREFIX         ".tmp-"
#define TMP_MAX_AGE        60
#define VALUE_MAX          1100

static int parse_pid(const char *s, pid_t *pid)
{
        uint64_t v;
        if (proc_parse_u64(s, &v) < 0 || v < 1 || v > STATE_PID_LIMIT)
                return -EINVAL;
        *pid = (pid_t)v;
        return 0;
}

int record_name(pid_t pid, uint64_t start_time, char *buf, size_t size)
{
        int n = snprintf(buf, size, "%d-%" PRIu64, (int)pid, start_time);
        return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

bool record_name_parse(const char *name, pid_t *pid, uint64_t *start_time)
{
        char buf[64];
        const char *dash = strchr(name, '-');
        if (!dash || (size_t)(dash - name) >= sizeof(buf))
                return false;
        memcpy(buf, name, (size_t)(dash - name));
        buf[dash - name] = '\0';
        return parse_pid(buf, pid) == 0 && proc_parse_u64(dash + 1, start_time) == 0;
}

/* The text of a record as it is built; full once something did not fit. */
struct record_text {
        char *buf;
        size_t size, len;
        bool full;
};

static void text_add(struct record_text *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void text_add(struct record_text *t, const char *fmt, ...)
{
        va_list ap;
        if (t->full)
                return;
        va_start(ap, fmt);
        int n = vsnprintf(t->buf + t->len, t->size - t->len, fmt, ap);
        va_end(ap);
        if (n < 0 || (size_t)n >= t->size - t->len)
                t->full = true;
        else
                t->len += (size_t)n;
}

/* "key=value<tail>\n", the value on one line: control characters become '?', at
 * most VALUE_MAX - 1 bytes of it are kept, an empty one is "?" and NULL "-". */
static void text_add_value(struct record_text *t, const char *key, const char *value,
                           const char *tail)
{
        const char *s = !value ? "-" : !*value ? "?" : value;
        text_add(t, "%s=", key);
        for (size_t i = 0; s[i] && i + 1 < VALUE_MAX && !t->full; i++) {
                if (t->len + 1 >= t->size) {
                        t->full = true;
                        break;
                }
                unsigned char c = (unsigned char)s[i];
                t->buf[t->len++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
        }
        text_add(t, "%s\n", tail);
}

int record_format(const struct decision_record *r, char *buf, size_t size)
{
        struct record_text t = {.buf = buf, .size = size};
        char line[16] = "";

        if (!size)
                return -E2BIG;
        if (r->rule_file)
                snprintf(line, sizeof(line), ":%u", r->rule_line);
        text_add(&t, "version=%d\n", RECORD_VERSION);
        text_add_value(&t, "id", r->id, "");
        text_add(&t, "pid=%d\nstart_time=%" PRIu64 "\n", (int)r->pid, r->start_time);
        text_add_value(&t, "engine", r->engine, "");
        text_add_value(&t, "image", r->image, "");
        text_add_value(&t, "rule", r->rule_file, line);
        text_add_value(&t, "kind", r->kind, "");
        text_add(&t, "target=%" PRIu64 "\nafter=%" PRIu64 "\n", r->target, r->after);
        text_add_value(&t, "result", r->result, "");
        text_add(&t, "time=%" PRId64 "\n", r->time);
        if (t.full)
                return -E2BIG;
        buf[t.len] = '\0';
        return (int)t.len;
}

struct record_key {
        const char *name;
        const char **str;
        uint64_t *num;
};

static int record_set(const struct record_key *keys, size_t n_keys, unsigned *seen, char *key,
                      char *value, struct shm_error *err)
{
        for (size_t i = 0; i < n_keys; i++) {
                if (strcmp(keys[i].name, key) != 0)
                        continue;
                if (*seen & (1u << i))
                        return shm_error_set(err, EINVAL, "key '%s' given twice", key);
                *seen |= 1u << i;
                if (keys[i].str) {
                        *keys[i].str = strcmp(value, "-") == 0 ? NULL : value;
                        return 0;
                }
                if (proc_parse_u64(value, keys[i].num) < 0)
                        return shm_error_set(err, EINVAL, "key '%s': '%s' is not a number", key,
                                             value);
                return 0;
        }
        return 0; /* a key from a later version */
}

int record_parse(char *buf, size_t len, struct decision_record *r, struct shm_error *err)
{
        uint64_t version = 0, pid = 0, time = 0;
        const char *rule = NULL;
        const struct record_key keys[] = {
            {"version", NULL, &version},  {"id", &r->id, NULL},
            {"pid", NULL, &pid},          {"start_time", NULL, &r->start_time},
            {"engine", &r->engine, NULL}, {"image", &r->image, NULL},
            {"rule", &rule, NULL},        {"kind", &r->kind, NULL},
            {"target", NULL, &r->target}, {"after", NULL, &r->after},
            {"result", &r->result, NULL}, {"time", NULL, &time},
        };
        unsigned seen = 0;

        *r = (struct decision_record){0};
        if (has_nul_byte(buf, len))
                return shm_error_set(err, EINVAL, "a NUL byte");
        for (char *line = buf; *line;) {
                char *end = strchr(line, '\n');
                if (!end)
                        return shm_error_set(err, EINVAL, "the last line has no newline");
                *end = '\0';
                char *eq = strchr(line, '=');
                if (!eq || eq == line)
                        return shm_error_set(err, EINVAL, "a line without key=value");
                *eq = '\0';
                int ret = record_set(keys, ARRAY_SIZE(keys), &seen, line, eq + 1, err);
                if (ret < 0)
                        return ret;
                line = end + 1;
        }
        if (!(seen & 1) || version != RECORD_VERSION)
                return shm_error_set(err, EINVAL, "not a version %d record", RECORD_VERSION);
        if (!r->id || !container_id_valid(r->id) || !(seen & (1u << 3)) || pid < 1 ||
            pid > STATE_PID_LIMIT)
                return shm_error_set(err, EINVAL, "no valid id, pid and start_time");
        r->pid = (pid_t)pid;
        r->time = (int64_t)(time > INT64_MAX ? INT64_MAX : time);
        if (rule) {
                /* "FILE:LINE" back into its parts; a rule without a line is kept whole. */
                char *colon = strrchr(rule, ':');
                uint64_t line_no;
                if (colon && proc_parse_u64(colon + 1, &line_no) == 0 && line_no <= UINT32_MAX) {
                        *colon = '\0';
                        r->rule_line = (unsigned)line_no;
                }
                r->rule_file = rule;
        }
        return 0;
}

/* The record directory, made if missing; refused unless ours alone (root's, for the hook). */
static int open_record_dir(const char *dir, bool create, struct shm_error *err)
{
        struct stat st;
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT && create) {
                if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                        return shm_error_set(err, errno, "cannot create '%s': %s", dir,
                                             strerror(errno));
                fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        if (fd < 0)
                return shm_error_set(err, errno, "cannot open '%s': %s", dir, strerror(errno));
        if (fstat(fd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 077)) {
                close(fd);
                return shm_error_set(err, EPERM,
                                     "'%s' is not a directory of root's alone (0700); not using it",
                                     dir);
        }
        return fd;
}

/* A stale record: its process is gone, or its pid now belongs to another process. */
static bool record_stale(pid_t pid, uint64_t start_time)
{
        uint64_t now;
        int r = proc_start_time(pid, NULL, &now);
        return r == -ENOENT || (r == 0 && now != start_time);
}

/* A temporary file a killed hook left behind: removed after a minute. */
static bool prune_tmp(int dir_fd, const char *name, time_t now)
{
        struct stat st;
        if (strncmp(name, TMP_PREFIX, strlen(TMP_PREFIX)) != 0)
                return false;
        if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_mtime + TMP_MAX_AGE < now)
                unlinkat(dir_fd, name, 0);
        return true;
}

int record_prune_fd(int dir_fd, size_t *live)
{
        int fd = fcntl(dir_fd, F_DUPFD_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        DIR *d = fdopendir(fd);
        if (!d) {
                close(fd);
                return -errno;
        }
        time_t now = time(NULL);
        struct dirent *de;
        pid_t pid;
        uint64_t start;
        *live = 0;
        while ((de = readdir(d))) {
                if (prune_tmp(dir_fd, de->d_name, now))
                        continue;
                if (record_name_parse(de->d_name, &pid, &start)) {
                        if (record_stale(pid, start))
                                unlinkat(dir_fd, de->d_name, 0);
                        else
                                (*live)++;
                }
        }
        closedir(d);
        return 0;
}

/*
 * Prune only now and then: when the directory's size says about
 * RECORD_PRUNE_AT entries (tmpfs, /run on every systemd node, counts 20 bytes
 * an entry), a fstat away. Other file systems never shrink a directory, so
 * once one is that large only one container start in RECORD_PRUNE_EVERY,
 * chosen by its pid, prunes it.
 */
static bool too_many_records(int dir_fd, pid_t pid)
{
        struct stat st;
        struct statfs sf;
        size_t live;
        /* No file system makes a directory of a few entries this large: one fstat, mostly. */
        if (fstat(dir_fd, &st) < 0 || st.st_size < (off_t)RECORD_PRUNE_AT * TMPFS_DIRENT_SIZE ||
            fstatfs(dir_fd, &sf) < 0)
                return false;
        if (sf.f_type != TMPFS_MAGIC && pid % RECORD_PRUNE_EVERY != 0)
                return false;
        return record_prune_fd(dir_fd, &live) < 0 || live >= RECORD_MAX_FILES;
}

int record_dir_open(const char *dir, struct shm_error *err)
{
        return open_record_dir(dir, true, err);
}

int record_write_into(int dir_fd, const char *dir, const struct decision_record *in,
                      struct shm_error *err)
{
        struct decision_record r = *in;
        char text[RECORD_MAX_BYTES], name[64], tmp[96];
        int ret;

        if (!r.start_time && (ret = proc_start_time(r.pid, NULL, &r.start_time)) < 0)
                return shm_error_set(err, -ret, "cannot read the start time of pid %d: %s",
                                     (int)r.pid, strerror(-ret));
        if (!r.time)
                r.time = (int64_t)time(NULL);
        int len = record_format(&r, text, sizeof(text));
        if (len < 0)
                return shm_error_set(err, E2BIG, "the record is larger than %d bytes",
                                     RECORD_MAX_BYTES);
        if (too_many_records(dir_fd, r.pid))
                return shm_error_set(err, ENOSPC, "'%s' holds %d live records; not adding one", dir,
                                     RECORD_MAX_FILES);
        record_name(r.pid, r.start_time, name, sizeof(name));
        snprintf(tmp, sizeof(tmp), TMP_PREFIX "%s", name);
        _cleanup_close_ int fd =
            openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
                   0600); /* O_NONBLOCK: a FIFO there could not stall the start */
        if (fd < 0)
                return shm_error_set(err, errno, "cannot create '%s/%s': %s", dir, tmp,
                                     strerror(errno));
        errno = 0;
        if (write(fd, text, (size_t)len) != len) {
                int code = errno ? errno : EIO; /* a short write sets none */
                ret =
                    shm_error_set(err, code, "cannot write '%s/%s': %s", dir, tmp, strerror(code));
                unlinkat(dir_fd, tmp, 0);
                return ret;
        }
        if (renameat(dir_fd, tmp, dir_fd, name) < 0) {
                ret = shm_error_set(err, errno, "cannot rename '%s/%s': %s", dir, tmp,
                                    strerror(errno));
                unlinkat(dir_fd, tmp, 0);
                return ret;
        }
        return 0;
}

int record_write_at(const char *dir, const struct decision_record *r, struct shm_error *err)
{
        _cleanup_close_ int dir_fd = record_dir_open(dir, err);
        return dir_fd < 0 ? dir_fd : record_write_into(dir_fd, dir, r, err);
}

void record_write(int dir_fd, const struct decision_record *r)
{
        struct shm_error err = {0};
        if (dir_fd >= 0 && record_write_into(dir_fd, RECORD_DIR, r, &err) < 0)
                log_msg(LOG_DEBUG, "container=%s: no decision record: %s", r->id, err.message);
}

static int record_load_one(int dir_fd, const char *name, struct record_entry *e)
{
        size_t len;
        struct shm_error err = {0};
        int ret = read_file_bounded(dir_fd, name, RECORD_MAX_BYTES, &e->text, &len, &err);
        if (ret < 0)
                return ret;
        ret = record_parse(e->text, len, &e->r, &err);
        if (ret < 0) {
                free(e->text);
                e->text = NULL;
        }
        return ret;
}

/* One record: skipped when unreadable, its name disagrees, or it is stale. */
static void record_consider(int dir_fd, const char *name, struct record_list *l)
{
        pid_t pid;
        uint64_t start;
        if (prune_tmp(dir_fd, name, time(NULL)) || !record_name_parse(name, &pid, &start))
                return;
        if (record_stale(pid, start)) {
                if (unlinkat(dir_fd, name, 0) == 0)
                        l->stale_removed++;
                return;
        }
        if (l->n == RECORD_MAX_FILES)
                return;
        struct record_entry *e = &l->items[l->n];
        if (record_load_one(dir_fd, name, e) < 0)
                return;
        if (e->r.pid != pid || e->r.start_time != start) {
                free(e->text);
                return;
        }
        l->n++;
        return;
}

int record_load(const char *dir, struct record_list *out, struct shm_error *err)
{
        *out = (struct record_list){0};
        int dir_fd = open_record_dir(dir, false, err);
        if (dir_fd < 0)
                return dir_fd == -ENOENT ? 0 : dir_fd;
        DIR *d = fdopendir(dir_fd);
        if (!d) {
                close(dir_fd);
                return shm_error_set(err, errno, "cannot read '%s': %s", dir, strerror(errno));
        }
        out->items = calloc(RECORD_MAX_FILES, sizeof(*out->items));
        if (!out->items) {
                closedir(d);
                return shm_error_set(err, ENOMEM, "out of memory");
        }
        struct dirent *de;
        while ((de = readdir(d)))
                record_consider(dirfd(d), de->d_name, out);
        closedir(d);
        return 0;
}

void record_list_free(struct record_list *l)
{
        for (size_t i = 0; i < l->n; i++)
                free(l->items[i].text);
        free(l->items);
        *l = (struct record_list){0};
}
