/* SPDX-License-Identifier: Apache-2.0 */
/* userns.c: which user namespace the hook runs in, from uid_map text. */
#include "unit.h"

#include "cleanup.h"
#include "fileio.h"
#include "userns.h"

static struct userns parse_ok(const char *text)
{
        struct userns ns;
        struct shm_error e = {0};
        if (userns_parse_uid_map(text, strlen(text), &ns, &e) != 0)
                fail_msg("'%s': %s", text, e.message);
        return ns;
}

static void test_initial_namespace(void **state)
{
        (void)state;
        /* as the kernel prints it: padded to ten columns */
        struct userns ns = parse_ok("         0          0 4294967295\n");
        assert_true(ns.initial);
        assert_true(ns.root_mapped);
        assert_int_equal(ns.root_uid, 0);
        assert_string_equal(userns_format(&ns).s, "");
        assert_true(parse_ok("0 0 4294967295").initial);
}

static void test_rootless_namespaces(void **state)
{
        (void)state;
        /* rootless Podman of user 1000: uid 0 is 1000, then its /etc/subuid range */
        struct userns ns = parse_ok("         0       1000          1\n"
                                    "         1     100000      65536\n");
        assert_false(ns.initial);
        assert_true(ns.root_mapped);
        assert_int_equal(ns.root_uid, 1000);
        assert_string_equal(userns_format(&ns).s, "userns=rootless uid=1000");

        /* the order of the lines does not matter */
        ns = parse_ok("1 100000 65536\n0 4242 1\n");
        assert_int_equal(ns.root_uid, 4242);

        /* a namespace whose uid 0 is unmapped; an empty map (nothing written yet) */
        ns = parse_ok("1000 1000 1\n");
        assert_false(ns.initial);
        assert_false(ns.root_mapped);
        assert_string_equal(userns_format(&ns).s, "userns=rootless uid=unmapped");
        ns = parse_ok("");
        assert_false(ns.initial);
        assert_false(ns.root_mapped);

        /* the whole range, but not as one identity line: not the initial namespace */
        assert_false(parse_ok("0 0 4294967294\n").initial);
        assert_false(parse_ok("0 0 1\n1 1 4294967294\n").initial);
        assert_false(parse_ok("1 0 4294967294\n").initial);
        assert_false(parse_ok("0 0 4294967295\n0 0 4294967295\n").initial);
}

static void test_malformed_maps(void **state)
{
        static const char *const bad[] = {
            "0 0\n",
            "0 0 4294967295 1\n",
            "a b c\n",
            "0 0 -1\n",
            "0 0 4294967296\n",
            "4294967296 0 1\n",
            "0 4294967295 2\n",
            "0 0 0\n",
            "\n",
            "0\t0\t1\n",
            "0 0 1x\n",
            "99999999999999999999 0 1\n",
        };
        (void)state;
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                struct userns ns;
                struct shm_error e = {0};
                if (userns_parse_uid_map(bad[i], strlen(bad[i]), &ns, &e) != -EINVAL)
                        fail_msg("'%s' was accepted", bad[i]);
                assert_contains(e.message, "uid_map line");
        }
}

/* Who may own the policy, in the initial namespace and in a rootless one. */
static void test_owner_trusted(void **state)
{
        (void)state;
        struct userns initial = parse_ok("0 0 4294967295\n");
        assert_int_equal(initial.overflow_uid, 65534);
        assert_true(userns_owner_trusted(&initial, 0, 0));
        assert_true(userns_owner_trusted(&initial, 1000, 1000)); /* whoever runs the hook */
        assert_false(userns_owner_trusted(&initial, 1000, 0));
        assert_false(userns_owner_trusted(&initial, 65534, 0)); /* nobody is not root */

        struct userns rootless = parse_ok("0 1000 1\n1 100000 65536\n");
        assert_true(userns_owner_trusted(&rootless, 0, 0));     /* the user's own files */
        assert_true(userns_owner_trusted(&rootless, 65534, 0)); /* root's, unmapped here */
        assert_false(userns_owner_trusted(&rootless, 1, 0));    /* a subordinate uid */
        assert_false(userns_owner_trusted(&rootless, 33, 0));
        assert_true(userns_owner_trusted(&rootless, 33, 33));
        rootless.overflow_uid = 4242; /* /proc/sys/kernel/overflowuid changed */
        assert_true(userns_owner_trusted(&rootless, 4242, 0));
        assert_false(userns_owner_trusted(&rootless, 65534, 0));
}

/* The hook's own namespace: whatever this test runs in, read from /proc. */
static void test_current(void **state)
{
        _cleanup_free_ char *text = NULL;
        size_t len;
        struct shm_error e = {0};
        struct userns want, got;
        (void)state;

        assert_int_equal(
            read_file_bounded(AT_FDCWD, "/proc/self/uid_map", USERNS_UID_MAP_MAX, &text, &len, &e),
            0);
        assert_int_equal(userns_parse_uid_map(text, len, &want, &e), 0);
        userns_current(&got, &e);
        assert_int_equal(got.initial, want.initial);
        assert_int_equal(got.root_mapped, want.root_mapped);
        assert_int_equal(got.root_uid, want.root_uid);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_initial_namespace), cmocka_unit_test(test_rootless_namespaces),
            cmocka_unit_test(test_malformed_maps),    cmocka_unit_test(test_owner_trusted),
            cmocka_unit_test(test_current),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
