/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Acting on a container's /dev/shm from inside its mount namespace, before
 * pivot_root: the root file system is at its host path there.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "engine.h"
#include "spec.h"

enum shm_kind {
        SHM_KIND_NONE,          /* nothing mounted at <root>/dev/shm, or no such directory */
        SHM_KIND_PRIVATE,       /* the tmpfs the runtime made for config.json's /dev/shm entry */
        SHM_KIND_ENGINE_SHARED, /* a bind of the engine's own pod or IPC tmpfs */
        SHM_KIND_HOST,          /* the host's /dev/shm */
        SHM_KIND_OTHER,         /* a volume or file system the container does not own */
        SHM_KIND_UNVERIFIED,    /* a whole tmpfs the hook cannot tie to the entry: refused */
};

/* What the hook saw at <root>/dev/shm, and on the host before joining. */
struct shm_observation {
        bool mount_root;     /* the directory is the root of a mount (the topmost there) */
        dev_t dev;           /* of that mount */
        const char *fstype;  /* from mountinfo, NULL when unknown */
        const char *fs_root; /* the mount's root within its file system ("/" = all of it) */
        const char *source;  /* mountinfo's source field */
        bool host_dev_known;
        dev_t host_dev;     /* of the host's /dev/shm */
        bool engine_source; /* the entry binds the engine's own shm (engine_shm_source_is_own) */
        bool source_dev_known;
        dev_t source_dev;            /* of that source, seen from the host */
        const char *also_mounted_at; /* another mount of the same file system, or NULL */
        const char *bound_from;      /* a config.json bind source on that device, or NULL */
};

/* *why (when not NULL) says, for SHM_KIND_UNVERIFIED, what did not fit. */
enum shm_kind shm_classify(const struct shm_observation *obs, const struct spec_mount *entry,
                           char *why, size_t why_size);
const char *shm_kind_name(enum shm_kind kind);

enum shm_mount_api {
        SHM_MOUNT_API_AUTO,   /* openat2 + fsopen/fspick/move_mount when the kernel has them */
        SHM_MOUNT_API_LEGACY, /* O_NOFOLLOW walk + mount(2) on /proc/thread-self/fd/N */
};

/* <root>/dev/shm, opened safely: an O_PATH fd that no later rename can redirect. */
struct shm_target {
        int fd;       /* <root>/dev/shm */
        int dev_fd;   /* <root>/dev, kept only when the hook created shm */
        bool created; /* the hook made the directory; undo removes it */
};

/*
 * Resolve <root>/dev/shm below root_fd, never through a symlink or out of the
 * root, creating the shm directory when /dev has none. `shown` names it in
 * messages. On a kernel without openat2 *api falls back to LEGACY.
 */
int shm_target_open(int root_fd, const char *shown, enum shm_mount_api *api, struct shm_target *t,
                    struct shm_error *err);
void shm_target_undo(struct shm_target *t);
void shm_target_close(struct shm_target *t);

/*
 * Mount a fresh tmpfs (nosuid, nodev, noexec, mode 1777) on the directory fd.
 * *attached (when not NULL) gets an fd of the new mount with the new mount
 * API, so a caller can take it back; -1 otherwise.
 */
int shm_mount_tmpfs(int shm_fd, uint64_t bytes, enum shm_mount_api api, const char *shown,
                    int *attached, struct shm_error *err);

struct engine;

struct shm_apply_args {
        pid_t pid; /* the container's init */
        const struct oci_spec *spec;
        const struct engine *engine;
        bool host;      /* bind the host's /dev/shm */
        uint64_t bytes; /* otherwise: make /dev/shm at least this large */
        enum shm_mount_api api;
};

struct shm_outcome {
        enum shm_kind kind;
        /* grown, kept, mounted, host-mounted, already-host, skipped-host, skipped-volume */
        const char *result;
        uint64_t before; /* bytes; 0 when none or unlimited */
        uint64_t after;
        uint64_t start_time; /* of the process whose namespace was joined, /proc/PID/stat */
};

/*
 * Join the container's mount namespace and act. The calling process stays in
 * that namespace afterwards: call once, last. On failure nothing is changed.
 */
int shm_apply(const struct shm_apply_args *args, struct shm_outcome *out, struct shm_error *err);
