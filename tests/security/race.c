/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The symlink-exchange race (runc CVE-2021-30465 class), as a test.
 *
 * In a private mount namespace, two shapes, each with a root and an outside
 * directory of its own:
 *  - "shm": <root>/dev/shm is a directory and <root>/dev/link a symlink to the
 *    outside; a thread swaps the two names.
 *  - "dev": <root>/dev has no shm, so whoever mounts first creates it, and
 *    <root>/devlink is a symlink to the outside; a thread swaps dev itself.
 *  - "host": the same swap, but both <root>/dev and the outside have a shm
 *    directory, as the host's /dev does: a resolver that followed the link
 *    in the middle of the path would find a directory there and mount on it.
 * The swaps are renameat2(RENAME_EXCHANGE) in a tight loop, while the main
 * thread resolves and mounts with the hook's own shm_target_open() +
 * shm_mount_tmpfs(), thousands of times. After each attempt the swapper is
 * paused, every new mount is found in /proc/self/mountinfo, classified (under
 * the shape's root or not) and unmounted, and the outside directory is checked
 * to be as it was (a mkdir through the symlink would leave outside/shm).
 * Zero mounts may land outside the root and nothing may appear outside, for
 * the new mount API and for the legacy fallback. The same loop with a naive
 * path-string mkdir(2) + mount(2) must escape at least once per shape: proof
 * that the test can see an escape. "raced" counts the attempts during which a
 * swap completed: at least 1% must, or the race was not run at all.
 *
 * Usage: race [ITERATIONS]  (default 5000 per mode and shape; exit 77 without
 * root or with fewer than two CPUs)
 */
#include <dirent.h>
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

#define SKIP           77
#define MAX_NEW        16
#define N_SHAPES       3
#define MAX_ITERATIONS 10000000

struct shape {
        const char *name;
        const char *desc;  /* for the heading */
        char root[128];    /* everything under it is inside */
        char outside[128]; /* the symlink's target: must stay as it was */
        const char *keep;  /* the one entry it has from the start, or NULL */
        char target[160];  /* <root>/dev/shm as a string, for the naive mount */
        int root_fd;
        int swap_fd;       /* the directory whose two entries are swapped */
        const char *a, *b; /* those entries */
        int real_dev_fd;   /* "dev": the real <root>/dev, whatever it is named; else -1 */
        bool creates;      /* no shm directory: the mounter creates it */
};

static char base[64];
static atomic_int stop, pause_request;
static atomic_long swaps;
/* Held by the swapper around each rename, and by the main thread while paused. */
static pthread_mutex_t swap_lock = PTHREAD_MUTEX_INITIALIZER;
static int swapper_cpu = -1;

static void die(const char *what)
{
        fprintf(stderr, "race: %s: %s\n", what, strerror(errno));
        exit(1);
}

static void pin(int cpu)
{
        cpu_set_t set;

        if (cpu < 0)
                return;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        if (sched_setaffinity(0, sizeof(set), &set) < 0)
                die("sched_setaffinity");
}

/*
 * The main thread and the swapper on CPUs of their own. Sharing one, the
 * main thread's wait for a swap hands the swapper a whole time slice, and the
 * swaps fall between attempts, never during one (measured: raced=0). Returns
 * false with fewer than two CPUs.
 */
static bool pin_threads(void)
{
        cpu_set_t set;
        int cpus[2], n = 0;

        if (sched_getaffinity(0, sizeof(set), &set) < 0)
                die("sched_getaffinity");
        for (int cpu = 0; cpu < CPU_SETSIZE && n < 2; cpu++)
                if (CPU_ISSET(cpu, &set))
                        cpus[n++] = cpu;
        if (n < 2)
                return false;
        pin(cpus[0]);
        swapper_cpu = cpus[1];
        return true;
}

static void *swapper(void *arg)
{
        const struct shape *s = arg;

        pin(swapper_cpu);
        while (!atomic_load(&stop)) {
                /* Paused: spin, so that resuming needs no wake-up. */
                if (atomic_load(&pause_request)) {
                        sched_yield();
                        continue;
                }
                pthread_mutex_lock(&swap_lock);
                /* EBUSY while the directory is a mount point: try again. */
                if (!atomic_load(&pause_request) &&
                    renameat2(s->swap_fd, s->a, s->swap_fd, s->b, RENAME_EXCHANGE) == 0)
                        atomic_fetch_add(&swaps, 1);
                pthread_mutex_unlock(&swap_lock);
        }
        return NULL;
}

/* Waits for at most the one rename in progress, never for the swapper to be scheduled. */
static void pause_swapper(void)
{
        atomic_store(&pause_request, 1);
        pthread_mutex_lock(&swap_lock);
}

static void resume_swapper(void)
{
        pthread_mutex_unlock(&swap_lock);
        atomic_store(&pause_request, 0);
}

static void start_swapper(pthread_t *thread, struct shape *s)
{
        atomic_store(&stop, 0);
        atomic_store(&pause_request, 0);
        if (pthread_create(thread, NULL, swapper, s) != 0)
                die("pthread_create");
}

static void stop_swapper(pthread_t thread)
{
        atomic_store(&stop, 1);
        pthread_join(thread, NULL);
}

static bool under(const char *path, const char *dir)
{
        size_t len = strlen(dir);
        return strncmp(path, dir, len) == 0 && (path[len] == '/' || path[len] == '\0');
}

struct landing {
        int inside, outside, elsewhere, created;
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
 * its mount point and unmount it. Returns how many there were.
 */
static int collect(const struct shape *s, struct landing *l)
{
        char line[8192];
        char points[MAX_NEW][PATH_MAX];
        int n = 0, id;
        FILE *f = fopen("/proc/self/mountinfo", "re");

        if (!f)
                die("open /proc/self/mountinfo");
        while (fgets(line, sizeof(line), f)) {
                char point[PATH_MAX];
                if (sscanf(line, "%d %*d %*s %*s %4095s", &id, point) != 2 || in_baseline(id))
                        continue;
                if (n < MAX_NEW)
                        snprintf(points[n], PATH_MAX, "%s", point);
                n++;
        }
        fclose(f);
        for (int i = 0; i < n && i < MAX_NEW; i++) {
                if (under(points[i], s->root))
                        l->inside++;
                else if (under(points[i], s->outside))
                        l->outside++;
                else
                        l->elsewhere++;
                if (umount2(points[i], MNT_DETACH | UMOUNT_NOFOLLOW) < 0) {
                        fprintf(stderr, "race: cannot unmount %s: %s\n", points[i],
                                strerror(errno));
                        exit(1);
                }
        }
        return n;
}

/*
 * After the mounts are gone: anything new in the outside directory was
 * created through the symlink. Count it, report the first (when asked), and
 * remove it so the next attempt starts clean. Then remove the shm the attempt
 * made inside, if any.
 */
static void sweep(const struct shape *s, struct landing *l, bool report)
{
        DIR *d = opendir(s->outside);
        struct dirent *e;

        if (!d)
                die("open the outside directory");
        while ((e = readdir(d))) {
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
                    (s->keep && strcmp(e->d_name, s->keep) == 0))
                        continue;
                if (l->created++ == 0 && report)
                        fprintf(stderr, "race: %s: created outside: %s/%s\n", s->name, s->outside,
                                e->d_name);
                if (unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR) < 0 &&
                    unlinkat(dirfd(d), e->d_name, 0) < 0)
                        die("remove what was created outside");
        }
        closedir(d);
        if (s->real_dev_fd >= 0 && unlinkat(s->real_dev_fd, "shm", AT_REMOVEDIR) < 0 &&
            errno != ENOENT)
                die("remove the shm directory made inside");
}

enum mode { MODE_AUTO, MODE_LEGACY, MODE_NAIVE };

static const char *mode_name(enum mode m, const struct shape *s)
{
        if (m == MODE_NAIVE)
                return s->creates ? "naive mkdir(2) + mount(2) on the path string"
                                  : "naive mount(2) on the path string";
        return m == MODE_AUTO ? "new mount API (openat2 + move_mount)"
                              : "legacy (O_NOFOLLOW walk + /proc/thread-self/fd)";
}

struct result {
        struct landing l;
        int refused, failed, multi;
        int raced; /* attempts during which a swap completed */
        double seconds;
};

/* A tmpfs like shm_mount_tmpfs() makes, but through the path string. */
static void naive_attempt(const struct shape *s, struct result *r)
{
        if (s->creates && mkdir(s->target, 0755) < 0 && errno != EEXIST)
                r->refused++;
        else if (mount("race-shm", s->target, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                       "size=1m") < 0)
                r->refused++;
}

/* Exactly what the hook does: resolve (creating shm if missing), mount onto the fd. */
static void hook_attempt(const struct shape *s, enum mode mode, struct result *r)
{
        enum shm_mount_api api = mode == MODE_AUTO ? SHM_MOUNT_API_AUTO : SHM_MOUNT_API_LEGACY;
        struct shm_target t;
        struct shm_error err = {0};
        int rc = shm_target_open(s->root_fd, "race/dev/shm", &api, &t, &err);

        if (mode == MODE_AUTO && api != SHM_MOUNT_API_AUTO) {
                fprintf(stderr, "race: the kernel has no openat2; the AUTO round would test "
                                "LEGACY\n");
                exit(SKIP);
        }
        if (rc == -ELOOP || rc == -ENOTDIR) {
                r->refused++; /* the symlink was in place */
                return;
        }
        if (rc == 0) {
                rc = shm_mount_tmpfs(t.fd, 1 << 20, api, "race/dev/shm", NULL, &err);
                if (rc < 0)
                        shm_target_undo(&t);
                shm_target_close(&t);
        }
        if (rc < 0 && r->failed++ == 0)
                fprintf(stderr, "race: %s: first failure: %s\n", s->name, err.message);
}

static struct result run(const struct shape *s, enum mode mode, int iterations)
{
        struct result r = {0};
        struct timespec t0, t1;

        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (int i = 0; i < iterations; i++) {
                long swaps_before = atomic_load(&swaps);
                if (mode == MODE_NAIVE)
                        naive_attempt(s, &r);
                else
                        hook_attempt(s, mode, &r);
                if (atomic_load(&swaps) != swaps_before)
                        r.raced++;
                pause_swapper();
                if (collect(s, &r.l) > 1)
                        r.multi++;
                sweep(s, &r.l, mode != MODE_NAIVE);
                resume_swapper();
                /* Let the swapper run before the next attempt: on a loaded machine (or under
                 * ASan) this loop could otherwise starve it and exercise no race at all. It
                 * keeps swapping, on its own CPU, while the next attempt runs. */
                long target = atomic_load(&swaps) + 1;
                for (int spin = 0; atomic_load(&swaps) < target && spin < 100000; spin++)
                        sched_yield();
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        r.seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        return r;
}

/* The verdict on one mode of one shape: the number of failed checks. */
static int check(enum mode mode, const struct result *r, long swapped, int iterations)
{
        int escapes = r->l.outside + r->l.elsewhere + r->l.created;
        int failures = 0;

        if (swapped < iterations / 100) {
                printf("  FAIL: the swapper barely ran (%ld swaps); the race was not "
                       "exercised\n",
                       swapped);
                failures++;
        }
        /* The new mount API resolves /dev in one openat2 call, far shorter than a
         * rename: with /dev itself swapped, under 1% of its attempts overlap one on
         * some runs (138 of 20,000 seen). A few dozen overlaps still exercise it. */
        if (r->raced < iterations / 400) {
                printf("  FAIL: only %d attempts overlapped a swap; the race was not "
                       "exercised\n",
                       r->raced);
                failures++;
        }
        if (mode == MODE_NAIVE) {
                if (escapes == 0) {
                        printf("  FAIL: the naive mount never escaped: this test cannot catch "
                               "a regression\n");
                        failures++;
                }
                return failures;
        }
        if (escapes > 0) {
                printf("  FAIL: %d mounts or directories landed outside the root\n", escapes);
                failures++;
        }
        if (r->l.inside == 0 || r->refused == 0) {
                printf("  FAIL: expected both mounts inside and refusals (inside=%d "
                       "refused=%d)\n",
                       r->l.inside, r->refused);
                failures++;
        }
        if (r->l.inside + r->refused + r->failed != iterations || r->multi) {
                printf("  FAIL: %d attempts do not add up (multi=%d)\n", iterations, r->multi);
                failures++;
        }
        return failures;
}

static int run_shape(struct shape *s, int iterations)
{
        const enum mode modes[] = {MODE_AUTO, MODE_LEGACY, MODE_NAIVE};
        int failures = 0;
        pthread_t thread;

        printf("race: shape %s: %s\n", s->name, s->desc);
        start_swapper(&thread, s);
        for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
                long swaps_before = atomic_load(&swaps);
                struct result r = run(s, modes[m], iterations);
                long swapped = atomic_load(&swaps) - swaps_before;
                printf("  %-4s %-46s inside=%d escaped=%d (outside=%d elsewhere=%d "
                       "created=%d) refused=%d failed=%d swaps=%ld raced=%d %.1fs\n",
                       s->name, mode_name(modes[m], s), r.l.inside,
                       r.l.outside + r.l.elsewhere + r.l.created, r.l.outside, r.l.elsewhere,
                       r.l.created, r.refused, r.failed, swapped, r.raced, r.seconds);
                failures += check(modes[m], &r, swapped, iterations);
        }
        stop_swapper(thread);
        return failures;
}

static int open_dir(const char *path)
{
        int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                die(path);
        return fd;
}

/* <base>/NAME and <base>/NAME-outside, with NAME/dev; the caller adds the rest. */
static void shape_dirs(struct shape *s, const char *name)
{
        char dev[sizeof(s->root) + 8];

        s->name = name;
        snprintf(s->root, sizeof(s->root), "%s/%s", base, name);
        snprintf(s->outside, sizeof(s->outside), "%s/%s-outside", base, name);
        snprintf(s->target, sizeof(s->target), "%s/dev/shm", s->root);
        snprintf(dev, sizeof(dev), "%s/dev", s->root);
        if (mkdir(s->root, 0755) < 0 || mkdir(dev, 0755) < 0 || mkdir(s->outside, 0755) < 0)
                die("mkdir");
        s->root_fd = open_dir(s->root);
        s->real_dev_fd = -1;
}

/* dev/shm and dev/link swapped. */
static void setup_shm(struct shape *s)
{
        shape_dirs(s, "shm");
        s->desc = "<root>/dev/shm (a directory) swapped with <root>/dev/link -> outside";
        s->swap_fd = openat(s->root_fd, "dev", O_PATH | O_DIRECTORY | O_CLOEXEC);
        s->a = "shm";
        s->b = "link";
        if (s->swap_fd < 0 || mkdirat(s->swap_fd, "shm", 0755) < 0 ||
            symlinkat(s->outside, s->swap_fd, "link") < 0)
                die("make dev/shm and dev/link");
}

/* dev and devlink swapped; dev has no shm ("dev") or both have one ("host"). */
static void setup_dev(struct shape *s, const char *name, bool with_shm)
{
        char shm[sizeof(s->outside) + 8];

        shape_dirs(s, name);
        s->desc = with_shm ? "<root>/dev swapped with <root>/devlink -> outside, both with shm"
                           : "<root>/dev (no shm in it) swapped with <root>/devlink -> outside";
        s->swap_fd = s->root_fd;
        s->a = "dev";
        s->b = "devlink";
        if (symlinkat(s->outside, s->root_fd, "devlink") < 0)
                die("make devlink");
        if (with_shm) {
                s->keep = "shm";
                snprintf(shm, sizeof(shm), "%s/shm", s->outside);
                if (mkdirat(s->root_fd, "dev/shm", 0755) < 0 || mkdir(shm, 0755) < 0)
                        die("make dev/shm and outside/shm");
                return;
        }
        s->creates = true;
        s->real_dev_fd = openat(s->root_fd, "dev", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (s->real_dev_fd < 0)
                die("open dev");
}

/* A private mount namespace and a tmpfs of our own, so nothing else is in the way. */
static int setup_base(void)
{
        if (unshare(CLONE_NEWNS) < 0) {
                if (errno == EPERM) {
                        printf("SKIP: cannot unshare the mount namespace\n");
                        return SKIP;
                }
                die("unshare(CLONE_NEWNS)");
        }
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                die("make / private");
        snprintf(base, sizeof(base), "/tmp/oci-shm-race.XXXXXX");
        if (!mkdtemp(base))
                die("mkdtemp");
        if (mount("race-base", base, "tmpfs", 0, "size=16m") < 0)
                die("mount the base tmpfs");
        return 0;
}

int main(int argc, char **argv)
{
        long iterations = argc > 1 ? strtol(argv[1], NULL, 10) : 5000;
        struct shape shapes[N_SHAPES] = {0};
        int failures = 0;

        setvbuf(stdout, NULL, _IOLBF, 0); /* in order with the messages on stderr */
        if (geteuid() != 0) {
                printf("SKIP: needs root\n");
                return SKIP;
        }
        if (iterations < 1 || iterations > MAX_ITERATIONS) {
                fprintf(stderr, "race: ITERATIONS must be 1 to %d\n", MAX_ITERATIONS);
                return 1;
        }
        if (!pin_threads()) {
                printf("SKIP: needs two CPUs: on one, no swap ever lands during an attempt\n");
                return SKIP;
        }
        if (setup_base() == SKIP)
                return SKIP;
        setup_shm(&shapes[0]);
        setup_dev(&shapes[1], "dev", false);
        setup_dev(&shapes[2], "host", true);
        take_baseline();
        printf("race: %ld attempts per mode and shape under %s\n", iterations, base);
        for (int i = 0; i < N_SHAPES; i++)
                failures += run_shape(&shapes[i], (int)iterations);
        umount2(base, MNT_DETACH);
        rmdir(base);
        printf(failures ? "race: FAILED\n"
                        : "race: no escapes; the naive mount was caught in every shape\n");
        return failures ? 1 : 0;
}
