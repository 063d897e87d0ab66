/* SPDX-License-Identifier: Apache-2.0 */
/* status.c: the parsers and formatting behind `oci-shm-hook status`. */
#include "unit.h"

#include "status.h"

static void test_prom_escape(void **state)
{
        char buf[64];
        (void)state;
        status_prom_escape("a\"b\\c\nd", buf, sizeof(buf));
        assert_string_equal(buf, "a\\\"b\\\\c\\nd");
        status_prom_escape(NULL, buf, sizeof(buf));
        assert_string_equal(buf, "");
        /* Never cut an escape in half. */
        status_prom_escape("\\\\\\\\\\\\", buf, 6);
        assert_string_equal(buf, "\\\\\\\\");
}

/* /proc/PID/cgroup of a Podman container on this machine's hybrid hierarchy. */
#define HYBRID                                                                                     \
        "12:pids:/libpod_parent/libpod-0123\n"                                                     \
        "11:memory:/libpod_parent/libpod-0123\n"                                                   \
        "10:cpu,cpuacct:/libpod_parent/libpod-0123\n"                                              \
        "1:name=systemd:/libpod_parent/libpod-0123\n"                                              \
        "0::/\n"

static void test_cgroup_path(void **state)
{
        char path[256];
        (void)state;
        assert_int_equal(status_cgroup_memory_path(HYBRID, path, sizeof(path)), 1);
        assert_string_equal(path, "/libpod_parent/libpod-0123");
        /* The v1 line wins even after the unified one. */
        assert_int_equal(status_cgroup_memory_path("0::/x\n3:memory:/y\n", path, sizeof(path)), 1);
        assert_string_equal(path, "/y");
        assert_int_equal(status_cgroup_memory_path("0::/kubepods/pod1/abc\n", path, sizeof(path)),
                         2);
        assert_string_equal(path, "/kubepods/pod1/abc");
        assert_int_equal(status_cgroup_memory_path("4:memory,foo:/z", path, sizeof(path)), 1);
        assert_string_equal(path, "/z");
        /* Not memory: "memoryx", a name= hierarchy. */
        assert_int_equal(
            status_cgroup_memory_path("4:memoryx:/z\n1:name=memory:/q\n", path, sizeof(path)), 0);
        assert_int_equal(status_cgroup_memory_path("4:memory:/a/../../etc\n", path, sizeof(path)),
                         0);
        assert_int_equal(status_cgroup_memory_path("4:memory:relative\n", path, sizeof(path)), 0);
        assert_int_equal(status_cgroup_memory_path("garbage", path, sizeof(path)), 0);
        assert_int_equal(status_cgroup_memory_path("", path, sizeof(path)), 0);
        assert_int_equal(status_cgroup_memory_path("4:memory:/toolongforthebuffer\n", path, 8), 0);
        /* "/a/..b" is a name, not a step up. */
        assert_int_equal(status_cgroup_memory_path("4:memory:/a/..b\n", path, sizeof(path)), 1);
}

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_id_from_cgroup(void **state)
{
        char id[128];
        (void)state;
        assert_true(status_id_from_cgroup("/libpod_parent/libpod-" HEX64, id, sizeof(id)));
        assert_string_equal(id, HEX64);
        assert_true(status_id_from_cgroup("/system.slice/docker-" HEX64 ".scope", id, sizeof(id)));
        assert_string_equal(id, HEX64);
        assert_true(status_id_from_cgroup("/docker/" HEX64, id, sizeof(id)));
        assert_string_equal(id, HEX64);
        assert_true(status_id_from_cgroup("/my-runc-container", id, sizeof(id)));
        assert_string_equal(id, "my-runc-container");
        assert_false(status_id_from_cgroup("/", id, sizeof(id)));
        assert_false(status_id_from_cgroup("/a/b c", id, sizeof(id)));
        assert_false(status_id_from_cgroup("/libpod-", id, sizeof(id)));
        assert_false(status_id_from_cgroup("/" HEX64, id, 10));
}

static void test_engine(void **state)
{
        (void)state;
        assert_string_equal(status_guess_engine("conmon", "/libpod_parent/libpod-1"), "podman");
        assert_string_equal(status_guess_engine("conmon", "/kubepods/crio-1.scope"), "cri-o");
        assert_string_equal(status_guess_engine("containerd-shim", "/docker/1"), "docker");
        assert_string_equal(status_guess_engine("containerd-shim", "/kubepods/pod1/1"),
                            "containerd");
        assert_string_equal(status_guess_engine("runc", "/x"), "runc");
        assert_string_equal(status_guess_engine("crun", "/x"), "crun");
        assert_string_equal(status_guess_engine("bash", "/x"), "unknown");
        assert_string_equal(status_guess_engine("", ""), "unknown");
}

static void test_human(void **state)
{
        char buf[16];
        (void)state;
        status_human(0, buf, sizeof(buf));
        assert_string_equal(buf, "0");
        status_human(1023, buf, sizeof(buf));
        assert_string_equal(buf, "1023");
        status_human(2ull << 30, buf, sizeof(buf));
        assert_string_equal(buf, "2.0G");
        status_human(12ull << 20, buf, sizeof(buf));
        assert_string_equal(buf, "12M");
        status_human(64000ull << 10, buf, sizeof(buf));
        assert_string_equal(buf, "63M");
        /* Rounded up as df -h does: 1.71 GiB is 1.8G, never 1.7G. */
        status_human(1836098437ull, buf, sizeof(buf));
        assert_string_equal(buf, "1.8G");
        status_human(UINT64_MAX, buf, sizeof(buf));
        assert_string_equal(buf, "16E");
}

static void test_percent(void **state)
{
        (void)state;
        assert_int_equal(status_use_percent(0, 0), 0);
        assert_int_equal(status_use_percent(0, 100), 0);
        assert_int_equal(status_use_percent(1, 100), 1);
        assert_int_equal(status_use_percent(1, 1000), 1); /* rounded up, as df */
        assert_int_equal(status_use_percent(90, 100), 90);
        assert_int_equal(status_use_percent(100ull << 20, 256ull << 20), 40);
        assert_int_equal(status_use_percent(UINT64_MAX, UINT64_MAX), 100);
        assert_int_equal(status_use_percent(5, 3), 100);
}

static void test_limit(void **state)
{
        uint64_t v = 0;
        (void)state;
        assert_true(status_parse_limit("536870912\n", &v));
        assert_int_equal(v, 536870912);
        assert_false(status_parse_limit("max\n", &v));
        assert_false(status_parse_limit("9223372036854771712\n", &v)); /* v1 "unlimited" */
        assert_false(status_parse_limit("", &v));
        assert_false(status_parse_limit("-1\n", &v));
        assert_false(status_parse_limit("12 x", &v));
        assert_false(status_parse_limit("99999999999999999999999", &v));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_prom_escape),    cmocka_unit_test(test_cgroup_path),
            cmocka_unit_test(test_id_from_cgroup), cmocka_unit_test(test_engine),
            cmocka_unit_test(test_human),          cmocka_unit_test(test_percent),
            cmocka_unit_test(test_limit),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
