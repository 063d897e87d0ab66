/* SPDX-License-Identifier: Apache-2.0 */
/*
 * oci-shm-runtime's config.json edit: the output is the input with exactly
 * the hook entry inserted, byte for byte, whatever the rest of the text holds.
 */
#include "unit.h"

#include <dirent.h>

#include "bundle.h"
#include "cleanup.h"
#include "json.h"

#define E   "{\"path\":\"/h\",\"args\":[\"oci-shm-hook\",\"prestart\"]}"
#define NEW "\"hooks\":{\"prestart\":[" E "]}"

static const struct hook_entry hook = {.path = "/h", .args = {"oci-shm-hook", "prestart"}};

struct edit_case {
        const char *in;
        const char *out; /* NULL: the hook is there already, nothing written */
};

static const struct edit_case edits[] = {
    /* No "hooks": it becomes the last member. */
    {"{}", "{" NEW "}"},
    {"{\"a\":1}", "{\"a\":1," NEW "}"},
    {" {\r\n \"a\" :\t1 \r\n}\r\n", " {\r\n \"a\" :\t1," NEW " \r\n}\r\n"},
    {"{ }\n\n", "{ " NEW "}\n\n"},
    /* "hooks" without the stage: the stage becomes its last member. */
    {"{\"hooks\":{}}", "{\"hooks\":{\"prestart\":[" E "]}}"},
    {"{\"z\":1,\"hooks\":{ },\"a\":2}", "{\"z\":1,\"hooks\":{ \"prestart\":[" E "]},\"a\":2}"},
    {"{\"hooks\":{\"poststop\":[]}}", "{\"hooks\":{\"poststop\":[],\"prestart\":[" E "]}}"},
    /* The stage: ours goes last. */
    {"{\"hooks\":{\"prestart\":[]}}", "{\"hooks\":{\"prestart\":[" E "]}}"},
    {"{\"hooks\":{\"prestart\":[ \n ]}}", "{\"hooks\":{\"prestart\":[ \n " E "]}}"},
    {"{\"hooks\":{\"prestart\":[{\"path\":\"/bin/true\"}]}}",
     "{\"hooks\":{\"prestart\":[{\"path\":\"/bin/true\"}," E "]}}"},
    {"{\"hooks\" : {\"prestart\" : [ {\"path\":\"/a\"} ,\r\n {\"path\":\"/b\"}\r\n] } }",
     "{\"hooks\" : {\"prestart\" : [ {\"path\":\"/a\"} ,\r\n {\"path\":\"/b\"}," E "\r\n] } }"},
    /* A null "hooks" or stage is replaced: the only bytes that go. */
    {"{\"hooks\":null}", "{\"hooks\":{\"prestart\":[" E "]}}"},
    {"{\"hooks\": {\"prestart\": null }}", "{\"hooks\": {\"prestart\": [" E "] }}"},
    /* An escaped key is the key both runtimes decode. */
    {"{\"\\u0068ooks\":{\"pre\\u0073tart\":[]}}", "{\"\\u0068ooks\":{\"pre\\u0073tart\":[" E "]}}"},
    /* Hostile text elsewhere stays exactly as it was. */
    {"{\"x\":\"\\ud800lone\",\"y\":\"\\ud800\\u0041\",\"n\":1e400,\"z\":-0,\"m\":-0.0e-0,"
     "\"d\":{\"k\":1,\"k\":[2,{\"k\":3,\"k\":3}]},\"big\":123456789012345678901234567890}",
     "{\"x\":\"\\ud800lone\",\"y\":\"\\ud800\\u0041\",\"n\":1e400,\"z\":-0,\"m\":-0.0e-0,"
     "\"d\":{\"k\":1,\"k\":[2,{\"k\":3,\"k\":3}]},\"big\":123456789012345678901234567890," NEW "}"},
    {"{\"a{[\\\"\":\"]}\\\\\",\"hooks\":{\"poststop\":[[\"]\"],\"\\\"}\"]}}",
     "{\"a{[\\\"\":\"]}\\\\\",\"hooks\":{\"poststop\":[[\"]\"],\"\\\"}\"],\"prestart\":[" E "]}}"},
    {"{\"v\":\"\\f\\u000b\",\"hooks\":{\"prestart\":[[\"[\"],{\"]\":\"}\"}]},\"e\":\"caf\xc3\xa9 "
     "\\t\"}",
     "{\"v\":\"\\f\\u000b\",\"hooks\":{\"prestart\":[[\"[\"],{\"]\":\"}\"}," E
     "]},\"e\":\"caf\xc3\xa9 \\t\"}"},
    /* The hook already there, in any stage: nothing is written. */
    {"{\"hooks\":{\"prestart\":[{\"path\":\"/h\"}]}}", NULL},
    {"{\"hooks\":{\"createRuntime\":[{\"path\":\"/h\",\"args\":[\"x\"]}],\"prestart\":null}}",
     NULL},
};

static void check_edit(const char *in, const char *want)
{
        _cleanup_free_ char *out = NULL;
        struct shm_error err = {0};
        size_t out_len = 1;
        bool added = true;
        int r =
            bundle_config_add_hook(in, strlen(in), "prestart", &hook, &out, &out_len, &added, &err);

        print_message("in:  %s\n", in);
        if (r < 0)
                fail_msg("refused: %s", err.message);
        if (!want) {
                assert_false(added);
                assert_null(out);
                assert_int_equal(out_len, 0);
                return;
        }
        assert_true(added);
        assert_non_null(out);
        assert_int_equal(out_len, strlen(want));
        assert_memory_equal(out, want, out_len);
        assert_int_equal(out[out_len], '\0');
        /* The result is valid JSON and a second pass changes nothing. */
        _cleanup_free_ char *again = NULL;
        size_t again_len;
        assert_int_equal(bundle_config_add_hook(out, out_len, "prestart", &hook, &again, &again_len,
                                                &added, &err),
                         0);
        assert_false(added);
}

static void test_edits(void **state)
{
        (void)state;
        for (size_t i = 0; i < ARRAY_SIZE(edits); i++)
                check_edit(edits[i].in, edits[i].out);
}

struct refusal {
        const char *in;
        const char *message;
};

static const struct refusal refusals[] = {
    /* runc folds case (and K, S to their Unicode folds), crun does not. */
    {"{\"Hooks\":{}}", "config.json has key 'Hooks', which runc reads as 'hooks'"},
    {"{\"hooks\":{},\"HOOKS\":{}}", "key 'HOOKS'"},
    {"{\"hoo\\u212as\":{}}", "key 'hoo\xe2\x84\xaas'"},
    {"{\"hook\\u017f\":null}", "key 'hook\xc5\xbf'"},
    {"{\"hooks\":{\"Prestart\":[]}}", "'config.hooks' has key 'Prestart', which runc reads as "
                                      "'prestart'"},
    {"{\"hooks\":{\"poststop\":[],\"postStop\":[]}}", "key 'postStop'"},
    {"{\"hooks\":{},\"hooks\":{}}", "config.json has key 'hooks' twice"},
    {"{\"hooks\":{\"prestart\":[],\"prestart\":[]}}", "'config.hooks' has key 'prestart' twice"},
    {"{\"a\":1,\"a\":2}", "config.json has key 'a' twice"},
    {"{\"Hooks\\u0001\":1,\"HOOK\\u0053\":1}", "key 'HOOKS'"},
    /* Types. */
    {"{\"hooks\":[]}", "'config.hooks' is not an object"},
    {"{\"hooks\":{\"prestart\":{}}}", "'config.hooks.prestart' is not an array"},
    {"{\"hooks\":{\"prestart\":\"x\"}}", "'config.hooks.prestart' is not an array"},
    /* Not strict JSON. */
    {"[]", "not a JSON object"},
    {"{\"a\":1}x", "not valid JSON"},
    {"{\"a\":1}{}", "not valid JSON"},
    {"{\"a\":1 /* c */}", "comment"},
    {"{\"a\":\"\\u0000\"}", "NUL"},
    {"{\"a\":01}", "not valid JSON"},
    {"{\"a\":\"\xff\"}", "not valid JSON"},
    {"{\"a\":1,}", "not valid JSON"},
    {"", "not valid JSON"},
    /* yajl takes these as white space, JSON and runc do not. */
    {"{\"hooks\":{\"prestart\":\vnull}}", "vertical tab at offset 21"},
    {"{\f\"a\":1}", "form feed at offset 1"},
};

static void test_refusals(void **state)
{
        (void)state;
        for (size_t i = 0; i < ARRAY_SIZE(refusals); i++) {
                _cleanup_free_ char *out = NULL;
                struct shm_error err = {0};
                size_t out_len;
                bool added = true;

                print_message("in: %s\n", refusals[i].in);
                assert_int_equal(bundle_config_add_hook(refusals[i].in, strlen(refusals[i].in),
                                                        "prestart", &hook, &out, &out_len, &added,
                                                        &err),
                                 -EINVAL);
                assert_contains(err.message, refusals[i].message);
                assert_false(added);
                assert_null(out);
        }
}

/* The whole entry: env and timeout, escapes; a path that is not UTF-8 is refused. */
static void test_entry(void **state)
{
        const struct hook_entry full = {.path = "/o\"k",
                                        .args = {"oci-shm-hook", "--policy", "/p q", "prestart"},
                                        .env = {"PATH=/bin", NULL},
                                        .timeout = 10};
        const struct hook_entry bad = {.path = "/\xff", .args = {"x"}};
        _cleanup_free_ char *out = NULL;
        struct shm_error err = {0};
        size_t out_len;
        bool added;

        (void)state;
        assert_int_equal(
            bundle_config_add_hook("{}", 2, "prestart", &full, &out, &out_len, &added, &err), 0);
        assert_string_equal(out, "{\"hooks\":{\"prestart\":[{\"path\":\"/o\\\"k\",\"args\":[\"oci-"
                                 "shm-hook\",\"--policy\",\"/p q\",\"prestart\"],\"env\":["
                                 "\"PATH=/bin\"],\"timeout\":10}]}}");
        free(out);
        assert_int_equal(
            bundle_config_add_hook("{}", 2, "prestart", &bad, &out, &out_len, &added, &err),
            -EINVAL);
        assert_false(added);
}

static char *read_all(const char *path, size_t *len)
{
        FILE *f = fopen(path, "rb");
        char *buf = NULL;

        assert_non_null(f);
        assert_int_equal(fseek(f, 0, SEEK_END), 0);
        *len = (size_t)ftell(f);
        rewind(f);
        buf = malloc(*len + 1);
        assert_non_null(buf);
        assert_int_equal(fread(buf, 1, *len, f), *len);
        fclose(f);
        return buf;
}

/* How many entries of dir begin with ".config.json" (temporary files). */
static int temporaries(const char *dir)
{
        DIR *d = opendir(dir);
        struct dirent *e;
        int n = 0;

        assert_non_null(d);
        while ((e = readdir(d)))
                n += strncmp(e->d_name, ".config.json", 12) == 0;
        closedir(d);
        return n;
}

#define BIG_HEAD "{\r\n\"x\": \""
#define BIG_TAIL "\",\r\n\"hooks\": {\"prestart\": [ ]}\r\n}\r\n"

/*
 * A config.json of `size` bytes, CRLF lines: a string of escapes that a
 * re-encoder would change (lone surrogates, a pair, \t), then "hooks".
 */
static char *big_config(size_t size)
{
        const char piece[] = "ab\\\\\\ud800\\u0041\\t1e400";
        size_t len = strlen(BIG_HEAD), fill = size - strlen(BIG_HEAD) - strlen(BIG_TAIL);
        char *text = malloc(size + 1);

        assert_non_null(text);
        memcpy(text, BIG_HEAD, len);
        for (; fill >= sizeof(piece) - 1; fill -= sizeof(piece) - 1, len += sizeof(piece) - 1)
                memcpy(text + len, piece, sizeof(piece) - 1);
        memset(text + len, 'y', fill);
        memcpy(text + len + fill, BIG_TAIL, sizeof(BIG_TAIL));
        assert_int_equal(strlen(text), size);
        return text;
}

/* Almost 4 MiB: written atomically, mode kept, bytes kept; a second run changes nothing. */
static void test_file_large(void **state)
{
        char *dir = unit_mkdtemp(), *path = unit_path(dir, "config.json");
        size_t len = (4u << 20) - 256, got_len, again_len;
        _cleanup_free_ char *text = big_config(len), *got = NULL, *again = NULL, *want = NULL;
        struct shm_error err = {0};
        bool added = false;
        struct stat st;

        (void)state;
        unit_write_len(dir, "config.json", text, len);
        assert_int_equal(chmod(path, 0640), 0);
        assert_int_equal(bundle_add_hook(dir, "prestart", &hook, &added, &err), 0);
        assert_true(added);
        got = read_all(path, &got_len);
        /* Inserted before the ']' that is followed by "}\r\n}\r\n". */
        assert_true(asprintf(&want, "%.*s" E "]}\r\n}\r\n", (int)(len - 7), text) > 0);
        assert_int_equal(got_len, strlen(want));
        assert_memory_equal(got, want, got_len);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0640);
        assert_int_equal(temporaries(dir), 0);
        assert_int_equal(bundle_add_hook(dir, "prestart", &hook, &added, &err), 0);
        assert_false(added);
        again = read_all(path, &again_len);
        assert_int_equal(again_len, got_len);
        assert_memory_equal(again, want, again_len);
        free(path);
        unit_rm_rf(dir);
}

/* A file that would grow past the cap the hook reads with is refused, unchanged. */
static void test_file_over_cap(void **state)
{
        char *dir = unit_mkdtemp(), *path = unit_path(dir, "config.json");
        size_t len = (4u << 20) - 8, got_len;
        _cleanup_free_ char *text = big_config(len), *got = NULL;
        struct shm_error err = {0};
        bool added = true;

        (void)state;
        unit_write_len(dir, "config.json", text, len);
        assert_int_equal(bundle_add_hook(dir, "prestart", &hook, &added, &err), -EFBIG);
        assert_contains(err.message, "with the hook would be larger than");
        assert_false(added);
        got = read_all(path, &got_len);
        assert_int_equal(got_len, len);
        assert_memory_equal(got, text, len);
        assert_int_equal(temporaries(dir), 0);
        free(path);
        unit_rm_rf(dir);
}

/* Through a file: symlink, too large, missing bundle; nothing changes. */
static void test_file_refused(void **state)
{
        char *dir = unit_mkdtemp(), *path = unit_path(dir, "config.json");
        char *big = malloc((4u << 20) + 3);
        struct shm_error err = {0};
        bool added = true;

        (void)state;
        unit_write(dir, "real.json", "{}");
        assert_int_equal(symlink("real.json", path), 0);
        assert_true(bundle_add_hook(dir, "prestart", &hook, &added, &err) < 0);
        assert_contains(err.message, "config.json' is a symbolic link");
        assert_contains(err.message, dir);
        assert_false(added);
        assert_int_equal(unlink(path), 0);

        assert_non_null(big);
        memset(big, ' ', (4u << 20) + 3);
        big[0] = '{';
        big[(4u << 20) + 2] = '}';
        unit_write_len(dir, "config.json", big, (4u << 20) + 3);
        assert_int_equal(bundle_add_hook(dir, "prestart", &hook, &added, &err), -EFBIG);
        assert_contains(err.message, "larger than");
        free(big);

        unit_write(dir, "config.json", "{\"Hooks\":{}}");
        assert_int_equal(bundle_add_hook(dir, "prestart", &hook, &added, &err), -EINVAL);
        assert_contains(err.message, "bundle '");
        assert_contains(err.message, "key 'Hooks'");

        char *missing = unit_path(dir, "missing");
        assert_true(bundle_add_hook(missing, "prestart", &hook, &added, &err) < 0);
        assert_contains(err.message, "cannot open bundle");
        free(missing);
        free(path);
        unit_rm_rf(dir);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_edits),         cmocka_unit_test(test_refusals),
            cmocka_unit_test(test_entry),         cmocka_unit_test(test_file_large),
            cmocka_unit_test(test_file_over_cap), cmocka_unit_test(test_file_refused),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
