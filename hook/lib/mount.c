/* SPDX-License-Identifier: Apache-2.0 */
#include "mount.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "cleanup.h"
#include "mountinfo.h"
#include "path.h"
#include "proc.h"
#include "size.h"

/* ---- classification (pure, unit tested) ---- */

/*
 * A whole tmpfs at <root>/dev/shm is called the container's own only when
 * these facts, which no container user can forge, hold; they are checked in
 * the container's mount namespace before pivot_root, where the host's mounts
 * are still visible:
 *  - it is the topmost mount there (the path was resolved through any
 *    stacked mounts, so whatever the container will see is what is checked);
 *  - its file system is mounted nowhere else in that namespace: a host tmpfs
 *    that a later mount, a symlink in the image or an odd destination put on
 *    /dev/shm is still mounted at its host path too;
 *  - no config.json bind source lies on it: defence in depth for a tmpfs
 *    of another namespace (a /proc/PID/root/... source, which the kernel
 *    refuses to bind today), seen from the host;
 *  - mountinfo's source is the entry's source, as the runtime passed it.
 * A bind is the engine's pod tmpfs only when its source is the engine's own
 * shm path (engine_shm_source_is_own), the parts the engine makes hold no
 * symlink (engine_source_dev), and it is on the same device.
 */
static enum shm_kind classify_private(const struct shm_observation *obs,
                                      const struct spec_mount *entry, char *why, size_t why_size)
{
        if (obs->also_mounted_at)
                snprintf(why, why_size, "its file system is also mounted at '%s'",
                         obs->also_mounted_at);
        else if (obs->bound_from)
                snprintf(why, why_size, "config.json binds its file system from '%s'",
                         obs->bound_from);
        else if (entry->source && entry->source[0] &&
                 (!obs->source || strcmp(obs->source, entry->source) != 0))
                snprintf(why, why_size, "its source is '%s', not config.json's '%s'",
                         obs->source ? obs->source : "", entry->source);
        else
                return SHM_KIND_PRIVATE;
        return SHM_KIND_UNVERIFIED;
}

enum shm_kind shm_classify(const struct shm_observation *obs, const struct spec_mount *entry,
                           char *why, size_t why_size)
{
        char ignored[8];
        if (!why || !why_size) {
                why = ignored;
                why_size = sizeof(ignored);
        }
        why[0] = '\0';
        if (!obs->mount_root)
                return SHM_KIND_NONE;
        /* By device, not by path: a bind of the host's /dev/shm has its device. */
        if (obs->host_dev_known && obs->dev == obs->host_dev)
                return SHM_KIND_HOST;
        if (!obs->fstype || strcmp(obs->fstype, "tmpfs") != 0 || !obs->fs_root ||
            strcmp(obs->fs_root, "/") != 0)
                return SHM_KIND_OTHER;
        if (!entry || !entry->present)
                return SHM_KIND_OTHER;
        if (!entry->bind)
                return entry->type && strcmp(entry->type, "tmpfs") == 0
                           ? classify_private(obs, entry, why, why_size)
                           : SHM_KIND_OTHER;
        if (obs->engine_source && obs->source_dev_known && obs->source_dev == obs->dev)
                return SHM_KIND_ENGINE_SHARED;
        return SHM_KIND_OTHER;
}

const char *shm_kind_name(enum shm_kind kind)
{
        switch (kind) {
        case SHM_KIND_NONE:
                return "none";
        case SHM_KIND_PRIVATE:
                return "private-tmpfs";
        case SHM_KIND_ENGINE_SHARED:
                return "engine-shared-tmpfs";
        case SHM_KIND_HOST:
                return "host";
        case SHM_KIND_OTHER:
                return "volume";
        case SHM_KIND_UNVERIFIED:
                return "unverified-tmpfs";
        }
        return "unknown";
}

/* /proc/thread-self/fd/N: the path mount(2) and umount2(2) take for an fd. */
struct fd_path {
        char s[40];
};

static struct fd_path fd_path(int fd)
{
        struct fd_path p;
        snprintf(p.s, sizeof(p.s), "/proc/thread-self/fd/%d", fd);
        return p;
}

/* ---- safe resolution inside the root ---- */

static int sys_openat2(int dirfd, const char *path, uint64_t flags, uint64_t resolve)
{
        struct open_how how = {.flags = flags, .resolve = resolve};
        return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

/*
 * The fallback for kernels without openat2: one component at a time with
 * O_NOFOLLOW, each but the last checked to be a directory (not a symlink).
 * Returns an O_PATH fd, or -1 with errno set (ELOOP for a symlink).
 */
static int resolve_dir_legacy(int root_fd, const char *path)
{
        char component[NAME_MAX + 1];
        int dir = root_fd;

        for (const char *p = path + strspn(path, "/"); *p; p += strspn(p, "/")) {
                size_t len = strcspn(p, "/");
                struct stat st;
                if (len > NAME_MAX) {
                        errno = ENAMETOOLONG;
                        goto fail;
                }
                memcpy(component, p, len);
                component[len] = '\0';
                p += len;
                int next = openat(dir, component, O_PATH | O_CLOEXEC | O_NOFOLLOW);
                if (next < 0)
                        goto fail;
                if (dir != root_fd)
                        close(dir);
                dir = next;
                if (!p[strspn(p, "/")])
                        break;
                if (fstat(dir, &st) < 0)
                        goto fail;
                if (!S_ISDIR(st.st_mode)) {
                        errno = S_ISLNK(st.st_mode) ? ELOOP : ENOTDIR;
                        goto fail;
                }
        }
        return dir == root_fd ? fcntl(root_fd, F_DUPFD_CLOEXEC, 0) : dir;
fail:;
        int saved = errno;
        if (dir != root_fd)
                close(dir);
        errno = saved;
        return -1;
}

/* A failed resolution as a message that says what was refused. */
static int resolve_error(int e, const char *shown, struct shm_error *err)
{
        if (e == ENOENT)
                return shm_error_set(err, ENOENT, "'%s' does not exist", shown);
        if (e == ELOOP || e == EXDEV)
                return shm_error_set(err, ELOOP,
                                     "'%s' is or lies under a symbolic link; refusing to mount "
                                     "through it",
                                     shown);
        if (e == ENOTDIR)
                return shm_error_set(err, ENOTDIR,
                                     "'%s' is not a directory, or lies under a file; refusing to "
                                     "mount there",
                                     shown);
        return shm_error_set(err, e, "cannot open '%s': %s", shown, strerror(e));
}

/*
 * Resolve `path` (plain components, no "." or "..") below root_fd as an O_PATH
 * directory. With openat2, RESOLVE_IN_ROOT keeps every step inside the root,
 * RESOLVE_NO_SYMLINKS refuses any link and O_DIRECTORY anything but a
 * directory, so the result needs no second look; without it (ENOSYS, or *api
 * LEGACY) resolve_dir_legacy() walks and the result is checked. Either way it
 * is an fd, so a later rename of a path component cannot redirect it.
 * `shown` names the target in messages.
 */
static int resolve_dir(int root_fd, const char *path, const char *shown, enum shm_mount_api *api,
                       struct shm_error *err)
{
        _cleanup_close_ int fd = -1;
        struct stat st;

        if (*api == SHM_MOUNT_API_AUTO) {
                fd = sys_openat2(root_fd, path, O_PATH | O_CLOEXEC | O_NOFOLLOW | O_DIRECTORY,
                                 RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
                if (fd >= 0)
                        return steal_fd(&fd);
                if (errno != ENOSYS)
                        return resolve_error(errno, shown, err);
                *api = SHM_MOUNT_API_LEGACY;
        }
        fd = resolve_dir_legacy(root_fd, path);
        if (fd < 0)
                return resolve_error(errno, shown, err);
        if (fstat(fd, &st) < 0)
                return shm_error_set(err, errno, "cannot stat '%s': %s", shown, strerror(errno));
        if (S_ISLNK(st.st_mode))
                return shm_error_set(
                    err, ELOOP, "'%s' is a symbolic link; refusing to mount through it", shown);
        if (!S_ISDIR(st.st_mode))
                return shm_error_set(err, ENOTDIR,
                                     "'%s' is not a directory; refusing to mount there", shown);
        return steal_fd(&fd);
}

int shm_target_open(int root_fd, const char *shown, enum shm_mount_api *api, struct shm_target *t,
                    struct shm_error *err)
{
        _cleanup_free_ char *dev_shown = NULL;
        int r;

        *t = (struct shm_target){.dev_fd = -1, .fd = -1};
        r = resolve_dir(root_fd, "dev/shm", shown, api, err);
        if (r >= 0) {
                t->fd = r;
                return 0;
        }
        if (r != -ENOENT)
                return r;

        /* No /dev/shm in the image or in /dev: make the directory, inside the root. */
        size_t len = strlen(shown);
        if (asprintf(&dev_shown, "%.*s", (int)(len > 4 ? len - 4 : len), shown) < 0)
                return shm_error_set(err, ENOMEM, "out of memory");
        r = resolve_dir(root_fd, "dev", dev_shown, api, err);
        if (r < 0)
                return r;
        t->dev_fd = r;
        if (mkdirat(t->dev_fd, "shm", 0755) == 0)
                t->created = true;
        else if (errno != EEXIST)
                return shm_error_set(err, errno, "cannot create '%s': %s", shown, strerror(errno));
        r = resolve_dir(t->dev_fd, "shm", shown, api, err);
        if (r < 0) {
                shm_target_undo(t);
                return r;
        }
        t->fd = r;
        return 0;
}

void shm_target_undo(struct shm_target *t)
{
        if (t->created && t->dev_fd >= 0)
                unlinkat(t->dev_fd, "shm", AT_REMOVEDIR);
        t->created = false;
}

void shm_target_close(struct shm_target *t)
{
        if (t->fd >= 0)
                close(t->fd);
        if (t->dev_fd >= 0)
                close(t->dev_fd);
        t->fd = t->dev_fd = -1;
}

/* ---- looking at what is mounted ---- */

/* Read a small /proc file (one read, NUL-terminated): its length or -errno. */
static ssize_t read_proc_file(int dirfd, const char *path, char *buf, size_t size)
{
        _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
        ssize_t n;

        if (fd < 0)
                return -errno;
        n = read(fd, buf, size - 1);
        if (n <= 0)
                return n < 0 ? -errno : -EIO;
        buf[n] = '\0';
        return n;
}

/* The mount ID of fd from /proc/thread-self/fdinfo/N ("mnt_id:", Linux 3.15). */
static int fdinfo_mnt_id(int fd, int *mnt_id)
{
        char path[64], buf[512];
        ssize_t n;

        snprintf(path, sizeof(path), "/proc/thread-self/fdinfo/%d", fd);
        if ((n = read_proc_file(AT_FDCWD, path, buf, sizeof(buf))) < 0)
                return (int)n;
        const char *field = strstr(buf, "\nmnt_id:");
        if (!field)
                return -EIO;
        char *end;
        errno = 0;
        long value = strtol(field + 9, &end, 10);
        if (errno || end == field + 9 || value < 0 || value > INT_MAX)
                return -EIO;
        *mnt_id = (int)value;
        return 0;
}

/*
 * Is fd the root of a mount, and which? statx says so since Linux 5.8. Before
 * that, and with --mount-api legacy, fdinfo gives the mount ID, and a mount's
 * root is the directory whose ".." lies in another mount.
 */
static int mount_id_of(int fd, enum shm_mount_api api, bool *mount_root, dev_t *dev, int *mnt_id)
{
        struct statx stx;
        struct stat st;
        int parent_id, r;

        if (api == SHM_MOUNT_API_AUTO &&
            statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_TYPE | STATX_MNT_ID, &stx) ==
                0 &&
            (stx.stx_mask & STATX_MNT_ID) && (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT)) {
                *mount_root = stx.stx_attributes & STATX_ATTR_MOUNT_ROOT;
                *dev = makedev(stx.stx_dev_major, stx.stx_dev_minor);
                *mnt_id = (int)stx.stx_mnt_id;
                return 0;
        }
        if (fstat(fd, &st) < 0)
                return -errno;
        *dev = st.st_dev;
        if ((r = fdinfo_mnt_id(fd, mnt_id)) < 0)
                return r;
        _cleanup_close_ int parent = openat(fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (parent < 0)
                return -errno;
        if ((r = fdinfo_mnt_id(parent, &parent_id)) < 0)
                return r;
        *mount_root = parent_id != *mnt_id;
        return 0;
}

/* The size of a tmpfs in bytes; 0 means unlimited (size=0). */
static int tmpfs_size(int fd, uint64_t *bytes)
{
        struct statfs sfs;
        if (fstatfs(fd, &sfs) < 0)
                return -errno;
        *bytes = (uint64_t)sfs.f_blocks * (uint64_t)sfs.f_bsize;
        return 0;
}

/* ---- acting ---- */

static int resize_tmpfs(int shm_fd, uint64_t bytes, enum shm_mount_api api, const char *shown,
                        struct shm_error *err)
{
        char size[32];
        snprintf(size, sizeof(size), "%" PRIu64, bytes);

        if (api == SHM_MOUNT_API_AUTO) {
                _cleanup_close_ int fs_fd = fspick(shm_fd, "", FSPICK_EMPTY_PATH | FSPICK_CLOEXEC);
                if (fs_fd >= 0) {
                        if (fsconfig(fs_fd, FSCONFIG_SET_STRING, "size", size, 0) < 0 ||
                            fsconfig(fs_fd, FSCONFIG_CMD_RECONFIGURE, NULL, NULL, 0) < 0)
                                return shm_error_set(err, errno,
                                                     "cannot resize '%s' to %s bytes: %s", shown,
                                                     size, strerror(errno));
                        return 0;
                }
                if (errno != ENOSYS)
                        return shm_error_set(err, errno, "cannot open '%s' for resizing: %s", shown,
                                             strerror(errno));
        }

        /* mount(2) MS_REMOUNT also resets per-mount flags: carry the current ones over.
         * The type is ignored on remount; naming it keeps checkers such as valgrind quiet. */
        struct statvfs svfs;
        char options[64];
        unsigned long flags = MS_REMOUNT;
        if (fstatvfs(shm_fd, &svfs) < 0)
                return shm_error_set(err, errno, "cannot stat '%s': %s", shown, strerror(errno));
        flags |=
            (svfs.f_flag & ST_RDONLY ? MS_RDONLY : 0) | (svfs.f_flag & ST_NOSUID ? MS_NOSUID : 0) |
            (svfs.f_flag & ST_NODEV ? MS_NODEV : 0) | (svfs.f_flag & ST_NOEXEC ? MS_NOEXEC : 0) |
            (svfs.f_flag & ST_NOATIME ? MS_NOATIME : 0) |
            (svfs.f_flag & ST_NODIRATIME ? MS_NODIRATIME : 0) |
            (svfs.f_flag & ST_RELATIME ? MS_RELATIME : 0);
        snprintf(options, sizeof(options), "size=%s", size);
        if (mount(NULL, fd_path(shm_fd).s, "tmpfs", flags, options) < 0)
                return shm_error_set(err, errno, "cannot resize '%s' to %s bytes: %s", shown, size,
                                     strerror(errno));
        return 0;
}

/* Mount a fresh tmpfs on the directory shm_fd (mount_fresh checks it landed there). */
int shm_mount_tmpfs(int shm_fd, uint64_t bytes, enum shm_mount_api api, const char *shown,
                    int *attached, struct shm_error *err)
{
        char size[32];
        snprintf(size, sizeof(size), "%" PRIu64, bytes);
        if (attached)
                *attached = -1;

        if (api == SHM_MOUNT_API_AUTO) {
                _cleanup_close_ int fs_fd = fsopen("tmpfs", FSOPEN_CLOEXEC);
                _cleanup_close_ int mnt_fd = -1;
                if (fs_fd >= 0) {
                        if (fsconfig(fs_fd, FSCONFIG_SET_STRING, "source", "shm", 0) < 0 ||
                            fsconfig(fs_fd, FSCONFIG_SET_STRING, "size", size, 0) < 0 ||
                            fsconfig(fs_fd, FSCONFIG_SET_STRING, "mode", "1777", 0) < 0 ||
                            fsconfig(fs_fd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                                return shm_error_set(err, errno,
                                                     "cannot create a tmpfs of %s bytes: %s", size,
                                                     strerror(errno));
                        mnt_fd = fsmount(fs_fd, FSMOUNT_CLOEXEC,
                                         MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
                        if (mnt_fd < 0)
                                return shm_error_set(err, errno, "cannot create a tmpfs mount: %s",
                                                     strerror(errno));
                        if (move_mount(mnt_fd, "", shm_fd, "",
                                       MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                                return shm_error_set(err, errno, "cannot mount a tmpfs on '%s': %s",
                                                     shown, strerror(errno));
                        if (attached)
                                *attached = steal_fd(&mnt_fd);
                        return 0;
                }
                if (errno != ENOSYS)
                        return shm_error_set(err, errno, "cannot create a tmpfs: %s",
                                             strerror(errno));
        }

        char options[64];
        snprintf(options, sizeof(options), "mode=1777,size=%s", size);
        if (mount("shm", fd_path(shm_fd).s, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, options) < 0)
                return shm_error_set(err, errno, "cannot mount a tmpfs on '%s': %s", shown,
                                     strerror(errno));
        return 0;
}

static int bind_host_shm(int host_tree_fd, int shm_fd, const char *shown, struct shm_error *err)
{
        /* By the clone whenever there is one: api can have turned LEGACY since it was
         * opened (openat2 missing, open_tree there: Linux 5.2 to 5.5), and the clone is
         * what mount_fresh() detaches if the check after fails. */
        if (host_tree_fd >= 0) {
                if (move_mount(host_tree_fd, "", shm_fd, "",
                               MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                        return shm_error_set(err, errno,
                                             "cannot bind the host's /dev/shm on '%s': %s", shown,
                                             strerror(errno));
                return 0;
        }
        /* In the legacy path the host's /dev/shm is still visible: the namespace
         * is a copy of the host's taken before pivot_root. */
        if (mount("/dev/shm", fd_path(shm_fd).s, NULL, MS_BIND, NULL) < 0)
                return shm_error_set(err, errno, "cannot bind the host's /dev/shm on '%s': %s",
                                     shown, strerror(errno));
        return 0;
}

/* Re-resolve <root>/dev/shm and check that it now is the root of a new mount. */
static int verify_mounted(int root_fd, int old_mnt_id, enum shm_mount_api api, const char *shown,
                          struct shm_error *err)
{
        _cleanup_close_ int fd = resolve_dir(root_fd, "dev/shm", shown, &api, err);
        bool mount_root;
        dev_t dev;
        int mnt_id;

        if (fd < 0)
                return fd;
        if (mount_id_of(fd, api, &mount_root, &dev, &mnt_id) < 0 || !mount_root ||
            mnt_id == old_mnt_id)
                return shm_error_set(err, EIO, "the new mount did not land on '%s'", shown);
        return 0;
}

/* The parent pid and start time from <proc_fd>/stat (the comm may hold spaces and ')'). */
static int parent_of(int proc_fd, pid_t *ppid, uint64_t *start_time)
{
        char buf[1024];
        ssize_t n;

        if ((n = read_proc_file(proc_fd, "stat", buf, sizeof(buf))) < 0)
                return (int)n;
        return proc_stat_parse(buf, NULL, ppid, start_time) < 0 ? -EIO : 0;
}

/*
 * Join the mount namespace of the container's init, and only that. The pid
 * comes from stdin, so it is checked first: it must be a live process, a
 * child of the runtime that runs us, in a mount namespace other than ours.
 * A /proc/<pid> directory fd stays bound to the process it was opened for
 * (lookups through it fail once that process exits, even if the pid is
 * reused), and a pidfd, where the kernel has them, confirms it is still alive
 * after the checks, so a recycled pid cannot stand in.
 */
static int join_mount_namespace(pid_t pid, uint64_t *start_time, struct shm_error *err)
{
        _cleanup_close_ int proc_fd = -1, pidfd = -1, ns_fd = -1;
        struct stat ours, theirs;
        char path[32];
        pid_t ppid = -1, runtime = getppid();
        int r;

        if (pid == getpid() || pid == runtime)
                return shm_error_set(
                    err, EPERM, "pid %d is the hook or its runtime, not a container", (int)pid);
        snprintf(path, sizeof(path), "/proc/%d", (int)pid);
        proc_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (proc_fd < 0)
                return shm_error_set(err, errno == ENOENT ? ESRCH : errno,
                                     "container process %d does not exist", (int)pid);
        pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (pidfd < 0 && errno != ENOSYS)
                return shm_error_set(err, errno, "cannot open container process %d: %s", (int)pid,
                                     strerror(errno));
        r = parent_of(proc_fd, &ppid, start_time);
        if (r == 0) {
                ns_fd = openat(proc_fd, "ns/mnt", O_RDONLY | O_CLOEXEC);
                if (ns_fd < 0)
                        r = -errno;
        }
        if (r == 0 && pidfd >= 0 && syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0)
                r = -ESRCH;
        if (r == -ENOENT || r == -ESRCH)
                return shm_error_set(err, ESRCH, "container process %d exited", (int)pid);
        if (r < 0)
                return shm_error_set(err, -r, "cannot inspect container process %d: %s", (int)pid,
                                     strerror(-r));
        if (ppid != runtime)
                return shm_error_set(err, EPERM,
                                     "process %d is not a child of the runtime that runs the hook "
                                     "(its parent is %d, the hook's is %d); register the hook "
                                     "itself, not a wrapper that forks it",
                                     (int)pid, (int)ppid, (int)runtime);
        if (stat("/proc/self/ns/mnt", &ours) < 0 || fstat(ns_fd, &theirs) < 0)
                return shm_error_set(err, errno, "cannot compare mount namespaces: %s",
                                     strerror(errno));
        if (ours.st_ino == theirs.st_ino && ours.st_dev == theirs.st_dev)
                return shm_error_set(err, EPERM,
                                     "process %d shares the hook's mount namespace; refusing "
                                     "to touch the host's mounts",
                                     (int)pid);
        if (setns(ns_fd, CLONE_NEWNS) < 0)
                return shm_error_set(err, errno,
                                     "cannot join the mount namespace of process %d: %s", (int)pid,
                                     strerror(errno));
        return 0;
}

/* Take back a mount the hook attached, by its fd (new mount API only). */
static void detach(int mount_fd)
{
        if (mount_fd >= 0)
                umount2(fd_path(mount_fd).s, MNT_DETACH);
}

/* Everything shm_apply() holds, so that one exit releases it. */
struct apply {
        const struct shm_apply_args *args;
        enum shm_mount_api api;
        char *shown;
        int root_fd, host_tree_fd, attached;
        struct shm_target target;
        int mnt_id;
        struct mountinfo_entry mount, twin;
        struct bind_dev {
                bool known;
                dev_t dev;
        } * bind_devs; /* of config.json's bind sources, seen from the host, in order */
        struct shm_observation obs;
};

static void apply_release(struct apply *a)
{
        free(a->shown);
        if (a->root_fd >= 0)
                close(a->root_fd);
        if (a->host_tree_fd >= 0)
                close(a->host_tree_fd);
        if (a->attached >= 0)
                close(a->attached);
        shm_target_close(&a->target);
        mountinfo_entry_free(&a->mount);
        mountinfo_entry_free(&a->twin);
        free(a->bind_devs);
}

static bool entry_is_private_tmpfs(const struct spec_mount *entry)
{
        return entry->present && !entry->bind && entry->type && strcmp(entry->type, "tmpfs") == 0;
}

/*
 * The device of the engine's shm source. The engine's state directory may be
 * reached through a symlink the admin made (/var/lib/containers on another
 * disk); the last parts, which the engine itself creates
 * (io.containerd.grpc.v1.cri/sandboxes/<id>/shm, <driver>-containers/<id>/userdata/shm,
 * containers/<id>/mounts/shm), must hold none. Otherwise the bind is no pod
 * tmpfs the hook can vouch for: it is left alone as a volume.
 */
static void engine_source_dev(struct apply *a, const char *source)
{
        _cleanup_free_ char *dir = path_strip(source, 4);
        _cleanup_close_ int dir_fd = -1, fd = -1;
        struct path_part first;
        struct shm_error ignored = {0};
        enum shm_mount_api api = a->api;
        struct stat st;

        if (!dir || !path_part_from_end(source, 3, &first))
                return;
        dir_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0)
                return;
        fd = resolve_dir(dir_fd, first.s, source, &api, &ignored);
        if (fd >= 0 && fstat(fd, &st) == 0) {
                a->obs.source_dev_known = true;
                a->obs.source_dev = st.st_dev;
        }
}

/* The host's /dev/shm, to bind: it must be a tmpfs of its own, not a piece of /dev. */
static int check_host_shm(struct shm_error *err)
{
        _cleanup_close_ int fd = open("/dev/shm", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        struct statfs sfs;
        bool mount_root;
        dev_t dev;
        int mnt_id;

        if (fd < 0 || fstatfs(fd, &sfs) < 0)
                return shm_error_set(err, errno, "cannot open the host's /dev/shm: %s",
                                     strerror(errno));
        if (sfs.f_type != TMPFS_MAGIC ||
            mount_id_of(fd, SHM_MOUNT_API_AUTO, &mount_root, &dev, &mnt_id) < 0 || !mount_root)
                return shm_error_set(err, EPERM,
                                     "the host's /dev/shm is not a tmpfs of its own; refusing to "
                                     "bind it into a container (that would share a writable "
                                     "part of the host's /dev)");
        return 0;
}

/* Facts only the host's namespace shows, gathered before joining the container's. */
static int observe_host(struct apply *a, struct shm_error *err)
{
        const struct shm_apply_args *args = a->args;
        const struct spec_mount *entry = &args->spec->shm;
        struct stat st;
        int r;

        if (stat("/dev/shm", &st) == 0) {
                a->obs.host_dev_known = true;
                a->obs.host_dev = st.st_dev;
        }
        if (entry->present && entry->bind &&
            (a->obs.engine_source = engine_shm_source_is_own(args->engine, entry->source)))
                engine_source_dev(a, entry->source);
        if (entry_is_private_tmpfs(entry) && args->spec->n_bind_sources) {
                a->bind_devs = calloc(args->spec->n_bind_sources, sizeof(*a->bind_devs));
                if (!a->bind_devs)
                        return shm_error_set(err, ENOMEM, "out of memory");
                /* As the runtime resolved them: following symlinks, on the host. */
                for (size_t i = 0; i < args->spec->n_bind_sources; i++)
                        if (stat(args->spec->bind_sources[i], &st) == 0)
                                a->bind_devs[i] = (struct bind_dev){true, st.st_dev};
        }
        if (!args->host)
                return 0;
        if ((r = check_host_shm(err)) < 0)
                return r;
        if (a->api == SHM_MOUNT_API_AUTO) {
                a->host_tree_fd =
                    open_tree(AT_FDCWD, "/dev/shm", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
                if (a->host_tree_fd < 0 && errno != ENOSYS)
                        return shm_error_set(err, errno, "cannot open the host's /dev/shm: %s",
                                             strerror(errno));
        }
        return 0;
}

/* What is mounted at <root>/dev/shm now, seen in the container's namespace. */
static int observe_target(struct apply *a, struct shm_error *err)
{
        const struct spec_mount *entry = &a->args->spec->shm;
        bool private_entry = entry_is_private_tmpfs(entry);
        int r;

        r = mount_id_of(a->target.fd, a->api, &a->obs.mount_root, &a->obs.dev, &a->mnt_id);
        if (r < 0)
                return shm_error_set(err, -r, "cannot inspect '%s': %s", a->shown, strerror(-r));
        if (!a->obs.mount_root)
                return 0;
        r = mountinfo_find_twin("/proc/thread-self/mountinfo", a->mnt_id, major(a->obs.dev),
                                minor(a->obs.dev), &a->mount, private_entry ? &a->twin : NULL, err);
        if (r < 0)
                return r;
        a->obs.fstype = a->mount.fstype;
        a->obs.fs_root = a->mount.root;
        a->obs.source = a->mount.source;
        a->obs.also_mounted_at = a->twin.fstype ? a->twin.mount_point : NULL;
        for (size_t i = 0; a->bind_devs && i < a->args->spec->n_bind_sources; i++)
                if (a->bind_devs[i].known && a->bind_devs[i].dev == a->obs.dev) {
                        a->obs.bound_from = a->args->spec->bind_sources[i];
                        break;
                }
        return 0;
}

static int mount_fresh(struct apply *a, struct shm_outcome *out, struct shm_error *err)
{
        int r = a->args->host ? bind_host_shm(a->host_tree_fd, a->target.fd, a->shown, err)
                              : shm_mount_tmpfs(a->target.fd, a->args->bytes, a->api, a->shown,
                                                &a->attached, err);
        if (r < 0)
                return r;
        /* move_mount attached the host tree itself: it is the bind now. */
        int mounted = a->args->host ? a->host_tree_fd : a->attached;
        r = verify_mounted(a->root_fd, a->mnt_id, a->api, a->shown, err);
        if (r < 0) {
                detach(mounted);
                return r;
        }
        out->result = a->args->host ? "host-mounted" : "mounted";
        out->after = a->args->host ? out->before : size_pages_up(a->args->bytes);
        return 0;
}

static int grow(struct apply *a, struct shm_outcome *out, struct shm_error *err)
{
        /* Grow only: an explicit larger --shm-size, or an unlimited tmpfs, stays. */
        if (out->before == 0 || out->before >= size_pages_up(a->args->bytes)) {
                out->result = "kept";
                return 0;
        }
        int r = resize_tmpfs(a->target.fd, a->args->bytes, a->api, a->shown, err);
        if (r < 0)
                return r;
        tmpfs_size(a->target.fd, &out->after);
        out->result = "grown";
        return 0;
}

static int act(struct apply *a, struct shm_outcome *out, const char *why, struct shm_error *err)
{
        switch (out->kind) {
        case SHM_KIND_HOST:
                out->result = a->args->host ? "already-host" : "skipped-host";
                return 0;
        case SHM_KIND_OTHER:
                out->result = "skipped-volume";
                return 0;
        case SHM_KIND_UNVERIFIED:
                return shm_error_set(err, EPERM,
                                     "'%s' is a tmpfs that config.json's /dev/shm entry did not "
                                     "make (%s); refusing to change it",
                                     a->shown, why);
        case SHM_KIND_NONE:
                return mount_fresh(a, out, err);
        case SHM_KIND_PRIVATE:
        case SHM_KIND_ENGINE_SHARED:
                return a->args->host ? mount_fresh(a, out, err) : grow(a, out, err);
        }
        return shm_error_set(err, EINVAL, "unexpected /dev/shm kind");
}

int shm_apply(const struct shm_apply_args *args, struct shm_outcome *out, struct shm_error *err)
{
        struct apply a = {.args = args,
                          .api = args->api,
                          .root_fd = -1,
                          .host_tree_fd = -1,
                          .attached = -1,
                          .target = {.fd = -1, .dev_fd = -1},
                          .mnt_id = -1};
        char why[sizeof(err->message)]; /* it ends up in *err */
        int r;

        memset(out, 0, sizeof(*out));
        if (asprintf(&a.shown, "%s/dev/shm", args->spec->root_path) < 0) {
                a.shown = NULL;
                return shm_error_set(err, ENOMEM, "out of memory");
        }
        if ((r = observe_host(&a, err)) < 0 ||
            (r = join_mount_namespace(args->pid, &out->start_time, err)) < 0)
                goto out;
        a.root_fd = open(args->spec->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (a.root_fd < 0) {
                r = shm_error_set(err, errno, "cannot open the container root '%s': %s",
                                  args->spec->root_path, strerror(errno));
                goto out;
        }
        if ((r = shm_target_open(a.root_fd, a.shown, &a.api, &a.target, err)) < 0 ||
            (r = observe_target(&a, err)) < 0)
                goto out;
        out->kind = shm_classify(&a.obs, &args->spec->shm, why, sizeof(why));
        if (out->kind == SHM_KIND_PRIVATE || out->kind == SHM_KIND_ENGINE_SHARED ||
            out->kind == SHM_KIND_HOST) {
                /* 0 would read as "unlimited" and keep it: fail instead. */
                if ((r = tmpfs_size(a.target.fd, &out->before)) < 0) {
                        r = shm_error_set(err, -r, "cannot read the size of '%s': %s", a.shown,
                                          strerror(-r));
                        goto out;
                }
        }
        out->after = out->before;
        r = act(&a, out, why, err);
out:
        /* Nothing is left half-done: a directory the hook made goes again. */
        if (r < 0)
                shm_target_undo(&a.target);
        apply_release(&a);
        return r;
}
