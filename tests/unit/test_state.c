/* SPDX-License-Identifier: Apache-2.0 */
/* state.c: the OCI state runc and crun write to a hook's stdin. */
#include "unit.h"

#include "json.h"
#include "state.h"

/* What runc 1.1.5 and crun 1.8.1 really wrote to a prestart hook (`cat > file`). */
#define RUNC_STATE                                                                                 \
        "{\"ociVersion\":\"1.0.2-dev\",\"id\":\"unit-state-runc\",\"status\":\"creating\","        \
        "\"pid\":4863,\"bundle\":\"/tmp/unit-state.BtRZ/b\"}"
#define CRUN_STATE                                                                                 \
        "{\"ociVersion\":\"1.0\",\"id\":\"unit-state-crun\",\"pid\":4875,\"root\":\"rootfs\","     \
        "\"bundle\":\"/tmp/unit-state.BtRZ/b\",\"status\":\"created\"}"

static int parse(const char *text, struct oci_state *st, struct shm_error *e)
{
        return oci_state_parse(text, strlen(text), st, e);
}

static void expect_bad(const char *text, const char *part)
{
        struct oci_state st;
        struct shm_error e = {0};
        int r = parse(text, &st, &e);
        if (r != -EINVAL)
                fail_msg("state '%s' gave %d, want -EINVAL", text, r);
        assert_int_equal(e.code, EINVAL);
        assert_contains(e.message, part);
        assert_null(st.id);
        assert_null(st.bundle);
        assert_null(st.status);
        oci_state_free(&st);
}

static void test_runc_state(void **state)
{
        struct oci_state st;
        struct shm_error e = {0};
        assert_int_equal(parse(RUNC_STATE, &st, &e), 0);
        assert_string_equal(st.id, "unit-state-runc");
        assert_int_equal(st.pid, 4863);
        assert_string_equal(st.bundle, "/tmp/unit-state.BtRZ/b");
        assert_string_equal(st.status, "creating");
        oci_state_free(&st);
        assert_null(st.id);
}

static void test_crun_state(void **state)
{
        struct oci_state st;
        struct shm_error e = {0};
        assert_int_equal(parse(CRUN_STATE, &st, &e), 0);
        assert_string_equal(st.id, "unit-state-crun");
        assert_int_equal(st.pid, 4875);
        assert_string_equal(st.bundle, "/tmp/unit-state.BtRZ/b");
        assert_string_equal(st.status, "created");
        oci_state_free(&st);
}

static void test_other_shapes(void **state)
{
        struct oci_state st;
        struct shm_error e = {0};
        /* no status, annotations, whitespace and newlines, a final newline */
        assert_int_equal(parse(" \n{ \"id\" : \"a_b.c+d-E9\",\n\t\"pid\": 2, \"bundle\": \"/\","
                               " \"annotations\": {\"k\": \"v\", \"n\": {\"x\": [1, 2]}} }\n",
                               &st, &e),
                         0);
        assert_string_equal(st.id, "a_b.c+d-E9");
        assert_int_equal(st.pid, 2);
        assert_string_equal(st.bundle, "/");
        assert_null(st.status);
        oci_state_free(&st);

        /* a null status is no status; the largest pid the kernel allows */
        assert_int_equal(
            parse("{\"id\":\"x\",\"pid\":4194304,\"bundle\":\"/b\",\"status\":null}", &st, &e), 0);
        assert_int_equal(st.pid, STATE_PID_LIMIT);
        assert_null(st.status);
        oci_state_free(&st);

        /* escapes in strings are decoded */
        assert_int_equal(parse("{\"id\":\"x\",\"pid\":10,\"bundle\":\"/b\\/\\u0063\"}", &st, &e),
                         0);
        assert_string_equal(st.bundle, "/b/c");
        oci_state_free(&st);

        /* a 1024-character id is the longest */
        char text[2048];
        char id[CONTAINER_ID_MAX + 2];
        memset(id, 'a', CONTAINER_ID_MAX);
        id[CONTAINER_ID_MAX] = '\0';
        snprintf(text, sizeof(text), "{\"id\":\"%s\",\"pid\":10,\"bundle\":\"/b\"}", id);
        assert_int_equal(parse(text, &st, &e), 0);
        oci_state_free(&st);
        strcat(id, "a");
        snprintf(text, sizeof(text), "{\"id\":\"%s\",\"pid\":10,\"bundle\":\"/b\"}", id);
        expect_bad(text, "invalid id '");
}

static void test_id(void **state)
{
        expect_bad("{\"pid\":10,\"bundle\":\"/b\"}", "the container state has no 'id'");
        expect_bad("{\"id\":null,\"pid\":10,\"bundle\":\"/b\"}", "has no 'id'");
        expect_bad("{\"id\":7,\"pid\":10,\"bundle\":\"/b\"}", "'state.id' is not a string");
        expect_bad("{\"id\":[\"x\"],\"pid\":10,\"bundle\":\"/b\"}", "'state.id' is not a string");
        static const char *const bad_ids[] = {"",      ".",     "..",  "a/b", "../x",
                                              "a b",   "a\\nb", "a:b", "a;b", "\\u00e9t\\u00e9",
                                              "a\\tb", "$(x)",  "a*",  "/abs"};
        for (size_t i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
                char text[256];
                snprintf(text, sizeof(text), "{\"id\":\"%s\",\"pid\":10,\"bundle\":\"/b\"}",
                         bad_ids[i]);
                expect_bad(text, "(expected letters, digits");
        }
        assert_true(container_id_valid("abc"));
        assert_true(container_id_valid("..."));
        assert_true(container_id_valid(".a"));
        assert_true(
            container_id_valid("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));
        assert_false(container_id_valid(""));
        assert_false(container_id_valid(".."));
        assert_false(container_id_valid("a/b"));
}

static void test_pid(void **state)
{
        expect_bad("{\"id\":\"x\",\"bundle\":\"/b\"}", "the state of container 'x' has no 'pid'");
        expect_bad("{\"id\":\"x\",\"pid\":null,\"bundle\":\"/b\"}", "has no 'pid'");
        expect_bad("{\"id\":\"x\",\"pid\":\"123\",\"bundle\":\"/b\"}",
                   "'state.pid' is not an integer");
        expect_bad("{\"id\":\"x\",\"pid\":12.5,\"bundle\":\"/b\"}",
                   "'state.pid' is not an integer");
        expect_bad("{\"id\":\"x\",\"pid\":12.0,\"bundle\":\"/b\"}",
                   "'state.pid' is not an integer");
        expect_bad("{\"id\":\"x\",\"pid\":1e3,\"bundle\":\"/b\"}", "'state.pid' is not an integer");
        expect_bad("{\"id\":\"x\",\"pid\":true,\"bundle\":\"/b\"}",
                   "'state.pid' is not an integer");
        expect_bad("{\"id\":\"x\",\"pid\":{},\"bundle\":\"/b\"}", "'state.pid' is not an integer");
        expect_bad("{\"id\":\"x\",\"pid\":99999999999999999999,\"bundle\":\"/b\"}",
                   "container 'x' has an invalid pid: out of range");
        expect_bad("{\"id\":\"x\",\"pid\":0,\"bundle\":\"/b\"}",
                   "container 'x' has an invalid pid 0");
        expect_bad("{\"id\":\"x\",\"pid\":1,\"bundle\":\"/b\"}", "invalid pid 1");
        expect_bad("{\"id\":\"x\",\"pid\":-1,\"bundle\":\"/b\"}", "invalid pid -1");
        expect_bad("{\"id\":\"x\",\"pid\":-4863,\"bundle\":\"/b\"}", "invalid pid -4863");
        expect_bad("{\"id\":\"x\",\"pid\":4194305,\"bundle\":\"/b\"}", "invalid pid 4194305");
        expect_bad("{\"id\":\"x\",\"pid\":4294967298,\"bundle\":\"/b\"}", "invalid pid 4294967298");
        expect_bad("{\"id\":\"x\",\"pid\":9223372036854775807,\"bundle\":\"/b\"}", "invalid pid");
}

static void test_bundle(void **state)
{
        expect_bad("{\"id\":\"x\",\"pid\":10}", "the state of container 'x' has no 'bundle'");
        expect_bad("{\"id\":\"x\",\"pid\":10,\"bundle\":null}", "has no 'bundle'");
        expect_bad("{\"id\":\"x\",\"pid\":10,\"bundle\":\"\"}", "has no 'bundle'");
        expect_bad("{\"id\":\"x\",\"pid\":10,\"bundle\":7}", "'state.bundle' is not a string");
        expect_bad("{\"id\":\"x\",\"pid\":10,\"bundle\":\"b/c\"}",
                   "the bundle 'b/c' of container 'x' is not an absolute path");
        expect_bad("{\"id\":\"x\",\"pid\":10,\"bundle\":\"./b\"}", "not an absolute path");
        expect_bad("{\"id\":\"x\",\"pid\":10,\"bundle\":\"/b\",\"status\":1}",
                   "'state.status' is not a string");
}

static void test_duplicate_keys(void **state)
{
        expect_bad("{\"id\":\"x\",\"id\":\"y\",\"pid\":10,\"bundle\":\"/b\"}",
                   "'the container state' has key 'id' twice");
        expect_bad("{\"id\":\"x\",\"pid\":10,\"bundle\":\"/b\",\"pid\":11}", "key 'pid' twice");
        expect_bad("{\"id\":\"x\",\"pid\":10,\"bundle\":\"/a\",\"bundle\":\"/b\"}",
                   "key 'bundle' twice");
        /* members the hook does not read are skipped unread, repeats included */
        struct oci_state st;
        struct shm_error e = {0};
        assert_int_equal(
            parse("{\"id\":\"x\",\"pid\":10,\"bundle\":\"/b\",\"root\":1,\"root\":2}", &st, &e), 0);
        oci_state_free(&st);
        /* and a case variant of a read key is refused, by name */
        expect_bad("{\"id\":\"x\",\"ID\":\"y\",\"pid\":10,\"bundle\":\"/b\"}",
                   "has key 'ID', which runc reads as 'id'");
        expect_bad("{\"id\":\"x\",\"pid\":10,\"Bundle\":\"/c\",\"bundle\":\"/b\"}", "key 'Bundle'");
        expect_bad("{\"id\":\"x\",\"pid\":10,\"bundle\":\"/b\",\"\xc5\xbftatus\":\"x\"}",
                   "which runc reads as 'status'");
}

static void test_malformed(void **state)
{
        static const struct {
                const char *text, *part;
        } cases[] = {
            {"", "the container state on stdin is empty"},
            {"   ", "the container state on stdin is empty"},
            {"{", "is not valid JSON"},
            {"{\"id\":\"x\",", "is not valid JSON"},
            {"{\"id\":\"x\" \"pid\":2}", "is not valid JSON"},
            {"{'id':'x'}", "is not valid JSON"},
            {"{\"id\":\"x\",}", "is not valid JSON"},
            {"[]", "'the container state' is not an object"},
            {"null", "the container state on stdin has no 'id', 'pid' or 'bundle'"},
            {"\"x\"", "'the container state' is not an object"},
            {"42", "'the container state' is not an object"},
            {"{\"id\":\"x\",\"pid\":10,\"bundle\":\"/b\"} x", "is not valid JSON"},
            {"{\"id\":\"x\",\"pid\":10,\"bundle\":\"/b\"}{}", "is not valid JSON"},
            {"{\"id\":\"x\",\"pid\":10,\"bundle\":\"/b\"}\"", "trailing garbage"},
            {"{\"id\":\"x\",\"pid\":10,\"bundle\":\"/b\"} \"x\\", "trailing garbage"},
            {"{\"id\":\"x\",\"pid\":10,\"bundle\":\"/b\"}]", "is not valid JSON"},
            {"{\"id\":\"x\",\"pid\":10,\"bundle\":\"/b\"} /* c */", "is not valid JSON"},
            {"// c\n{\"id\":\"x\",\"pid\":10,\"bundle\":\"/b\"}", "comment"},
            {"{\"id\":\"x\\u0000y\",\"pid\":10,\"bundle\":\"/b\"}",
             "'state.id' contains a NUL character"},
            {"{\"id\":\"x\",\"pid\":10,\"bundle\":\"/b\\u0000/c\"}", "NUL character"},
            /* strings are bytes now (not UTF-8-validated): invalid UTF-8 is an invalid id */
            {"{\"id\":\"\xff\xfe\",\"pid\":10,\"bundle\":\"/b\"}", "has an invalid id"},
            {"{\"id\":\"a\xc3\x28\",\"pid\":10,\"bundle\":\"/b\"}", "(expected letters, digits"},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
                expect_bad(cases[i].text, cases[i].part);

        /* a raw NUL byte, even after a complete document */
        static const char nul[] = "{\"id\":\"x\",\"pid\":10,\"bundle\":\"/b\"}\0garbage";
        struct oci_state st;
        struct shm_error e = {0};
        assert_int_equal(oci_state_parse(nul, sizeof(nul) - 1, &st, &e), -EINVAL);
        assert_contains(e.message, "contains a NUL byte");
        static const char nul2[] = "{\"id\":\"x\0\",\"pid\":10,\"bundle\":\"/b\"}";
        assert_int_equal(oci_state_parse(nul2, sizeof(nul2) - 1, &st, &e), -EINVAL);
        assert_contains(e.message, "NUL byte");

        /* "\\u0000" is a backslash and the text u0000, not a NUL */
        assert_int_equal(parse("{\"id\":\"x\",\"pid\":10,\"bundle\":\"/b\\\\u0000\"}", &st, &e), 0);
        assert_string_equal(st.bundle, "/b\\u0000");
        oci_state_free(&st);

        /*
         * Nesting deeper than JSON_MAX_DEPTH in an ignored member was refused when the
         * state was parsed into a tree; the streamed reader skips it unread, so it is
         * accepted now (on purpose: runc passes every annotation through the state).
         */
        size_t levels = 4 * JSON_MAX_DEPTH, used;
        char deep[4096];
        used = (size_t)snprintf(deep, sizeof(deep),
                                "{\"id\":\"x\",\"annotations\":{\"a\":\"b\"},\"a\":");
        for (size_t i = 0; i < levels; i++)
                used += (size_t)snprintf(deep + used, sizeof(deep) - used, "%s",
                                         i % 2 ? "[" : "{\"k\":");
        deep[used++] = '1';
        for (size_t i = levels; i-- > 0;)
                deep[used++] = i % 2 ? ']' : '}';
        assert_true(used + 64 < sizeof(deep));
        snprintf(deep + used, sizeof(deep) - used, ",\"pid\":10,\"bundle\":\"/b\"}");
        if (parse(deep, &st, &e) != 0)
                fail_msg("deep state '%s': %s", deep, e.message);
        assert_string_equal(st.id, "x");
        assert_int_equal(st.pid, 10);
        assert_string_equal(st.bundle, "/b");
        oci_state_free(&st);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_runc_state),
            cmocka_unit_test(test_crun_state),
            cmocka_unit_test(test_other_shapes),
            cmocka_unit_test(test_id),
            cmocka_unit_test(test_pid),
            cmocka_unit_test(test_bundle),
            cmocka_unit_test(test_duplicate_keys),
            cmocka_unit_test(test_malformed),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
