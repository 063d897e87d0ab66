/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The symlink-exchange race (runc CVE-2021-30465 class), as a test.
 *
 * In a private mount namespace: <base>/root/dev/shm is a directory and
 * <base>/root/dev/link a symlink to <base>/outside. A thread swaps the two
 * names with renameat2(RENAME_EXCHANGE) in a tight loop while the main thread
 * resolves and mounts with the hook's own shm_target_open() + shm_mount_tmpfs(),
 * thousands of times. After each attempt the swapper is paused, the new mount
 * is found in /proc/self/mountinfo, classified (inside the root or not) and
 * unmounted. Zero mounts may land outside the root, for the new mount API and
 * for the legacy fallback. The same loop with a naive path-string mount(2)
 * must escape at least once: proof that the test can see an escape.
 *
 * Usage: race [ITERATIONS]  (default 5000 per mode; needs root; exit 77 when not)
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mount.h"

#define SKIP 77

static char base[64], root[128], dev[128], outside[128];
static atomic_int stop, pause_request, paused;
static atomic_long swaps;

static void die(const char *what)
{
        fprintf(stderr, "race: %s: %s\n", what, strerror(errno));
        exit(1);
}

static void *swapper(void *arg)
{
        int dev_fd = *(int *)arg;
        while (!atomic_load(&stop)) {
                if (atomic_load(&pause_request)) {
                        atomic_store(&paused, 1);
                        while (atomic_load(&pause_request) && !atomic_load(&stop))
                                sched_yield();
                        atomic_store(&paused, 0);
                        continue;
                }
                /* EBUSY while the directory is a mount point: try again. */
                if (renameat2(dev_fd, "shm", dev_fd, "link", RENAME_EXCHANGE) == 0)
                        atomic_fetch_add(&swaps, 1);
        }
        return NULL;
}

static void pause_swapper(void)
{
        atomic_store(&pause_request, 1);
        while (!atomic_load(&paused))
                sched_yield();
}

static void resume_swapper(void)
{
        atomic_store(&pause_request, 0);
}

static bool under(const char *path, const char *dir)
{
        size_t len = strlen(dir);
        return strncmp(path, dir, len) == 0 && (path[len] == '/' || path[len] == '\0');
}

struct landing {
        int inside, outside, elsewhere;
};

static int baseline[8192];
static size_t n_baseline;

static bool in_baseline(int id)
{
        for (size_t i = 0; i < n_baseline; i++)
                if (baseline[i] == id)
                        return true;
        return false;
}

/* Every mount that exists now, by id: anything not in it later is new. */
static void take_baseline(void)
{
        char line[8192];
        FILE *f = fopen("/proc/self/mountinfo", "re");
        int id;

        if (!f)
                die("open /proc/self/mountinfo");
        while (fgets(line, sizeof(line), f))
                if (sscanf(line, "%d", &id) == 1 && n_baseline < sizeof(baseline) / sizeof(int))
                        baseline[n_baseline++] = id;
        fclose(f);
}

/*
 * Find every mount made since the baseline, wherever it is, classify it by
 * its mount point and unmount it.
 */
static void collect(struct landing *l, int *mounts_this_round)
{
        char line[8192];
        char points[16][PATH_MAX];
        int n = 0, id;
        FILE *f = fopen("/proc/self/mountinfo", "re");

        if (!f)
                die("open /proc/self/mountinfo");
        while (fgets(line, sizeof(line), f)) {
                char point[PATH_MAX];
                if (sscanf(line, "%d %*d %*s %*s %4095s", &id, point) != 2 || in_baseline(id))
                        continue;
                if (n < 16)
                        snprintf(points[n], PATH_MAX, "%s", point);
                n++;
        }
        fclose(f);
        *mounts_this_round = n;
        for (int i = 0; i < n && i < 16; i++) {
                if (under(points[i], dev))
                        l->inside++;
                else if (under(points[i], outside))
                        l->outside++;
                else
                        l->elsewhere++;
                if (umount2(points[i], MNT_DETACH | UMOUNT_NOFOLLOW) < 0) {
                        fprintf(stderr, "race: cannot unmount %s: %s\n", points[i],
                                strerror(errno));
                        exit(1);
                }
        }
}

enum mode { MODE_AUTO, MODE_LEGACY, MODE_NAIVE };

static const char *mode_name(enum mode m)
{
        return m == MODE_AUTO     ? "new mount API (openat2 + move_mount)"
               : m == MODE_LEGACY ? "legacy (O_NOFOLLOW walk + /proc/thread-self/fd)"
                                  : "naive mount(2) on the path string";
}

/* A tmpfs like shm_mount_tmpfs() makes, but with a source we can find. */
static int naive_mount(void)
{
        char path[sizeof(dev) + 8];
        snprintf(path, sizeof(path), "%s/shm", dev);
        return mount("race-shm", path, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=1m");
}

struct result {
        struct landing l;
        int refused, failed, multi;
        double seconds;
};

static struct result run(enum mode mode, int iterations, int root_fd)
{
        struct result r = {0};
        struct timespec t0, t1;

        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (int i = 0; i < iterations; i++) {
                int rc, n;
                if (mode == MODE_NAIVE) {
                        rc = naive_mount() < 0 ? -errno : 0;
                        if (rc < 0)
                                r.refused++;
                } else {
                        enum shm_mount_api api =
                            mode == MODE_AUTO ? SHM_MOUNT_API_AUTO : SHM_MOUNT_API_LEGACY;
                        struct shm_target t;
                        struct shm_error err = {0};
                        rc = shm_target_open(root_fd, "race/dev/shm", &api, &t, &err);
                        if (rc == 0) {
                                if (mode == MODE_AUTO && api != SHM_MOUNT_API_AUTO) {
                                        fprintf(stderr, "race: the kernel has no openat2; the "
                                                        "AUTO round would test LEGACY\n");
                                        exit(SKIP);
                                }
                                /* Exactly what the hook does: mount onto the fd. */
                                rc =
                                    shm_mount_tmpfs(t.fd, 1 << 20, api, "race/dev/shm", NULL, &err);
                                if (rc < 0)
                                        r.failed++;
                                shm_target_undo(&t);
                                shm_target_close(&t);
                        } else {
                                r.refused++; /* ELOOP or ENOTDIR: the symlink was in place */
                        }
                }
                pause_swapper();
                collect(&r.l, &n);
                if (n > 1)
                        r.multi++;
                resume_swapper();
                /* Let the swapper run before the next attempt: on a loaded machine (or under
                 * ASan) this loop could otherwise starve it and exercise no race at all. It
                 * keeps swapping while the next attempt runs. */
                long target = atomic_load(&swaps) + 1;
                for (int spin = 0; atomic_load(&swaps) < target && spin < 100000; spin++)
                        sched_yield();
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        r.seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        return r;
}

int main(int argc, char **argv)
{
        int iterations = argc > 1 ? atoi(argv[1]) : 5000;
        int dev_fd, root_fd, failures = 0;
        pthread_t thread;
        char link_target[sizeof(outside)];

        if (geteuid() != 0) {
                printf("SKIP: needs root\n");
                return SKIP;
        }
        if (iterations < 1)
                iterations = 1;
        if (unshare(CLONE_NEWNS) < 0) {
                if (errno == EPERM) {
                        printf("SKIP: cannot unshare the mount namespace\n");
                        return SKIP;
                }
                die("unshare(CLONE_NEWNS)");
        }
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                die("make / private");

        /* A tmpfs of our own, so nothing else on the machine is in the way. */
        snprintf(base, sizeof(base), "/tmp/oci-shm-race.XXXXXX");
        if (!mkdtemp(base))
                die("mkdtemp");
        if (mount("race-base", base, "tmpfs", 0, "size=16m") < 0)
                die("mount the base tmpfs");
        snprintf(root, sizeof(root), "%s/root", base);
        snprintf(dev, sizeof(dev), "%s/root/dev", base);
        snprintf(outside, sizeof(outside), "%s/outside", base);
        snprintf(link_target, sizeof(link_target), "%s/outside", base);
        if (mkdir(root, 0755) < 0 || mkdir(dev, 0755) < 0 || mkdir(outside, 0755) < 0)
                die("mkdir");
        dev_fd = open(dev, O_PATH | O_DIRECTORY | O_CLOEXEC);
        root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dev_fd < 0 || root_fd < 0)
                die("open");
        if (mkdirat(dev_fd, "shm", 0755) < 0 || symlinkat(link_target, dev_fd, "link") < 0)
                die("make dev/shm and dev/link");

        take_baseline();
        if (pthread_create(&thread, NULL, swapper, &dev_fd) != 0)
                die("pthread_create");

        printf("race: %d attempts per mode while a thread swaps dev/shm (a directory) and a "
               "symlink to %s\n",
               iterations, outside);
        const enum mode modes[] = {MODE_AUTO, MODE_LEGACY, MODE_NAIVE};
        for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
                long swaps_before = atomic_load(&swaps);
                struct result r = run(modes[m], iterations, root_fd);
                long swapped = atomic_load(&swaps) - swaps_before;
                int escapes = r.l.outside + r.l.elsewhere;
                printf("  %-52s inside=%d escaped=%d (outside=%d elsewhere=%d) refused=%d "
                       "failed=%d swaps=%ld %.1fs\n",
                       mode_name(modes[m]), r.l.inside, escapes, r.l.outside, r.l.elsewhere,
                       r.refused, r.failed, swapped, r.seconds);
                if (swapped < iterations / 100) {
                        printf("  FAIL: the swapper barely ran (%ld swaps); the race was not "
                               "exercised\n",
                               swapped);
                        failures++;
                }
                if (modes[m] == MODE_NAIVE) {
                        if (escapes == 0) {
                                printf("  FAIL: the naive mount never escaped: this test "
                                       "cannot catch a regression\n");
                                failures++;
                        }
                } else {
                        if (escapes > 0) {
                                printf("  FAIL: %d mounts landed outside the root\n", escapes);
                                failures++;
                        }
                        if (r.l.inside == 0 || r.refused == 0) {
                                printf("  FAIL: expected both mounts inside and refusals "
                                       "(inside=%d refused=%d)\n",
                                       r.l.inside, r.refused);
                                failures++;
                        }
                        if (r.l.inside + r.refused + r.failed != iterations || r.multi) {
                                printf("  FAIL: %d attempts do not add up (multi=%d)\n", iterations,
                                       r.multi);
                                failures++;
                        }
                }
        }
        atomic_store(&stop, 1);
        pthread_join(thread, NULL);
        umount2(base, MNT_DETACH);
        rmdir(base);
        printf(failures ? "race: FAILED\n" : "race: no escapes; the naive mount was caught\n");
        return failures ? 1 : 0;
}
