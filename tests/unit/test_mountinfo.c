/* SPDX-License-Identifier: Apache-2.0 */
/* hook/lib/mountinfo.c: the hook's own mountinfo reader, checked against libmount. */
#include "unit.h"

#include <libmount/libmount.h>
#include <sys/sysmacros.h>

#include "mountinfo.h"

static void test_plain_line(void **state)
{
        struct mountinfo_entry e;
        (void)state;

        assert_int_equal(mountinfo_parse_line("68 66 0:42 / /run/x/rootfs/dev/shm "
                                              "rw,nosuid,nodev,noexec,relatime - tmpfs shm "
                                              "rw,size=65536k\n",
                                              &e),
                         0);
        assert_int_equal(e.id, 68);
        assert_int_equal(e.parent_id, 66);
        assert_int_equal(e.major, 0);
        assert_int_equal(e.minor, 42);
        assert_string_equal(e.root, "/");
        assert_string_equal(e.mount_point, "/run/x/rootfs/dev/shm");
        assert_string_equal(e.fstype, "tmpfs");
        assert_string_equal(e.source, "shm");
        mountinfo_entry_free(&e);
}

static void test_optional_fields_and_escapes(void **state)
{
        struct mountinfo_entry e;
        (void)state;

        /* A bind of a directory with a space and a backslash, shared and slave. */
        assert_int_equal(mountinfo_parse_line("1234 25 0:26 /pods/a\\040b\\134c /x\\011y rw "
                                              "shared:7 master:3 - tmpfs tmp\\040fs rw",
                                              &e),
                         0);
        assert_int_equal(e.id, 1234);
        assert_string_equal(e.root, "/pods/a b\\c");
        assert_string_equal(e.mount_point, "/x\ty");
        assert_string_equal(e.fstype, "tmpfs");
        assert_string_equal(e.source, "tmp fs");
        mountinfo_entry_free(&e);

        /* A lone "-" inside a path is escaped by nobody: it must be a whole field. */
        assert_int_equal(mountinfo_parse_line("5 1 8:1 /a-b /c - - ext4 /dev/sda1 rw", &e), 0);
        assert_string_equal(e.root, "/a-b");
        assert_string_equal(e.fstype, "ext4");
        mountinfo_entry_free(&e);

        /* Not an escape: \8 and a trailing backslash stay as they are. */
        assert_int_equal(mountinfo_parse_line("5 1 8:1 /a\\8 /b\\ rw - ext4 src rw", &e), 0);
        assert_string_equal(e.root, "/a\\8");
        assert_string_equal(e.mount_point, "/b\\");
        mountinfo_entry_free(&e);
}

static void test_malformed(void **state)
{
        static const char *const lines[] = {
            "",
            "\n",
            "x 1 0:1 / / rw - tmpfs a b",
            "1 x 0:1 / / rw - tmpfs a b",
            "1 2 01 / / rw - tmpfs a b",
            "1 2 0: / / rw - tmpfs a b",
            "1 2 0:1",
            "1 2 0:1 / / rw",
            "1 2 0:1 / / rw tmpfs a b",
            "1 2 0:1 / / rw shared:1",
            "1 2 0:1 / / rw - ",
            "99999999999 2 0:1 / / rw - tmpfs a b",
            "-1 2 0:1 / / rw - tmpfs a b",
            "1 2 0:99999999999 / / rw - tmpfs a b",
        };
        struct mountinfo_entry e;
        (void)state;

        for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
                int r = mountinfo_parse_line(lines[i], &e);
                if (r != -EINVAL)
                        print_error("line %zu '%s' gave %d\n", i, lines[i], r);
                assert_int_equal(r, -EINVAL);
                assert_null(e.root);
                assert_null(e.fstype);
        }
}

/* Every mount of this machine's own table, read both ways. */
static void test_agrees_with_libmount(void **state)
{
        struct libmnt_table *table = mnt_new_table_from_file("/proc/self/mountinfo");
        struct libmnt_iter *iter = mnt_new_iter(MNT_ITER_FORWARD);
        struct libmnt_fs *fs;
        size_t compared = 0;
        (void)state;

        assert_non_null(table);
        assert_non_null(iter);
        while (mnt_table_next_fs(table, iter, &fs) == 0) {
                struct mountinfo_entry e;
                struct shm_error err = {0};
                int id = mnt_fs_get_id(fs);

                assert_int_equal(mountinfo_find("/proc/self/mountinfo", id, &e, &err), 0);
                assert_int_equal(e.id, id);
                assert_int_equal(e.parent_id, mnt_fs_get_parent_id(fs));
                assert_int_equal(makedev(e.major, e.minor), mnt_fs_get_devno(fs));
                assert_string_equal(e.root, mnt_fs_get_root(fs));
                assert_string_equal(e.mount_point, mnt_fs_get_target(fs));
                /* libmount splits "fuse.sshfs" into type and subtype. */
                const char *type = mnt_fs_get_fstype(fs);
                assert_non_null(type);
                assert_true(strncmp(e.fstype, type, strlen(type)) == 0);
                if (mnt_fs_get_source(fs))
                        assert_string_equal(e.source, mnt_fs_get_source(fs));
                mountinfo_entry_free(&e);
                compared++;
        }
        assert_true(compared > 5);
        mnt_free_iter(iter);
        mnt_unref_table(table);
}

static void test_find_missing(void **state)
{
        struct mountinfo_entry e;
        struct shm_error err = {0};
        (void)state;

        assert_int_equal(mountinfo_find("/proc/self/mountinfo", 0x7ffffff0, &e, &err), -ENOENT);
        assert_contains(err.message, "is not in '/proc/self/mountinfo'");
        assert_int_equal(mountinfo_find("/nonexistent/mountinfo", 1, &e, &err), -ENOENT);
        assert_contains(err.message, "cannot read '/nonexistent/mountinfo'");
}

/* "12 " must not match a line of mount 123. */
static void test_find_by_whole_id(void **state)
{
        char *dir = unit_mkdtemp(), *path;
        struct mountinfo_entry e;
        struct shm_error err = {0};
        FILE *f;
        (void)state;

        assert_true(asprintf(&path, "%s/mountinfo", dir) > 0);
        f = fopen(path, "w");
        assert_non_null(f);
        fputs("123 1 0:1 /wrong /a rw - tmpfs a rw\n12 1 0:2 / /b rw - tmpfs b rw\n", f);
        fclose(f);
        assert_int_equal(mountinfo_find(path, 12, &e, &err), 0);
        assert_string_equal(e.mount_point, "/b");
        mountinfo_entry_free(&e);
        free(path);
        unit_rm_rf(dir);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_plain_line),   cmocka_unit_test(test_optional_fields_and_escapes),
            cmocka_unit_test(test_malformed),    cmocka_unit_test(test_agrees_with_libmount),
            cmocka_unit_test(test_find_missing), cmocka_unit_test(test_find_by_whole_id),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
