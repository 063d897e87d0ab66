/* SPDX-License-Identifier: Apache-2.0 */
/* log.c: what reaches syslog and stderr is safe to show (issue 9). */
#include "unit.h"

#include "log.h"

static void expect_sanitized(const char *in, const char *want)
{
        char buf[256];
        snprintf(buf, sizeof(buf), "%s", in);
        log_sanitize(buf);
        if (strcmp(buf, want) != 0) {
                print_error("sanitizing:");
                for (const unsigned char *c = (const unsigned char *)in; *c; c++)
                        print_error(" %02x", *c);
                print_error("\ngot '%s', want '%s'\n", buf, want);
                fail();
        }
}

static void test_valid_text_stays(void **state)
{
        (void)state;
        expect_sanitized("", "");
        expect_sanitized("container=abc image=docker.io/x:1", "container=abc image=docker.io/x:1");
        expect_sanitized("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
                         "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
        expect_sanitized("\xc2\xa0", "\xc2\xa0");                 /* U+00A0, just past C1 */
        expect_sanitized("\xed\x9f\xbf", "\xed\x9f\xbf");         /* U+D7FF */
        expect_sanitized("\xee\x80\x80", "\xee\x80\x80");         /* U+E000 */
        expect_sanitized("\xef\xbf\xbd", "\xef\xbf\xbd");         /* U+FFFD */
        expect_sanitized("\xf0\x90\x80\x80", "\xf0\x90\x80\x80"); /* U+10000 */
        expect_sanitized("\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf"); /* U+10FFFF */
        expect_sanitized("\xe0\xa0\x80", "\xe0\xa0\x80");         /* U+0800 */
}

static void test_c0_and_del(void **state)
{
        (void)state;
        expect_sanitized("a\nb", "a?b");
        expect_sanitized("a\rb\tc", "a?b?c");
        expect_sanitized("\x1b[31mred", "?[31mred");
        expect_sanitized("\x01\x1f\x7f", "???");
        expect_sanitized("x result=grown\ncontainer=forged", "x result=grown?container=forged");
}

static void test_c1_controls(void **state)
{
        (void)state;
        expect_sanitized("\xc2\x9b"
                         "2J",
                         "?2J"); /* CSI: an 8-bit escape sequence */
        expect_sanitized("\xc2\x80", "?");
        expect_sanitized("\xc2\x85next line", "?next line"); /* NEL */
        expect_sanitized("\xc2\x9f", "?");
        expect_sanitized("\xc2\x9d"
                         "0;title\xc2\x9c",
                         "?0;title?"); /* OSC ... ST */
        expect_sanitized("ok \xc2\x9b[2J evil\n", "ok ?[2J evil?");
}

static void test_invalid_utf8(void **state)
{
        (void)state;
        /* overlong forms */
        expect_sanitized("\xc0\xaf", "??");
        expect_sanitized("\xc0\x80", "??"); /* an overlong NUL */
        expect_sanitized("\xc1\xbf", "??");
        expect_sanitized("\xe0\x80\xaf", "???");
        expect_sanitized("\xe0\x9f\xbf", "???");
        expect_sanitized("\xf0\x80\x80\xaf", "????");
        expect_sanitized("\xf0\x8f\xbf\xbf", "????");
        /* surrogates */
        expect_sanitized("\xed\xa0\x80", "???");
        expect_sanitized("\xed\xbf\xbf", "???");
        expect_sanitized("\xed\xa0\xbd\xed\xb8\x80", "??????"); /* a CESU-8 pair */
        /* above U+10FFFF, and bytes that never occur */
        expect_sanitized("\xf4\x90\x80\x80", "????");
        expect_sanitized("\xf5\x80\x80\x80", "????");
        expect_sanitized("\xf8\x88\x80\x80\x80", "?????");
        expect_sanitized("\xfe\xff", "??");
        /* truncated, at the end and before other text */
        expect_sanitized("a\xc3", "a?");
        expect_sanitized("\xe2\x82", "??");
        expect_sanitized("\xe2\x82x", "??x");
        expect_sanitized("\xf0\x9f\x98", "???");
        expect_sanitized("\xf0\x9f\x98"
                         "abc",
                         "???abc");
        expect_sanitized("\xe2\xc2\x9b", "??"); /* a lead byte, then CSI */
        /* stray continuation bytes */
        expect_sanitized("\x80", "?");
        expect_sanitized("a\xbf\xbf"
                         "b",
                         "a??b");
}

static bool is_clean(const unsigned char *s)
{
        for (; *s; s++) {
                if (*s < 0x20 || *s == 0x7f)
                        return false;
                if (s[0] == 0xc2 && s[1] >= 0x80 && s[1] <= 0x9f)
                        return false;
        }
        return true;
}

/* Random bytes: the result never grows, is clean, and sanitizing it again changes nothing. */
static void test_random_bytes(void **state)
{
        unsigned seed = 12345;
        (void)state;
        for (int round = 0; round < 20000; round++) {
                unsigned char in[24];
                char buf[sizeof(in)], again[sizeof(in)];
                size_t len = (size_t)(round % (int)(sizeof(in) - 1));
                for (size_t i = 0; i < len; i++) {
                        seed = seed * 1103515245u + 12345u;
                        unsigned b = (seed >> 16) & 0xff;
                        in[i] = (unsigned char)(b ? b : 0x80);
                        /* lean towards the interesting bytes */
                        if ((seed >> 8) % 4 == 0)
                                in[i] = (unsigned char)(0x80 + (seed >> 24) % 0x80);
                }
                in[len] = '\0';
                memcpy(buf, in, len + 1);
                log_sanitize(buf);
                assert_true(strlen(buf) <= len);
                assert_true(is_clean((const unsigned char *)buf));
                memcpy(again, buf, strlen(buf) + 1);
                log_sanitize(again);
                assert_string_equal(again, buf);
        }
}

/* log_msg: what reaches stderr (and syslog, from the same buffer) is sanitized. */
static void test_log_msg_stderr(void **state)
{
        char path[] = "/tmp/test-log.XXXXXX", out[512] = "";
        int fd = mkstemp(path), saved = dup(STDERR_FILENO);
        (void)state;

        assert_true(fd >= 0 && saved >= 0);
        fflush(stderr);
        assert_true(dup2(fd, STDERR_FILENO) >= 0);
        log_init(LOG_DEBUG, false);
        log_msg(LOG_WARNING, "annotation '%s'", "x\xc2\x9b[2J\xed\xa0\x80\ny");
        log_msg(LOG_INFO, "info goes to syslog only");
        fflush(stderr);
        assert_true(dup2(saved, STDERR_FILENO) >= 0);
        close(saved);
        ssize_t n = pread(fd, out, sizeof(out) - 1, 0);
        close(fd);
        unlink(path);
        assert_true(n > 0);
        out[n] = '\0';
        assert_string_equal(out, "oci-shm-hook: warning: annotation 'x?[2J????y'\n");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_valid_text_stays), cmocka_unit_test(test_c0_and_del),
            cmocka_unit_test(test_c1_controls),      cmocka_unit_test(test_invalid_utf8),
            cmocka_unit_test(test_random_bytes),     cmocka_unit_test(test_log_msg_stderr),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
