/* SPDX-License-Identifier: Apache-2.0 */
#include "status.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <yajl/yajl_gen.h>

#include "cleanup.h"
#include "fileio.h"
#include "record.h"
#include "state.h"

#define EXIT_USAGE 2
/* Segments read per IPC namespace: enough for any real workload, bounded. */
#define SYSV_MAX 1024
/* Mount namespaces considered: far more containers than a node runs. */
#define SCAN_MAX       16384
#define CGROUP_MAX     65536
#define WARNINGS_MAX   3
#define WARNING_LEN    256
#define DEFAULT_WARN   90
#define SHORT_ID_LEN   12
#define DISPLAY_ID_MAX 40

enum format { FORMAT_TABLE, FORMAT_JSON, FORMAT_PROMETHEUS };

struct status_options {
        bool all;
        enum format format;
        const char *output;
        const char *record_dir;
        const char *id;
        unsigned warn;
};

struct sysv_segment {
        int id;
        int key;
        uint64_t bytes;
        uint64_t attached;
        pid_t creator;
        pid_t last;
        unsigned uid;
        unsigned mode;
};

struct shm_view {
        bool ok;         /* size and used are known */
        bool symlink;    /* /dev/shm is a symbolic link in the container */
        bool mount_root; /* the root of a mount, not a directory of /dev */
        bool tmpfs;
        dev_t dev;
        uint64_t size, used, inodes, inodes_used;
        char note[192];
};

struct container {
        char id[CONTAINER_ID_MAX + 16];
        pid_t pid;
        uint64_t start_time;
        ino_t mnt_ns, ipc_ns;
        const struct decision_record *rec;
        char engine[32];
        char cgroup[1024];
        struct shm_view shm;
        const char *kind;
        unsigned shared; /* containers on this /dev/shm, itself included */
        bool has_limit;
        uint64_t limit;
        bool shown;
        bool sysv_ok;
        char sysv_note[128];
        size_t n_segs;
        uint64_t sysv_bytes, sysv_attached;
        struct sysv_segment *segs;
        char warnings[WARNINGS_MAX][WARNING_LEN];
        size_t n_warnings;
};

struct node {
        int proc_fd;
        ino_t self_mnt;
        ino_t init_mnt; /* PID 1's: the node's, when status runs in a container */
        dev_t init_root_dev;
        ino_t init_root_ino;
        dev_t self_root_dev;
        ino_t self_root_ino;
        bool host_shm_known;
        dev_t host_shm_dev;
        bool init_shm_known;
        dev_t init_shm_dev;
        struct container *c;
        size_t n, cap;
        struct record_list records;
        char run_dir[PATH_MAX]; /* the parent of the record directory: /run */
};

/* ---- small pure helpers (unit tested) ---- */

void status_prom_escape(const char *in, char *out, size_t size)
{
        size_t n = 0;
        if (!size)
                return;
        for (; in && *in && n + 3 < size; in++) {
                if (*in == '\\' || *in == '"') {
                        out[n++] = '\\';
                        out[n++] = *in;
                } else if (*in == '\n') {
                        out[n++] = '\\';
                        out[n++] = 'n';
                } else {
                        out[n++] = *in;
                }
        }
        out[n] = '\0';
}

static bool path_usable(const char *p)
{
        if (p[0] != '/')
                return false;
        for (const char *s = p; (s = strstr(s, "/..")); s += 3)
                if (s[3] == '/' || s[3] == '\0')
                        return false;
        return true;
}

int status_cgroup_memory_path(const char *text, char *path, size_t size)
{
        int found = 0;
        for (const char *line = text; *line;) {
                size_t len = strcspn(line, "\n");
                const char *c1 = memchr(line, ':', len);
                const char *c2 = c1 ? memchr(c1 + 1, ':', len - (size_t)(c1 + 1 - line)) : NULL;
                if (c2) {
                        size_t ctl_len = (size_t)(c2 - c1 - 1),
                               plen = len - (size_t)(c2 + 1 - line);
                        bool v1 = false;
                        for (const char *t = c1 + 1; t < c2;) {
                                size_t n = strcspn(t, ",:");
                                v1 |= n == 6 && memcmp(t, "memory", 6) == 0;
                                t += n + 1;
                        }
                        bool v2 = ctl_len == 0 && c1 - line == 1 && line[0] == '0';
                        if ((v1 || (v2 && !found)) && plen < size) {
                                memcpy(path, c2 + 1, plen);
                                path[plen] = '\0';
                                found = v1 ? 1 : 2;
                                if (v1)
                                        break;
                        }
                }
                line += len + (line[len] == '\n');
        }
        return found && path_usable(path) ? found : 0;
}

bool status_id_from_cgroup(const char *path, char *id, size_t size)
{
        static const char *const prefixes[] = {"libpod-", "docker-", "crio-", "cri-containerd-"};
        const char *last = strrchr(path, '/');
        char buf[CONTAINER_ID_MAX + 1];
        if (!last || !last[1] || strlen(last + 1) >= sizeof(buf))
                return false;
        snprintf(buf, sizeof(buf), "%s", last + 1);
        size_t len = strlen(buf);
        if (len > 6 && strcmp(buf + len - 6, ".scope") == 0)
                buf[len - 6] = '\0';
        const char *start = buf;
        for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++)
                if (strncmp(start, prefixes[i], strlen(prefixes[i])) == 0)
                        start += strlen(prefixes[i]);
        if (!container_id_valid(start) || strlen(start) >= size)
                return false;
        snprintf(id, size, "%s", start);
        return true;
}

const char *status_guess_engine(const char *comm, const char *cgroup)
{
        if (strstr(cgroup, "/crio-") || strstr(cgroup, "crio-conmon"))
                return "cri-o";
        if (strcmp(comm, "conmon") == 0)
                return "podman";
        if (strncmp(comm, "containerd-shim", 15) == 0)
                return strstr(cgroup, "docker") ? "docker" : "containerd";
        if (strncmp(comm, "runc", 4) == 0)
                return "runc";
        if (strcmp(comm, "crun") == 0)
                return "crun";
        return "unknown";
}

void status_human(uint64_t bytes, char *buf, size_t size)
{
        static const char units[] = "KMGTPE";
        double v = (double)bytes;
        int u = -1;
        if (bytes < 1024) {
                snprintf(buf, size, "%" PRIu64, bytes);
                return;
        }
        while (v >= 1024 && u < 5) {
                v /= 1024;
                u++;
        }
        /* Rounded up, as df -h does, so that a full /dev/shm never looks emptier. */
        if (v < 10)
                snprintf(buf, size, "%.1f%c", (double)(uint64_t)(v * 10 + 0.999) / 10, units[u]);
        else
                snprintf(buf, size, "%.0f%c", (double)(uint64_t)(v + 0.999), units[u]);
}

unsigned status_use_percent(uint64_t used, uint64_t size)
{
        if (!size)
                return 0;
        long double exact = (long double)used * 100 / (long double)size;
        uint64_t pct = (uint64_t)exact;
        if ((long double)pct < exact)
                pct++;
        return pct > 100 ? 100 : (unsigned)pct;
}

bool status_parse_limit(const char *text, uint64_t *bytes)
{
        char *end;
        errno = 0;
        if (text[0] < '0' || text[0] > '9')
                return false;
        unsigned long long v = strtoull(text, &end, 10);
        if (errno || (*end && *end != '\n'))
                return false;
        /* cgroup v1 says "no limit" with a page-rounded LONG_MAX. */
        if (v >= (1ull << 62))
                return false;
        *bytes = v;
        return true;
}

/* ---- reading one process ---- */

static int read_proc_text(int proc_fd, pid_t pid, const char *file, char **out)
{
        char path[64];
        size_t len;
        snprintf(path, sizeof(path), "%d/%s", (int)pid, file);
        return read_file_bounded(proc_fd, path, CGROUP_MAX, out, &len, NULL);
}

static int ns_of(int proc_fd, const char *pid, const char *ns, ino_t *ino)
{
        char path[NAME_MAX + 16];
        struct stat st;
        snprintf(path, sizeof(path), "%s/ns/%s", pid, ns);
        if (fstatat(proc_fd, path, &st, 0) < 0)
                return -errno;
        *ino = st.st_ino;
        return 0;
}

static void warn_add(struct container *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void warn_add(struct container *c, const char *fmt, ...)
{
        va_list ap;
        if (c->n_warnings == WARNINGS_MAX)
                return;
        va_start(ap, fmt);
        vsnprintf(c->warnings[c->n_warnings++], WARNING_LEN, fmt, ap);
        va_end(ap);
}

static struct container *node_add(struct node *n)
{
        if (n->n == n->cap) {
                size_t cap = n->cap ? n->cap * 2 : 64;
                struct container *grown = realloc(n->c, cap * sizeof(*grown));
                if (!grown)
                        return NULL;
                n->c = grown;
                n->cap = cap;
        }
        struct container *c = &n->c[n->n++];
        *c = (struct container){0};
        return c;
}

static struct container *by_mnt_ns(struct node *n, ino_t mnt)
{
        for (size_t i = 0; i < n->n; i++)
                if (n->c[i].mnt_ns == mnt)
                        return &n->c[i];
        return NULL;
}

/*
 * One /proc entry: a candidate when its mount namespace and root both differ
 * from ours and from PID 1's (a systemd service with PrivateTmp has its own
 * namespace but the node's root). The earliest started process stands for
 * its namespace.
 */
static void scan_one(struct node *n, const char *name)
{
        ino_t mnt = 0;
        struct stat st;
        char path[NAME_MAX + 16];
        pid_t pid, ppid;
        uint64_t start;

        if (n->n >= SCAN_MAX || ns_of(n->proc_fd, name, "mnt", &mnt) < 0 || mnt == n->self_mnt ||
            mnt == n->init_mnt)
                return;
        snprintf(path, sizeof(path), "%s/root", name);
        if (fstatat(n->proc_fd, path, &st, 0) < 0 ||
            (st.st_dev == n->self_root_dev && st.st_ino == n->self_root_ino) ||
            (st.st_dev == n->init_root_dev && st.st_ino == n->init_root_ino))
                return;
        pid = (pid_t)atoi(name);
        /* Kernel threads (children of kthreadd, pid 2) such as kdevtmpfs are no containers. */
        if (proc_start_time(pid, &ppid, &start) < 0 || pid == 2 || ppid == 2)
                return;
        struct container *c = by_mnt_ns(n, mnt);
        if (c && (c->start_time < start || (c->start_time == start && c->pid < pid)))
                return;
        if (!c && !(c = node_add(n)))
                return;
        c->mnt_ns = mnt;
        c->pid = pid;
        c->start_time = start;
}

static int scan_proc(struct node *n)
{
        /* n->proc_fd is O_PATH, which getdents refuses. */
        int fd = openat(n->proc_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = fd < 0 ? NULL : fdopendir(fd);
        struct dirent *de;
        if (!d) {
                if (fd >= 0)
                        close(fd);
                return -errno;
        }
        while ((de = readdir(d)))
                if (de->d_name[0] >= '1' && de->d_name[0] <= '9')
                        scan_one(n, de->d_name);
        closedir(d);
        return 0;
}

/* Each live record takes over the namespace its process is in, or adds one. */
static void merge_records(struct node *n)
{
        for (size_t i = 0; i < n->records.n; i++) {
                const struct decision_record *r = &n->records.items[i].r;
                char name[32];
                ino_t mnt = 0;
                snprintf(name, sizeof(name), "%d", (int)r->pid);
                if (ns_of(n->proc_fd, name, "mnt", &mnt) < 0)
                        continue;
                struct container *c = by_mnt_ns(n, mnt);
                if (c && c->rec)
                        continue;
                if (!c && !(c = node_add(n)))
                        return;
                c->mnt_ns = mnt;
                c->pid = r->pid;
                c->start_time = r->start_time;
                c->rec = r;
        }
}

/* ---- /dev/shm, read through the container's root ---- */

static int open_in_root(int root_fd, const char *path, uint64_t resolve)
{
        /* No O_NOFOLLOW: with RESOLVE_NO_SYMLINKS a link at the end is ELOOP, not an fd of it. */
        struct open_how how = {.flags = O_PATH | O_CLOEXEC, .resolve = resolve};
        return (int)syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
}

/* Without openat2: an O_NOFOLLOW walk; a symbolic link is reported, never followed. */
static int open_legacy(int root_fd)
{
        _cleanup_close_ int dev = openat(root_fd, "dev", O_PATH | O_CLOEXEC | O_NOFOLLOW);
        if (dev < 0)
                return -1;
        return openat(dev, "shm", O_PATH | O_CLOEXEC | O_NOFOLLOW);
}

/*
 * /dev/shm as an O_PATH fd that never leaves the container's root: with
 * openat2, RESOLVE_IN_ROOT makes "/" and ".." stop at that root, and
 * RESOLVE_NO_MAGICLINKS refuses /proc/.../root jumps. A symbolic link in the
 * image is followed only that way, and noted.
 */
static int open_shm(int root_fd, struct shm_view *v)
{
        const uint64_t base = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
        int fd = open_in_root(root_fd, "dev/shm", base | RESOLVE_NO_SYMLINKS);
        if (fd >= 0 || (errno != ELOOP && errno != ENOSYS))
                return fd;
        if (errno == ENOSYS)
                return open_legacy(root_fd);
        char target[256] = "?";
        _cleanup_close_ int dev = open_in_root(root_fd, "dev", base);
        ssize_t len = dev >= 0 ? readlinkat(dev, "shm", target, sizeof(target) - 1) : -1;
        if (len >= 0)
                target[len] = '\0';
        for (char *s = target; *s; s++)
                if ((unsigned char)*s < 0x20 || *s == '"' || *s == '\\')
                        *s = '?';
        v->symlink = true;
        fd = open_in_root(root_fd, "dev/shm", base);
        snprintf(v->note, sizeof(v->note), "/dev/shm is a symbolic link to '%s'%s", target,
                 fd >= 0 ? ", read inside the container's root" : ", which leads nowhere in it");
        return fd;
}

static void view_fill(int fd, struct shm_view *v)
{
        struct statfs sf;
        struct stat st;
        struct statx sx;

        if (fstat(fd, &st) < 0 || fstatfs(fd, &sf) < 0) {
                snprintf(v->note, sizeof(v->note), "cannot read /dev/shm: %s", strerror(errno));
                return;
        }
        if (S_ISLNK(st.st_mode)) {
                snprintf(v->note, sizeof(v->note), "/dev/shm is a symbolic link; not followed");
                v->symlink = true;
                return;
        }
        v->ok = true;
        v->dev = st.st_dev;
        v->tmpfs = sf.f_type == TMPFS_MAGIC;
        v->size = (uint64_t)sf.f_blocks * (uint64_t)sf.f_bsize;
        v->used = (uint64_t)(sf.f_blocks - sf.f_bfree) * (uint64_t)sf.f_bsize;
        v->inodes = sf.f_files;
        v->inodes_used = sf.f_files >= sf.f_ffree ? sf.f_files - sf.f_ffree : 0;
        if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &sx) == 0 &&
            (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT))
                v->mount_root = sx.stx_attributes & STATX_ATTR_MOUNT_ROOT;
        else
                v->mount_root = true;
}

/* statfs only: a million files in /dev/shm cost nothing here. */
static void inspect_shm(struct node *n, struct container *c)
{
        char path[64];
        snprintf(path, sizeof(path), "%d/root", (int)c->pid);
        _cleanup_close_ int root = openat(n->proc_fd, path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root < 0) {
                snprintf(c->shm.note, sizeof(c->shm.note), "cannot open /proc/%d/root: %s",
                         (int)c->pid, strerror(errno));
                return;
        }
        _cleanup_close_ int fd = open_shm(root, &c->shm);
        if (fd < 0) {
                if (!c->shm.note[0])
                        snprintf(c->shm.note, sizeof(c->shm.note), "no /dev/shm: %s",
                                 strerror(errno));
                return;
        }
        view_fill(fd, &c->shm);
}

/* ---- SysV segments, from a child in the container's IPC namespace ---- */

static size_t sysv_collect(struct sysv_segment *segs, size_t max)
{
        struct shm_info info;
        struct shmid_ds ds;
        size_t n = 0;
        int top = shmctl(0, SHM_INFO, (struct shmid_ds *)(void *)&info);
        for (int i = 0; i <= top && n < max; i++) {
                int id = shmctl(i, SHM_STAT_ANY, &ds);
                if (id < 0 && errno == EINVAL)
                        id = shmctl(i, SHM_STAT, &ds); /* kernels before 4.17 */
                if (id < 0)
                        continue;
                segs[n++] = (struct sysv_segment){
                    .id = id,
                    .key = (int)ds.shm_perm.__key,
                    .bytes = ds.shm_segsz,
                    .attached = ds.shm_nattch,
                    .creator = ds.shm_cpid,
                    .last = ds.shm_lpid,
                    .uid = ds.shm_perm.uid,
                    .mode = ds.shm_perm.mode & 0777,
                };
        }
        return n;
}

static void sysv_child(int ns_fd, int out)
{
        static struct sysv_segment segs[SYSV_MAX];
        size_t n = 0;
        if (setns(ns_fd, CLONE_NEWIPC) == 0)
                n = sysv_collect(segs, SYSV_MAX);
        else
                n = SIZE_MAX;
        size_t len = n == SIZE_MAX ? 0 : n * sizeof(segs[0]);
        const char *p = (const char *)segs;
        if (write(out, &n, sizeof(n)) != sizeof(n))
                _exit(1);
        while (len) {
                ssize_t w = write(out, p, len);
                if (w <= 0)
                        _exit(1);
                p += w;
                len -= (size_t)w;
        }
        _exit(0);
}

static int read_full(int fd, void *buf, size_t len)
{
        char *p = buf;
        while (len) {
                ssize_t r = read(fd, p, len);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        return -EIO;
                p += r;
                len -= (size_t)r;
        }
        return 0;
}

static void inspect_sysv(struct node *n, struct container *c)
{
        char path[64];
        int pipe_fds[2];
        size_t count = 0;
        snprintf(path, sizeof(path), "%d/ns/ipc", (int)c->pid);
        _cleanup_close_ int ns = openat(n->proc_fd, path, O_RDONLY | O_CLOEXEC);
        if (ns < 0 || pipe2(pipe_fds, O_CLOEXEC) < 0) {
                snprintf(c->sysv_note, sizeof(c->sysv_note), "cannot open its IPC namespace: %s",
                         strerror(errno));
                return;
        }
        pid_t child = fork();
        if (child == 0) {
                close(pipe_fds[0]);
                sysv_child(ns, pipe_fds[1]);
        }
        close(pipe_fds[1]);
        _cleanup_close_ int in = pipe_fds[0];
        int ok = child > 0 && read_full(in, &count, sizeof(count)) == 0 && count <= SYSV_MAX;
        if (ok && count) {
                c->segs = calloc(count, sizeof(*c->segs));
                ok = c->segs && read_full(in, c->segs, count * sizeof(*c->segs)) == 0;
        }
        if (child > 0)
                while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
                        ;
        if (!ok) {
                snprintf(c->sysv_note, sizeof(c->sysv_note), "cannot join its IPC namespace");
                free(c->segs);
                c->segs = NULL;
                return;
        }
        c->sysv_ok = true;
        c->n_segs = count;
        for (size_t i = 0; i < count; i++) {
                c->sysv_bytes += c->segs[i].bytes;
                c->sysv_attached += c->segs[i].attached;
        }
}

/* ---- identity, engine and memory limit ---- */

static void read_limit(struct container *c, int version)
{
        /* cgroup v1's memory controller; v2 unified, or the hybrid layout's "unified". */
        static const char *const v1[] = {"/sys/fs/cgroup/memory"};
        static const char *const v2[] = {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"};
        const char *const *roots = version == 1 ? v1 : v2;
        size_t n_roots = version == 1 ? ARRAY_SIZE(v1) : ARRAY_SIZE(v2);
        for (size_t i = 0; i < n_roots; i++) {
                char path[1200], *text = NULL;
                size_t len;
                snprintf(path, sizeof(path), "%s%s/%s", roots[i], c->cgroup,
                         version == 1 ? "memory.limit_in_bytes" : "memory.max");
                if (read_file_bounded(AT_FDCWD, path, 64, &text, &len, NULL) < 0)
                        continue;
                c->has_limit = status_parse_limit(text, &c->limit);
                free(text);
                return;
        }
}

/*
 * A detached container's parent is init: the runtime's state directory names
 * it, in the /run that holds the records (/host/run in the DaemonSet).
 */
static void runtime_of(const struct node *n, struct container *c)
{
        static const char *const runtimes[] = {"runc", "crun"};
        for (size_t i = 0; i < ARRAY_SIZE(runtimes); i++) {
                char path[sizeof(n->run_dir) + sizeof(c->id) + 16];
                struct stat st;
                snprintf(path, sizeof(path), "%s/%s/%s", n->run_dir, runtimes[i], c->id);
                if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
                        snprintf(c->engine, sizeof(c->engine), "%s", runtimes[i]);
                        return;
                }
        }
}

static void identify(struct node *n, struct container *c)
{
        _cleanup_free_ char *cgroup = NULL, *comm = NULL;
        pid_t ppid = 0;
        uint64_t start;
        int version = 0;

        if (read_proc_text(n->proc_fd, c->pid, "cgroup", &cgroup) == 0)
                version = status_cgroup_memory_path(cgroup, c->cgroup, sizeof(c->cgroup));
        if (version)
                read_limit(c, version);
        if (c->rec)
                snprintf(c->id, sizeof(c->id), "%s", c->rec->id);
        else if (!version || !status_id_from_cgroup(c->cgroup, c->id, sizeof(c->id)))
                snprintf(c->id, sizeof(c->id), "pid-%d", (int)c->pid);
        for (size_t i = 0; i < n->n && &n->c[i] != c; i++)
                if (strcmp(n->c[i].id, c->id) == 0) {
                        /* Two namespaces in one cgroup: keep the labels unique. */
                        size_t len = strlen(c->id);
                        snprintf(c->id + len, sizeof(c->id) - len, "@%d", (int)c->pid);
                        break;
                }
        if (c->rec && c->rec->engine && strcmp(c->rec->engine, "unknown") != 0) {
                snprintf(c->engine, sizeof(c->engine), "%s", c->rec->engine);
                return;
        }
        if (proc_start_time(c->pid, &ppid, &start) == 0 && ppid > 0)
                read_proc_text(n->proc_fd, ppid, "comm", &comm);
        if (comm)
                comm[strcspn(comm, "\n")] = '\0';
        snprintf(c->engine, sizeof(c->engine), "%s",
                 status_guess_engine(comm ? comm : "", c->cgroup));
        if (strcmp(c->engine, "unknown") == 0 && container_id_valid(c->id))
                runtime_of(n, c);
}

/* ---- what the numbers mean ---- */

static bool same_shm(const struct container *a, const struct container *b)
{
        return a->shm.ok && b->shm.ok && a->shm.mount_root && b->shm.mount_root &&
               a->shm.dev == b->shm.dev;
}

static void classify(struct node *n, struct container *c)
{
        c->shared = 1;
        for (size_t i = 0; i < n->n; i++)
                if (&n->c[i] != c && same_shm(&n->c[i], c))
                        c->shared++;
        if (!c->shm.ok)
                c->kind = c->shm.symlink ? "symlink" : "none";
        else if ((n->host_shm_known && c->shm.dev == n->host_shm_dev) ||
                 (n->init_shm_known && c->shm.dev == n->init_shm_dev))
                c->kind = "host";
        else if (!c->shm.mount_root)
                c->kind = "none"; /* a directory of /dev: nothing mounted there */
        else if (c->shared > 1)
                c->kind = c->shm.tmpfs ? "pod-tmpfs" : "volume";
        else
                c->kind = c->shm.tmpfs ? "private-tmpfs" : "volume";
}

static bool engine_default(uint64_t size)
{
        return size == (64ull << 20) || size == (64000ull << 10);
}

static bool near(uint64_t a, uint64_t b)
{
        return (a > b ? a - b : b - a) < 4096;
}

/* A pod tmpfs is explained by a member's rule that left it at this size, or by the engine. */
static bool pod_explained(const struct node *n, const struct container *c)
{
        bool recorded = false;
        for (size_t i = 0; i < n->n; i++) {
                const struct container *o = &n->c[i];
                if (!same_shm(o, c) || !o->rec)
                        continue;
                recorded = true;
                if (o->rec->rule_file && near(o->rec->after, c->shm.size))
                        return true;
        }
        return !recorded && engine_default(c->shm.size);
}

static void add_warnings(const struct node *n, struct container *c, unsigned warn)
{
        char size[16], used[16], limit[16];
        if (!c->shm.ok || !c->shm.size || strcmp(c->kind, "none") == 0)
                return;
        status_human(c->shm.size, size, sizeof(size));
        status_human(c->shm.used, used, sizeof(used));
        unsigned pct = status_use_percent(c->shm.used, c->shm.size);
        if (pct >= warn)
                warn_add(c, "/dev/shm is %u%% full (%s of %s)", pct, used, size);
        if (c->has_limit && c->shm.size > c->limit && strcmp(c->kind, "host") != 0) {
                status_human(c->limit, limit, sizeof(limit));
                warn_add(c,
                         "/dev/shm (%s) is larger than the memory limit (%s): tmpfs pages count "
                         "against it, so filling /dev/shm gets the container OOM-killed",
                         size, limit);
        }
        if (strcmp(c->kind, "pod-tmpfs") == 0 && !pod_explained(n, c))
                warn_add(c,
                         "the pod tmpfs (%s, shared by %u containers) has a size no rule explains",
                         size, c->shared);
}

static int by_use(const void *a, const void *b)
{
        const struct container *x = a, *y = b;
        unsigned px = x->shm.ok ? status_use_percent(x->shm.used, x->shm.size) : 0;
        unsigned py = y->shm.ok ? status_use_percent(y->shm.used, y->shm.size) : 0;
        if (px != py)
                return px > py ? -1 : 1;
        if (x->shm.used != y->shm.used)
                return x->shm.used > y->shm.used ? -1 : 1;
        return strcmp(x->id, y->id);
}

static int by_use_ptr(const void *a, const void *b)
{
        return by_use(*(const struct container *const *)a, *(const struct container *const *)b);
}

/* ---- output ---- */

static const char *rule_text(const struct container *c, char *buf, size_t size, bool shorten)
{
        const char *file;
        if (!c->rec || !c->rec->rule_file)
                return NULL;
        file = c->rec->rule_file;
        /* The table names policy files as the issue does: policy.d/10-db.conf:1. */
        if (shorten && strncmp(file, "/etc/oci-shm-hook/", 18) == 0 && file[18])
                file += 18;
        if (c->rec->rule_line)
                snprintf(buf, size, "%s:%u", file, c->rec->rule_line);
        else
                snprintf(buf, size, "%s", file);
        return buf;
}

static const char *image_of(const struct container *c)
{
        return c->rec ? c->rec->image : NULL;
}

static void short_id(const char *id, char *buf, size_t size)
{
        size_t len = strlen(id), hex = strspn(id, "0123456789abcdef");
        if (len == 64 && hex == 64)
                len = SHORT_ID_LEN;
        else if (len > DISPLAY_ID_MAX)
                len = DISPLAY_ID_MAX;
        snprintf(buf, size, "%.*s", (int)len, id);
}

enum {
        COL_ID,
        COL_ENGINE,
        COL_IMAGE,
        COL_RULE,
        COL_SHM,
        COL_SIZE,
        COL_USED,
        COL_PCT,
        COL_SYSV,
        N_COLS
};

static void table_cells(const struct container *c, char cells[N_COLS][1200])
{
        char a[16], b[16];
        short_id(c->id, cells[COL_ID], 1200);
        snprintf(cells[COL_ENGINE], 1200, "%s", c->engine);
        snprintf(cells[COL_IMAGE], 1200, "%s", image_of(c) ? image_of(c) : "-");
        if (!rule_text(c, cells[COL_RULE], 1200, true))
                snprintf(cells[COL_RULE], 1200, "-");
        if (c->shared > 1)
                snprintf(cells[COL_SHM], 1200, "%s(%u)", c->kind, c->shared);
        else
                snprintf(cells[COL_SHM], 1200, "%s%s", c->kind,
                         c->shm.symlink && c->shm.ok ? "(symlink)" : "");
        if (c->shm.ok) {
                status_human(c->shm.size, cells[COL_SIZE], 1200);
                status_human(c->shm.used, cells[COL_USED], 1200);
                snprintf(cells[COL_PCT], 1200, "%u%%",
                         status_use_percent(c->shm.used, c->shm.size));
        } else {
                for (int i = COL_SIZE; i <= COL_PCT; i++)
                        snprintf(cells[i], 1200, "-");
        }
        if (!c->sysv_ok)
                snprintf(cells[COL_SYSV], 1200, "?");
        else if (!c->n_segs)
                snprintf(cells[COL_SYSV], 1200, "0");
        else {
                status_human(c->sysv_bytes, a, sizeof(a));
                snprintf(b, sizeof(b), "%s", c->n_segs == 1 ? "seg" : "segs");
                snprintf(cells[COL_SYSV], 1200, "%zu %s %s", c->n_segs, b, a);
        }
}

static void print_row(FILE *out, const char *const *row, const size_t *width)
{
        for (int k = 0; k < N_COLS - 1; k++)
                fprintf(out, "%-*s  ", (int)width[k], row[k]);
        fprintf(out, "%s\n", row[N_COLS - 1]);
}

static void print_table(FILE *out, struct container **list, size_t n)
{
        static const char *const heads[N_COLS] = {"CONTAINER", "ENGINE", "IMAGE", "RULE", "SHM",
                                                  "SIZE",      "USED",   "USE%",  "SYSV"};
        size_t width[N_COLS];
        char(*cells)[N_COLS][1200] = calloc(n ? n : 1, sizeof(*cells));
        if (!cells)
                return;
        for (int k = 0; k < N_COLS; k++)
                width[k] = strlen(heads[k]);
        for (size_t i = 0; i < n; i++) {
                table_cells(list[i], cells[i]);
                for (int k = 0; k < N_COLS; k++)
                        if (strlen(cells[i][k]) > width[k])
                                width[k] = strlen(cells[i][k]);
        }
        print_row(out, heads, width);
        for (size_t i = 0; i < n; i++) {
                const char *row[N_COLS];
                for (int k = 0; k < N_COLS; k++)
                        row[k] = cells[i][k];
                print_row(out, row, width);
        }
        for (size_t i = 0; i < n; i++)
                for (size_t w = 0; w < list[i]->n_warnings; w++)
                        fprintf(out, "warning: %s: %s\n", cells[i][COL_ID], list[i]->warnings[w]);
        free(cells);
}

static void print_bytes(FILE *out, const char *label, uint64_t bytes)
{
        char h[16];
        status_human(bytes, h, sizeof(h));
        fprintf(out, "%-14s%" PRIu64 " bytes (%s)\n", label, bytes, h);
}

static void print_segments(FILE *out, const struct container *c)
{
        char h[16];
        if (!c->sysv_ok) {
                fprintf(out, "%-14s%s\n", "sysv:", c->sysv_note);
                return;
        }
        status_human(c->sysv_bytes, h, sizeof(h));
        fprintf(out, "%-14s%zu segment%s, %" PRIu64 " bytes (%s), %" PRIu64 " attached\n",
                "sysv:", c->n_segs, c->n_segs == 1 ? "" : "s", c->sysv_bytes, h, c->sysv_attached);
        if (!c->n_segs)
                return;
        fprintf(out, "  %-10s %-10s %-12s %-6s %-6s %-5s %-8s %s\n", "SHMID", "KEY", "BYTES",
                "NATTCH", "OWNER", "PERMS", "CREATOR", "LAST");
        for (size_t i = 0; i < c->n_segs; i++) {
                const struct sysv_segment *s = &c->segs[i];
                fprintf(out, "  %-10d 0x%08x %-12" PRIu64 " %-6" PRIu64 " %-6u %-5o %-8d %d\n",
                        s->id, (unsigned)s->key, s->bytes, s->attached, s->uid, s->mode,
                        (int)s->creator, (int)s->last);
        }
}

static void print_detail(FILE *out, const struct container *c)
{
        char rule[1200];
        fprintf(out, "%-14s%s\n", "container:", c->id);
        fprintf(out, "%-14s%s\n", "engine:", c->engine);
        fprintf(out, "%-14s%s\n", "image:", image_of(c) ? image_of(c) : "-");
        fprintf(out, "%-14s%s\n", "rule:",
                rule_text(c, rule, sizeof(rule), false) ? rule
                                                        : "- (no record: the hook left it alone)");
        if (c->rec)
                fprintf(out, "%-14s%s: target %" PRIu64 " bytes, after %" PRIu64 " bytes, %s\n",
                        "at start:", c->rec->result ? c->rec->result : "-", c->rec->target,
                        c->rec->after, c->rec->kind ? c->rec->kind : "-");
        fprintf(out, "%-14s%d\n", "pid:", (int)c->pid);
        if (c->shared > 1)
                fprintf(out, "%-14s%s, shared by %u containers\n", "shm:", c->kind, c->shared);
        else
                fprintf(out, "%-14s%s\n", "shm:", c->kind);
        if (c->shm.note[0])
                fprintf(out, "%-14s%s\n", "", c->shm.note);
        if (c->shm.ok) {
                print_bytes(out, "size:", c->shm.size);
                print_bytes(out, "used:", c->shm.used);
                fprintf(out, "%-14s%u%%\n", "use:", status_use_percent(c->shm.used, c->shm.size));
                fprintf(out, "%-14s%" PRIu64 " of %" PRIu64 " used\n",
                        "inodes:", c->shm.inodes_used, c->shm.inodes);
        }
        if (c->has_limit)
                print_bytes(out, "memory limit:", c->limit);
        else
                fprintf(out, "%-14snone\n", "memory limit:");
        print_segments(out, c);
        for (size_t w = 0; w < c->n_warnings; w++)
                fprintf(out, "%-14s%s\n", "warning:", c->warnings[w]);
}

/* ---- JSON ---- */

static void gen_str(yajl_gen g, const char *s)
{
        if (s)
                yajl_gen_string(g, (const unsigned char *)s, strlen(s));
        else
                yajl_gen_null(g);
}

static void gen_key(yajl_gen g, const char *key)
{
        gen_str(g, key);
}

static void gen_u64(yajl_gen g, const char *key, uint64_t v)
{
        char buf[32];
        gen_key(g, key);
        snprintf(buf, sizeof(buf), "%" PRIu64, v);
        yajl_gen_number(g, buf, strlen(buf));
}

static void gen_opt_u64(yajl_gen g, const char *key, bool present, uint64_t v)
{
        if (present) {
                gen_u64(g, key, v);
        } else {
                gen_key(g, key);
                yajl_gen_null(g);
        }
}

static void gen_shm(yajl_gen g, const struct container *c)
{
        char dev[32];
        gen_key(g, "shm");
        yajl_gen_map_open(g);
        gen_key(g, "kind");
        gen_str(g, c->kind);
        gen_u64(g, "shared_by", c->shared);
        gen_key(g, "symlink");
        yajl_gen_bool(g, c->shm.symlink);
        gen_key(g, "note");
        gen_str(g, c->shm.note[0] ? c->shm.note : NULL);
        gen_opt_u64(g, "size_bytes", c->shm.ok, c->shm.size);
        gen_opt_u64(g, "used_bytes", c->shm.ok, c->shm.used);
        gen_opt_u64(g, "use_percent", c->shm.ok, status_use_percent(c->shm.used, c->shm.size));
        gen_opt_u64(g, "inodes", c->shm.ok, c->shm.inodes);
        gen_opt_u64(g, "inodes_used", c->shm.ok, c->shm.inodes_used);
        snprintf(dev, sizeof(dev), "%u:%u", major(c->shm.dev), minor(c->shm.dev));
        gen_key(g, "device");
        gen_str(g, c->shm.ok ? dev : NULL);
        yajl_gen_map_close(g);
}

static void gen_sysv(yajl_gen g, const struct container *c)
{
        gen_key(g, "sysv");
        yajl_gen_map_open(g);
        gen_opt_u64(g, "segments", c->sysv_ok, c->n_segs);
        gen_opt_u64(g, "bytes", c->sysv_ok, c->sysv_bytes);
        gen_opt_u64(g, "attached", c->sysv_ok, c->sysv_attached);
        gen_key(g, "note");
        gen_str(g, c->sysv_note[0] ? c->sysv_note : NULL);
        gen_key(g, "list");
        yajl_gen_array_open(g);
        for (size_t i = 0; i < c->n_segs; i++) {
                const struct sysv_segment *s = &c->segs[i];
                yajl_gen_map_open(g);
                gen_u64(g, "shmid", (uint64_t)s->id);
                gen_u64(g, "key", (unsigned)s->key);
                gen_u64(g, "bytes", s->bytes);
                gen_u64(g, "attached", s->attached);
                gen_u64(g, "creator_pid", (uint64_t)s->creator);
                gen_u64(g, "last_pid", (uint64_t)s->last);
                gen_u64(g, "owner_uid", s->uid);
                gen_u64(g, "mode", s->mode);
                yajl_gen_map_close(g);
        }
        yajl_gen_array_close(g);
        yajl_gen_map_close(g);
}

static void gen_hook(yajl_gen g, const struct container *c)
{
        gen_key(g, "hook");
        if (!c->rec) {
                yajl_gen_null(g);
                return;
        }
        yajl_gen_map_open(g);
        gen_key(g, "kind");
        gen_str(g, c->rec->kind);
        gen_u64(g, "target_bytes", c->rec->target);
        gen_u64(g, "after_bytes", c->rec->after);
        gen_key(g, "result");
        gen_str(g, c->rec->result);
        gen_u64(g, "time", (uint64_t)(c->rec->time > 0 ? c->rec->time : 0));
        yajl_gen_map_close(g);
}

static void gen_container(yajl_gen g, const struct container *c)
{
        char rule[1200];
        yajl_gen_map_open(g);
        gen_key(g, "id");
        gen_str(g, c->id);
        gen_key(g, "engine");
        gen_str(g, c->engine);
        gen_key(g, "image");
        gen_str(g, image_of(c));
        gen_key(g, "rule");
        gen_str(g, rule_text(c, rule, sizeof(rule), false));
        gen_u64(g, "pid", (uint64_t)c->pid);
        gen_key(g, "recorded");
        yajl_gen_bool(g, c->rec != NULL);
        gen_shm(g, c);
        gen_opt_u64(g, "memory_limit_bytes", c->has_limit, c->limit);
        gen_sysv(g, c);
        gen_hook(g, c);
        gen_key(g, "warnings");
        yajl_gen_array_open(g);
        for (size_t w = 0; w < c->n_warnings; w++)
                gen_str(g, c->warnings[w]);
        yajl_gen_array_close(g);
        yajl_gen_map_close(g);
}

static int print_json(FILE *out, struct container **list, size_t n)
{
        const unsigned char *buf;
        size_t len;
        yajl_gen g = yajl_gen_alloc(NULL);
        if (!g)
                return -ENOMEM;
        yajl_gen_config(g, yajl_gen_beautify, 1);
        yajl_gen_map_open(g);
        gen_u64(g, "version", 1);
        gen_key(g, "containers");
        yajl_gen_array_open(g);
        for (size_t i = 0; i < n; i++)
                gen_container(g, list[i]);
        yajl_gen_array_close(g);
        yajl_gen_map_close(g);
        int ret = yajl_gen_get_buf(g, &buf, &len) == yajl_gen_status_ok ? 0 : -EINVAL;
        if (ret == 0)
                fwrite(buf, 1, len, out);
        yajl_gen_free(g);
        return ret;
}

/* ---- Prometheus text format (node_exporter textfile collector) ---- */

struct metric {
        const char *name;
        const char *help;
        bool sysv;
};

static void prom_labels(FILE *out, const struct container *c)
{
        char id[2 * sizeof(c->id)], engine[80], image[1100], rule[2400], kind[80], raw[1200];
        status_prom_escape(c->id, id, sizeof(id));
        status_prom_escape(c->engine, engine, sizeof(engine));
        status_prom_escape(image_of(c) ? image_of(c) : "", image, sizeof(image));
        status_prom_escape(rule_text(c, raw, sizeof(raw), false) ? raw : "", rule, sizeof(rule));
        status_prom_escape(c->kind, kind, sizeof(kind));
        fprintf(out, "{container=\"%s\",engine=\"%s\",image=\"%s\",rule=\"%s\",kind=\"%s\"}", id,
                engine, image, rule, kind);
}

static void print_prometheus(FILE *out, struct container **list, size_t n)
{
        static const struct metric metrics[] = {
            {"oci_shm_size_bytes", "Size of the container's /dev/shm file system.", false},
            {"oci_shm_used_bytes", "Bytes used in the container's /dev/shm.", false},
            {"oci_shm_sysv_segments",
             "SysV shared memory segments in the container's IPC "
             "namespace.",
             true},
            {"oci_shm_sysv_bytes", "Bytes of SysV shared memory in the container's IPC namespace.",
             true},
        };
        for (size_t m = 0; m < ARRAY_SIZE(metrics); m++) {
                fprintf(out, "# HELP %s %s\n# TYPE %s gauge\n", metrics[m].name, metrics[m].help,
                        metrics[m].name);
                for (size_t i = 0; i < n; i++) {
                        const struct container *c = list[i];
                        if (metrics[m].sysv ? !c->sysv_ok : !c->shm.ok)
                                continue;
                        uint64_t v = m == 0   ? c->shm.size
                                     : m == 1 ? c->shm.used
                                     : m == 2 ? c->n_segs
                                              : c->sysv_bytes;
                        fprintf(out, "%s", metrics[m].name);
                        prom_labels(out, c);
                        fprintf(out, " %" PRIu64 "\n", v);
                }
        }
}

/* ---- writing it out ---- */

/* FILE gets the text whole or not at all: a temporary file beside it, renamed. */
static int write_atomic(const char *path, const char *text, size_t len)
{
        size_t plen = strlen(path);
        _cleanup_free_ char *tmp = malloc(plen + 16);
        if (!tmp)
                return -ENOMEM;
        snprintf(tmp, plen + 16, "%s.tmp.XXXXXX", path);
        _cleanup_close_ int fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return -errno;
        int ret = 0;
        for (size_t off = 0; off < len && !ret;) {
                ssize_t w = write(fd, text + off, len - off);
                if (w < 0 && errno != EINTR)
                        ret = -errno;
                else if (w > 0)
                        off += (size_t)w;
        }
        if (!ret && (fchmod(fd, 0644) < 0 || fsync(fd) < 0))
                ret = -errno;
        if (!ret && rename(tmp, path) < 0)
                ret = -errno;
        if (ret)
                unlink(tmp);
        return ret;
}

static int emit(const struct status_options *o, const char *text, size_t len)
{
        if (o->output) {
                int ret = write_atomic(o->output, text, len);
                if (ret < 0)
                        fprintf(stderr, "oci-shm-hook: cannot write '%s': %s\n", o->output,
                                strerror(-ret));
                return ret < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
        }
        if (fwrite(text, 1, len, stdout) != len || fflush(stdout) != 0) {
                fprintf(stderr, "oci-shm-hook: cannot write the output: %s\n", strerror(errno));
                return EXIT_FAILURE;
        }
        return EXIT_SUCCESS;
}

static int render(const struct status_options *o, struct container **list, size_t n)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        FILE *out = open_memstream(&text, &len);
        if (!out)
                return EXIT_FAILURE;
        if (o->id && n == 1 && o->format == FORMAT_TABLE)
                print_detail(out, list[0]);
        else if (o->format == FORMAT_TABLE)
                print_table(out, list, n);
        else if (o->format == FORMAT_JSON)
                print_json(out, list, n);
        else
                print_prometheus(out, list, n);
        if (fclose(out) != 0)
                return EXIT_FAILURE;
        return emit(o, text, len);
}

/* ---- options ---- */

static void status_usage(FILE *out)
{
        fprintf(out,
                "Usage: oci-shm-hook status [--all] [--json | --format=FORMAT] [--output FILE]\n"
                "                           [--warn PERCENT] [ID]\n"
                "\n"
                "Shows the /dev/shm and the SysV shared memory of every running container:\n"
                "those the hook sized, from its records in " RECORD_DIR ", and with\n"
                "--all every other container found in /proc. ID (or a unique prefix) shows\n"
                "one container in full. Changes nothing but removing records of containers\n"
                "that are gone.\n"
                "\n"
                "  -a, --all              also containers the hook left alone\n"
                "      --json             the same as --format=json\n"
                "      --format=FORMAT    table (default), json or prometheus\n"
                "  -o, --output FILE      write to FILE atomically (for node_exporter's\n"
                "                         textfile collector)\n"
                "      --warn PERCENT     warn at this use of /dev/shm (default %d)\n"
                "      --record-dir DIR   read records from DIR (default " RECORD_DIR ")\n"
                "  -h, --help             show this help\n"
                "\n"
                "See oci-shm-hook(8).\n",
                DEFAULT_WARN);
}

static int status_usage_error(const char *what, const char *arg)
{
        fprintf(stderr, "oci-shm-hook status: %s '%s'\nTry 'oci-shm-hook status --help'.\n", what,
                arg);
        return EXIT_USAGE;
}

static int parse_warn(const char *s, unsigned *out)
{
        char *end;
        errno = 0;
        unsigned long v = strtoul(s, &end, 10);
        if (errno || end == s || *end || s[0] == '-' || v < 1 || v > 100)
                return -EINVAL;
        *out = (unsigned)v;
        return 0;
}

/* Returns -1 to go on, or an exit status. */
static int status_parse(int argc, char **argv, struct status_options *o)
{
        enum { OPT_JSON = 256, OPT_FORMAT, OPT_WARN, OPT_RECORD_DIR };
        static const struct option long_options[] = {
            {"all", no_argument, NULL, 'a'},
            {"json", no_argument, NULL, OPT_JSON},
            {"format", required_argument, NULL, OPT_FORMAT},
            {"output", required_argument, NULL, 'o'},
            {"warn", required_argument, NULL, OPT_WARN},
            {"record-dir", required_argument, NULL, OPT_RECORD_DIR},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
        };
        int c;
        *o = (struct status_options){.record_dir = RECORD_DIR, .warn = DEFAULT_WARN};
        optind = 1;
        opterr = 0;
        while ((c = getopt_long(argc, argv, ":aho:", long_options, NULL)) != -1) {
                switch (c) {
                case 'a':
                        o->all = true;
                        break;
                case OPT_JSON:
                        o->format = FORMAT_JSON;
                        break;
                case OPT_FORMAT:
                        if (strcmp(optarg, "json") == 0)
                                o->format = FORMAT_JSON;
                        else if (strcmp(optarg, "prometheus") == 0)
                                o->format = FORMAT_PROMETHEUS;
                        else if (strcmp(optarg, "table") == 0)
                                o->format = FORMAT_TABLE;
                        else
                                return status_usage_error("--format takes table, json or "
                                                          "prometheus, not",
                                                          optarg);
                        break;
                case 'o':
                        o->output = optarg;
                        break;
                case OPT_WARN:
                        if (parse_warn(optarg, &o->warn) < 0)
                                return status_usage_error("--warn takes a percent from 1 to 100, "
                                                          "not",
                                                          optarg);
                        break;
                case OPT_RECORD_DIR:
                        o->record_dir = optarg;
                        break;
                case 'h':
                        status_usage(stdout);
                        return EXIT_SUCCESS;
                case ':':
                        return status_usage_error("option needs a value:", argv[optind - 1]);
                default:
                        return status_usage_error("unknown option", argv[optind - 1]);
                }
        }
        if (optind < argc)
                o->id = argv[optind++];
        if (optind < argc)
                return status_usage_error("unexpected argument", argv[optind]);
        if (o->id && !container_id_valid(o->id) && strncmp(o->id, "pid-", 4) != 0)
                return status_usage_error("not a container id:", o->id);
        return -1;
}

/* ---- the command ---- */

/* ".../oci-shm-hook" -> "...", where runc and crun keep their state; else /run. */
static void run_dir_of(const char *record_dir, char *out, size_t size)
{
        const char *slash = strrchr(record_dir, '/');
        if (slash && slash > record_dir && strcmp(slash, "/oci-shm-hook") == 0 &&
            (size_t)(slash - record_dir) < size)
                snprintf(out, size, "%.*s", (int)(slash - record_dir), record_dir);
        else
                snprintf(out, size, "/run");
}

/* The node's own mount namespace, root and /dev/shm, as PID 1 has them (hostPID in a pod). */
static void init_view(struct node *n)
{
        struct shm_view v = {0};
        struct stat st;
        if (ns_of(n->proc_fd, "1", "mnt", &n->init_mnt) < 0)
                n->init_mnt = n->self_mnt;
        if (fstatat(n->proc_fd, "1/root", &st, 0) == 0) {
                n->init_root_dev = st.st_dev;
                n->init_root_ino = st.st_ino;
        }
        _cleanup_close_ int root = openat(n->proc_fd, "1/root", O_PATH | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int fd = root >= 0 ? open_shm(root, &v) : -1;
        if (fd >= 0 && !v.symlink && fstat(fd, &st) == 0) {
                n->init_shm_known = true;
                n->init_shm_dev = st.st_dev;
        }
}

static int node_open(struct node *n, const struct status_options *o)
{
        struct stat st;
        struct shm_error err = {0};
        *n = (struct node){.proc_fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC)};
        if (n->proc_fd < 0 || ns_of(n->proc_fd, "self", "mnt", &n->self_mnt) < 0 ||
            stat("/", &st) < 0) {
                fprintf(stderr, "oci-shm-hook status: cannot read /proc: %s\n", strerror(errno));
                return -1;
        }
        n->self_root_dev = st.st_dev;
        n->self_root_ino = st.st_ino;
        if (stat("/dev/shm", &st) == 0) {
                n->host_shm_known = true;
                n->host_shm_dev = st.st_dev;
        }
        init_view(n);
        run_dir_of(o->record_dir, n->run_dir, sizeof(n->run_dir));
        if (record_load(o->record_dir, &n->records, &err) < 0)
                fprintf(stderr, "oci-shm-hook status: records: %s\n", err.message);
        if (scan_proc(n) < 0) {
                fprintf(stderr, "oci-shm-hook status: cannot scan /proc: %s\n", strerror(errno));
                return -1;
        }
        merge_records(n);
        return 0;
}

static void node_close(struct node *n)
{
        for (size_t i = 0; i < n->n; i++)
                free(n->c[i].segs);
        free(n->c);
        record_list_free(&n->records);
        if (n->proc_fd >= 0)
                close(n->proc_fd);
}

/* ID picks one container: the whole id, or a prefix no other id shares. */
static int select_id(struct node *n, const char *id)
{
        size_t len = strlen(id), found = 0;
        struct container *match = NULL;
        for (size_t i = 0; i < n->n; i++) {
                if (strcmp(n->c[i].id, id) == 0) {
                        match = &n->c[i];
                        found = 1;
                        break;
                }
                if (strncmp(n->c[i].id, id, len) == 0) {
                        match = &n->c[i];
                        found++;
                }
        }
        if (found != 1) {
                fprintf(stderr, "oci-shm-hook status: %s container '%s'\n",
                        found ? "more than one" : "no running", id);
                return -1;
        }
        match->shown = true;
        return 0;
}

int status_main(int argc, char **argv)
{
        struct status_options o;
        struct node n;
        int r = status_parse(argc, argv, &o);
        if (r >= 0)
                return r;
        if (node_open(&n, &o) < 0) {
                node_close(&n);
                return EXIT_FAILURE;
        }
        for (size_t i = 0; i < n.n; i++) {
                identify(&n, &n.c[i]);
                inspect_shm(&n, &n.c[i]);
        }
        if (o.id && select_id(&n, o.id) < 0) {
                node_close(&n);
                return EXIT_FAILURE;
        }
        size_t shown = 0;
        for (size_t i = 0; i < n.n; i++) {
                struct container *c = &n.c[i];
                if (!o.id)
                        c->shown = c->rec || o.all;
                classify(&n, c);
                add_warnings(&n, c, o.warn);
                if (c->shown) {
                        inspect_sysv(&n, c);
                        shown++;
                }
        }
        /* Sorted by use on a copy of pointers: classify() compared the array in place. */
        struct container **list = calloc(shown ? shown : 1, sizeof(*list));
        size_t k = 0;
        for (size_t i = 0; list && i < n.n; i++)
                if (n.c[i].shown)
                        list[k++] = &n.c[i];
        if (list)
                qsort(list, k, sizeof(*list), by_use_ptr);
        r = list ? render(&o, list, k) : EXIT_FAILURE;
        free(list);
        node_close(&n);
        return r;
}
