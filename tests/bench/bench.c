/* SPDX-License-Identifier: Apache-2.0 */
/*
 * oci-shm-bench: time whole hook invocations (spawn, exec, the state on
 * stdin, wait) next to the static floor and the peers, and print the medians,
 * the 99th percentiles, the peak RSS and the figures of issue 14 against
 * their targets. Run it through tests/bench/run.sh, which builds everything
 * it needs and runs it in a private mount namespace whose /run/oci-shm-hook
 * is a tmpfs of its own (tests/bench/private-records.sh): the hook's decision
 * records go there, never to the host's /run.
 *
 * The bench makes its own work directory: a container root whose dev/shm is a
 * 64 MiB tmpfs mounted in a private mount namespace (a child that unshares its
 * mount namespace, as `unshare -m` does, and waits), Kubernetes-sized and
 * 1 MiB config.json files, and 10, 1,000 and 10,000-rule policies whose match
 * is the last rule (shm=65m).
 *
 * Every acting case grows the tmpfs from 64 MiB to 65 MiB: after each run the
 * namespace child reports the size (which must be 65 MiB, so a run that did
 * nothing is caught) and resets it to 64 MiB, outside the timed part.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "record.h"

#define SHM_BEFORE (64ULL << 20)
#define SHM_AFTER  (65ULL << 20)
#define IMAGE      "docker.io/bench/app:1.0"

extern char **environ;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "oci-shm-bench: ");
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
        exit(1);
}

/* ---- a growing text buffer ---- */

struct buf {
        char *s;
        size_t len, cap;
};

static void buf_add(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void buf_add(struct buf *b, const char *fmt, ...)
{
        va_list ap;
        for (;;) {
                va_start(ap, fmt);
                int n = vsnprintf(b->s ? b->s + b->len : NULL, b->cap - b->len, fmt, ap);
                va_end(ap);
                if (n < 0)
                        die("vsnprintf failed");
                if (b->len + (size_t)n < b->cap) {
                        b->len += (size_t)n;
                        return;
                }
                size_t cap = b->cap ? b->cap * 2 : 65536;
                while (cap <= b->len + (size_t)n)
                        cap *= 2;
                b->s = realloc(b->s, cap);
                if (!b->s)
                        die("out of memory");
                b->cap = cap;
        }
}

static char *str(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *str(const char *fmt, ...)
{
        va_list ap;
        char *s;
        va_start(ap, fmt);
        int r = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (r < 0)
                die("out of memory");
        return s;
}

static void write_file(const char *path, const char *text, size_t len)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                die("cannot create %s: %s", path, strerror(errno));
        for (size_t off = 0; off < len;) {
                ssize_t n = write(fd, text + off, len - off);
                if (n < 0)
                        die("cannot write %s: %s", path, strerror(errno));
                off += (size_t)n;
        }
        close(fd);
}

static void make_dir(const char *path)
{
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
                die("cannot create %s: %s", path, strerror(errno));
}

/* ---- generated inputs ---- */

struct config_shape {
        unsigned services;    /* Kubernetes service links: 7 env vars each */
        unsigned annotations; /* beyond the CRI ones */
        unsigned volumes;     /* kubelet volume mounts beyond the usual ones */
};

/* The annotations of the container, as a JSON object body (shared with the state). */
static void add_annotations(struct buf *b, const struct config_shape *shape)
{
        buf_add(b, "\"io.kubernetes.cri.container-type\":\"container\","
                   "\"io.kubernetes.cri.image-name\":\"" IMAGE "\","
                   "\"io.kubernetes.cri.container-name\":\"app\","
                   "\"io.kubernetes.cri.sandbox-id\":"
                   "\"4f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8\","
                   "\"io.kubernetes.cri.sandbox-name\":\"app-7d9f8b6c5d-x2x7q\","
                   "\"io.kubernetes.cri.sandbox-namespace\":\"bench\","
                   "\"io.kubernetes.cri.sandbox-uid\":\"0f3c1d2e-5a6b-4c7d-8e9f-a0b1c2d3e4f5\"");
        for (unsigned i = 0; i < shape->annotations; i++)
                buf_add(b,
                        ",\"example.com/team-%04u.annotation\":\"owner=team-%04u;cost-center=cc-%u;"
                        "oncall=https://oncall.example.com/teams/team-%04u/rotation\"",
                        i, i, 1000 + i, i);
}

static void gen_config(struct buf *b, const char *root, const struct config_shape *shape)
{
        static const char *const caps[] = {
            "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
            "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
            "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
            "CAP_KILL",    "CAP_AUDIT_WRITE"};
        static const char *const cap_sets[] = {"bounding", "effective", "permitted"};

        b->len = 0;
        buf_add(b, "{\"ociVersion\":\"1.1.0\",\"process\":{\"user\":{\"uid\":1000,\"gid\":1000,"
                   "\"additionalGids\":[1000]},\"args\":[\"/usr/local/bin/app\",\"--config\","
                   "\"/etc/app/config.yaml\",\"--listen\",\":8080\"],\"env\":["
                   "\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\","
                   "\"HOSTNAME=app-7d9f8b6c5d-x2x7q\",\"LANG=C.UTF-8\"");
        for (unsigned i = 0; i < shape->services; i++) {
                unsigned a = 10 + i % 200, c = i % 250;
                const char *n = "CHECKOUT_PAYMENTS_API";
                buf_add(b,
                        ",\"%s_%u_SERVICE_HOST=10.96.%u.%u\",\"%s_%u_SERVICE_PORT=8080\","
                        "\"%s_%u_PORT=tcp://10.96.%u.%u:8080\","
                        "\"%s_%u_PORT_8080_TCP=tcp://10.96.%u.%u:8080\","
                        "\"%s_%u_PORT_8080_TCP_PROTO=tcp\",\"%s_%u_PORT_8080_TCP_PORT=8080\","
                        "\"%s_%u_PORT_8080_TCP_ADDR=10.96.%u.%u\"",
                        n, i, a, c, n, i, n, i, a, c, n, i, a, c, n, i, n, i, n, i, a, c);
        }
        buf_add(b, "],\"cwd\":\"/\",\"capabilities\":{");
        for (size_t s = 0; s < 3; s++) {
                buf_add(b, "%s\"%s\":[", s ? "," : "", cap_sets[s]);
                for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
                        buf_add(b, "%s\"%s\"", i ? "," : "", caps[i]);
                buf_add(b, "]");
        }
        buf_add(b,
                "},\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":1048576,\"soft\":1048576}],"
                "\"noNewPrivileges\":false,\"apparmorProfile\":\"cri-containerd.apparmor.d\","
                "\"oomScoreAdj\":969},\"root\":{\"path\":\"%s\",\"readonly\":false},"
                "\"hostname\":\"app-7d9f8b6c5d-x2x7q\",\"mounts\":["
                "{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\","
                "\"options\":[\"nosuid\",\"noexec\",\"nodev\"]},"
                "{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\","
                "\"options\":[\"nosuid\",\"strictatime\",\"mode=755\",\"size=65536k\"]},"
                "{\"destination\":\"/dev/pts\",\"type\":\"devpts\",\"source\":\"devpts\","
                "\"options\":[\"nosuid\",\"noexec\",\"newinstance\",\"ptmxmode=0666\","
                "\"mode=0620\",\"gid=5\"]},"
                "{\"destination\":\"/dev/mqueue\",\"type\":\"mqueue\",\"source\":\"mqueue\","
                "\"options\":[\"nosuid\",\"noexec\",\"nodev\"]},"
                "{\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\","
                "\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"ro\"]},"
                "{\"destination\":\"/sys/fs/cgroup\",\"type\":\"cgroup\",\"source\":\"cgroup\","
                "\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"relatime\",\"ro\"]},"
                "{\"destination\":\"/dev/shm\",\"type\":\"tmpfs\",\"source\":\"shm\","
                "\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"mode=1777\",\"size=65536k\"]}",
                root);
        static const char *const kubelet[] = {"/etc/hosts", "/dev/termination-log", "/etc/hostname",
                                              "/etc/resolv.conf",
                                              "/var/run/secrets/kubernetes.io/serviceaccount"};
        for (unsigned i = 0; i < 5 + shape->volumes; i++) {
                char dest[128];
                if (i < 5)
                        snprintf(dest, sizeof(dest), "%s", kubelet[i]);
                else
                        snprintf(dest, sizeof(dest), "/etc/app/conf.d/volume-%04u", i - 5);
                buf_add(b,
                        ",{\"destination\":\"%s\",\"type\":\"bind\",\"source\":"
                        "\"/var/lib/kubelet/pods/0f3c1d2e-5a6b-4c7d-8e9f-a0b1c2d3e4f5/volumes/"
                        "kubernetes.io~configmap/volume-%04u\",\"options\":[\"rbind\","
                        "\"rprivate\",\"ro\"]}",
                        dest, i);
        }
        buf_add(b, "],\"annotations\":{");
        add_annotations(b, shape);
        buf_add(b, "},\"linux\":{\"resources\":{\"devices\":[{\"allow\":false,\"access\":\"rwm\"}],"
                   "\"memory\":{\"limit\":2147483648,\"swap\":2147483648},"
                   "\"cpu\":{\"shares\":512,\"quota\":50000,\"period\":100000}},"
                   "\"cgroupsPath\":\"kubepods-burstable-pod0f3c1d2e_5a6b_4c7d_8e9f_a0b1c2d3e4f5."
                   "slice:cri-containerd:"
                   "9a8b7c6d5e4f30211a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7081\","
                   "\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"ipc\",\"path\":"
                   "\"/proc/4242/ns/ipc\"},{\"type\":\"uts\",\"path\":\"/proc/4242/ns/uts\"},"
                   "{\"type\":\"mount\"},{\"type\":\"network\",\"path\":\"/proc/4242/ns/net\"}],"
                   "\"maskedPaths\":[\"/proc/acpi\",\"/proc/kcore\",\"/proc/keys\","
                   "\"/proc/latency_stats\",\"/proc/timer_list\",\"/proc/timer_stats\","
                   "\"/proc/sched_debug\",\"/proc/scsi\",\"/sys/firmware\",\"/sys/devices/virtual/"
                   "powercap\"],\"readonlyPaths\":[\"/proc/asound\",\"/proc/bus\",\"/proc/fs\","
                   "\"/proc/irq\",\"/proc/sys\",\"/proc/sysrq-trigger\"]}}\n");
}

/* Grow `services` until the config is at least `target` bytes. */
static void gen_config_sized(struct buf *b, const char *root, struct config_shape *shape,
                             size_t target)
{
        gen_config(b, root, shape);
        for (int i = 0; i < 8 && b->len < target; i++) {
                unsigned per = 7 * 60; /* about 60 bytes an env var */
                shape->services += (unsigned)((target - b->len) / per) + 1;
                gen_config(b, root, shape);
        }
}

static void gen_state(struct buf *b, const char *id, pid_t pid, const char *bundle,
                      const struct config_shape *shape)
{
        /* As runc writes it: the config's annotations are part of the state. */
        b->len = 0;
        buf_add(b,
                "{\"ociVersion\":\"1.0.2\",\"id\":\"%s\",\"status\":\"creating\",\"pid\":%d,"
                "\"bundle\":\"%s\",\"annotations\":{",
                id, (int)pid, bundle);
        add_annotations(b, shape);
        buf_add(b, "}}");
}

/* Rules 0..n-2 never match the bench image; the last one does. */
static void gen_policy(const char *path, unsigned n)
{
        struct buf b = {0};
        buf_add(&b, "# oci-shm-bench: %u rules, the match is the last one\n", n);
        for (unsigned i = 0; i + 1 < n; i++) {
                switch (i % 3) {
                case 0:
                        buf_add(&b, "image=*/team-%04u/*  shm=1g\n", i);
                        break;
                case 1:
                        buf_add(&b, "image=*/team-%04u-tool:*  shm=2g\n", i);
                        break;
                default:
                        buf_add(&b, "image=registry.example.com/team-%04u/*  shm=512m\n", i);
                        break;
                }
        }
        buf_add(&b, "image=docker.io/bench/app:*  shm=65m\n");
        write_file(path, b.s, b.len);
        free(b.s);
}

/* ---- the namespace holder ---- */

static pid_t ns_pid = -1;
static int ns_ctl = -1, ns_reply = -1;

static void ns_start(const char *shm_dir)
{
        int ctl[2], reply[2];
        if (pipe2(ctl, O_CLOEXEC) < 0 || pipe2(reply, O_CLOEXEC) < 0)
                die("pipe: %s", strerror(errno));
        ns_pid = fork();
        if (ns_pid < 0)
                die("fork: %s", strerror(errno));
        if (ns_pid == 0) {
                uint64_t size = 0;
                char c;
                close(ctl[1]);
                close(reply[0]);
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (unshare(CLONE_NEWNS) < 0 ||
                    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                        _exit(10);
                if (mount("shm", shm_dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                          "mode=1777,size=65536k") < 0)
                        _exit(11);
                int fs = fspick(AT_FDCWD, shm_dir, FSPICK_CLOEXEC);
                if (fs < 0)
                        _exit(12);
                /* Each command: report the size, then reset it to 64 MiB. */
                for (;;) {
                        struct statfs st;
                        if (write(reply[1], &size, sizeof(size)) != sizeof(size))
                                _exit(13);
                        if (read(ctl[0], &c, 1) != 1)
                                _exit(0);
                        size = statfs(shm_dir, &st) == 0 ? (uint64_t)st.f_blocks * st.f_bsize : 0;
                        if (fsconfig(fs, FSCONFIG_SET_STRING, "size", "67108864", 0) < 0 ||
                            fsconfig(fs, FSCONFIG_CMD_RECONFIGURE, NULL, NULL, 0) < 0)
                                size = 0;
                }
        }
        close(ctl[0]);
        close(reply[1]);
        ns_ctl = ctl[1];
        ns_reply = reply[0];
        uint64_t ready;
        if (read(ns_reply, &ready, sizeof(ready)) != sizeof(ready)) {
                int status;
                waitpid(ns_pid, &status, 0);
                die("the mount namespace child failed (status %d): needs root", status);
        }
}

/* The size /dev/shm had (before the reset to 64 MiB). */
static uint64_t ns_size_and_reset(void)
{
        uint64_t size;
        if (write(ns_ctl, "r", 1) != 1 || read(ns_reply, &size, sizeof(size)) != sizeof(size))
                die("the mount namespace child is gone");
        return size;
}

static void ns_stop(void)
{
        if (ns_pid > 0) {
                close(ns_ctl);
                waitpid(ns_pid, NULL, 0);
                ns_pid = -1;
        }
}

/* ---- the decision records ---- */

/*
 * The hook writes a record at every container it acts on, in the fixed
 * RECORD_DIR. The bench runs it thousands of times: only in a mount namespace
 * of its own with a tmpfs of its own there (private-records.sh), so that not
 * one record lands on the host.
 */
static void check_private_records(void)
{
        char line[4096];
        bool ok = false;
        FILE *f = fopen("/proc/self/mountinfo", "re");
        if (!f)
                die("cannot read /proc/self/mountinfo: %s", strerror(errno));
        /* "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [TAGS] - TYPE SOURCE ...": the last one wins.
         */
        while (fgets(line, sizeof(line), f)) {
                char *dash = strstr(line, " - ");
                char point[256] = "";
                if (dash && sscanf(line, "%*s %*s %*s %*s %255s", point) == 1 &&
                    strcmp(point, RECORD_DIR) == 0)
                        ok = strncmp(dash, " - tmpfs oci-shm-bench-records ", 31) == 0;
        }
        fclose(f);
        if (!ok)
                die("%s is not private-records.sh's tmpfs: the hook's decision records would land "
                    "on the host. Run me through tests/bench/private-records.sh "
                    "(tests/bench/run.sh does)",
                    RECORD_DIR);
}

/* The records in RECORD_DIR: those of pid (named PID-STARTTIME), or all if pid is 0. */
static unsigned count_records(pid_t pid, bool remove)
{
        char prefix[32];
        unsigned n = 0;
        snprintf(prefix, sizeof(prefix), "%d-", (int)pid);
        DIR *d = opendir(RECORD_DIR);
        if (!d)
                die("cannot read %s: %s", RECORD_DIR, strerror(errno));
        for (struct dirent *de; (de = readdir(d));) {
                if (de->d_name[0] == '.' || (pid && strncmp(de->d_name, prefix, strlen(prefix))))
                        continue;
                n++;
                if (remove && unlinkat(dirfd(d), de->d_name, 0) < 0)
                        die("cannot remove %s/%s: %s", RECORD_DIR, de->d_name, strerror(errno));
        }
        closedir(d);
        return n;
}

/* ---- running and measuring ---- */

enum { KIND_HOOK, KIND_FLOOR, KIND_PEER, KIND_RUNC };

struct bench_case {
        const char *key, *title;
        int kind;
        char *argv[12];
        struct buf state; /* stdin; empty: /dev/null */
        bool acts;        /* grows /dev/shm to 65 MiB: checked after each run */
        char *log;        /* the child's stderr */
        double *us;
        double *faults;
        long rss_peak; /* VmHWM, from rss_once() */
        long rss_file; /* RssFile at exit of that process: its mapped executable's pages */
        size_t n;
        unsigned runc_seq;
};

static double now_us(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static char *env_minimal[] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                              NULL};

static void show_log(const struct bench_case *c)
{
        char line[512];
        FILE *f = fopen(c->log, "re");
        if (!f)
                return;
        unsigned n = 0;
        while (fgets(line, sizeof(line), f) && n++ < 20)
                fprintf(stderr, "  | %s", line);
        fclose(f);
}

static void run_once(struct bench_case *c, bool record)
{
        posix_spawn_file_actions_t fa;
        int in[2] = {-1, -1}, status;
        struct rusage ru;
        pid_t pid;
        char id[64];

        if (c->kind == KIND_RUNC) {
                snprintf(id, sizeof(id), "bench-%d-%s-%u", (int)getpid(), c->key, c->runc_seq++);
                c->argv[4] = id;
        }
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, c->log, O_WRONLY | O_CREAT | O_TRUNC,
                                         0644);
        if (c->state.len == 0)
                posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);

        double t0 = now_us();
        if (c->state.len) {
                if (pipe2(in, O_CLOEXEC) < 0)
                        die("pipe: %s", strerror(errno));
                posix_spawn_file_actions_adddup2(&fa, in[0], STDIN_FILENO);
        }
        int r = posix_spawn(&pid, c->argv[0], &fa, NULL, c->argv,
                            c->kind == KIND_RUNC ? environ : env_minimal);
        if (r != 0)
                die("cannot run %s: %s", c->argv[0], strerror(r));
        if (c->state.len) {
                close(in[0]);
                /* A program that does not read its stdin (the library floor) gets EPIPE. */
                for (size_t off = 0; off < c->state.len;) {
                        ssize_t n = write(in[1], c->state.s + off, c->state.len - off);
                        if (n < 0) {
                                if (errno == EINTR)
                                        continue;
                                if (errno != EPIPE)
                                        die("writing the state: %s", strerror(errno));
                                break;
                        }
                        off += (size_t)n;
                }
                close(in[1]);
        }
        if (wait4(pid, &status, 0, &ru) < 0)
                die("wait4: %s", strerror(errno));
        double t1 = now_us();
        posix_spawn_file_actions_destroy(&fa);

        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                fprintf(stderr, "oci-shm-bench: %s failed (status 0x%x); its stderr:\n", c->title,
                        status);
                show_log(c);
                exit(1);
        }
        if (c->acts) {
                uint64_t size = ns_size_and_reset();
                if (size != SHM_AFTER)
                        die("%s did not grow /dev/shm: it is %" PRIu64 " bytes, not %llu", c->title,
                            size, SHM_AFTER);
        }
        if (record) {
                c->us[c->n] = t1 - t0;
                c->faults[c->n] = (double)ru.ru_minflt + (double)ru.ru_majflt;
                c->n++;
        }
}

struct rss {
        long hwm, file; /* KiB */
};

/* VmHWM and RssFile of a traced process that is about to exit. */
static struct rss rss_of(pid_t pid)
{
        char path[64], line[256];
        struct rss r = {0};
        snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
        FILE *f = fopen(path, "re");
        if (!f)
                return r;
        while (fgets(line, sizeof(line), f))
                if (sscanf(line, "VmHWM: %ld kB", &r.hwm) != 1)
                        sscanf(line, "RssFile: %ld kB", &r.file);
        fclose(f);
        return r;
}

/*
 * Peak RSS without the timing: wait4's ru_maxrss also counts the memory of
 * the process that called exec (here the bench itself), so instead trace the
 * run and read VmHWM of every process of it as it exits; return the largest.
 */
static struct rss rss_once(struct bench_case *c)
{
        int in[2], status;
        if (pipe2(in, O_CLOEXEC) < 0)
                die("pipe: %s", strerror(errno));
        pid_t pid = fork();
        if (pid < 0)
                die("fork: %s", strerror(errno));
        if (pid == 0) {
                int null = open("/dev/null", O_RDWR);
                dup2(in[0], STDIN_FILENO);
                dup2(null, STDOUT_FILENO);
                dup2(null, STDERR_FILENO);
                ptrace(PTRACE_TRACEME, 0, NULL, NULL);
                execve(c->argv[0], c->argv, env_minimal);
                _exit(127);
        }
        close(in[0]);
        if (waitpid(pid, &status, 0) < 0 || !WIFSTOPPED(status))
                die("cannot trace %s", c->title);
        ptrace(PTRACE_SETOPTIONS, pid, NULL,
               (void *)(long)(PTRACE_O_TRACEEXIT | PTRACE_O_EXITKILL | PTRACE_O_TRACEFORK |
                              PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE));
        ptrace(PTRACE_CONT, pid, NULL, NULL);
        for (size_t off = 0; off < c->state.len;) {
                ssize_t n = write(in[1], c->state.s + off, c->state.len - off);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                off += (size_t)n;
        }
        close(in[1]);
        struct rss peak = {0};
        for (unsigned live = 1; live > 0;) {
                pid_t p = waitpid(-1, &status, __WALL);
                if (p < 0) {
                        if (errno == EINTR)
                                continue;
                        break; /* no traced process left */
                }
                if (p == ns_pid)
                        continue;
                if (WIFSTOPPED(status)) {
                        int sig = WSTOPSIG(status), event = status >> 16;
                        if (event == PTRACE_EVENT_FORK || event == PTRACE_EVENT_VFORK ||
                            event == PTRACE_EVENT_CLONE)
                                live++;
                        if (event == PTRACE_EVENT_EXIT) {
                                struct rss r = rss_of(p);
                                if (r.hwm > peak.hwm)
                                        peak = r;
                        }
                        if (event || sig == SIGTRAP || sig == SIGSTOP)
                                sig = 0;
                        ptrace(PTRACE_CONT, p, NULL, (void *)(long)sig);
                        continue;
                }
                live--;
                if (p == pid && (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
                        die("%s failed under ptrace (status 0x%x)", c->title, status);
        }
        if (c->acts && ns_size_and_reset() != SHM_AFTER)
                die("%s did not grow /dev/shm under ptrace", c->title);
        return peak;
}

static int compare_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return x < y ? -1 : x > y;
}

struct stats {
        double median, p99, faults;
        long rss_peak;
};

static struct stats stats_of(struct bench_case *c)
{
        struct stats s = {0};
        if (!c->n)
                return s;
        qsort(c->us, c->n, sizeof(double), compare_double);
        s.median = c->n % 2 ? c->us[c->n / 2] : (c->us[c->n / 2 - 1] + c->us[c->n / 2]) / 2;
        size_t rank = (size_t)((double)c->n * 0.99 + 0.999999);
        s.p99 = c->us[(rank ? rank : 1) - 1];
        qsort(c->faults, c->n, sizeof(double), compare_double);
        s.faults = c->faults[c->n / 2];
        s.rss_peak = c->rss_peak;
        return s;
}

static void set_argv(struct bench_case *c, ...)
{
        va_list ap;
        va_start(ap, c);
        size_t i = 0;
        for (const char *a; (a = va_arg(ap, const char *)) && i < 11;)
                c->argv[i++] = strdup(a);
        c->argv[i] = NULL;
        va_end(ap);
}

enum {
        H10,
        H1K,
        H10K,
        H1M,
        H10_NOREC,
        FLOOR_STATIC,
        PEER,
        RUNC_PLAIN,
        RUNC_HOOK,
        RUNC_TRUE,
        N_CASES
};

/*
 * a[k] - b[k] over runs made in the same round (before stats_of sorts them):
 * the median and its 95% confidence interval from order statistics
 * (ranks n/2 -+ 0.98 sqrt(n)), which needs no assumption about the noise.
 */
struct paired {
        double median, lo, hi;
};

static struct paired paired_diff(const struct bench_case *a, const struct bench_case *b)
{
        struct paired p = {0};
        size_t n = a->n < b->n ? a->n : b->n;
        if (!n)
                return p;
        double *d = calloc(n, sizeof(double));
        if (!d)
                die("out of memory");
        for (size_t k = 0; k < n; k++)
                d[k] = a->us[k] - b->us[k];
        qsort(d, n, sizeof(double), compare_double);
        double half = 0.98 * sqrt((double)n);
        long lo = (long)floor((double)n / 2 - half), hi = (long)ceil((double)n / 2 + half);
        p.median = n % 2 ? d[n / 2] : (d[n / 2 - 1] + d[n / 2]) / 2;
        p.lo = d[lo < 0 ? 0 : lo];
        p.hi = d[hi >= (long)n ? (long)n - 1 : hi];
        free(d);
        return p;
}

static void print_load(const char *label)
{
        char load[128] = "unknown";
        FILE *f = fopen("/proc/loadavg", "re");
        if (f) {
                if (!fgets(load, sizeof(load), f))
                        snprintf(load, sizeof(load), "unknown\n");
                fclose(f);
        }
        load[strcspn(load, "\n")] = '\0';
        printf("%s: %s\n", label, load);
}

static void figure(const char *label, bool have, double value, const char *target, bool pass,
                   bool smoke)
{
        if (!have)
                printf("%-46s %10s %9s %s\n", label, "-", target, "not run");
        else
                printf("%-46s %10.2f %9s %s\n", label, value, target,
                       smoke  ? "(smoke)"
                       : pass ? "PASS"
                              : "MISS");
}

static void info(const char *label, bool have, double value, const char *note)
{
        if (have)
                printf("%-46s %10.2f %9s %s\n", label, value, "-", note);
}

static void paired_ci(bool have, struct paired p)
{
        if (have)
                printf("%-46s %10s %9s 95%% CI %.0f .. %.0f us\n", "", "", "", p.lo, p.hi);
}

/* Issue 14's figures against their targets, then the ones kept for information. */
static void print_figures(const struct stats *st, const bool *have, struct paired runc,
                          struct paired record, bool smoke)
{
        double hook = st[H10].median, runc_true = st[RUNC_TRUE].median;
        double r_static = have[FLOOR_STATIC] ? hook / st[FLOOR_STATIC].median : 0;
        double r_rules = st[H10K].median / hook;

        printf("\n%-46s %10s %9s\n", "figure (issue 14; medians)", "measured", "target");
        figure("hook, 30 KB, 10 rules / static floor", have[FLOOR_STATIC], r_static, "<= 1.50",
               r_static <= 1.5, smoke);
        figure("10,000 rules / 10 rules", true, r_rules, "<= 2.00", r_rules <= 2.0, smoke);
        figure("runc: hook - /bin/true hook, paired (us)", have[RUNC_TRUE], runc.median, "<= 500",
               runc.median <= 500, smoke);
        paired_ci(have[RUNC_TRUE], runc);
        figure("peak RSS, hook, 30 KB, 10 rules (KiB)", true, (double)st[H10].rss_peak, "<= 1024",
               st[H10].rss_peak <= 1024, smoke);
        figure("1 MiB config.json (us)", true, st[H1M].median, "< 5000", st[H1M].median < 5000,
               smoke);
        /* Issue 12: the record must not slow a container start measurably. */
        info("record write: hook - hook without, paired (us)", have[H10_NOREC], record.median,
             "(information, issue 12)");
        paired_ci(have[H10_NOREC], record);
        info("record write, % of runc run with /bin/true hook", have[H10_NOREC] && have[RUNC_TRUE],
             100 * record.median / runc_true, "(information)");
        info("record write: hook - hook without, medians (us)", have[H10_NOREC],
             hook - st[H10_NOREC].median, "(unpaired)");
        printf("\ninformation\n");
        info("runc: hook - /bin/true hook, medians (us)", have[RUNC_TRUE],
             st[RUNC_HOOK].median - runc_true, "(unpaired)");
        info("runc: /bin/true hook - no hook, medians (us)", have[RUNC_TRUE],
             runc_true - st[RUNC_PLAIN].median, "(runc's cost of any hook)");
        info("runc with hook / runc without", have[RUNC_PLAIN],
             st[RUNC_HOOK].median / st[RUNC_PLAIN].median, "");
        info("hook - static floor (us)", have[FLOOR_STATIC], hook - st[FLOOR_STATIC].median, "");
        info("1,000 rules / 10 rules", true, st[H1K].median / hook, "");
        info("shell peer / hook (times slower)", have[PEER], st[PEER].median / hook, "");
        info("peak RSS, hook, 30 KB, 10,000 rules (KiB)", true, (double)st[H10K].rss_peak, "");
        info("peak RSS, hook, 1 MiB config (KiB)", true, (double)st[H1M].rss_peak, "");
}

static void usage(FILE *out)
{
        fprintf(
            out,
            "Usage: oci-shm-bench --hook PATH [options]   (as root; see tests/bench/run.sh)\n"
            "  --hook PATH          the oci-shm-hook binary\n"
            "  --hook-norecord PATH the same hook without its record write (bench-hook-norecord)\n"
            "  --floor-static PATH  bench-floor-static\n"
            "  --peer PATH          the shell peer (tests/bench/peer-hook.sh)\n"
            "  --runc-plain DIR     a busybox bundle without the hook\n"
            "  --runc-hook DIR      the same bundle with the hook registered\n"
            "  --runc-true-hook DIR the same bundle with /bin/true as its hook\n"
            "  --runs N             timed runs of each hook, floor and peer case (500)\n"
            "  --warmup N           untimed runs before them (20)\n"
            "  --runc-runs N        timed runs of each runc case (500)\n"
            "  --peer-runs N        timed runs of the shell peer (100)\n"
            "  --quick              --runs 100 --peer-runs 30 --runc-runs 30 --warmup 5\n"
            "  --smoke              three runs of each, no runc: checks that it all runs\n"
            "  --work DIR           where to put the generated inputs (default: a temp dir)\n"
            "  --keep               keep the work directory\n");
}

int main(int argc, char **argv)
{
        const char *hook = NULL, *hook_norecord = NULL, *floor_static = NULL;
        const char *peer = NULL;
        const char *runc_plain = NULL, *runc_hook = NULL, *runc_true = NULL, *work_opt = NULL;
        unsigned runs = 500, warmup = 20, runc_runs = 500, peer_runs = 100;
        bool smoke = false, keep = false;
        static const struct option options[] = {
            {"hook", required_argument, NULL, 'H'},
            {"hook-norecord", required_argument, NULL, 'N'},
            {"floor-static", required_argument, NULL, 'S'},
            {"peer", required_argument, NULL, 'P'},
            {"runc-plain", required_argument, NULL, 'r'},
            {"runc-hook", required_argument, NULL, 'R'},
            {"runc-true-hook", required_argument, NULL, 'T'},
            {"runs", required_argument, NULL, 'n'},
            {"warmup", required_argument, NULL, 'w'},
            {"runc-runs", required_argument, NULL, 'c'},
            {"peer-runs", required_argument, NULL, 'p'},
            {"quick", no_argument, NULL, 'q'},
            {"smoke", no_argument, NULL, 's'},
            {"work", required_argument, NULL, 'W'},
            {"keep", no_argument, NULL, 'k'},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
        };
        int opt;
        while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
                switch (opt) {
                case 'H':
                        hook = optarg;
                        break;
                case 'S':
                        floor_static = optarg;
                        break;
                case 'N':
                        hook_norecord = optarg;
                        break;
                case 'P':
                        peer = optarg;
                        break;
                case 'r':
                        runc_plain = optarg;
                        break;
                case 'R':
                        runc_hook = optarg;
                        break;
                case 'T':
                        runc_true = optarg;
                        break;
                case 'n':
                        runs = (unsigned)strtoul(optarg, NULL, 10);
                        break;
                case 'w':
                        warmup = (unsigned)strtoul(optarg, NULL, 10);
                        break;
                case 'c':
                        runc_runs = (unsigned)strtoul(optarg, NULL, 10);
                        break;
                case 'p':
                        peer_runs = (unsigned)strtoul(optarg, NULL, 10);
                        break;
                case 'q':
                        runs = 100, peer_runs = 30, runc_runs = 30, warmup = 5;
                        break;
                case 's':
                        smoke = true;
                        break;
                case 'W':
                        work_opt = optarg;
                        break;
                case 'k':
                        keep = true;
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                default:
                        usage(stderr);
                        return 2;
                }
        }
        if (!hook || optind != argc || !runs || !peer_runs || !runc_runs) {
                usage(stderr);
                return 2;
        }
        if (!runc_plain != !runc_hook)
                die("--runc-plain and --runc-hook go together");
        if (smoke) {
                runs = peer_runs = 3;
                warmup = 1;
                runc_plain = runc_hook = runc_true = NULL;
        }
        if (runc_true && !runc_plain)
                die("--runc-true-hook goes with --runc-plain");
        if (geteuid() != 0) {
                fprintf(stderr, "oci-shm-bench: SKIP: needs root (mount namespaces, setns)\n");
                return 77;
        }
        check_private_records();
        signal(SIGPIPE, SIG_IGN);

        /* ---- inputs ---- */
        char work[4096];
        if (work_opt) {
                snprintf(work, sizeof(work), "%s", work_opt);
                make_dir(work);
        } else {
                snprintf(work, sizeof(work), "/tmp/oci-shm-bench.XXXXXX");
                if (!mkdtemp(work))
                        die("mkdtemp: %s", strerror(errno));
        }
        char *rootfs = str("%s/rootfs", work), *shm_dir = str("%s/dev/shm", rootfs);
        make_dir(rootfs);
        make_dir(str("%s/dev", rootfs));
        make_dir(shm_dir);
        ns_start(shm_dir);

        struct config_shape k8s = {.services = 40, .annotations = 24, .volumes = 16};
        struct config_shape big = {.services = 1000, .annotations = 1000, .volumes = 200};
        struct buf cfg = {0};
        char *bundle_k8s = str("%s/bundle-k8s", work), *bundle_big = str("%s/bundle-1m", work);
        make_dir(bundle_k8s);
        make_dir(bundle_big);
        gen_config_sized(&cfg, rootfs, &k8s, 30 * 1024);
        size_t k8s_bytes = cfg.len;
        write_file(str("%s/config.json", bundle_k8s), cfg.s, cfg.len);
        gen_config_sized(&cfg, rootfs, &big, 1024 * 1024);
        size_t big_bytes = cfg.len;
        write_file(str("%s/config.json", bundle_big), cfg.s, cfg.len);
        free(cfg.s);

        char *policy[3];
        const unsigned policy_rules[3] = {10, 1000, 10000};
        for (int i = 0; i < 3; i++) {
                policy[i] = str("%s/policy-%u.conf", work, policy_rules[i]);
                gen_policy(policy[i], policy_rules[i]);
        }

        /* ---- cases ---- */
        struct bench_case cases[N_CASES] = {
            [H10] = {.key = "hook-10", .title = "hook, 30 KB config, 10 rules", .kind = KIND_HOOK},
            [H1K] = {.key = "hook-1k",
                     .title = "hook, 30 KB config, 1,000 rules",
                     .kind = KIND_HOOK},
            [H10K] = {.key = "hook-10k",
                      .title = "hook, 30 KB config, 10,000 rules",
                      .kind = KIND_HOOK},
            [H1M] = {.key = "hook-1m", .title = "hook, 1 MiB config, 10 rules", .kind = KIND_HOOK},
            [H10_NOREC] = {.key = "hook-10-norecord",
                           .title = "the same, 30 KB, 10 rules, no record",
                           .kind = KIND_HOOK},
            [FLOOR_STATIC] = {.key = "floor-static",
                              .title = "floor: static setns+reconfigure",
                              .kind = KIND_FLOOR},
            [PEER] = {.key = "peer-shell",
                      .title = "peer: bash+jq+nsenter+mount",
                      .kind = KIND_PEER},
            [RUNC_PLAIN] = {.key = "runc", .title = "runc run busybox", .kind = KIND_RUNC},
            [RUNC_HOOK] = {.key = "runc-hook",
                           .title = "runc run busybox + hook",
                           .kind = KIND_RUNC},
            [RUNC_TRUE] = {.key = "runc-true",
                           .title = "runc run busybox + /bin/true hook",
                           .kind = KIND_RUNC},
        };
        const char *hook_bundle[4] = {bundle_k8s, bundle_k8s, bundle_k8s, bundle_big};
        const int hook_policy[4] = {0, 1, 2, 0};
        for (int i = H10; i <= H1M; i++) {
                set_argv(&cases[i], hook, "--policy", policy[hook_policy[i]], "prestart", NULL);
                gen_state(&cases[i].state, "bench-container", ns_pid, hook_bundle[i],
                          i == H1M ? &big : &k8s);
                cases[i].acts = true;
        }
        bool have[N_CASES] = {true, true, true, true};
        if (hook_norecord) {
                set_argv(&cases[H10_NOREC], hook_norecord, "--policy", policy[0], "prestart", NULL);
                buf_add(&cases[H10_NOREC].state, "%.*s", (int)cases[H10].state.len,
                        cases[H10].state.s);
                cases[H10_NOREC].acts = true;
                have[H10_NOREC] = true;
        }
        if (floor_static) {
                char size[32];
                snprintf(size, sizeof(size), "%llu", SHM_AFTER);
                set_argv(&cases[FLOOR_STATIC], floor_static, shm_dir, size, NULL);
                cases[FLOOR_STATIC].state = cases[H10].state;
                cases[FLOOR_STATIC].acts = true;
                have[FLOOR_STATIC] = true;
        }
        if (peer) {
                set_argv(&cases[PEER], "/bin/bash", peer, NULL);
                cases[PEER].state = cases[H10].state;
                cases[PEER].acts = true;
                have[PEER] = true;
        }
        if (runc_plain) {
                set_argv(&cases[RUNC_PLAIN], "/usr/sbin/runc", "run", "--bundle", runc_plain, "ID",
                         NULL);
                set_argv(&cases[RUNC_HOOK], "/usr/sbin/runc", "run", "--bundle", runc_hook, "ID",
                         NULL);
                have[RUNC_PLAIN] = have[RUNC_HOOK] = true;
        }
        if (runc_true) {
                /* What runc costs to run any hook at all: the floor of the runc ratio. */
                set_argv(&cases[RUNC_TRUE], "/usr/sbin/runc", "run", "--bundle", runc_true, "ID",
                         NULL);
                have[RUNC_TRUE] = true;
        }
        for (int i = 0; i < N_CASES; i++) {
                unsigned n = cases[i].kind == KIND_RUNC   ? runc_runs
                             : cases[i].kind == KIND_PEER ? peer_runs
                                                          : runs;
                cases[i].us = calloc(n, sizeof(double));
                cases[i].faults = calloc(n, sizeof(double));
                cases[i].log = str("%s/%s.stderr", work, cases[i].key);
                if ((keep || work_opt) && cases[i].state.len && cases[i].kind == KIND_HOOK)
                        write_file(str("%s/state-%s.json", work, cases[i].key), cases[i].state.s,
                                   cases[i].state.len);
        }

        /* ---- header ---- */
        struct utsname u;
        uname(&u);
        char cpu[256] = "unknown";
        FILE *f = fopen("/proc/cpuinfo", "re");
        if (f) {
                char line[512];
                while (fgets(line, sizeof(line), f))
                        if (strncmp(line, "model name", 10) == 0) {
                                char *colon = strchr(line, ':');
                                snprintf(cpu, sizeof(cpu), "%.200s", colon ? colon + 2 : line);
                                cpu[strcspn(cpu, "\n")] = '\0';
                                break;
                        }
                fclose(f);
        }
        printf("oci-shm-bench: %s %s, %ld CPUs (%s)\n", u.sysname, u.release,
               sysconf(_SC_NPROCESSORS_ONLN), cpu);
        char date[64];
        time_t now = time(NULL);
        strftime(date, sizeof(date), "%Y-%m-%d %H:%M UTC", gmtime(&now));
        printf("date: %s\n", date);
        print_load("load average at the start");
        printf("hook: %s\n", hook);
        printf("hook without its record write: %s\n",
               hook_norecord ? hook_norecord : "(not given)");
        printf(
            "inputs: config.json %zu bytes (%u env vars, %u mounts, %u annotations) and %zu bytes"
            " (%u env vars, %u mounts, %u annotations);\n"
            "        policies of 10, 1,000 and 10,000 rules matching on the last (shm=65m);\n"
            "        /dev/shm a 64 MiB tmpfs in a private mount namespace, grown to 65 MiB by "
            "each acting run\n"
            "        and reset to 64 MiB between runs (untimed)\n",
            k8s_bytes, 3 + 7 * k8s.services, 12 + k8s.volumes, 7 + k8s.annotations, big_bytes,
            3 + 7 * big.services, 12 + big.volumes, 7 + big.annotations);
        printf("runs: %u per case (%u for the shell peer, %u for runc), after %u warm-up; "
               "interleaved\n\n",
               runs, peer_runs, runc_runs, warmup);
        fflush(stdout);

        /* The hook writes its record here, and the record-less build does not. */
        count_records(ns_pid, true);
        run_once(&cases[H10], false);
        if (count_records(ns_pid, true) != 1)
                die("the hook wrote no decision record in %s", RECORD_DIR);
        if (have[H10_NOREC]) {
                run_once(&cases[H10_NOREC], false);
                if (count_records(ns_pid, false) != 0)
                        die("%s wrote a decision record", hook_norecord);
        }

        /* ---- measure: round robin, so drift hits every case alike ---- */
        unsigned max_runs = runs;
        for (unsigned round = 0; round < warmup + max_runs; round++) {
                bool record = round >= warmup;
                unsigned i_timed = round - warmup;
                for (int i = 0; i < N_CASES; i++) {
                        if (!have[i] || cases[i].kind == KIND_RUNC)
                                continue;
                        if (cases[i].kind == KIND_PEER && record && i_timed >= peer_runs)
                                continue;
                        if (cases[i].kind == KIND_PEER && !record && round >= 3)
                                continue;
                        run_once(&cases[i], record);
                }
        }
        /* Peak RSS: traced runs, apart from the timed ones. */
        for (int i = 0; i < N_CASES; i++)
                for (unsigned k = 0; have[i] && cases[i].kind != KIND_RUNC && k < 3; k++) {
                        struct rss r = rss_once(&cases[i]);
                        if (r.hwm > cases[i].rss_peak) {
                                cases[i].rss_peak = r.hwm;
                                cases[i].rss_file = r.file;
                        }
                }
        if (have[RUNC_PLAIN]) {
                int order[3] = {RUNC_PLAIN, RUNC_HOOK, RUNC_TRUE};
                int n_order = have[RUNC_TRUE] ? 3 : 2;
                for (unsigned round = 0; round < 3 + runc_runs; round++) {
                        /* Rotate which goes first, to cancel any order effect. */
                        for (int k = 0; k < n_order; k++)
                                run_once(&cases[order[(round + (unsigned)k) % (unsigned)n_order]],
                                         round >= 3);
                }
        }
        ns_stop();
        /* Each round ran both cases of a pair: their paired differences, before the sort. */
        struct paired runc_paired = {0}, record_paired = {0};
        if (have[RUNC_TRUE])
                runc_paired = paired_diff(&cases[RUNC_HOOK], &cases[RUNC_TRUE]);
        if (have[H10_NOREC])
                record_paired = paired_diff(&cases[H10], &cases[H10_NOREC]);

        /* ---- report ---- */
        struct stats st[N_CASES] = {0};
        printf("%-38s %6s %10s %10s %13s %9s %12s\n", "case", "runs", "median_us", "p99_us",
               "peak_rss_kib", "file_kib", "page_faults");
        for (int i = 0; i < N_CASES; i++) {
                if (!have[i])
                        continue;
                st[i] = stats_of(&cases[i]);
                if (cases[i].kind == KIND_RUNC)
                        printf("%-38s %6zu %10.0f %10.0f %13s %9s %12s\n", cases[i].title,
                               cases[i].n, st[i].median, st[i].p99, "-", "-", "-");
                else
                        printf("%-38s %6zu %10.0f %10.0f %13ld %9ld %12.0f\n", cases[i].title,
                               cases[i].n, st[i].median, st[i].p99, st[i].rss_peak,
                               cases[i].rss_file, st[i].faults);
        }
        printf("peak_rss_kib: the largest VmHWM of the run's processes at exit (traced runs);\n"
               "file_kib: of it, RssFile at exit (the executable's pages, shared page cache);\n"
               "page_faults: median minor+major faults (wait4), from spawn to exit\n");
        print_figures(st, have, runc_paired, record_paired, smoke);
        printf("\ndecision records: %u in the private tmpfs at %s (the host's is untouched)\n",
               count_records(0, false), RECORD_DIR);
        print_load("load average at the end");

        if (!keep && !work_opt) {
                char *rm[] = {"rm", "-rf", work, NULL};
                pid_t pid;
                if (posix_spawnp(&pid, "rm", NULL, NULL, rm, environ) == 0)
                        waitpid(pid, NULL, 0);
        } else {
                printf("inputs kept in %s\n", work);
        }
        return 0;
}
