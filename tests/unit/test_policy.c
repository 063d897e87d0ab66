/* SPDX-License-Identifier: Apache-2.0 */
/* policy.c: parsing with line numbers, loading files and directories, matching and decisions. */
#include "unit.h"

#include "policy.h"
#include "size.h"
#include "cleanup.h"
#include "userns.h"

#include <fnmatch.h>
#include <grp.h>
#include <sched.h>
#include <sys/wait.h>

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

static void parse(struct policy *p, const char *file, const char *text)
{
        struct shm_error e = {0};
        if (policy_parse_text(p, file, text, strlen(text), &e) != 0)
                fail_msg("policy_parse_text failed: %s", e.message);
}

/* Parse one text into a fresh policy, expecting no problem. */
static void parse_clean(struct policy *p, const char *text)
{
        memset(p, 0, sizeof(*p));
        parse(p, "test.conf", text);
        for (size_t i = 0; i < p->n_problems; i++)
                print_error("problem %s:%u: %s\n", p->problems[i].file, p->problems[i].line,
                            p->problems[i].message);
        assert_int_equal(p->n_problems, 0);
}

/* The text has exactly one problem, on `line`, whose message contains `part`; no rule. */
static void expect_problem(const char *text, unsigned line, const char *part)
{
        struct policy p = {0};
        parse(&p, "bad.conf", text);
        if (p.n_problems != 1)
                fail_msg("'%s': %zu problems, want 1 (first: '%s')", text, p.n_problems,
                         p.n_problems ? p.problems[0].message : "");
        assert_string_equal(p.problems[0].file, "bad.conf");
        if (p.problems[0].line != line)
                fail_msg("'%s': problem on line %u, want %u", text, p.problems[0].line, line);
        assert_contains(p.problems[0].message, part);
        assert_int_equal(p.n_rules, 0);
        policy_free(&p);
}

static void test_parse_every_key_and_action(void **state)
{
        struct policy p;
        parse_clean(&p, "image=selenium/*        shm=2g\n"
                        "image=pytorch/*         shm=50%\n"
                        "image=*/ipc-bridge:*    shm=host\n"
                        "image=postgres annotation:keep=yes shm=keep\n"
                        "annotation:example.com/shm-size=* shm=request max=8Gi\n"
                        "image=big/* shm=75% max=1g\n"
                        "shm=64m\n");
        assert_int_equal(p.n_rules, 7);
        assert_int_equal(p.n_files, 1);

        const struct policy_rule *r = p.rules;
        assert_string_equal(r[0].file, "test.conf");
        for (unsigned i = 0; i < 7; i++)
                assert_int_equal(r[i].line, i + 1);

        assert_int_equal(r[0].n_conditions, 1);
        assert_int_equal(r[0].conditions[0].kind, POLICY_COND_IMAGE);
        assert_null(r[0].conditions[0].key);
        assert_string_equal(r[0].conditions[0].glob, "selenium/*");
        assert_int_equal(r[0].action, POLICY_SHM_SIZE);
        assert_int_equal(r[0].size, 2 * GiB);
        assert_int_equal(r[0].max, 0);

        assert_int_equal(r[1].action, POLICY_SHM_PERCENT);
        assert_int_equal(r[1].percent, 50);

        assert_int_equal(r[2].action, POLICY_SHM_HOST);
        assert_string_equal(r[2].conditions[0].glob, "*/ipc-bridge:*");

        assert_int_equal(r[3].action, POLICY_SHM_KEEP);
        assert_int_equal(r[3].n_conditions, 2);
        assert_int_equal(r[3].conditions[1].kind, POLICY_COND_ANNOTATION);
        assert_string_equal(r[3].conditions[1].key, "keep");
        assert_string_equal(r[3].conditions[1].glob, "yes");

        assert_int_equal(r[4].action, POLICY_SHM_REQUEST);
        assert_string_equal(r[4].conditions[0].key, "example.com/shm-size");
        assert_string_equal(r[4].conditions[0].glob, "*");
        assert_int_equal(r[4].max, 8 * GiB);

        assert_int_equal(r[5].action, POLICY_SHM_PERCENT);
        assert_int_equal(r[5].percent, 75);
        assert_int_equal(r[5].max, GiB);

        assert_int_equal(r[6].n_conditions, 0);
        assert_int_equal(r[6].size, 64 * MiB);
        policy_free(&p);
        assert_int_equal(p.n_rules, 0);
        assert_null(p.rules);
}

static void test_parse_comments_blanks_crlf_tabs(void **state)
{
        struct policy p;
        parse_clean(&p, "# a comment\n"
                        "\n"
                        "   \t  \n"
                        "\timage=a\tshm=1g\t\n"                 /* line 4 */
                        "image=b shm=2g   # trailing comment\n" /* line 5 */
                        "image=c shm=3g\r\n"                    /* line 6: CRLF */
                        "\r\n"
                        "   # indented comment shm=bogus\n"
                        "image=d#e shm=4g\n" /* line 9: # inside a token is text */
                        "image=f shm=5g #\n"
                        "image=g shm=6g"); /* line 11: no final newline */
        assert_int_equal(p.n_rules, 6);
        static const unsigned lines[] = {4, 5, 6, 9, 10, 11};
        static const char *const globs[] = {"a", "b", "c", "d#e", "f", "g"};
        for (size_t i = 0; i < 6; i++) {
                assert_int_equal(p.rules[i].line, lines[i]);
                assert_string_equal(p.rules[i].conditions[0].glob, globs[i]);
                assert_int_equal(p.rules[i].size, (i + 1) * GiB);
        }
        policy_free(&p);

        /* empty text, only comments: no rules, no problems */
        parse_clean(&p, "");
        assert_int_equal(p.n_rules, 0);
        policy_free(&p);
        parse_clean(&p, "#\n# shm=1g\n\n");
        assert_int_equal(p.n_rules, 0);
        policy_free(&p);
}

static void test_parse_problems(void **state)
{
        expect_problem("# x\nimage=x size=1g shm=1g\n", 2,
                       "unknown key 'size' (expected image=, annotation:KEY=, namespace=, pod=, "
                       "container=, shm= or max=)");
        expect_problem("image=x\n", 1, "rule has no shm= action");
        expect_problem("\n\nimage=x shm=1g shm=2g\n", 3, "exactly one shm= action");
        expect_problem("image=x shm=host shm=keep\n", 1, "exactly one shm= action");
        expect_problem("image=x shm=1.5g\n", 1, "shm=1.5g: invalid size '1.5g'");
        expect_problem("image=x shm=big\n", 1, "or use N%, request, host, keep");
        expect_problem("image=x shm=0\n", 1, "is zero");
        expect_problem("image=x shm=\n", 1, "empty size");
        expect_problem("image=x shm=99999999999999999999\n", 1, "too large");
        expect_problem("image=x shm=0%\n", 1, "shm=0%: invalid percentage '0%'");
        expect_problem("image=x shm=101%\n", 1, "invalid percentage");
        expect_problem("image=x shm=5.5%\n", 1, "invalid percentage");
        expect_problem("image=x shm=%\n", 1, "invalid percentage");
        expect_problem("image=[abc shm=1g\n", 1, "pattern '[abc' has a '[' without a closing ']'");
        expect_problem("annotation:a=x\\ shm=1g\n", 1, "ends with a lone backslash");
        expect_problem("image=[!]x shm=1g\n", 1, "without a closing");
        expect_problem("image=x shm=1g max=2g\n", 1, "max= applies only to shm=request and shm=N%");
        expect_problem("image=x shm=host max=2g\n", 1, "max= applies only");
        expect_problem("image=x shm=50% max=1x\n", 1, "max=1x: invalid size");
        expect_problem("image=x shm=50% max=1g max=2g\n", 1, "max= is given twice");
        expect_problem("image=x shm=request\n", 1, "shm=request takes its size from an annotation");
        expect_problem("shm=request max=1g\n", 1, "takes its size from an annotation");
        expect_problem("image= shm=1g\n", 1, "'image=' needs a pattern");
        expect_problem("annotation:k= shm=1g\n", 1, "'annotation:k=' needs a pattern");
        expect_problem("annotation:=x shm=1g\n", 1, "'annotation:' needs a key");
        expect_problem("image shm=1g\n", 1, "'image' is not a key=value token");
        expect_problem("Image=x shm=1g\n", 1, "unknown key 'Image'");
        expect_problem("=x shm=1g\n", 1, "unknown key ''");
        expect_problem("image=x shm=1g#c\n", 1, "invalid size"); /* no comment inside a token */
        expect_problem("image=x SHM=1g\n", 1, "unknown key 'SHM'");
        expect_problem("image=x shm=HOST\n", 1, "invalid size");
}

static void test_parse_limits(void **state)
{
        /* a line of exactly POLICY_LINE_MAX bytes is fine, one more is a problem */
        size_t n = POLICY_LINE_MAX + 64;
        char *text = malloc(n);
        assert_non_null(text);
        const char *rule = "shm=1g image=";
        size_t prefix = strlen(rule);
        memcpy(text, rule, prefix);
        memset(text + prefix, 'a', POLICY_LINE_MAX - prefix);
        text[POLICY_LINE_MAX] = '\0';
        struct policy p;
        parse_clean(&p, text);
        assert_int_equal(p.n_rules, 1);
        policy_free(&p);

        text[POLICY_LINE_MAX] = 'a';
        strcpy(text + POLICY_LINE_MAX + 1, "\nshm=2g\n");
        memset(&p, 0, sizeof(p));
        parse(&p, "long.conf", text);
        assert_int_equal(p.n_problems, 1);
        assert_int_equal(p.problems[0].line, 1);
        assert_contains(p.problems[0].message, "line is longer than 4096 bytes");
        /* the parser goes on after the long line */
        assert_int_equal(p.n_rules, 1);
        assert_int_equal(p.rules[0].line, 2);
        policy_free(&p);
        free(text);

        /* POLICY_MAX_TOKENS tokens are fine, one more is a problem */
        char line[4096] = "shm=1g";
        for (int i = 1; i < POLICY_MAX_TOKENS; i++)
                strcat(line, " image=*");
        parse_clean(&p, line);
        assert_int_equal(p.n_rules, 1);
        assert_int_equal(p.rules[0].n_conditions, POLICY_MAX_TOKENS - 1);
        policy_free(&p);
        strcat(line, " image=*\n");
        expect_problem(line, 1, "more than 32 tokens on one line");
        /* comments do not count as tokens */
        line[strlen(line) - 1] = '\0';
        char commented[4200];
        snprintf(commented, sizeof(commented), "shm=1g # %s", line);
        parse_clean(&p, commented);
        policy_free(&p);
}

static void test_parse_nul_byte(void **state)
{
        static const char text[] = "image=a shm=1g\nimage=b\0 shm=2g\n";
        struct policy p = {0};
        struct shm_error e = {0};
        assert_int_equal(policy_parse_text(&p, "nul.conf", text, sizeof(text) - 1, &e), 0);
        assert_int_equal(p.n_problems, 1);
        assert_int_equal(p.problems[0].line, 0);
        assert_string_equal(p.problems[0].file, "nul.conf");
        assert_contains(p.problems[0].message, "NUL byte");
        assert_int_equal(p.n_rules, 0); /* the whole file is refused */
        policy_free(&p);
}

static void test_parse_many_problems_and_files(void **state)
{
        struct policy p = {0};
        parse(&p, "a.conf", "image=a shm=1g\nbogus\nimage=b shm=2g\n");
        parse(&p, "b.conf", "image=c shm=3g\n\nimage=d shm=zz\n");
        assert_int_equal(p.n_files, 2);
        assert_int_equal(p.n_rules, 3);
        assert_string_equal(p.rules[0].file, "a.conf");
        assert_string_equal(p.rules[1].file, "a.conf");
        assert_int_equal(p.rules[1].line, 3);
        assert_string_equal(p.rules[2].file, "b.conf");
        assert_int_equal(p.rules[2].line, 1);
        assert_int_equal(p.n_problems, 2);
        assert_string_equal(p.problems[0].file, "a.conf");
        assert_int_equal(p.problems[0].line, 2);
        assert_string_equal(p.problems[1].file, "b.conf");
        assert_int_equal(p.problems[1].line, 3);
        policy_free(&p);

        /* problems stop being recorded at POLICY_MAX_PROBLEMS, parsing goes on */
        size_t n = POLICY_MAX_PROBLEMS + 10;
        char *text = malloc(n * 4 + 16);
        assert_non_null(text);
        text[0] = '\0';
        for (size_t i = 0; i < n; i++)
                strcat(text, "bad\n");
        strcat(text, "shm=1g\n");
        memset(&p, 0, sizeof(p));
        parse(&p, "many.conf", text);
        assert_int_equal(p.n_problems, POLICY_MAX_PROBLEMS);
        assert_int_equal(p.n_rules, 1);
        assert_int_equal(p.rules[0].line, n + 1);
        policy_free(&p);
        free(text);
}

/* ---- policy_load ---- */

static void test_load_file_and_symlink(void **state)
{
        char *dir = unit_mkdtemp();
        unit_write(dir, "real.conf", "image=a shm=1g\nimage=b shm=2g\n");
        char *real = unit_path(dir, "real.conf");
        char *link = unit_path(dir, "link.conf");
        assert_int_equal(symlink(real, link), 0);

        struct policy p;
        struct shm_error e = {0};
        assert_int_equal(policy_load(&p, real, &e), 0);
        assert_int_equal(p.n_problems, 0);
        assert_int_equal(p.n_rules, 2);
        assert_string_equal(p.rules[1].file, real);
        assert_int_equal(p.rules[1].line, 2);
        policy_free(&p);

        /* Kubernetes ConfigMap volumes are symlinks: they must work */
        assert_int_equal(policy_load(&p, link, &e), 0);
        assert_int_equal(p.n_problems, 0);
        assert_int_equal(p.n_rules, 2);
        assert_string_equal(p.rules[0].file, link);
        policy_free(&p);

        free(real);
        free(link);
        unit_rm_rf(dir);
}

static void test_load_missing_and_bad_files(void **state)
{
        char *dir = unit_mkdtemp();
        struct policy p;
        struct shm_error e = {0};

        /* an explicitly named path that is missing is a problem, not an error */
        char *missing = unit_path(dir, "missing.conf");
        assert_int_equal(policy_load(&p, missing, &e), 0);
        assert_int_equal(p.n_rules, 0);
        assert_int_equal(p.n_problems, 1);
        assert_string_equal(p.problems[0].file, missing);
        assert_int_equal(p.problems[0].line, 0);
        assert_contains(p.problems[0].message, "cannot open: No such file or directory");
        policy_free(&p);
        free(missing);

        /* a dangling symlink is missing too */
        char *dangling = unit_path(dir, "dangling.conf");
        assert_int_equal(symlink("/nonexistent/oci-shm-hook-unit", dangling), 0);
        assert_int_equal(policy_load(&p, dangling, &e), 0);
        assert_int_equal(p.n_problems, 1);
        assert_contains(p.problems[0].message, "cannot open");
        policy_free(&p);
        free(dangling);

        /* not a regular file */
        assert_int_equal(policy_load(&p, "/dev/null", &e), 0);
        assert_int_equal(p.n_problems, 1);
        assert_contains(p.problems[0].message, "not a regular file");
        policy_free(&p);

        /* larger than POLICY_FILE_MAX_BYTES (sparse) */
        char *big = unit_path(dir, "big.conf");
        int fd = open(big, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(ftruncate(fd, POLICY_FILE_MAX_BYTES + 1), 0);
        close(fd);
        assert_int_equal(policy_load(&p, big, &e), 0);
        assert_int_equal(p.n_problems, 1);
        assert_contains(p.problems[0].message, "larger than 4194304 bytes");
        policy_free(&p);
        free(big);

        /* a policy can grant the host's /dev/shm: only root may be able to write it */
        unit_write(dir, "shared.conf", "shm=1g\n");
        char *shared = unit_path(dir, "shared.conf");
        assert_int_equal(chmod(shared, 0664), 0);
        assert_int_equal(policy_load(&p, shared, &e), 0);
        assert_int_equal(p.n_rules, 0);
        assert_int_equal(p.n_problems, 1);
        assert_contains(p.problems[0].message, "group or others can write it");
        policy_free(&p);
        assert_int_equal(chmod(shared, 0644), 0);
        if (geteuid() == 0) {
                assert_int_equal(chown(shared, 1234, 1234), 0);
                assert_int_equal(policy_load(&p, shared, &e), 0);
                assert_int_equal(p.n_problems, 1);
                assert_contains(p.problems[0].message, "not owned by root");
                policy_free(&p);
                assert_int_equal(chown(shared, 0, 0), 0);
        }
        char *subdir = unit_path(dir, "open.d");
        assert_int_equal(mkdir(subdir, 0777), 0);
        assert_int_equal(chmod(subdir, 0777), 0);
        assert_int_equal(policy_load(&p, subdir, &e), 0);
        assert_int_equal(p.n_problems, 1);
        assert_contains(p.problems[0].message, "group or others can write it");
        policy_free(&p);
        free(subdir);
        free(shared);

        /* problems inside a loaded file carry its path and line */
        unit_write(dir, "typo.conf", "# header\nimage=x shm=2q\n");
        char *typo = unit_path(dir, "typo.conf");
        assert_int_equal(policy_load(&p, typo, &e), 0);
        assert_int_equal(p.n_problems, 1);
        assert_string_equal(p.problems[0].file, typo);
        assert_int_equal(p.problems[0].line, 2);
        policy_free(&p);
        free(typo);
        unit_rm_rf(dir);
}

/* In the child, in a new user namespace: 0 when `path` loads with `rules` rules and no
 * problem, or with one problem containing `problem`. */
static int load_in_child(const char *path, size_t rules, const char *problem)
{
        struct policy p;
        struct shm_error e = {0};
        int ok;

        if (policy_load(&p, path, &e) < 0)
                return 0;
        if (problem)
                ok = p.n_problems == 1 && strstr(p.problems[0].message, problem) && !p.n_rules;
        else
                ok = p.n_problems == 0 && p.n_rules == rules;
        if (!ok)
                fprintf(stderr, "'%s': %zu rules, %zu problems (%s)\n", path, p.n_rules,
                        p.n_problems, p.n_problems ? p.problems[0].message : "");
        policy_free(&p);
        return ok;
}

/* The child's half of test_load_in_user_namespace: 0 when every step holds. */
static int rootless_child(int ready, int go, char *const paths[6])
{
        struct policy p;
        struct shm_error e = {0};
        struct stat st;
        char c = 0;

        /* as user 1000 starting rootless Podman */
        if (setgroups(0, NULL) < 0 || setresgid(1000, 1000, 1000) < 0 ||
            setresuid(1000, 1000, 1000) < 0)
                return 102;
        if (unshare(CLONE_NEWUSER) < 0) {
                fprintf(stderr, "unshare(CLONE_NEWUSER): %s\n", strerror(errno));
                return 100;
        }
        if (write(ready, &c, 1) != 1 || read(go, &c, 1) != 1 || c != 'y')
                return 101;
        /* root's files show as the overflow uid, as in rootless Podman */
        if (stat(paths[0], &st) < 0 || st.st_uid != 65534 || geteuid() != 0)
                return 1;
        if (policy_load(&p, paths[0], &e) < 0 || p.userns.initial || p.userns.root_uid != 1000 ||
            strcmp(userns_format(&p.userns).s, "userns=rootless uid=1000") != 0)
                return 2;
        policy_free(&p);
        if (!load_in_child(paths[0], 1, NULL)) /* root's */
                return 3;
        if (stat(paths[1], &st) < 0 || st.st_uid != 0)
                return 10;                     /* user 1000's own file is root's in the namespace */
        if (!load_in_child(paths[1], 2, NULL)) /* the user's own */
                return 4;
        if (!load_in_child(paths[2], 1, NULL)) /* of a user outside it (uid 1234): overflow */
                return 5;
        if (!load_in_child(paths[3], 0, "group or others can write it"))
                return 6;
        if (!load_in_child(paths[4], 0, "group or others can write it"))
                return 7;
        /* a subordinate uid (a container's user): another user of this namespace */
        if (stat(paths[5], &st) < 0 || st.st_uid != 4)
                return 8;
        if (!load_in_child(paths[5], 0, "owned by a user other than this user namespace's root"))
                return 9;
        return 0;
}

/*
 * Rootless: in a user namespace whose uid 0 is user 1000 (rootless Podman's hook), any
 * owner is accepted; group- and world-writable files and directories are still refused.
 */
static void test_load_in_user_namespace(void **state)
{
        int ready[2], go[2], status;
        char c;
        (void)state;
        if (geteuid() != 0)
                skip(); /* chown and writing another process's uid_map need root */
        char *dir = unit_mkdtemp();
        unit_write(dir, "root.conf", "image=a shm=1g\n");
        unit_write(dir, "user.conf", "image=a shm=1g\nimage=b shm=2g\n");
        unit_write(dir, "shared.conf", "image=a shm=1g\n");
        unit_write(dir, "d/10.conf", "image=a shm=1g\n");
        unit_write(dir, "open.d/10.conf", "image=a shm=1g\n");
        unit_write(dir, "sub.conf", "image=a shm=1g\n");
        char *paths[] = {unit_path(dir, "root.conf"), unit_path(dir, "user.conf"),
                         unit_path(dir, "d"),         unit_path(dir, "shared.conf"),
                         unit_path(dir, "open.d"),    unit_path(dir, "sub.conf")};
        char *in_d = unit_path(dir, "d/10.conf");
        assert_int_equal(chmod(dir, 0755), 0);
        assert_int_equal(chown(paths[1], 1000, 1000), 0);
        assert_int_equal(chown(paths[2], 1234, 1234), 0);
        assert_int_equal(chown(in_d, 1234, 1234), 0);
        assert_int_equal(chmod(paths[3], 0664), 0);
        assert_int_equal(chmod(paths[4], 0777), 0);
        assert_int_equal(chown(paths[5], 100003, 100003), 0); /* uid 4 in the namespace */

        /* the initial namespace: the strict rule */
        struct policy p;
        struct shm_error e = {0};
        assert_int_equal(policy_load(&p, paths[1], &e), 0);
        assert_true(p.userns.initial);
        assert_int_equal(p.n_problems, 1);
        assert_contains(p.problems[0].message, "not owned by root");
        policy_free(&p);

        assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
        assert_int_equal(pipe2(go, O_CLOEXEC), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
                _exit(rootless_child(ready[1], go[0], paths));
        close(ready[1]);
        close(go[0]);
        if (read(ready[0], &c, 1) == 1) {
                /* what newuidmap writes for user 1000 with /etc/subuid 1000:100000:65536 */
                char map_path[64];
                snprintf(map_path, sizeof(map_path), "/proc/%d/uid_map", (int)pid);
                int fd = open(map_path, O_WRONLY | O_CLOEXEC);
                assert_true(fd >= 0);
                static const char map[] = "0 1000 1\n1 100000 65536\n";
                assert_int_equal(write(fd, map, sizeof(map) - 1), (ssize_t)(sizeof(map) - 1));
                close(fd);
                assert_int_equal(write(go[1], "y", 1), 1);
        }
        close(ready[0]);
        close(go[1]);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        if (WEXITSTATUS(status) == 100)
                print_message("no user namespaces here: the rootless case is not run\n");
        else if (WEXITSTATUS(status) != 0)
                fail_msg("step %d failed in the user namespace", WEXITSTATUS(status));

        for (size_t i = 0; i < ARRAY_SIZE(paths); i++)
                free(paths[i]);
        free(in_d);
        unit_rm_rf(dir);
}

static void test_load_directory(void **state)
{
        char *dir = unit_mkdtemp();
        unit_write(dir, "20-b.conf", "image=b shm=2g\n");
        unit_write(dir, "10-a.conf", "image=a shm=1g\nimage=a2 shm=1g\n");
        unit_write(dir, "30-c.conf", "image=c shm=3g\n");
        unit_write(dir, "Z-upper.conf", "image=z shm=4g\n"); /* strcmp: after digits */
        unit_write(dir, "README", "this is not policy\n");
        unit_write(dir, "40-d.conf.bak", "garbage\n");
        unit_write(dir, "50-e.conf~", "garbage\n");
        unit_write(dir, ".hidden.conf", "garbage\n");
        unit_write(dir, ".conf", "garbage\n");
        unit_write(dir, "elsewhere/real.conf", "image=l shm=5g\n");
        unit_mkdirs(dir, "sub.d");
        char *target = unit_path(dir, "elsewhere/real.conf");
        char *link = unit_path(dir, "25-link.conf");
        assert_int_equal(symlink(target, link), 0);

        struct policy p;
        struct shm_error e = {0};
        assert_int_equal(policy_load(&p, dir, &e), 0);
        for (size_t i = 0; i < p.n_problems; i++)
                print_error("problem %s:%u: %s\n", p.problems[i].file, p.problems[i].line,
                            p.problems[i].message);
        assert_int_equal(p.n_problems, 0);
        static const char *const order[] = {"a", "a2", "b", "l", "c", "z"};
        static const char *const files[] = {"10-a.conf",    "10-a.conf", "20-b.conf",
                                            "25-link.conf", "30-c.conf", "Z-upper.conf"};
        assert_int_equal(p.n_rules, 6);
        for (size_t i = 0; i < 6; i++) {
                assert_string_equal(p.rules[i].conditions[0].glob, order[i]);
                char *want = unit_path(dir, files[i]);
                assert_string_equal(p.rules[i].file, want);
                free(want);
        }
        policy_free(&p);

        /* a directory entry named *.conf that is a directory is a problem */
        unit_mkdirs(dir, "60-dir.conf");
        assert_int_equal(policy_load(&p, dir, &e), 0);
        assert_int_equal(p.n_rules, 6);
        assert_int_equal(p.n_problems, 1);
        assert_contains(p.problems[0].message, "not a regular file");
        assert_contains(p.problems[0].file, "60-dir.conf");
        policy_free(&p);

        /* an empty directory is an empty policy */
        char *empty = unit_path(dir, "sub.d");
        assert_int_equal(policy_load(&p, empty, &e), 0);
        assert_int_equal(p.n_rules, 0);
        assert_int_equal(p.n_problems, 0);
        policy_free(&p);

        free(empty);
        free(target);
        free(link);
        unit_rm_rf(dir);
}

/* ---- matching ---- */

static struct image_ref ref_of(const char *text)
{
        struct image_ref ref;
        struct shm_error e = {0};
        if (image_ref_parse(text, &ref, &e) != 0)
                fail_msg("image_ref_parse(%s): %s", text, e.message);
        return ref;
}

static void expect_match(const char *glob, const char *image, const char *form)
{
        struct image_ref ref = ref_of(image);
        const char *got = policy_image_matches(glob, &ref);
        if (!form && got)
                fail_msg("'%s' matched '%s' (form '%s')", glob, image, got);
        if (form && (!got || strcmp(got, form) != 0))
                fail_msg("'%s' on '%s': matched form '%s', want '%s'", glob, image,
                         got ? got : "(none)", form);
        image_ref_free(&ref);
}

static void test_image_matching(void **state)
{
        expect_match("selenium/*", "docker.io/selenium/standalone-chrome:4.10",
                     "selenium/standalone-chrome:4.10");
        expect_match("selenium/*", "selenium/standalone-chrome",
                     "selenium/standalone-chrome:latest");
        expect_match("selenium/*", "quay.io/selenium/x", NULL);
        expect_match("selenium/*", "quay.io/selenium/x:1", NULL);
        expect_match("quay.io/selenium/*", "quay.io/selenium/x", "quay.io/selenium/x:latest");
        expect_match("postgres", "postgres:16", "postgres");
        expect_match("postgres", "docker.io/library/postgres:16", "postgres");
        expect_match("postgres", "quay.io/postgres:16", NULL);
        expect_match("postgres:16", "docker.io/library/postgres:16", "postgres:16");
        expect_match("postgres:16", "postgres:15", NULL);
        expect_match("docker.io/library/postgres:*", "postgres",
                     "docker.io/library/postgres:latest");
        expect_match("library/postgres", "postgres", NULL); /* not one of the four forms */
        expect_match("*/ipc-bridge:*", "acme/ipc-bridge:2", "docker.io/acme/ipc-bridge:2");
        expect_match("*/ipc-bridge:*", "quay.io/acme/ipc-bridge", "quay.io/acme/ipc-bridge:latest");
        expect_match("*/ipc-bridge:*", "ipc-bridge:1", "docker.io/library/ipc-bridge:1");
        expect_match("*/ipc-bridge:*", "acme/ipc-bridge-x:2", NULL);
        expect_match(
            "redis@sha256:*",
            "redis@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "redis@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
        expect_match(
            "redis",
            "redis:7@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "redis");
        expect_match("py?orch/*", "pytorch/pytorch:2", "pytorch/pytorch:2");
        expect_match("[pq]ytorch/*", "qytorch/a", "qytorch/a:latest");
        expect_match("[!p]ytorch/*", "pytorch/a", NULL);
        expect_match("*", "localhost/x", "localhost/x:latest");
        expect_match("\\*", "redis", NULL);
        assert_null(policy_image_matches("*", NULL));
}

static uint64_t host_mem = 16 * GiB;

static int decide(const struct policy *p, const char *image, const struct annotation *ann,
                  size_t n_ann, uint64_t limit, struct policy_decision *d, struct shm_error *e)
{
        struct image_ref ref = {0};
        if (image)
                ref = ref_of(image);
        struct policy_input in = {.image = image ? &ref : NULL,
                                  .annotations = ann,
                                  .n_annotations = n_ann,
                                  .memory_limit = limit,
                                  .host_memory = host_mem};
        int r = policy_decide(p, &in, d, e);
        /* image_form points into the reference: copy what the tests look at */
        static char form[IMAGE_REF_MAX + 1];
        if (d->image_form) {
                snprintf(form, sizeof(form), "%s", d->image_form);
                d->image_form = form;
        }
        image_ref_free(&ref);
        return r;
}

static void test_rule_order_and_conditions(void **state)
{
        struct policy p;
        parse_clean(&p, "image=selenium/* annotation:tier=gpu* shm=3g\n" /* 1 */
                        "image=selenium/* shm=2g\n"                      /* 2 */
                        "image=selenium/* shm=1g\n"                      /* 3: never reached */
                        "annotation:team=data shm=keep\n"                /* 4 */
                        "image=postgres shm=host\n"                      /* 5 */
                        "annotation:only=me image=nothing/* shm=5g\n"    /* 6 */
                        "shm=128m\n"                                     /* 7: everything else */
                        "shm=256m\n");                                   /* 8: never reached */
        struct policy_decision d;
        struct shm_error e = {0};

        const struct annotation gpu[] = {{"tier", "gpu-large"}};
        assert_int_equal(decide(&p, "selenium/standalone-chrome:4.10", gpu, 1, 0, &d, &e), 0);
        assert_int_equal(d.kind, DECISION_SIZE);
        assert_int_equal(d.rule->line, 1);
        assert_int_equal(d.bytes, 3 * GiB);
        assert_string_equal(d.image_form, "selenium/standalone-chrome:4.10");
        assert_string_equal(d.warning, "");

        const struct annotation cpu[] = {{"tier", "cpu"}, {"team", "data"}};
        assert_int_equal(decide(&p, "selenium/standalone-chrome:4.10", cpu, 2, 0, &d, &e), 0);
        assert_int_equal(d.rule->line, 2);
        assert_int_equal(d.bytes, 2 * GiB);

        /* annotation only rule: image= absent from it, so any image (or none) */
        assert_int_equal(decide(&p, "redis", cpu, 2, 0, &d, &e), 0);
        assert_int_equal(d.kind, DECISION_KEEP);
        assert_int_equal(d.rule->line, 4);
        assert_null(d.image_form);
        assert_int_equal(decide(&p, NULL, cpu, 2, 0, &d, &e), 0);
        assert_int_equal(d.kind, DECISION_KEEP);

        assert_int_equal(decide(&p, "postgres:16", NULL, 0, 0, &d, &e), 0);
        assert_int_equal(d.kind, DECISION_HOST);
        assert_int_equal(d.rule->line, 5);
        assert_string_equal(d.image_form, "postgres");

        /* all conditions must hold: the annotation holds, the image does not */
        const struct annotation me[] = {{"only", "me"}};
        assert_int_equal(decide(&p, "redis", me, 1, 0, &d, &e), 0);
        assert_int_equal(d.rule->line, 7);
        assert_int_equal(d.bytes, 128 * MiB);
        assert_null(d.image_form);

        /* no image: image= never holds, the catch-all rule still does */
        assert_int_equal(decide(&p, NULL, NULL, 0, 0, &d, &e), 0);
        assert_int_equal(d.kind, DECISION_SIZE);
        assert_int_equal(d.rule->line, 7);
        policy_free(&p);

        /* no rule matches */
        parse_clean(&p, "image=a shm=1g\nannotation:x=y shm=2g\n");
        assert_int_equal(decide(&p, "b", NULL, 0, 0, &d, &e), 0);
        assert_int_equal(d.kind, DECISION_NO_MATCH);
        assert_null(d.rule);
        assert_int_equal(d.bytes, 0);
        const struct annotation xz[] = {{"x", "z"}};
        assert_int_equal(decide(&p, "b", xz, 1, 0, &d, &e), 0);
        assert_int_equal(d.kind, DECISION_NO_MATCH);
        policy_free(&p);

        /* the empty policy matches nothing */
        memset(&p, 0, sizeof(p));
        assert_int_equal(decide(&p, "b", NULL, 0, 0, &d, &e), 0);
        assert_int_equal(d.kind, DECISION_NO_MATCH);
}

static void test_annotation_globs(void **state)
{
        struct policy p;
        parse_clean(&p, "annotation:io.kubernetes.pod.namespace=ml-* shm=1g\n"
                        "annotation:example.com/shm=[0-9]* shm=2g\n"
                        "annotation:empty=* shm=3g\n");
        struct policy_decision d;
        struct shm_error e = {0};
        const struct annotation ns[] = {{"io.kubernetes.pod.namespace", "ml-train"}};
        assert_int_equal(decide(&p, NULL, ns, 1, 0, &d, &e), 0);
        assert_int_equal(d.rule->line, 1);
        const struct annotation ns2[] = {{"io.kubernetes.pod.namespace", "web"}};
        assert_int_equal(decide(&p, NULL, ns2, 1, 0, &d, &e), 0);
        assert_int_equal(d.kind, DECISION_NO_MATCH);
        const struct annotation digit[] = {{"example.com/shm", "9x"}};
        assert_int_equal(decide(&p, NULL, digit, 1, 0, &d, &e), 0);
        assert_int_equal(d.rule->line, 2);
        /* keys match exactly, not as globs or prefixes */
        const struct annotation other[] = {{"example.com/shm-size", "9"}, {"EMPTY", ""}};
        assert_int_equal(decide(&p, NULL, other, 2, 0, &d, &e), 0);
        assert_int_equal(d.kind, DECISION_NO_MATCH);
        /* '*' holds for an empty value */
        const struct annotation empty[] = {{"empty", ""}};
        assert_int_equal(decide(&p, NULL, empty, 1, 0, &d, &e), 0);
        assert_int_equal(d.rule->line, 3);
        policy_free(&p);
}

/* namespace=, pod=, container=: the engine's own record of the pod, never an annotation. */
static void test_kubernetes_identity(void **state)
{
        struct policy p;
        struct policy_decision d;
        struct shm_error e = {0};
        const char *const *keys;
        char text[256];
        (void)state;

        parse_clean(&p, "namespace=selenium-grid shm=2g\n"
                        "pod=web-* container=chrome shm=1g\n"
                        "namespace=ml-* pod=train-? shm=50%\n"
                        "container=[abc]* shm=64m\n");
        assert_int_equal(p.n_rules, 4);
        assert_int_equal(p.rules[0].conditions[0].kind, POLICY_COND_NAMESPACE);
        assert_null(p.rules[0].conditions[0].key);
        assert_string_equal(p.rules[0].conditions[0].glob, "selenium-grid");
        assert_int_equal(p.rules[1].conditions[0].kind, POLICY_COND_POD);
        assert_int_equal(p.rules[1].conditions[1].kind, POLICY_COND_CONTAINER);
        assert_false(policy_needs_image(&p));
        assert_true(policy_needs_kubernetes(&p));
        assert_int_equal(policy_annotation_keys(&p, &keys), 0);
        policy_rule_format(&p.rules[0], text, sizeof(text));
        assert_string_equal(text, "namespace=selenium-grid shm=2g");
        policy_rule_format(&p.rules[1], text, sizeof(text));
        assert_string_equal(text, "pod=web-* container=chrome shm=1g");

        struct policy_input in = {.host_memory = 8 * GiB, .k8s_namespace = "selenium-grid"};
        assert_int_equal(policy_decide(&p, &in, &d, &e), 0);
        assert_int_equal(d.rule->line, 1);
        assert_int_equal(d.bytes, 2 * GiB);

        in = (struct policy_input){.host_memory = 8 * GiB,
                                   .k8s_namespace = "default",
                                   .k8s_pod = "web-1",
                                   .k8s_container = "chrome"};
        assert_int_equal(policy_decide(&p, &in, &d, &e), 0);
        assert_int_equal(d.rule->line, 2);
        in.k8s_container = "xchrome"; /* a glob holds for the whole name */
        assert_int_equal(policy_decide(&p, &in, &d, &e), 0);
        assert_int_equal(d.kind, DECISION_NO_MATCH);
        in.k8s_container = "bert";
        assert_int_equal(policy_decide(&p, &in, &d, &e), 0);
        assert_int_equal(d.rule->line, 4);

        in = (struct policy_input){
            .host_memory = 8 * GiB, .k8s_namespace = "ml-team", .k8s_pod = "train-7"};
        assert_int_equal(policy_decide(&p, &in, &d, &e), 0);
        assert_int_equal(d.rule->line, 3);
        assert_int_equal(d.bytes, 4 * GiB);
        in.k8s_pod = NULL; /* all conditions must hold */
        assert_int_equal(policy_decide(&p, &in, &d, &e), 0);
        assert_int_equal(d.kind, DECISION_NO_MATCH);

        /* Outside Kubernetes they never hold, not even as '*'; an annotation that names
         * the namespace is not the namespace. */
        policy_free(&p);
        parse_clean(&p, "namespace=* shm=1g\npod=* shm=2g\ncontainer=* shm=3g\n");
        const struct annotation fake[] = {{"io.kubernetes.pod.namespace", "selenium-grid"},
                                          {"io.kubernetes.cri.sandbox-namespace", "x"},
                                          {"io.kubernetes.pod.name", "web-1"},
                                          {"io.kubernetes.container.name", "chrome"}};
        in = (struct policy_input){.host_memory = 8 * GiB, .annotations = fake, .n_annotations = 4};
        assert_int_equal(policy_decide(&p, &in, &d, &e), 0);
        assert_int_equal(d.kind, DECISION_NO_MATCH);
        in.k8s_container = "";
        assert_int_equal(policy_decide(&p, &in, &d, &e), 0);
        assert_int_equal(d.rule->line, 3);
        policy_free(&p);

        expect_problem("namespace= shm=1g\n", 1, "'namespace=' needs a pattern");
        expect_problem("pod=[web shm=1g\n", 1, "without a closing ']'");
        expect_problem("container=x shm=request\n", 1, "takes its size from an annotation");
        expect_problem("Namespace=x shm=1g\n", 1, "unknown key 'Namespace'");
        expect_problem("pods=x shm=1g\n", 1, "unknown key 'pods'");
}

/* Issue 9: a leading byte order mark, and a dangling policy.d symlink. */
static void test_bom_and_dangling_links(void **state)
{
        struct policy p;
        struct shm_error e = {0};
        (void)state;

        parse_clean(&p, "\xef\xbb\xbfshm=1g\nimage=x shm=2g\n");
        assert_int_equal(p.n_rules, 2);
        assert_int_equal(p.rules[0].line, 1);
        assert_int_equal(p.rules[0].size, 1 * GiB);
        policy_free(&p);
        parse_clean(&p, "\xef\xbb\xbf# only a comment\n");
        assert_int_equal(p.n_rules, 0);
        policy_free(&p);
        parse_clean(&p, "\xef\xbb\xbf");
        assert_int_equal(p.n_rules, 0);
        policy_free(&p);
        /* only at the very start: anywhere else it is part of a token */
        expect_problem("# x\n\xef\xbb\xbfshm=2g\n", 2, "unknown key '\xef\xbb\xbfshm'");
        expect_problem(" \xef\xbb\xbfshm=2g\n", 1, "unknown key");
        expect_problem("\xef\xbb\xbf\xef\xbb\xbfshm=2g\n", 1, "unknown key");

        char *dir = unit_mkdtemp();
        unit_write(dir, "10-a.conf", "image=a shm=1g\n");
        unit_write(dir, "30-c.conf", "image=c shm=3g\n");
        char *link = unit_path(dir, "20-gone.conf");
        assert_int_equal(symlink("/nonexistent/oci-shm-hook-unit.conf", link), 0);
        assert_int_equal(policy_load(&p, dir, &e), 0);
        assert_int_equal(p.n_rules, 2);
        assert_int_equal(p.n_problems, 1);
        assert_string_equal(p.problems[0].file, link);
        assert_int_equal(p.problems[0].line, 0);
        assert_contains(p.problems[0].message, "symbolic link to a file that does not exist");
        policy_free(&p);
        /* a link to a file that exists is read, as ConfigMap volumes need */
        unit_write(dir, "elsewhere/gone.conf", "image=b shm=2g\n");
        assert_int_equal(unlink(link), 0);
        char *target = unit_path(dir, "elsewhere/gone.conf");
        assert_int_equal(symlink(target, link), 0);
        assert_int_equal(policy_load(&p, dir, &e), 0);
        assert_int_equal(p.n_problems, 0);
        assert_int_equal(p.n_rules, 3);
        assert_string_equal(p.rules[1].conditions[0].glob, "b");
        policy_free(&p);
        free(target);
        free(link);
        unit_rm_rf(dir);
}

static void test_decide_sizes(void **state)
{
        struct policy p;
        parse_clean(&p, "image=small shm=1g\n"
                        "image=half shm=50%\n"
                        "image=capped shm=50% max=1g\n"
                        "image=tiny shm=1\n"
                        "image=full shm=100%\n");
        struct policy_decision d;
        struct shm_error e = {0};

        assert_int_equal(decide(&p, "small", NULL, 0, 0, &d, &e), 0);
        assert_int_equal(d.bytes, GiB);
        assert_string_equal(d.warning, "");

        /* clamped to the memory limit, with a warning */
        assert_int_equal(decide(&p, "small", NULL, 0, 512 * MiB, &d, &e), 0);
        assert_int_equal(d.kind, DECISION_SIZE);
        assert_int_equal(d.bytes, 512 * MiB);
        assert_string_equal(d.warning, "1 GiB clamped to the memory limit of 512 MiB");
        /* equal to the limit: no clamp */
        assert_int_equal(decide(&p, "small", NULL, 0, GiB, &d, &e), 0);
        assert_int_equal(d.bytes, GiB);
        assert_string_equal(d.warning, "");

        /* percent of the memory limit */
        assert_int_equal(decide(&p, "half", NULL, 0, 3 * GiB, &d, &e), 0);
        assert_int_equal(d.bytes, 1536 * MiB);
        assert_string_equal(d.warning, "");
        /* percent of host memory without a limit */
        assert_int_equal(decide(&p, "half", NULL, 0, 0, &d, &e), 0);
        assert_int_equal(d.bytes, 8 * GiB);
        /* rounded down to a page */
        assert_int_equal(decide(&p, "half", NULL, 0, 100000001, &d, &e), 0);
        assert_int_equal(d.bytes, 50000000 & ~4095ULL);
        assert_int_equal(decide(&p, "full", NULL, 0, 2 * GiB, &d, &e), 0);
        assert_int_equal(d.bytes, 2 * GiB);

        /* max= caps a percentage, of a limit or of the host */
        assert_int_equal(decide(&p, "capped", NULL, 0, 4 * GiB, &d, &e), 0);
        assert_int_equal(d.bytes, GiB);
        assert_int_equal(decide(&p, "capped", NULL, 0, 0, &d, &e), 0);
        assert_int_equal(d.bytes, GiB);
        assert_int_equal(decide(&p, "capped", NULL, 0, GiB, &d, &e), 0);
        assert_int_equal(d.bytes, 512 * MiB); /* under max: unchanged */

        /* never less than a page (tmpfs size=0 means unlimited) */
        assert_int_equal(decide(&p, "tiny", NULL, 0, 0, &d, &e), 0);
        assert_int_equal(d.bytes, 4096);
        uint64_t saved = host_mem;
        host_mem = 0;
        assert_int_equal(decide(&p, "half", NULL, 0, 0, &d, &e), 0);
        assert_int_equal(d.bytes, 4096);
        host_mem = saved;
        assert_int_equal(decide(&p, "half", NULL, 0, 4096, &d, &e), 0);
        assert_int_equal(d.bytes, 4096);

        /* Issue 9: any positive limit clamps, one below a page too (to the one page a
         * tmpfs needs), where 'limit & ~4095' was 0 and turned the clamp off. */
        static const uint64_t tiny_limits[] = {1, 100, 4095, 4096, 4097, 8191};
        for (size_t i = 0; i < ARRAY_SIZE(tiny_limits); i++) {
                assert_int_equal(decide(&p, "small", NULL, 0, tiny_limits[i], &d, &e), 0);
                assert_int_equal(d.kind, DECISION_SIZE);
                assert_int_equal(d.bytes, 4096);
                assert_contains(d.warning, "1 GiB clamped to the memory limit of 4 KiB");
                assert_int_equal(decide(&p, "full", NULL, 0, tiny_limits[i], &d, &e), 0);
                assert_int_equal(d.bytes, 4096);
        }
        assert_int_equal(decide(&p, "small", NULL, 0, 8192, &d, &e), 0);
        assert_int_equal(d.bytes, 8192);
        policy_free(&p);
}

static void test_decide_request(void **state)
{
        struct policy p;
        parse_clean(&p, "image=x/* annotation:example.com/shm-size=* shm=request max=4g\n"
                        "annotation:a=* annotation:b=* shm=request\n");
        struct policy_decision d;
        struct shm_error e = {0};

        const struct annotation ok[] = {{"example.com/shm-size", "2Gi"}};
        assert_int_equal(decide(&p, "x/y", ok, 1, 0, &d, &e), 0);
        assert_int_equal(d.kind, DECISION_SIZE);
        assert_int_equal(d.bytes, 2 * GiB);
        assert_string_equal(d.warning, "");

        /* above max=: clamped with a warning */
        const struct annotation big[] = {{"example.com/shm-size", "16g"}};
        assert_int_equal(decide(&p, "x/y", big, 1, 0, &d, &e), 0);
        assert_int_equal(d.bytes, 4 * GiB);
        assert_string_equal(d.warning, "16 GiB clamped to the rule's max= of 4 GiB");

        /* and then to the memory limit */
        assert_int_equal(decide(&p, "x/y", big, 1, GiB, &d, &e), 0);
        assert_int_equal(d.bytes, GiB);
        assert_string_equal(d.warning, "4 GiB clamped to the memory limit of 1 GiB");

        /* an invalid value refuses the container, naming the annotation and the rule */
        static const char *const bad[] = {
            "", "0", "lots", "1.5g", "-1", "2g ", "1e9", "99999999999999999999999999999999999"};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                const struct annotation a[] = {{"example.com/shm-size", bad[i]}};
                memset(&e, 0, sizeof(e));
                if (decide(&p, "x/y", a, 1, 0, &d, &e) != -EINVAL)
                        fail_msg("request '%s' was accepted", bad[i]);
                assert_int_equal(e.code, EINVAL);
                assert_contains(e.message, "annotation 'example.com/shm-size'");
                assert_contains(e.message, "(rule test.conf:1)");
        }

        /* the first annotation condition gives the size */
        const struct annotation two[] = {{"b", "1g"}, {"a", "3m"}};
        assert_int_equal(decide(&p, "other", two, 2, 0, &d, &e), 0);
        assert_int_equal(d.rule->line, 2);
        assert_int_equal(d.bytes, 3 * MiB);
        policy_free(&p);
}

static void expect_format_rule(const char *text, const char *want)
{
        struct policy p;
        char buf[512];
        parse_clean(&p, text);
        assert_int_equal(p.n_rules, 1);
        memset(buf, 'X', sizeof(buf));
        policy_rule_format(&p.rules[0], buf, sizeof(buf));
        assert_string_equal(buf, want);
        /* the output parses back to the same rule */
        struct policy again;
        parse_clean(&again, buf);
        char buf2[512];
        policy_rule_format(&again.rules[0], buf2, sizeof(buf2));
        assert_string_equal(buf2, want);
        policy_free(&again);
        policy_free(&p);
}

static void test_rule_format(void **state)
{
        expect_format_rule("image=selenium/*   shm=2048m", "image=selenium/* shm=2g");
        expect_format_rule("image=a annotation:k=v* shm=50% max=1536m",
                           "image=a annotation:k=v* shm=50% max=1536m");
        expect_format_rule("annotation:example.com/shm=* shm=request max=4Gi",
                           "annotation:example.com/shm=* shm=request max=4g");
        expect_format_rule("shm=host", "shm=host");
        expect_format_rule("image=x shm=keep # why", "image=x shm=keep");
        expect_format_rule("shm=1000", "shm=1000");
        expect_format_rule("shm=1025k", "shm=1025k");
        expect_format_rule("shm=3t", "shm=3t");
        expect_format_rule("shm=18446744073709551615", "shm=18446744073709551615");

        assert_string_equal(policy_action_name(POLICY_SHM_SIZE), "size");
        assert_string_equal(policy_action_name(POLICY_SHM_PERCENT), "percent");
        assert_string_equal(policy_action_name(POLICY_SHM_REQUEST), "request");
        assert_string_equal(policy_action_name(POLICY_SHM_HOST), "host");
        assert_string_equal(policy_action_name(POLICY_SHM_KEEP), "keep");
        assert_string_equal(policy_action_name((enum policy_action)99), "unknown");

        /* a small buffer is truncated, always NUL-terminated, never overrun */
        struct policy p;
        parse_clean(&p, "image=selenium/* annotation:k=v shm=50% max=1g");
        for (size_t size = 1; size < 64; size++) {
                char buf[80];
                memset(buf, 'X', sizeof(buf));
                policy_rule_format(&p.rules[0], buf, size);
                assert_true(strlen(buf) < size);
                for (size_t i = size; i < sizeof(buf); i++)
                        assert_int_equal(buf[i], 'X');
        }
        char untouched = 'X';
        policy_rule_format(&p.rules[0], &untouched, 0);
        assert_int_equal(untouched, 'X');
        policy_free(&p);
}

/*
 * The matcher checks a glob's leading plain characters before calling
 * fnmatch. On random globs and texts it must agree with fnmatch exactly.
 */
static void test_matching_agrees_with_fnmatch(void **state)
{
        static const char alphabet[] = "ab/:.*?[]!-\\";
        unsigned seed = 12345;
        size_t compared = 0;
        (void)state;

        for (int round = 0; round < 20000; round++) {
                char glob[12], text[12], rule[64];
                size_t glob_len = 1 + rand_r(&seed) % 8, text_len = rand_r(&seed) % 8;
                for (size_t i = 0; i < glob_len; i++)
                        glob[i] = alphabet[rand_r(&seed) % (sizeof(alphabet) - 1)];
                glob[glob_len] = '\0';
                for (size_t i = 0; i < text_len; i++)
                        text[i] = "ab/:.-"[rand_r(&seed) % 6];
                text[text_len] = '\0';

                struct policy p = {0};
                struct shm_error err = {0};
                snprintf(rule, sizeof(rule), "annotation:k=%s shm=1g\n", glob);
                assert_int_equal(policy_parse_text(&p, "r.conf", rule, strlen(rule), &err), 0);
                if (p.n_problems == 0) {
                        struct annotation a = {.key = "k", .value = text};
                        struct policy_input in = {.annotations = &a, .n_annotations = 1};
                        struct policy_decision d;
                        assert_int_equal(policy_decide(&p, &in, &d, &err), 0);
                        bool want = fnmatch(glob, text, 0) == 0;
                        if ((d.kind == DECISION_SIZE) != want)
                                print_error("glob '%s' text '%s': fnmatch says %d\n", glob, text,
                                            want);
                        assert_int_equal(d.kind == DECISION_SIZE, want);
                        compared++;
                }
                policy_free(&p);
        }
        assert_true(compared > 10000);
}

/* Every rule is compiled: the rule limit, and a problem after the rule that would match. */
static void test_compile_limits_and_late_problems(void **state)
{
        char *dir = unit_mkdtemp();
        char *path = unit_path(dir, "p.conf");
        struct policy p;
        struct shm_error err = {0};
        struct policy_decision d;
        struct policy_input in = {.host_memory = 1 << 30};
        (void)state;

        size_t n = POLICY_MAX_RULES + 1, size = n * 7 + 1;
        char *many = malloc(size);
        assert_non_null(many);
        for (size_t i = 0; i < n; i++)
                memcpy(many + i * 7, "shm=1g\n", 7);
        many[n * 7] = '\0';
        unit_write(dir, "p.conf", many);
        free(many);
        assert_int_equal(policy_load(&p, path, &err), 0);
        assert_int_equal(p.n_rules, POLICY_MAX_RULES);
        assert_int_equal(p.n_problems, 1);
        assert_int_equal(p.problems[0].line, POLICY_MAX_RULES + 1);
        assert_contains(p.problems[0].message, "more than 100000 rules");
        policy_free(&p);

        /* A problem after the matching rule still makes the policy invalid. */
        unit_write(dir, "p.conf", "shm=1g\nimage=x shm=banana\n");
        assert_int_equal(policy_load(&p, path, &err), 0);
        assert_int_equal(p.n_rules, 1);
        assert_int_equal(p.n_problems, 1);
        assert_int_equal(p.problems[0].line, 2);
        assert_int_equal(policy_decide(&p, &in, &d, &err), 0);
        assert_int_equal(d.rule->line, 1);
        policy_free(&p);
        free(path);
        unit_rm_rf(dir);
}

/* What the caller must gather: the image only for image= rules; only the keys rules read. */
static void test_needs_image_and_annotation_keys(void **state)
{
        struct policy p;
        const char *const *keys;
        (void)state;

        parse_clean(&p, "");
        assert_false(policy_needs_image(&p));
        assert_int_equal(policy_annotation_keys(&p, &keys), 0);
        policy_free(&p);

        parse_clean(&p, "annotation:tier=gold shm=1g\n"
                        "annotation:example.com/shm=* shm=request max=4g\n"
                        "annotation:tier=silver annotation:a=b shm=2g\n"
                        "shm=64m\n");
        assert_false(policy_needs_image(&p));
        assert_int_equal(policy_annotation_keys(&p, &keys), 3);
        assert_string_equal(keys[0], "a");
        assert_string_equal(keys[1], "example.com/shm");
        assert_string_equal(keys[2], "tier");
        policy_free(&p);

        /* across files, and an image= rule anywhere */
        memset(&p, 0, sizeof(p));
        parse(&p, "a.conf", "annotation:z=1 shm=1g\n");
        parse(&p, "b.conf", "image=redis annotation:tier=x shm=1g\nannotation:z=2 shm=2g\n");
        assert_int_equal(p.n_problems, 0);
        assert_true(policy_needs_image(&p));
        assert_int_equal(policy_annotation_keys(&p, &keys), 2);
        assert_string_equal(keys[0], "tier");
        assert_string_equal(keys[1], "z");
        policy_free(&p);

        /* policy_load: the keys of every file, sorted once */
        char *dir = unit_mkdtemp();
        struct shm_error e = {0};
        unit_write(dir, "10-a.conf", "annotation:z=1 shm=1g\nannotation:m=1 shm=1g\n");
        unit_write(dir, "20-b.conf", "annotation:m=2 annotation:a=1 shm=2g\n");
        assert_int_equal(policy_load(&p, dir, &e), 0);
        assert_int_equal(p.n_problems, 0);
        assert_int_equal(policy_annotation_keys(&p, &keys), 3);
        assert_string_equal(keys[0], "a");
        assert_string_equal(keys[1], "m");
        assert_string_equal(keys[2], "z");
        policy_free(&p);
        unit_rm_rf(dir);

        parse_clean(&p, "image=* shm=1g\n");
        assert_true(policy_needs_image(&p));
        assert_false(policy_needs_kubernetes(&p));
        assert_int_equal(policy_annotation_keys(&p, &keys), 0);
        policy_free(&p);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_parse_every_key_and_action),
            cmocka_unit_test(test_parse_comments_blanks_crlf_tabs),
            cmocka_unit_test(test_parse_problems),
            cmocka_unit_test(test_parse_limits),
            cmocka_unit_test(test_parse_nul_byte),
            cmocka_unit_test(test_parse_many_problems_and_files),
            cmocka_unit_test(test_load_file_and_symlink),
            cmocka_unit_test(test_load_missing_and_bad_files),
            cmocka_unit_test(test_load_directory),
            cmocka_unit_test(test_load_in_user_namespace),
            cmocka_unit_test(test_image_matching),
            cmocka_unit_test(test_rule_order_and_conditions),
            cmocka_unit_test(test_annotation_globs),
            cmocka_unit_test(test_kubernetes_identity),
            cmocka_unit_test(test_bom_and_dangling_links),
            cmocka_unit_test(test_decide_sizes),
            cmocka_unit_test(test_decide_request),
            cmocka_unit_test(test_rule_format),
            cmocka_unit_test(test_matching_agrees_with_fnmatch),
            cmocka_unit_test(test_compile_limits_and_late_problems),
            cmocka_unit_test(test_needs_image_and_annotation_keys),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
