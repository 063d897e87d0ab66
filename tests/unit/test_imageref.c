/* SPDX-License-Identifier: Apache-2.0 */
/* imageref.c: Docker-style normalization and the four forms an image= glob is tried on. */
#include "unit.h"

#include "imageref.h"

#define DIGEST "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* Parse `text` and compare its forms, in order, to the NULL-terminated list. */
static void expect_forms(const char *text, ...)
{
        struct shm_error e = {0};
        struct image_ref ref;
        va_list ap;
        size_t n = 0;

        if (image_ref_parse(text, &ref, &e) != 0)
                fail_msg("image_ref_parse(\"%s\") failed: %s", text, e.message);
        va_start(ap, text);
        for (const char *want; (want = va_arg(ap, const char *)); n++) {
                if (n >= ref.n_forms)
                        fail_msg("'%s': only %zu forms, missing '%s'", text, ref.n_forms, want);
                if (strcmp(ref.forms[n], want) != 0)
                        fail_msg("'%s': form %zu is '%s', want '%s'", text, n, ref.forms[n], want);
        }
        va_end(ap);
        if (n != ref.n_forms)
                fail_msg("'%s': %zu forms, want %zu (extra '%s')", text, ref.n_forms, n,
                         ref.forms[n]);
        assert_string_equal(image_ref_full(&ref), ref.forms[0]);
        /* policy.c relies on it: every form is part of the first */
        for (size_t i = 0; i < ref.n_forms; i++)
                if (!strstr(ref.forms[0], ref.forms[i]))
                        fail_msg("'%s': form '%s' is not part of '%s'", text, ref.forms[i],
                                 ref.forms[0]);
        image_ref_free(&ref);
        assert_int_equal(ref.n_forms, 0);
}

static void expect_invalid(const char *text, const char *part)
{
        struct shm_error e = {0};
        struct image_ref ref;
        int r = image_ref_parse(text, &ref, &e);
        if (r != -EINVAL)
                fail_msg("image_ref_parse(\"%s\") = %d, want -EINVAL (forms: %zu, first '%s')",
                         text ? text : "(null)", r, ref.n_forms, ref.n_forms ? ref.forms[0] : "");
        assert_int_equal(ref.n_forms, 0);
        assert_null(image_ref_full(&ref));
        assert_int_equal(e.code, EINVAL);
        assert_contains(e.message, part);
        image_ref_free(&ref); /* harmless on a failed parse */
}

static void test_official_images(void **state)
{
        expect_forms("redis:7", "docker.io/library/redis:7", "redis:7", "docker.io/library/redis",
                     "redis", NULL);
        expect_forms("postgres", "docker.io/library/postgres:latest", "postgres:latest",
                     "docker.io/library/postgres", "postgres", NULL);
        expect_forms("postgres:16", "docker.io/library/postgres:16", "postgres:16",
                     "docker.io/library/postgres", "postgres", NULL);
}

static void test_same_image_spelled_differently(void **state)
{
        static const char *const spellings[] = {
            "postgres:16",
            "library/postgres:16",
            "docker.io/postgres:16",
            "docker.io/library/postgres:16",
            "index.docker.io/postgres:16",
            "index.docker.io/library/postgres:16",
        };
        for (size_t i = 0; i < sizeof(spellings) / sizeof(spellings[0]); i++)
                expect_forms(spellings[i], "docker.io/library/postgres:16", "postgres:16",
                             "docker.io/library/postgres", "postgres", NULL);
}

static void test_docker_hub_user_images(void **state)
{
        expect_forms("selenium/standalone-chrome:4.10", "docker.io/selenium/standalone-chrome:4.10",
                     "selenium/standalone-chrome:4.10", "docker.io/selenium/standalone-chrome",
                     "selenium/standalone-chrome", NULL);
        expect_forms("docker.io/pytorch/pytorch", "docker.io/pytorch/pytorch:latest",
                     "pytorch/pytorch:latest", "docker.io/pytorch/pytorch", "pytorch/pytorch",
                     NULL);
        /* library/ is dropped only from one-part names, as Docker does */
        expect_forms("docker.io/library/foo/bar:1", "docker.io/library/foo/bar:1",
                     "library/foo/bar:1", "docker.io/library/foo/bar", "library/foo/bar", NULL);
}

static void test_other_registries_dedup(void **state)
{
        /* Familiar and full forms are the same: two forms, not four. */
        expect_forms("localhost/foo", "localhost/foo:latest", "localhost/foo", NULL);
        expect_forms("localhost:5000/foo/bar:v1", "localhost:5000/foo/bar:v1",
                     "localhost:5000/foo/bar", NULL);
        expect_forms("quay.io/x/y:1", "quay.io/x/y:1", "quay.io/x/y", NULL);
        expect_forms("registry:5000/a/b", "registry:5000/a/b:latest", "registry:5000/a/b", NULL);
        expect_forms("registry:5000/a/b:tag", "registry:5000/a/b:tag", "registry:5000/a/b", NULL);
        expect_forms("registry.k8s.io/pause:3.9", "registry.k8s.io/pause:3.9",
                     "registry.k8s.io/pause", NULL);
        /* an upper-case first part is a host, as in Docker's splitDockerDomain */
        expect_forms("Registry/app", "Registry/app:latest", "Registry/app", NULL);
        /* a one-part name on another registry gets no library/ */
        expect_forms("quay.io/busybox", "quay.io/busybox:latest", "quay.io/busybox", NULL);
}

static void test_digests(void **state)
{
        expect_forms("redis@" DIGEST, "docker.io/library/redis@" DIGEST, "redis@" DIGEST,
                     "docker.io/library/redis", "redis", NULL);
        expect_forms("redis:7@" DIGEST, "docker.io/library/redis:7@" DIGEST, "redis:7@" DIGEST,
                     "docker.io/library/redis", "redis", NULL);
        expect_forms("quay.io/x/y@" DIGEST, "quay.io/x/y@" DIGEST, "quay.io/x/y", NULL);
        expect_forms("registry:5000/a/b:1@" DIGEST, "registry:5000/a/b:1@" DIGEST,
                     "registry:5000/a/b", NULL);
        /* other algorithms and longer encodings */
        expect_forms("quay.io/x/y@sha512:"
                     "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
                     "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                     "quay.io/x/y@sha512:"
                     "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
                     "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                     "quay.io/x/y", NULL);
        expect_forms("a@multihash+base58:0123456789abcdef0123456789abcdef",
                     "docker.io/library/a@multihash+base58:0123456789abcdef0123456789abcdef",
                     "a@multihash+base58:0123456789abcdef0123456789abcdef", "docker.io/library/a",
                     "a", NULL);
}

static void test_name_components(void **state)
{
        expect_forms("a/b_c__d.e-f---g:1", "docker.io/a/b_c__d.e-f---g:1", "a/b_c__d.e-f---g:1",
                     "docker.io/a/b_c__d.e-f---g", "a/b_c__d.e-f---g", NULL);
        expect_forms("x:A_b.c-D", "docker.io/library/x:A_b.c-D", "x:A_b.c-D", "docker.io/library/x",
                     "x", NULL);
        /* localhost:5000 without a slash is an image named localhost, tag 5000 */
        expect_forms("localhost:5000", "docker.io/library/localhost:5000", "localhost:5000",
                     "docker.io/library/localhost", "localhost", NULL);
        /* as in Docker, "redis:7/8" is repository 8 on the registry host redis, port 7 */
        expect_forms("redis:7/8", "redis:7/8:latest", "redis:7/8", NULL);
        /* a 128-character tag is the longest allowed */
        char text[256];
        snprintf(text, sizeof(text), "redis:%0128d", 7);
        struct image_ref ref;
        assert_int_equal(image_ref_parse(text, &ref, NULL), 0);
        image_ref_free(&ref);
}

static void test_invalid(void **state)
{
        expect_invalid(NULL, "empty image reference");
        expect_invalid("", "empty image reference");
        expect_invalid("Redis", "invalid image reference 'Redis'");
        expect_invalid("foo/Bar", "invalid image reference");
        expect_invalid("quay.io/X/y", "invalid");
        expect_invalid("redis:", "invalid");
        expect_invalid("redis:-7", "invalid");
        expect_invalid("redis:.7", "invalid");
        expect_invalid("redis:7 8", "invalid");
        expect_invalid("redis:7:8", "invalid");
        expect_invalid("redis@", "invalid");
        expect_invalid("redis@sha256", "invalid");
        expect_invalid("redis@sha256:", "invalid");
        expect_invalid("redis@sha256:0123", "invalid"); /* shorter than 32 */
        expect_invalid("redis@sha256:0123456789abcdef0123456789abcdeg0123456789abcdef", "invalid");
        expect_invalid("redis@:0123456789abcdef0123456789abcdef", "invalid");
        expect_invalid("redis@1sha:0123456789abcdef0123456789abcdef", "invalid");
        expect_invalid("redis@sha256+:0123456789abcdef0123456789abcdef", "invalid");
        expect_invalid("redis@" DIGEST "@" DIGEST, "invalid");
        expect_invalid("foo//bar", "invalid");
        expect_invalid("docker.io//redis", "invalid");
        expect_invalid("/redis", "invalid");
        expect_invalid("redis/", "invalid");
        expect_invalid(":7", "invalid");
        expect_invalid("@" DIGEST, "invalid");
        expect_invalid("a/-b", "invalid");
        expect_invalid("a/b-", "invalid");
        expect_invalid("a/b___c", "invalid");
        expect_invalid("a/b..c", "invalid");
        expect_invalid("a/b._c", "invalid");
        expect_invalid(" redis", "invalid");
        expect_invalid("redis ", "invalid");
        expect_invalid("re dis", "invalid");
        expect_invalid("-registry.io/a", "invalid");
        expect_invalid("registry.io./a", "invalid");
        expect_invalid("registry..io/a", "invalid");
        expect_invalid("registry.io:/a", "invalid");
        expect_invalid("registry.io:123456/a", "invalid");
        expect_invalid("registry.io:80x/a", "invalid");
        expect_invalid("reg_istry.io/a", "invalid");
        expect_invalid("caf\xc3\xa9/a", "invalid");
        expect_invalid("../../etc/passwd", "invalid");
        expect_invalid("redis\n", "invalid");
}

static void test_too_long(void **state)
{
        char text[IMAGE_REF_MAX + 2];
        struct image_ref ref;

        /* a 129-character tag */
        snprintf(text, sizeof(text), "redis:%0129d", 7);
        expect_invalid(text, "invalid");
        /* a name longer than 255 */
        memset(text, 'a', 256);
        text[256] = '\0';
        expect_invalid(text, "invalid");
        /* Docker caps the normalized name: docker.io/library/ + 237 = 255 */
        memset(text, 'a', 237);
        text[237] = '\0';
        assert_int_equal(image_ref_parse(text, &ref, NULL), 0);
        assert_int_equal(strlen(ref.forms[2]), 255);
        image_ref_free(&ref);
        text[237] = 'a';
        text[238] = '\0';
        expect_invalid(text, "invalid");
        /* the whole reference is capped */
        memset(text, 'a', IMAGE_REF_MAX + 1);
        text[IMAGE_REF_MAX + 1] = '\0';
        expect_invalid(text, "longer than 512 bytes");
        /* ...and so is its normalized form (found by fuzz_imageref): "b@" and a digest
         * of 495 bytes is 497, docker.io/library/ makes it 515 */
        snprintf(text, sizeof(text), "b@ha:%0492d", 0);
        assert_true(strlen(text) <= IMAGE_REF_MAX);
        expect_invalid(text, "invalid");
        snprintf(text, sizeof(text), "b@ha:%0489d", 0); /* normalized: exactly 512 */
        assert_int_equal(image_ref_parse(text, &ref, NULL), 0);
        assert_int_equal(strlen(ref.forms[0]), IMAGE_REF_MAX);
        image_ref_free(&ref);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_official_images),
            cmocka_unit_test(test_same_image_spelled_differently),
            cmocka_unit_test(test_docker_hub_user_images),
            cmocka_unit_test(test_other_registries_dedup),
            cmocka_unit_test(test_digests),
            cmocka_unit_test(test_name_components),
            cmocka_unit_test(test_invalid),
            cmocka_unit_test(test_too_long),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
