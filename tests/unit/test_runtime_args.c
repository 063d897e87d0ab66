/* SPDX-License-Identifier: Apache-2.0 */
/*
 * oci-shm-runtime's argument reading. Each case's expectation was checked
 * against runc 1.1.5 and crun 1.8.1 on a bundle that does not exist (the
 * runtime names the directory it tried, or refuses the arguments).
 */
#include "unit.h"

#include "cleanup.h"
#include "runtime_args.h"

#define MAX_ARGS 16

struct args_case {
        const char *argv[MAX_ARGS]; /* after argv[0], NULL-terminated */
        int result;                 /* 0 or -EINVAL */
        const char *bundle;         /* NULL: no edit */
        const char *message;        /* with result < 0: part of the message */
};

static const struct args_case cases[] = {
    /* Every form of the bundle option one of the runtimes accepts. */
    {{"create", "--bundle", "/b", "id"}, 0, "/b", NULL},
    {{"create", "--bundle=/b", "id"}, 0, "/b", NULL},
    {{"create", "-b", "/b", "id"}, 0, "/b", NULL},
    {{"create", "-b/b", "id"}, 0, "/b", NULL},          /* crun; runc refuses -b/b */
    {{"create", "-bundle", "/b", "id"}, 0, "/b", NULL}, /* runc; crun reads -b undle */
    {{"create", "--b", "/b", "id"}, 0, "/b", NULL},
    {{"create", "--bund", "/b", "id"}, 0, "/b", NULL}, /* crun's abbreviation */
    {{"create", "--bu=/b", "id"}, 0, "/b", NULL},
    {{"create", "id", "--bundle", "/b"}, 0, "/b", NULL}, /* runc moves flags forward */
    {{"create", "id", "--no-pivot", "--bundle", "/b"}, 0, "/b", NULL},
    {{"create", "--pid-file", "-x", "id", "--bundle", "/b"}, 0, "/b", NULL},
    {{"create", "--bundle", "/a", "--bundle", "/b", "id"}, 0, "/b", NULL}, /* last wins */
    {{"create", "--bundle", "/b", "--", "id"}, 0, "/b", NULL},
    {{"create", "--bundle", "-x", "id"}, 0, "-x", NULL}, /* both take the next argument */
    {{"create", "--no-pivot=true", "--bundle", "/b", "id"}, 0, "/b", NULL},
    {{"create", "--preserve-fds", "2", "--console-socket", "/s", "-b", "/b", "id"}, 0, "/b", NULL},
    {{"create", "id"}, 0, ".", NULL},
    {{"create", "--bundle", "/b", "-"}, 0, "/b", NULL}, /* "-" is an id */
    /* Global options before the command, as Docker and containerd pass them. */
    {{"--root", "/r", "--log", "/l", "--log-format", "json", "--systemd-cgroup", "create",
      "--bundle", "/b", "id"},
     0,
     "/b",
     NULL},
    {{"--root=/r", "--debug", "create", "-b", "/b", "id"}, 0, "/b", NULL},
    {{"-root", "/r", "create", "-b", "/b", "id"}, 0, "/b", NULL},         /* runc */
    {{"--ro", "/r", "--sys", "create", "-b", "/b", "id"}, 0, "/b", NULL}, /* crun */
    {{"--cgroup-manager", "cgroupfs", "create", "-b", "/b", "id"}, 0, "/b", NULL},
    {{"--criu", "/c", "--rootless", "auto", "create", "-b", "/b", "id"}, 0, "/b", NULL},
    {{"--debug=true", "create", "-b", "/b", "id"}, 0, "/b", NULL},
    {{"--root", "/r", "--", "create", "-b", "/b", "id"}, 0, "/b", NULL},
    /* A value that reads "create" is not the command; other commands edit nothing. */
    {{"--root", "create", "start", "id"}, 0, NULL, NULL},
    {{"start", "id"}, 0, NULL, NULL},
    {{"run", "--bundle", "/b", "id"}, 0, NULL, NULL},
    {{"delete", "--force", "id"}, 0, NULL, NULL},
    {{NULL}, 0, NULL, NULL},
    /* Help and version print and create nothing, wherever they are. */
    {{"create", "--help"}, 0, NULL, NULL},
    {{"create", "-h", "id"}, 0, NULL, NULL},
    {{"create", "--bundle", "/b", "id", "--help"}, 0, NULL, NULL},
    {{"create", "-?"}, 0, NULL, NULL},
    {{"create", "--usage"}, 0, NULL, NULL},
    {{"--help", "create", "--bundle", "/b", "id"}, 0, NULL, NULL},
    {{"--version", "create", "--bundle", "/b", "id"}, 0, NULL, NULL},
    {{"-v"}, 0, NULL, NULL},
    /* urfave/cli refuses two forms of one flag; crun takes the last. */
    {{"create", "-b", "/a", "--bundle", "/b", "id"}, 0, "/b", NULL},
    {{"create", "-bundle=/a", "-", "-b", "-b=/a"}, -EINVAL, NULL, "two forms"},
    {{"-root", "/r", "create", "--help", "-h", "id"}, -EINVAL, NULL, "two forms"},
    /* crun's --config: config.json is not what runs. */
    {{"create", "--config", "/c.json", "--bundle", "/b", "id"}, 0, NULL, NULL},
    {{"create", "-fx", "-b", "/b", "id"}, 0, NULL, NULL},
    /* The runtimes would read different bundles: refused. */
    {{"create", "-b=/b", "id"}, -EINVAL, NULL, "runc: bundle '/b', crun: bundle '=/b'"},
    {{"create", "-bundle=/b", "id"}, -EINVAL, NULL, "runc: bundle '/b', crun: bundle 'undle=/b'"},
    /* Neither runtime can read these: refused, never ./config.json. */
    {{"create", "--bundle"}, -EINVAL, NULL, "refusing to guess"},
    {{"create", "id", "--bundle"}, -EINVAL, NULL, "exactly"},
    {{"create", "--con", "/s", "id"}, -EINVAL, NULL, "ambiguous"},
    {{"create", "--pr", "3", "id"}, -EINVAL, NULL, "ambiguous"},
    {{"create", "--bundle", "/b", "id", "id2"}, -EINVAL, NULL, "exactly"},
    {{"create", "--no-pivot", "id", "--bundle", "/b"}, -EINVAL, NULL, "exactly"},
    {{"create", "--", "--bundle", "/b", "id"}, -EINVAL, NULL, "exactly"},
    {{"create"}, -EINVAL, NULL, "exactly"},
    {{"create", "--bundle=", "id"}, -EINVAL, NULL, "empty"},
    {{"create", "---bundle", "/b", "id"}, -EINVAL, NULL, "bad flag syntax"},
    {{"create", "--bundle", "/b", "--unknown", "id"}, -EINVAL, NULL, "not defined: -unknown"},
    /* runc refuses a --preserve-fds that is no number; crun takes it. */
    {{"create", "--preserve-fds", "x", "--bundle", "/b", "id"}, 0, "/b", NULL},
    {{"create", "--preserve-fds", "x", "--bundle", "/b", "--config", "c", "id"}, 0, NULL, NULL},
    {{"create", "--preserve-fds", "x", "-bundle", "/b", "id"}, -EINVAL, NULL, "invalid value"},
    {{"create", "--HANG", "--bundle", "/b", "id"}, -EINVAL, NULL, "not supported"},
    {{"--weird", "create", "--bundle", "/b", "id"}, -EINVAL, NULL, "unrecognized option '--weird'"},
    {{"--lo", "/l", "create", "id"}, -EINVAL, NULL, "ambiguous"},
    {{"--root", "/r", "create", "--root", "/r", "id"}, -EINVAL, NULL, "refusing"},
    {{"--log-level", "debug", "create", "id"}, -EINVAL, NULL, "refusing"},
    {{"--root"}, -EINVAL, NULL, "refusing"},
};

static int argv_of(const struct args_case *c, char **argv)
{
        int n = 0;

        argv[n++] = (char *)"oci-shm-runtime";
        while (c->argv[n - 1])
                argv[n] = (char *)c->argv[n - 1], n++;
        argv[n] = NULL;
        return n;
}

static void show_case(const struct args_case *c, char *buf, size_t size)
{
        size_t used = 0;

        buf[0] = '\0';
        for (int i = 0; c->argv[i] && used < size; i++)
                used += (size_t)snprintf(buf + used, size - used, " %s", c->argv[i]);
}

static void test_table(void **state)
{
        (void)state;
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                const struct args_case *c = &cases[i];
                char *argv[MAX_ARGS + 2], shown[512];
                struct shm_error err = {0};
                struct runtime_args a;
                int argc = argv_of(c, argv);
                int r = runtime_args_parse(argc, argv, &a, &err);

                show_case(c, shown, sizeof(shown));
                print_message("case:%s -> %d %s\n", shown, r, r < 0 ? err.message : "");
                assert_int_equal(r, c->result);
                if (r < 0) {
                        assert_contains(err.message, c->message);
                        continue;
                }
                assert_int_equal(a.edit, c->bundle != NULL);
                if (c->bundle)
                        assert_string_equal(a.bundle, c->bundle);
        }
}

static struct runtime_args parse_ok(int argc, char **argv)
{
        struct shm_error err = {0};
        struct runtime_args a;

        assert_int_equal(runtime_args_parse(argc, argv, &a, &err), 0);
        return a;
}

static void test_log_options(void **state)
{
        char *json[] = {"x", "--log", "/l", "--log-format", "json", "create", "id", NULL};
        char *text[] = {"x", "--log=/l", "create", "id", NULL};
        char *crun_only[] = {"x", "--log-f=json", "--log=/l", "create", "id", NULL};
        char *broken[] = {"x", "--log", "/l", "--log-format=json", "create", "--bogus", NULL};
        struct shm_error err = {0};
        struct runtime_args a;

        (void)state;
        a = parse_ok(7, json);
        assert_string_equal(a.log, "/l");
        assert_true(a.log_json);
        assert_int_equal(a.command, 5);
        a = parse_ok(4, text);
        assert_string_equal(a.log, "/l");
        assert_false(a.log_json);
        a = parse_ok(5, crun_only);
        assert_true(a.log_json);
        /* Refused, but the error can still reach the runtime's log file. */
        assert_int_equal(runtime_args_parse(6, broken, &a, &err), -EINVAL);
        assert_string_equal(a.log, "/l");
        assert_true(a.log_json);
}

static void test_flags(void **state)
{
        char *version[] = {"x", "--version", NULL};
        char *help[] = {"x", "-h", NULL};
        char *config[] = {"x", "create", "-f", "c.json", "id", NULL};
        struct runtime_args a;

        (void)state;
        a = parse_ok(2, version);
        assert_true(a.version);
        assert_int_equal(a.command, 0);
        a = parse_ok(2, help);
        assert_true(a.help);
        assert_false(a.version);
        a = parse_ok(5, config);
        assert_true(a.other_config);
        assert_false(a.edit);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_table),
            cmocka_unit_test(test_log_options),
            cmocka_unit_test(test_flags),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
