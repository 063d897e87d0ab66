/* SPDX-License-Identifier: Apache-2.0 */
/* record.c: the decision records the hook leaves for `status`. */
#include "unit.h"

#include <inttypes.h>
#include <sys/wait.h>
#include <time.h>

#include "record.h"
#include "state.h"

static void test_proc_stat(void **state)
{
        pid_t ppid = 0;
        uint64_t start = 0;
        char st = 0;
        (void)state;
        /* A comm may hold ") " and digits: only the last ')' ends it. */
        assert_int_equal(proc_stat_parse("42 (a) 1 2 (b) S 7 42 42 0 -1 4194560 100 0 0 0 0 0 0 0 "
                                         "20 0 1 0 123456 1000 10\n",
                                         &st, &ppid, &start),
                         0);
        assert_int_equal(st, 'S');
        assert_int_equal(ppid, 7);
        assert_int_equal(start, 123456);
        assert_int_equal(proc_stat_parse("42 (x) Z 1 2 3", &st, NULL, &start), -EINVAL);
        assert_int_equal(proc_stat_parse("42 no parens S 1", NULL, NULL, &start), -EINVAL);
        assert_int_equal(proc_stat_parse("42 (x) S 7 42 42 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 "
                                         "12x 1000\n",
                                         NULL, NULL, &start),
                         -EINVAL);
        assert_int_equal(proc_stat_parse("42 (x) S 7 42 42 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 "
                                         "99999999999999999999999 1000\n",
                                         NULL, NULL, &start),
                         -EINVAL);
        /* Our own entry, as the kernel writes it. */
        assert_int_equal(proc_start_time(getpid(), &ppid, &start), 0);
        assert_int_equal(ppid, getppid());
        assert_true(start > 0);
        assert_int_equal(proc_start_time(STATE_PID_LIMIT, NULL, &start), -ENOENT);
}

static void test_names(void **state)
{
        char buf[64];
        pid_t pid;
        uint64_t start;
        (void)state;
        assert_int_equal(record_name(1234, 987654321, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "1234-987654321");
        assert_true(record_name_parse(buf, &pid, &start));
        assert_int_equal(pid, 1234);
        assert_int_equal(start, 987654321);
        assert_int_equal(record_name(1234, 1, buf, 4), -ENAMETOOLONG);
        static const char *const bad[] = {"",
                                          "-",
                                          "1-",
                                          "-1",
                                          "0-5",
                                          "01-5",
                                          "5-01",
                                          "5-x",
                                          "x-5",
                                          "5-5-5",
                                          ".tmp-5-5",
                                          "99999999-1",
                                          "5-18446744073709551616",
                                          "5- 1"};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                if (record_name_parse(bad[i], &pid, &start))
                        fail_msg("'%s' passed for a record name", bad[i]);
}

static const struct decision_record SAMPLE = {
    .id = "f00d",
    .pid = 4321,
    .start_time = 5555,
    .engine = "podman",
    .image = "docker.io/library/postgres:16",
    .rule_file = "/etc/oci-shm-hook/policy.d/10-db:x.conf",
    .rule_line = 3,
    .kind = "private-tmpfs",
    .target = 1073741824,
    .after = 1073741824,
    .result = "grown",
    .time = 1700000000,
};

static void test_roundtrip(void **state)
{
        char buf[RECORD_MAX_BYTES];
        struct decision_record r;
        struct shm_error e = {0};
        (void)state;
        int len = record_format(&SAMPLE, buf, sizeof(buf));
        assert_true(len > 0);
        assert_contains(buf, "rule=/etc/oci-shm-hook/policy.d/10-db:x.conf:3\n");
        assert_int_equal(record_parse(buf, (size_t)len, &r, &e), 0);
        assert_string_equal(r.id, "f00d");
        assert_int_equal(r.pid, 4321);
        assert_int_equal(r.start_time, 5555);
        assert_string_equal(r.engine, "podman");
        assert_string_equal(r.image, "docker.io/library/postgres:16");
        assert_string_equal(r.rule_file, "/etc/oci-shm-hook/policy.d/10-db:x.conf");
        assert_int_equal(r.rule_line, 3);
        assert_string_equal(r.kind, "private-tmpfs");
        assert_int_equal(r.target, 1073741824);
        assert_int_equal(r.after, 1073741824);
        assert_string_equal(r.result, "grown");
        assert_int_equal(r.time, 1700000000);

        /* NULLs come back as NULLs; a newline in a value cannot make a line of its own. */
        struct decision_record odd = SAMPLE;
        odd.image = NULL;
        odd.rule_file = NULL;
        odd.engine = "x\nresult=forged";
        len = record_format(&odd, buf, sizeof(buf));
        assert_true(len > 0);
        assert_int_equal(record_parse(buf, (size_t)len, &r, &e), 0);
        assert_null(r.image);
        assert_null(r.rule_file);
        assert_string_equal(r.engine, "x?result=forged");
        assert_string_equal(r.result, "grown");
        assert_int_equal(record_format(&SAMPLE, buf, 40), -E2BIG);
}

static void expect_bad(const char *text, const char *part)
{
        char buf[1024];
        struct decision_record r;
        struct shm_error e = {0};
        size_t len = strlen(text);
        memcpy(buf, text, len + 1);
        if (record_parse(buf, len, &r, &e) != -EINVAL)
                fail_msg("record '%s' was accepted", text);
        assert_contains(e.message, part);
}

#define GOOD "version=1\nid=abc\npid=12\nstart_time=34\n"

static void test_hostile(void **state)
{
        char buf[256];
        struct decision_record r;
        struct shm_error e = {0};
        (void)state;
        expect_bad(GOOD "pid=13\n", "given twice");
        expect_bad(GOOD "target=1x\n", "not a number");
        expect_bad(GOOD "target=18446744073709551616\n", "not a number");
        expect_bad(GOOD "target=007\n", "not a number");
        expect_bad(GOOD "no equals\n", "key=value");
        expect_bad(GOOD "=x\n", "key=value");
        expect_bad(GOOD "kind=x", "no newline");
        expect_bad("version=2\nid=abc\npid=12\nstart_time=34\n", "version 1");
        expect_bad("id=abc\npid=12\nstart_time=34\n", "version 1");
        expect_bad("version=1\nid=../etc\npid=12\nstart_time=34\n", "no valid id");
        expect_bad("version=1\nid=abc\npid=0\nstart_time=34\n", "no valid id");
        expect_bad("version=1\nid=abc\npid=99999999\nstart_time=34\n", "no valid id");
        expect_bad("version=1\nid=abc\npid=12\n", "no valid id");
        expect_bad("version=1\npid=12\nstart_time=34\n", "no valid id");
        memcpy(buf, GOOD "x\0y\n", sizeof(GOOD) + 4);
        assert_int_equal(record_parse(buf, sizeof(GOOD) + 3, &r, &e), -EINVAL);
        assert_contains(e.message, "NUL");
        /* Keys of a later version are skipped. */
        snprintf(buf, sizeof(buf), GOOD "future=1\n");
        assert_int_equal(record_parse(buf, strlen(buf), &r, &e), 0);
        assert_string_equal(r.id, "abc");
        assert_null(r.engine);
}

/* A pid that was running and is gone now. */
static pid_t dead_pid(void)
{
        pid_t child = fork();
        assert_true(child >= 0);
        if (child == 0)
                _exit(0);
        assert_int_equal(waitpid(child, NULL, 0), child);
        return child;
}

static void write_self(const char *dir)
{
        struct shm_error e = {0};
        struct decision_record r = SAMPLE;
        r.pid = getpid();
        r.start_time = 0; /* record_write_at reads it */
        if (record_write_at(dir, &r, &e) < 0)
                fail_msg("record_write_at: %s", e.message);
}

static void test_write_and_load(void **state)
{
        char *top = unit_mkdtemp(), name[64];
        char *dir = unit_path(top, "records");
        struct record_list l;
        struct shm_error e = {0};
        struct stat st;
        uint64_t start;
        (void)state;

        write_self(dir);
        assert_int_equal(stat(dir, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0700);
        assert_int_equal(proc_start_time(getpid(), NULL, &start), 0);
        record_name(getpid(), start, name, sizeof(name));
        char *path = unit_path(dir, name);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);

        /* Stale: a dead pid, our pid with another start time; and a fresh and an old temp file. */
        record_name(dead_pid(), 77, name, sizeof(name));
        unit_write(dir, name, "version=1\nid=dead\npid=1\nstart_time=1\n");
        record_name(getpid(), start + 1, name, sizeof(name));
        unit_write(dir, name, "version=1\nid=reused\npid=1\nstart_time=1\n");
        unit_write(dir, ".tmp-fresh", "x");
        unit_write(dir, ".tmp-old", "x");
        char *old = unit_path(dir, ".tmp-old");
        struct timespec times[2] = {{.tv_sec = time(NULL) - 3600}, {.tv_sec = time(NULL) - 3600}};
        assert_int_equal(utimensat(AT_FDCWD, old, times, 0), 0);
        unit_write(dir, "README", "not a record");

        assert_int_equal(record_load(dir, &l, &e), 0);
        assert_int_equal(l.n, 1);
        assert_int_equal(l.stale_removed, 2);
        assert_string_equal(l.items[0].r.id, "f00d");
        assert_int_equal(l.items[0].r.pid, getpid());
        record_list_free(&l);
        char *fresh = unit_path(dir, ".tmp-fresh"), *readme = unit_path(dir, "README");
        assert_int_equal(access(fresh, F_OK), 0);
        assert_int_equal(access(old, F_OK), -1);
        assert_int_equal(access(readme, F_OK), 0);

        /* A record whose text disagrees with its name is not believed. */
        assert_true(unlink(path) == 0);
        unit_write(dir, name, "version=1\nid=liar\npid=1\nstart_time=1\n");
        record_name(getpid(), start, name, sizeof(name));
        unit_write(dir, name, "version=1\nid=liar\npid=1\nstart_time=1\n");
        assert_int_equal(record_load(dir, &l, &e), 0);
        assert_int_equal(l.n, 0);
        record_list_free(&l);

        /* A FIFO where the temporary file goes fails the write at once, never blocks it. */
        char *fifo;
        record_name(getpid(), start, name, sizeof(name));
        assert_true(asprintf(&fifo, "%s/.tmp-%s", dir, name) > 0);
        assert_int_equal(mkfifo(fifo, 0600), 0);
        struct decision_record self = SAMPLE;
        self.pid = getpid();
        self.start_time = start;
        assert_int_equal(record_write_at(dir, &self, &e), -ENXIO);
        free(fifo);

        /* A directory others can write is refused, for writing and reading. */
        assert_int_equal(chmod(dir, 0755), 0);
        struct decision_record r = SAMPLE;
        r.pid = getpid();
        assert_int_equal(record_write_at(dir, &r, &e), -EPERM);
        assert_contains(e.message, "root's alone");
        assert_int_equal(record_load(dir, &l, &e), -EPERM);
        /* No directory is no records. */
        char *none = unit_path(top, "none");
        assert_int_equal(record_load(none, &l, &e), 0);
        assert_int_equal(l.n, 0);
        record_list_free(&l);
        free(none);
        free(old);
        free(fresh);
        free(readme);
        free(path);
        free(dir);
        unit_rm_rf(top);
}

static void test_symlink_dir_refused(void **state)
{
        char *top = unit_mkdtemp();
        char *real = unit_path(top, "real"), *link = unit_path(top, "link");
        struct decision_record r = SAMPLE;
        struct shm_error e = {0};
        (void)state;
        assert_int_equal(mkdir(real, 0700), 0);
        assert_int_equal(symlink(real, link), 0);
        r.pid = getpid();
        assert_true(record_write_at(link, &r, &e) < 0);
        free(real);
        free(link);
        unit_rm_rf(top);
}

/* A node that started thousands of containers: pruning keeps the live one.
 * The hook's own pruning on tmpfs is in tests/integration/test_status.sh. */
static void test_bounded(void **state)
{
        char *top = unit_mkdtemp(), name[64];
        char *dir = unit_path(top, "records");
        struct record_list l;
        struct shm_error e = {0};
        (void)state;
        assert_int_equal(mkdir(dir, 0700), 0);
        pid_t gone = dead_pid();
        for (int i = 0; i < RECORD_PRUNE_AT + 100; i++) {
                record_name(gone, (uint64_t)i + 1, name, sizeof(name));
                unit_write(dir, name, "version=1\nid=old\npid=1\nstart_time=1\n");
        }
        write_self(dir); /* (whether this write prunes first depends on the file system) */
        size_t live = 99;
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(record_prune_fd(fd, &live), 0);
        close(fd);
        assert_int_equal(live, 1);

        for (int i = 0; i < 1000; i++) {
                record_name(gone, (uint64_t)i + 1, name, sizeof(name));
                unit_write(dir, name, "version=1\nid=old\npid=1\nstart_time=1\n");
        }
        /*
         * All 1000 go in one load. How long that takes is the file system's
         * (unlink on this VM's ext4 with discard takes up to 2 ms under load):
         * the one-second bound is checked where records live, on tmpfs, by
         * tests/integration/test_status.sh.
         */
        assert_int_equal(record_load(dir, &l, &e), 0);
        assert_int_equal(l.n, 1);
        assert_int_equal(l.stale_removed, 1000);
        record_list_free(&l);
        free(dir);
        unit_rm_rf(top);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_proc_stat),      cmocka_unit_test(test_names),
            cmocka_unit_test(test_roundtrip),      cmocka_unit_test(test_hostile),
            cmocka_unit_test(test_write_and_load), cmocka_unit_test(test_symlink_dir_refused),
            cmocka_unit_test(test_bounded),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
