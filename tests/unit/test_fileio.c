/* SPDX-License-Identifier: Apache-2.0 */
/* fileio.c: bounded reads, and the files they refuse. */
#include "unit.h"

#include "fileio.h"

/* Write `text` to dir/name and read it back with read_fd_bounded(size, max). */
static void expect_read(const char *dir, const char *name, const char *text, size_t size,
                        size_t max)
{
        struct shm_error e = {0};
        char *path, *out = NULL;
        size_t len = 0;

        unit_write(dir, name, text);
        path = unit_path(dir, name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        assert_int_equal(read_fd_bounded(fd, size, max, name, &out, &len, &e), 0);
        assert_int_equal(len, strlen(text));
        assert_string_equal(out, text); /* NUL-terminated */
        free(out);
        close(fd);
        free(path);
}

static void test_read_fd_bounded(void **state)
{
        struct shm_error e = {0};
        char *dir = unit_mkdtemp(), *path, *out = NULL;
        size_t len = 0;
        int fd;

        expect_read(dir, "f", "hello", 0, 5);
        /* With the size fstat gave: the same text. */
        expect_read(dir, "f", "hello", 5, 16);
        /* A file that grew after its fstat is read to its end, not to the old size. */
        expect_read(dir, "grown", "hello, world", 5, 64);
        /* An empty input is an empty string. */
        expect_read(dir, "empty", "", 0, 16);

        /* One byte over the cap: EFBIG, the message names the input, nothing returned. */
        path = unit_path(dir, "f");
        fd = open(path, O_RDONLY | O_CLOEXEC);
        assert_int_equal(read_fd_bounded(fd, 0, 4, "the input", &out, &len, &e), -EFBIG);
        assert_contains(e.message, "the input");
        assert_null(out);
        close(fd);
        free(path);
        unit_rm_rf(dir);
}

static void test_open_regular_file(void **state)
{
        struct shm_error e = {0};
        char *dir = unit_mkdtemp(), *out = NULL, *fifo;
        int dir_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC), fd;
        size_t len, size = 0;

        unit_write(dir, "config.json", "{}");
        fd = open_regular_file(dir_fd, "config.json", 16, &size, &e);
        assert_true(fd >= 0);
        assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
        assert_int_equal(size, 2);
        close(fd);

        /* Larger than the cap, by its size, before reading. */
        assert_int_equal(open_regular_file(dir_fd, "config.json", 1, NULL, &e), -EFBIG);

        /* A symlink in the last component is refused, even to a good file. */
        assert_int_equal(symlinkat("config.json", dir_fd, "link"), 0);
        assert_int_equal(open_regular_file(dir_fd, "link", 16, NULL, &e), -ELOOP);
        assert_contains(e.message, "'link' is a symbolic link");

        /* A FIFO would block a reader: refused without opening it for reading. */
        fifo = unit_path(dir, "fifo");
        assert_int_equal(mkfifo(fifo, 0600), 0);
        assert_true(open_regular_file(dir_fd, "fifo", 16, NULL, &e) < 0);
        assert_contains(e.message, "not a regular file");

        /* A directory, and a missing file. */
        assert_int_equal(mkdirat(dir_fd, "sub", 0700), 0);
        assert_true(open_regular_file(dir_fd, "sub", 16, NULL, &e) < 0);
        assert_int_equal(open_regular_file(dir_fd, "missing", 16, NULL, &e), -ENOENT);
        assert_contains(e.message, "'missing'");

        /* read_file_bounded: the two together. */
        assert_int_equal(read_file_bounded(dir_fd, "config.json", 16, &out, &len, &e), 0);
        assert_string_equal(out, "{}");
        free(out);
        close(dir_fd);
        free(fifo);
        unit_rm_rf(dir);
}

static void test_small_helpers(void **state)
{
        char *dir = unit_mkdtemp(), *a, *b, *c;

        assert_int_equal(has_nul_byte("abc", 3), 0);
        assert_int_equal(has_nul_byte("a\0c", 3), 1);
        assert_int_equal(has_nul_byte("abc\0", 3), 0); /* only within the length */

        unit_write(dir, "a", "x");
        unit_write(dir, "c", "x");
        a = unit_path(dir, "a");
        b = unit_path(dir, "b");
        c = unit_path(dir, "c");
        assert_int_equal(link(a, b), 0);
        assert_true(same_file(a, b));
        assert_false(same_file(a, c)); /* same bytes, another file */
        assert_false(same_file(a, "/nonexistent/x"));
        free(a);
        free(b);
        free(c);
        unit_rm_rf(dir);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_read_fd_bounded),
            cmocka_unit_test(test_open_regular_file),
            cmocka_unit_test(test_small_helpers),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
