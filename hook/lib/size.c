/* SPDX-License-Identifier: Apache-2.0 */
#include "size.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static bool is_digit(char c)
{
        return c >= '0' && c <= '9';
}

/* Parse a run of decimal digits; *end points past it. */
static int parse_digits(const char *text, const char **end, uint64_t *value)
{
        uint64_t v = 0;
        const char *p = text;

        if (!is_digit(*p))
                return -EINVAL;
        for (; is_digit(*p); p++)
                if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, *p - '0', &v))
                        return -ERANGE;
        *end = p;
        *value = v;
        return 0;
}

static int unit_shift(char c)
{
        switch (c) {
        case 'k':
        case 'K':
                return 10;
        case 'm':
        case 'M':
                return 20;
        case 'g':
        case 'G':
                return 30;
        case 't':
        case 'T':
                return 40;
        default:
                return -1;
        }
}

/* After the unit letter: nothing, b or B (2gb), i (2Gi) or iB (2GiB). The end, or NULL. */
static const char *unit_suffix_end(const char *p)
{
        if (*p == 'b' || *p == 'B')
                p++;
        else if (*p == 'i')
                p += p[1] == 'B' ? 2 : 1;
        return *p == '\0' ? p : NULL;
}

/* The reason a size is refused, once it is known to be. */
static int size_problem(const char *text, int r, struct shm_error *err)
{
        if (strlen(text) > SIZE_TEXT_MAX)
                return shm_error_set(err, EINVAL, "size '%.*s...' is too long", SIZE_TEXT_MAX,
                                     text);
        if (r == -ERANGE)
                return shm_error_set(err, ERANGE, "size '%s' is too large", text);
        if (r < 0)
                return shm_error_set(err, EINVAL,
                                     "invalid size '%s': expected a whole number of bytes with "
                                     "an optional unit k, m, g, t, Ki, Mi, Gi, Ti or KiB, MiB, "
                                     "GiB, TiB",
                                     text);
        return shm_error_set(err, EINVAL,
                             "invalid size '%s': unit must be one of k, m, g, t (optionally "
                             "followed by b), Ki, Mi, Gi, Ti or KiB, MiB, GiB, TiB",
                             text);
}

/* Every policy rule's shm= goes through here: no strlen() unless it fails. */
int size_parse(const char *text, uint64_t *bytes, struct shm_error *err)
{
        const char *p = text, *end;
        uint64_t value;
        int shift = 0, r;

        if (!text || !*text)
                return shm_error_set(err, EINVAL, "empty size");
        r = parse_digits(text, &p, &value);
        if (r < 0)
                return size_problem(text, r, err);
        end = p;
        if (*p) {
                shift = unit_shift(*p);
                if (shift < 0 || !(end = unit_suffix_end(p + 1)))
                        return size_problem(text, 0, err);
        }
        if (end - text > SIZE_TEXT_MAX)
                return size_problem(text, 0, err);
        if (value == 0)
                return shm_error_set(err, EINVAL, "size '%s' is zero", text);
        if (value > (UINT64_MAX >> shift))
                return shm_error_set(err, ERANGE, "size '%s' is too large", text);
        *bytes = value << shift;
        return 0;
}

int percent_parse(const char *text, unsigned *percent, struct shm_error *err)
{
        const char *p;
        uint64_t value;

        if (parse_digits(text, &p, &value) < 0 || strcmp(p, "%") != 0 || value < 1 || value > 100)
                return shm_error_set(err, EINVAL,
                                     "invalid percentage '%s': expected a whole number from 1 "
                                     "to 100 followed by %%",
                                     text);
        *percent = (unsigned)value;
        return 0;
}

struct size_text size_format(uint64_t bytes)
{
        static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        struct size_text t;
        unsigned u = 0;

        while (u + 1 < sizeof(units) / sizeof(units[0]) && bytes >= (1ULL << (10 * (u + 1))))
                u++;
        if (bytes % (1ULL << (10 * u)) == 0)
                snprintf(t.s, sizeof(t.s), "%llu %s", (unsigned long long)(bytes >> (10 * u)),
                         units[u]);
        else
                snprintf(t.s, sizeof(t.s), "%.2f %s", (double)bytes / (double)(1ULL << (10 * u)),
                         units[u]);
        return t;
}

uint64_t size_percent_of(uint64_t total, unsigned percent)
{
        return size_pages_down(total / 100 * percent + total % 100 * percent / 100);
}

uint64_t size_lower_limit(uint64_t a, uint64_t b)
{
        return !a ? b : !b ? a : a < b ? a : b;
}

uint64_t size_pages_down(uint64_t bytes)
{
        return bytes & ~(SIZE_PAGE_BYTES - 1);
}

uint64_t size_pages_up(uint64_t bytes)
{
        if (bytes > UINT64_MAX - (SIZE_PAGE_BYTES - 1))
                return size_pages_down(UINT64_MAX);
        return size_pages_down(bytes + SIZE_PAGE_BYTES - 1);
}
