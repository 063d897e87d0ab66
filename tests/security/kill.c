/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Killed at any point: run the hook against a live "container" and SIGKILL
 * it after a random delay between 0 and its median run time, many times.
 *
 * The driver runs in a private mount namespace of its own (the hook's
 * "host"), with a small tmpfs over /run there, so the hook's decision records
 * land where the test reads them and the machine's /run is not touched. The
 * container is a child that unshares its mount namespace again, as runc's
 * init does, and waits on a pipe for reset commands; the hook is a sibling
 * of it (the hook requires the container to be a child of its own parent).
 * Two shapes:
 *  - grow:  a 64 MiB tmpfs at <root>/dev/shm from config.json's entry; the
 *           hook resizes it to 128 MiB;
 *  - fresh: nothing at <root>/dev/shm, no config.json entry; the hook creates
 *           the directory and mounts a 128 MiB tmpfs there.
 * After each kill: the host's mount table is byte for byte what it was; in
 * the container's, every line but <root>/dev/shm's is as it was, and there is
 * at most one mount there, a tmpfs of either the old or the new size; in the
 * fresh shape the directory is absent, present and mounted, or present and
 * empty (a kill between mkdirat and the mount); every decision record is
 * whole. Then a retry that is not killed must succeed and leave the new size,
 * and the container is reset for the next round.
 *
 * Each shape runs with the new mount API, and half as many times with
 * --mount-api legacy.
 *
 * Usage: kill HOOK [KILLS]   (default 2000 a shape and API; needs root: exit 77 when not)
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SKIP          77
#define OLD_KB        65536
#define NEW_KB        131072
#define TIMING_RUNS   101
#define MOUNTINFO_MAX (1 << 20)

enum shape { GROW, FRESH };
static const char *const shape_name[] = {"grow", "fresh"};

/* What a kill left, counted for the report. */
enum outcome {
        O_EXITED,   /* the hook was done before the kill landed */
        O_OLD,      /* killed: /dev/shm as it was */
        O_EMPTYDIR, /* killed: the hook's directory made, nothing mounted on it */
        O_NEW,      /* killed: the new size already in place */
        N_OUTCOMES
};
static const char *const outcome_name[] = {"exited before the kill", "killed, /dev/shm unchanged",
                                           "killed, empty directory left",
                                           "killed, new size in place"};

static char work[64], root[200], target[256], policy[160], state_file[256];
static char *hook;
static const char *api;
static pid_t cont_pid = -1;
static int cont_ctl = -1, cont_reply = -1;
static char *host_base, *cont_base;
static char cont_ns[64];
static int failures;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "kill: ");
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
        exit(1);
}

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void fail(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "FAIL: ");
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
        /* The first few tell the story; stop before a flood. */
        if (++failures >= 20)
                die("too many failures");
}

static double now_us(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static char *read_text(const char *path)
{
        char *buf = malloc(MOUNTINFO_MAX);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        size_t len = 0;
        ssize_t n;
        if (!buf || fd < 0)
                die("cannot read %s: %s", path, strerror(errno));
        while ((n = read(fd, buf + len, MOUNTINFO_MAX - 1 - len)) > 0)
                len += (size_t)n;
        if (n < 0)
                die("cannot read %s: %s", path, strerror(errno));
        close(fd);
        buf[len] = '\0';
        return buf;
}

static void write_text(const char *path, const char *text)
{
        FILE *f = fopen(path, "we");
        if (!f || fputs(text, f) < 0 || fclose(f) != 0)
                die("cannot write %s: %s", path, strerror(errno));
}

/* ---- the container: a child in its own mount namespace ---- */

static void cont_serve(enum shape shape, int ctl, int reply)
{
        char c = 0;
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                _exit(10);
        if (shape == GROW && mount("shm", target, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                                   "mode=1777,size=65536k") < 0)
                _exit(11);
        for (;;) {
                if (write(reply, &c, 1) != 1 || read(ctl, &c, 1) != 1)
                        _exit(0);
                c = 0;
                if (shape == GROW) {
                        if (mount(NULL, target, NULL, MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                                  "size=65536k") < 0)
                                c = 1;
                        continue;
                }
                while (umount2(target, MNT_DETACH) == 0)
                        ;
                if (rmdir(target) < 0 && errno != ENOENT)
                        c = 1;
        }
}

static void cont_start(enum shape shape)
{
        int ctl[2], reply[2];
        char path[64], c;
        if (pipe2(ctl, O_CLOEXEC) < 0 || pipe2(reply, O_CLOEXEC) < 0)
                die("pipe: %s", strerror(errno));
        cont_pid = fork();
        if (cont_pid < 0)
                die("fork: %s", strerror(errno));
        if (cont_pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                close(ctl[1]);
                close(reply[0]);
                cont_serve(shape, ctl[0], reply[1]);
        }
        close(ctl[0]);
        close(reply[1]);
        cont_ctl = ctl[1];
        cont_reply = reply[0];
        if (read(cont_reply, &c, 1) != 1)
                die("the container child failed to start");
        snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)cont_pid);
        ssize_t n = readlink(path, cont_ns, sizeof(cont_ns) - 1);
        if (n < 0)
                die("readlink %s: %s", path, strerror(errno));
        cont_ns[n] = '\0';
}

static void cont_reset(void)
{
        char c;
        if (write(cont_ctl, "r", 1) != 1 || read(cont_reply, &c, 1) != 1)
                die("the container child is gone");
        if (c)
                die("the container child could not reset %s", target);
}

static void cont_stop(void)
{
        close(cont_ctl);
        close(cont_reply);
        waitpid(cont_pid, NULL, 0);
        cont_pid = -1;
}

/* ---- looking ---- */

/* The field-th space-separated field (1-based) of a mountinfo line, in buf. */
static const char *field(const char *line, int n, char *buf, size_t size)
{
        for (int i = 1; i < n && line; i++) {
                line = strchr(line, ' ');
                line = line ? line + 1 : NULL;
        }
        size_t len = line ? strcspn(line, " \n") : 0;
        snprintf(buf, size, "%.*s", (int)(len < size ? len : size - 1), line ? line : "");
        return buf;
}

/* Every line of text not mounted at skip, in order. */
static char *without_target(const char *text, const char *skip, char **at_target, int *n_target)
{
        char *out = calloc(1, strlen(text) + 1), *w = out, mp[256];
        *n_target = 0;
        for (const char *line = text; *line;) {
                const char *end = strchr(line, '\n');
                size_t len = end ? (size_t)(end - line) + 1 : strlen(line);
                if (strcmp(field(line, 5, mp, sizeof(mp)), skip) != 0) {
                        memcpy(w, line, len);
                        w += len;
                } else if ((*n_target)++ == 0 && at_target) {
                        *at_target = strndup(line, len);
                }
                line += len;
        }
        return out;
}

/* The tmpfs size in KiB from a mountinfo line's super options, or -1. */
static long size_kb(const char *line)
{
        const char *s = strstr(line, " - tmpfs ");
        s = s ? strstr(s, "size=") : NULL;
        return s ? strtol(s + 5, NULL, 10) : -1;
}

/* Every record is whole: rename(2) puts only complete files in place. */
static unsigned check_records(void)
{
        DIR *d = opendir("/run/oci-shm-hook");
        struct dirent *de;
        unsigned tmp = 0;
        char path[320];
        if (!d)
                return 0;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.' && (!de->d_name[1] || !strcmp(de->d_name, "..")))
                        continue;
                if (!strncmp(de->d_name, ".tmp-", 5)) {
                        tmp++;
                        continue;
                }
                snprintf(path, sizeof(path), "/run/oci-shm-hook/%s", de->d_name);
                char *text = read_text(path);
                size_t len = strlen(text);
                if (strncmp(text, "version=", 8) != 0 || !strstr(text, "\nresult=") ||
                    !strstr(text, "\ntime=") || len == 0 || text[len - 1] != '\n')
                        fail("record %s is not whole: '%s'", path, text);
                free(text);
        }
        closedir(d);
        return tmp;
}

/*
 * Check both mount tables and the directory; return what /dev/shm is now:
 * OLD_KB or NEW_KB for a tmpfs of that size, 0 for none (fresh: absent),
 * -1 for a directory with nothing on it, -2 for anything else (a failure).
 */
static long look(enum shape shape, const char *when)
{
        char path[64], *line = NULL;
        int n;
        char *host = read_text("/proc/self/mountinfo");
        if (strcmp(host, host_base) != 0)
                fail("%s: the host's mount table changed:\n%s", when, host);
        free(host);
        snprintf(path, sizeof(path), "/proc/%d/mountinfo", (int)cont_pid);
        char *text = read_text(path), *rest = without_target(text, target, &line, &n);
        if (strcmp(rest, cont_base) != 0)
                fail("%s: a mount outside %s changed in the container:\n%s", when, target, text);
        long kb = -2;
        if (n > 1)
                fail("%s: %d mounts at %s:\n%s", when, n, target, text);
        else if (n == 1 && (kb = size_kb(line)) != OLD_KB && kb != NEW_KB)
                fail("%s: %s is neither %d nor %d KiB: %s", when, target, OLD_KB, NEW_KB, line);
        else if (n == 1 && !strstr(line, "nosuid,nodev,noexec"))
                fail("%s: %s lacks nosuid,nodev,noexec: %s", when, target, line);
        else if (n == 0 && shape == GROW)
                fail("%s: the container's tmpfs at %s is gone", when, target);
        else if (n == 0) {
                char p[320];
                struct stat st;
                snprintf(p, sizeof(p), "/proc/%d/root%s", (int)cont_pid, target);
                kb = stat(p, &st) == 0 ? -1 : 0;
        }
        free(line);
        free(rest);
        free(text);
        return kb;
}

/* ---- running the hook ---- */

static pid_t spawn_hook(void)
{
        static char *env[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};
        char *argv[] = {hook, "--policy", policy, "--mount-api", (char *)api, "prestart", NULL};
        pid_t pid = fork();
        if (pid < 0)
                die("fork: %s", strerror(errno));
        if (pid > 0)
                return pid;
        int in = open(state_file, O_RDONLY), out = open("/dev/null", O_WRONLY);
        if (in < 0 || out < 0 || dup2(in, STDIN_FILENO) < 0 || dup2(out, STDOUT_FILENO) < 0 ||
            dup2(out, STDERR_FILENO) < 0)
                _exit(126);
        execve(hook, argv, env);
        _exit(127);
}

static int wait_hook(pid_t pid)
{
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        die("waitpid: %s", strerror(errno));
        return status;
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return x < y ? -1 : x > y;
}

/* The median run time of TIMING_RUNS whole runs, each checked and reset. */
static double median_us(enum shape shape)
{
        double us[TIMING_RUNS];
        for (int i = 0; i < TIMING_RUNS; i++) {
                double t0 = now_us();
                int status = wait_hook(spawn_hook());
                us[i] = now_us() - t0;
                if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                        die("%s: an unkilled run failed (status 0x%x)", shape_name[shape], status);
                if (look(shape, "timing run") != NEW_KB)
                        die("%s: an unkilled run did not make %d KiB", shape_name[shape], NEW_KB);
                cont_reset();
        }
        qsort(us, TIMING_RUNS, sizeof(us[0]), cmp_double);
        return us[TIMING_RUNS / 2];
}

/* Had the hook joined the container's namespace just before the kill? */
static bool joined(pid_t pid)
{
        char path[64], ns[64];
        snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)pid);
        ssize_t n = readlink(path, ns, sizeof(ns) - 1);
        if (n < 0)
                return false;
        ns[n] = '\0';
        return strcmp(ns, cont_ns) == 0;
}

struct tally {
        unsigned outcome[N_OUTCOMES], joined, tmp_left, retries_ok;
};

static void one_kill(enum shape shape, double median, int i, struct tally *t)
{
        char when[64];
        double delay = median * (double)random() / ((double)RAND_MAX + 1.0);
        struct timespec at;
        /* Sleep, not spin: a spinning driver would keep the hook off its CPU. */
        clock_gettime(CLOCK_MONOTONIC, &at);
        pid_t pid = spawn_hook();
        at.tv_nsec += (long)(delay * 1000.0);
        at.tv_sec += at.tv_nsec / 1000000000L;
        at.tv_nsec %= 1000000000L;
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL) == EINTR)
                ;
        t->joined += joined(pid);
        kill(pid, SIGKILL);
        int status = wait_hook(pid);
        snprintf(when, sizeof(when), "%s kill %d (%.0f us)", shape_name[shape], i, delay);
        long kb = look(shape, when);
        if (WIFEXITED(status)) {
                if (WEXITSTATUS(status) != 0 || kb != NEW_KB)
                        fail("%s: the hook exited %d, /dev/shm %ld", when, WEXITSTATUS(status), kb);
                t->outcome[O_EXITED]++;
        } else if (kb == NEW_KB)
                t->outcome[O_NEW]++;
        else if (kb == -1)
                t->outcome[O_EMPTYDIR]++;
        else if (kb == (shape == GROW ? OLD_KB : 0))
                t->outcome[O_OLD]++;
        t->tmp_left += check_records() > 0;
        /* The retry, as a runtime that starts the container again would run it. */
        status = wait_hook(spawn_hook());
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && look(shape, when) == NEW_KB)
                t->retries_ok++;
        else
                fail("%s: the retry failed (status 0x%x)", when, status);
        check_records();
        cont_reset();
}

static void make_bundle(enum shape shape)
{
        char path[128], text[1024];
        const char *entry = shape == GROW ? "{\"destination\":\"/dev/shm\",\"type\":\"tmpfs\","
                                            "\"source\":\"shm\",\"options\":[\"nosuid\","
                                            "\"noexec\",\"nodev\",\"mode=1777\","
                                            "\"size=65536k\"]}"
                                          : "";
        snprintf(path, sizeof(path), "%s/%s", work, shape_name[shape]);
        mkdir(path, 0755);
        snprintf(root, sizeof(root), "%s/rootfs", path);
        mkdir(root, 0755);
        snprintf(target, sizeof(target), "%s/dev", root);
        mkdir(target, 0755);
        snprintf(target, sizeof(target), "%s/dev/shm", root);
        if (shape == GROW)
                mkdir(target, 01777);
        snprintf(text, sizeof(text),
                 "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},\"mounts\":[%s]}\n",
                 entry);
        snprintf(state_file, sizeof(state_file), "%s/config.json", path);
        write_text(state_file, text);
        snprintf(state_file, sizeof(state_file), "%s/state.json", path);
}

static void write_state(enum shape shape)
{
        char text[512];
        snprintf(text, sizeof(text),
                 "{\"ociVersion\":\"1.0.2\",\"id\":\"kill-%s\",\"status\":\"creating\","
                 "\"pid\":%d,\"bundle\":\"%s/%s\"}\n",
                 shape_name[shape], (int)cont_pid, work, shape_name[shape]);
        write_text(state_file, text);
}

static void run_shape(enum shape shape, int kills)
{
        struct tally t = {0};
        int n;
        make_bundle(shape);
        cont_start(shape);
        write_state(shape);
        host_base = read_text("/proc/self/mountinfo");
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/mountinfo", (int)cont_pid);
        char *text = read_text(path);
        cont_base = without_target(text, target, NULL, &n);
        free(text);
        if (look(shape, "before") != (shape == GROW ? OLD_KB : 0))
                die("%s: the container does not start as expected", shape_name[shape]);
        double t0 = now_us(), median = median_us(shape);
        for (int i = 0; i < kills; i++)
                one_kill(shape, median, i, &t);
        long kb = look(shape, "after every kill");
        if (kb != (shape == GROW ? OLD_KB : 0))
                fail("%s: after the last reset /dev/shm is %ld KiB", shape_name[shape], kb);
        printf("%s, --mount-api %s: hook median %.0f us; %d kills (delay 0..%.0f us) in %.1f s:\n",
               shape_name[shape], api, median, kills, median, (now_us() - t0) / 1e6);
        for (int o = 0; o < N_OUTCOMES; o++)
                if (shape == FRESH || o != O_EMPTYDIR)
                        printf("  %5u %s\n", t.outcome[o], outcome_name[o]);
        printf("  %5u had joined the container's mount namespace when the kill was sent\n",
               t.joined);
        printf("  %5u left a partial record (.tmp-*) behind; every named record was whole\n",
               t.tmp_left);
        printf("  %5u of %d retries succeeded with %d KiB\n", t.retries_ok, kills, NEW_KB);
        unsigned seen = 0;
        for (int o = 0; o < N_OUTCOMES; o++)
                seen += t.outcome[o];
        if (seen != (unsigned)kills)
                fail("%s: %u kills left a state that is none of the above", shape_name[shape],
                     kills - seen);
        cont_stop();
        free(host_base);
        free(cont_base);
}

int main(int argc, char **argv)
{
        if (argc < 2)
                die("usage: kill HOOK [KILLS]");
        hook = argv[1];
        setvbuf(stdout, NULL, _IOLBF, 0);
        int kills = argc > 2 ? atoi(argv[2]) : 2000;
        if (geteuid() != 0) {
                printf("SKIP: needs root\n");
                return SKIP;
        }
        /* The hook's host: a private namespace whose /run is the test's own. */
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
            mount("kill-run", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755") < 0)
                die("a private mount namespace: %s", strerror(errno));
        snprintf(work, sizeof(work), "/tmp/oci-shm-kill.XXXXXX");
        if (!mkdtemp(work))
                die("mkdtemp: %s", strerror(errno));
        snprintf(policy, sizeof(policy), "%s/policy.conf", work);
        write_text(policy, "shm=128m\n");
        srandom((unsigned)time(NULL) ^ (unsigned)getpid());
        /* Sub-millisecond sleeps that end when asked to, not up to 50 us later. */
        prctl(PR_SET_TIMERSLACK, 1UL);
        /* The new mount API (fsmount + move_mount), then the mount(2) fallback. */
        for (int i = 0; i < 2; i++) {
                api = i == 0 ? "auto" : "legacy";
                /* The fallback is the same code after the mount: half as many keep it short. */
                run_shape(GROW, i == 0 ? kills : kills / 2);
                run_shape(FRESH, i == 0 ? kills : kills / 2);
        }
        char *rm[] = {"rm", "-rf", work, NULL};
        pid_t pid;
        if (posix_spawnp(&pid, "rm", NULL, NULL, rm, NULL) == 0)
                waitpid(pid, NULL, 0);
        if (failures) {
                printf("kill: %d failure(s)\n", failures);
                return 1;
        }
        printf("kill: all passed\n");
        return 0;
}
