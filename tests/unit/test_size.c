/* SPDX-License-Identifier: Apache-2.0 */
/* size.c: the SIZE and N% grammars, size_format and size_percent_of. */
#include "unit.h"

#include "size.h"

#define KiB (1ULL << 10)
#define MiB (1ULL << 20)
#define GiB (1ULL << 30)
#define TiB (1ULL << 40)

static void expect_size(const char *text, uint64_t want)
{
        struct shm_error e = {0};
        uint64_t got = 0;
        if (size_parse(text, &got, &e) != 0)
                fail_msg("size_parse(\"%s\") failed: %s", text, e.message);
        if (got != want)
                fail_msg("size_parse(\"%s\") = %llu, want %llu", text, (unsigned long long)got,
                         (unsigned long long)want);
}

/* Refused with `code` and a message that contains `part` (and quotes the text when asked). */
static void expect_bad_size(const char *text, int code, const char *part)
{
        struct shm_error e = {0};
        uint64_t got = 12345;
        int r = size_parse(text, &got, &e);
        if (r != -code)
                fail_msg("size_parse(\"%s\") = %d (%llu), want %d", text ? text : "(null)", r,
                         (unsigned long long)got, -code);
        assert_int_equal(e.code, code);
        assert_int_equal(got, 12345); /* untouched on failure */
        assert_contains(e.message, part);
}

static void test_size_plain_bytes(void **state)
{
        expect_size("1", 1);
        expect_size("4096", 4096);
        expect_size("010", 10); /* leading zeros are decimal, not octal */
        expect_size("2147483648", 2 * GiB);
        expect_size("18446744073709551615", UINT64_MAX);
        /* exactly SIZE_TEXT_MAX characters is still accepted */
        expect_size("00000000000000000000000000000001", 1);
        assert_int_equal(strlen("00000000000000000000000000000001"), SIZE_TEXT_MAX);
}

static void test_size_units(void **state)
{
        static const struct {
                const char *suffix;
                uint64_t unit;
        } units[] = {
            {"k", KiB},  {"K", KiB}, {"kb", KiB}, {"KB", KiB}, {"Kb", KiB}, {"kB", KiB},
            {"Ki", KiB}, {"m", MiB}, {"M", MiB},  {"mb", MiB}, {"MB", MiB}, {"Mi", MiB},
            {"g", GiB},  {"G", GiB}, {"gb", GiB}, {"GB", GiB}, {"Gb", GiB}, {"Gi", GiB},
            {"t", TiB},  {"T", TiB}, {"tb", TiB}, {"TB", TiB}, {"Ti", TiB},
        };
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
                for (uint64_t n = 1; n <= 3; n++) {
                        char text[32];
                        snprintf(text, sizeof(text), "%llu%s", (unsigned long long)n,
                                 units[i].suffix);
                        expect_size(text, n * units[i].unit);
                }
        }
        expect_size("64000k", 65536000);
        expect_size("65536k", 64 * MiB);
        expect_size("512Mi", 512 * MiB);
        expect_size("16777215t", 16777215ULL * TiB); /* the largest t that fits */
}

static void test_size_2g_equals_2gi(void **state)
{
        uint64_t a = 0, b = 0, c = 0;
        assert_int_equal(size_parse("2g", &a, NULL), 0);
        assert_int_equal(size_parse("2Gi", &b, NULL), 0);
        assert_int_equal(size_parse("2147483648", &c, NULL), 0);
        assert_int_equal(a, 2147483648ULL);
        assert_int_equal(b, a);
        assert_int_equal(c, a);
}

/*
 * The code accepts 'i' after a unit letter of either case ("1gi", "1ki"), like
 * the optional 'b'. That is lenient but unambiguous; "1KI", "1Kib" stay errors.
 */
static void test_size_lowercase_i(void **state)
{
        expect_size("1gi", GiB);
        expect_size("1ki", KiB);
        expect_bad_size("1KI", EINVAL, "unit must be");
        expect_bad_size("1Kib", EINVAL, "unit must be"); /* kibibits: not a size in bytes */
}

/* The units size_format() prints are accepted back (issue 9): "2GiB" as 2g. */
static void test_size_iec_units(void **state)
{
        expect_size("2GiB", 2 * GiB);
        expect_size("2GiB", 2147483648ULL);
        expect_size("512MiB", 512 * MiB);
        expect_size("1KiB", KiB);
        expect_size("1TiB", 1024 * GiB);
        expect_size("3kiB", 3 * KiB);
        expect_size("16777215TiB", 16777215ULL << 40);
        expect_bad_size("16777216TiB", ERANGE, "too large");
        expect_bad_size("1GIB", EINVAL, "unit must be");
        expect_bad_size("1GiBB", EINVAL, "unit must be");
        expect_bad_size("1GiB ", EINVAL, "unit must be");
        expect_bad_size("1iB", EINVAL, "unit must be");
        expect_bad_size("1PiB", EINVAL, "unit must be");
        expect_bad_size("0GiB", EINVAL, "is zero");
        /* every unit the formatter prints parses back to the same number of bytes */
        for (unsigned shift = 10; shift <= 40; shift += 10) {
                struct size_text t = size_format(7ULL << shift);
                char compact[32];
                size_t j = 0;
                for (const char *c = t.s; *c && j + 1 < sizeof(compact); c++)
                        if (*c != ' ')
                                compact[j++] = *c;
                compact[j] = '\0';
                expect_size(compact, 7ULL << shift);
        }
        (void)state;
}

static void test_size_rejected(void **state)
{
        expect_bad_size(NULL, EINVAL, "empty size");
        expect_bad_size("", EINVAL, "empty size");
        expect_bad_size("0", EINVAL, "'0' is zero");
        expect_bad_size("000", EINVAL, "is zero");
        expect_bad_size("0g", EINVAL, "'0g' is zero");
        expect_bad_size("0Ki", EINVAL, "is zero");
        expect_bad_size("-1", EINVAL, "invalid size '-1'");
        expect_bad_size("+1", EINVAL, "invalid size '+1'");
        expect_bad_size("1.5g", EINVAL, "invalid size '1.5g'");
        expect_bad_size(".5g", EINVAL, "invalid size");
        expect_bad_size("1e3", EINVAL, "'1e3'");
        expect_bad_size("0x10", EINVAL, "'0x10'");
        expect_bad_size(" 1g", EINVAL, "' 1g'");
        expect_bad_size("1g ", EINVAL, "'1g '");
        expect_bad_size("1 g", EINVAL, "'1 g'");
        expect_bad_size("1\tg", EINVAL, "invalid size");
        expect_bad_size("1g\n", EINVAL, "invalid size");
        expect_bad_size("1gb2", EINVAL, "'1gb2'");
        expect_bad_size("1gg", EINVAL, "invalid size");
        expect_bad_size("1bb", EINVAL, "invalid size");
        expect_bad_size("1b", EINVAL, "invalid size"); /* b alone is not a unit */
        expect_bad_size("1p", EINVAL, "invalid size"); /* no peta */
        expect_bad_size("1P", EINVAL, "invalid size");
        expect_bad_size("1Pi", EINVAL, "invalid size");
        expect_bad_size("1E", EINVAL, "invalid size");
        expect_bad_size("1K8s", EINVAL, "invalid size");
        expect_bad_size("g", EINVAL, "invalid size 'g'");
        expect_bad_size("Gi", EINVAL, "invalid size");
        expect_bad_size("1g; rm -rf /", EINVAL, "invalid size");
        expect_bad_size("1,000", EINVAL, "invalid size");
        expect_bad_size("1_000", EINVAL, "invalid size");
        expect_bad_size("１g", EINVAL, "invalid size"); /* fullwidth digit */
        expect_bad_size("1m\xc2\xa0", EINVAL, "invalid size");
}

static void test_size_overflow(void **state)
{
        expect_bad_size("18446744073709551616", ERANGE, "too large");
        expect_bad_size("99999999999999999999", ERANGE, "'99999999999999999999' is too large");
        expect_bad_size("17179869184t", ERANGE, "too large");
        expect_bad_size("16777216t", ERANGE, "too large"); /* 2^64 exactly */
        expect_bad_size("16777216Ti", ERANGE, "too large");
        expect_bad_size("17179869184g", ERANGE, "too large");
        expect_bad_size("18014398509481984k", ERANGE, "too large");
}

static void test_size_too_long(void **state)
{
        /* 33 characters, well-formed otherwise */
        expect_bad_size("000000000000000000000000000000001", EINVAL, "too long");
        char text[4096];
        memset(text, '9', sizeof(text) - 1);
        text[sizeof(text) - 1] = '\0';
        struct shm_error e = {0};
        uint64_t v;
        assert_int_equal(size_parse(text, &v, &e), -EINVAL);
        assert_contains(e.message, "too long");
        /* the message quotes at most SIZE_TEXT_MAX characters of the text */
        assert_true(strlen(e.message) < 100);
}

static void expect_percent(const char *text, unsigned want)
{
        struct shm_error e = {0};
        unsigned got = 0;
        if (percent_parse(text, &got, &e) != 0)
                fail_msg("percent_parse(\"%s\") failed: %s", text, e.message);
        assert_int_equal(got, want);
}

static void expect_bad_percent(const char *text)
{
        struct shm_error e = {0};
        unsigned got = 777;
        if (percent_parse(text, &got, &e) != -EINVAL)
                fail_msg("percent_parse(\"%s\") accepted: %u", text, got);
        assert_int_equal(got, 777);
        assert_int_equal(e.code, EINVAL);
        char quoted[64];
        snprintf(quoted, sizeof(quoted), "'%s'", text);
        assert_contains(e.message, quoted);
        assert_contains(e.message, "1 to 100");
}

static void test_percent(void **state)
{
        for (unsigned n = 1; n <= 100; n++) {
                char text[8];
                snprintf(text, sizeof(text), "%u%%", n);
                expect_percent(text, n);
        }
        expect_percent("050%", 50);
        expect_bad_percent("0%");
        expect_bad_percent("00%");
        expect_bad_percent("101%");
        expect_bad_percent("1000%");
        expect_bad_percent("99999999999999999999%");
        expect_bad_percent("5.5%");
        expect_bad_percent("%");
        expect_bad_percent("");
        expect_bad_percent("50");
        expect_bad_percent("50%%");
        expect_bad_percent("50 %");
        expect_bad_percent(" 50%");
        expect_bad_percent("50% ");
        expect_bad_percent("-5%");
        expect_bad_percent("+5%");
        expect_bad_percent("5g%");
}

static void expect_format(uint64_t bytes, const char *want)
{
        struct size_text t = size_format(bytes);
        if (strcmp(t.s, want) != 0)
                fail_msg("size_format(%llu) = \"%s\", want \"%s\"", (unsigned long long)bytes, t.s,
                         want);
}

static void test_size_format(void **state)
{
        expect_format(0, "0 B");
        expect_format(1, "1 B");
        expect_format(512, "512 B");
        expect_format(1023, "1023 B");
        expect_format(KiB, "1 KiB");
        expect_format(1536, "1.50 KiB");
        expect_format(64 * MiB, "64 MiB");
        expect_format(2 * GiB, "2 GiB");
        expect_format(GiB + GiB / 2, "1.50 GiB");
        expect_format(3 * TiB, "3 TiB");
        expect_format(1ULL << 50, "1 PiB");
        expect_format(1ULL << 60, "1 EiB");
        expect_format(UINT64_MAX, "16.00 EiB");
        /* Podman's 64000k: not a whole MiB, so two decimals in MiB. */
        expect_format(65536000, "62.50 MiB");
        expect_format(GiB - 1, "1024.00 MiB");
}

static void expect_percent_of(uint64_t total, unsigned percent)
{
        unsigned __int128 exact = (unsigned __int128)total * percent / 100;
        uint64_t want = (uint64_t)exact & ~(uint64_t)4095;
        uint64_t got = size_percent_of(total, percent);
        if (got != want)
                fail_msg("size_percent_of(%llu, %u) = %llu, want %llu", (unsigned long long)total,
                         percent, (unsigned long long)got, (unsigned long long)want);
        assert_int_equal(got % 4096, 0);
        assert_true(got <= total);
}

static void test_size_percent_of(void **state)
{
        assert_int_equal(size_percent_of(8 * GiB, 50), 4 * GiB);
        assert_int_equal(size_percent_of(8 * GiB, 100), 8 * GiB);
        assert_int_equal(size_percent_of(GiB, 25), 256 * MiB);
        assert_int_equal(size_percent_of(1000, 50), 0); /* below a page */
        assert_int_equal(size_percent_of(0, 50), 0);
        assert_int_equal(size_percent_of(10000, 50), 4096); /* 5000 rounded down */
        assert_int_equal(size_percent_of(UINT64_MAX, 100), UINT64_MAX & ~4095ULL);
        static const uint64_t totals[] = {
            1,          99,          100,        4095,       4096,           123456789,
            1ULL << 33, 3 * GiB + 7, 1ULL << 62, UINT64_MAX, UINT64_MAX - 1, 7 * TiB + 12345};
        for (size_t i = 0; i < sizeof(totals) / sizeof(totals[0]); i++)
                for (unsigned p = 1; p <= 100; p++)
                        expect_percent_of(totals[i], p);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_size_plain_bytes),
            cmocka_unit_test(test_size_units),
            cmocka_unit_test(test_size_2g_equals_2gi),
            cmocka_unit_test(test_size_lowercase_i),
            cmocka_unit_test(test_size_iec_units),
            cmocka_unit_test(test_size_rejected),
            cmocka_unit_test(test_size_overflow),
            cmocka_unit_test(test_size_too_long),
            cmocka_unit_test(test_percent),
            cmocka_unit_test(test_size_format),
            cmocka_unit_test(test_size_percent_of),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
