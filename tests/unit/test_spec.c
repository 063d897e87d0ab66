/* SPDX-License-Identifier: Apache-2.0 */
/* spec.c and json.c: the parts of config.json the hook reads, strictly. */
#include "unit.h"

#include <inttypes.h>
#include <limits.h>

#include "cleanup.h"
#include "json.h"
#include "spec.h"

#define ROOT_ONLY "{\"root\":{\"path\":\"rootfs\"}}"

static void parse_ok(const char *text, const char *bundle, struct oci_spec *spec)
{
        struct shm_error e = {0};
        if (oci_spec_parse(text, strlen(text), bundle, NULL, spec, &e) != 0)
                fail_msg("oci_spec_parse('%s') failed: %s", text, e.message);
        assert_non_null(spec->root_path);
}

static void expect_bad(const char *text, const char *part)
{
        struct oci_spec spec;
        struct shm_error e = {0};
        int r = oci_spec_parse(text, strlen(text), "/b", NULL, &spec, &e);
        if (r >= 0)
                fail_msg("config '%s' was accepted", text);
        assert_int_equal(r, -e.code);
        assert_contains(e.message, part);
        /* nothing is left allocated or dangling on failure */
        assert_null(spec.root_path);
        assert_null(spec.annotations);
        assert_null(spec.shm.source);
        assert_null(spec.hostname_source);
        oci_spec_free(&spec);
}

/* A config.json with one mounts[] array and a rootfs. */
static void parse_mounts(const char *mounts, struct oci_spec *spec)
{
        char text[4096];
        snprintf(text, sizeof(text), "{\"root\":{\"path\":\"rootfs\"},\"mounts\":[%s]}", mounts);
        parse_ok(text, "/b", spec);
}

static void test_root_path(void **state)
{
        struct oci_spec spec;
        parse_ok(ROOT_ONLY, "/run/bundle", &spec);
        assert_string_equal(spec.root_path, "/run/bundle/rootfs");
        assert_false(spec.shm.present);
        assert_int_equal(spec.n_annotations, 0);
        assert_null(spec.annotations);
        assert_int_equal(spec.memory_limit, 0);
        assert_null(spec.hostname_source);
        oci_spec_free(&spec);
        assert_null(spec.root_path);

        parse_ok("{\"root\":{\"path\":\"/var/lib/x/rootfs\",\"readonly\":true}}", "/b", &spec);
        assert_string_equal(spec.root_path, "/var/lib/x/rootfs");
        oci_spec_free(&spec);

        parse_ok("{\"root\":{\"path\":\"a/b/rootfs\"}}", "/b", &spec);
        assert_string_equal(spec.root_path, "/b/a/b/rootfs");
        oci_spec_free(&spec);

        /* names that merely start with dots are fine */
        parse_ok("{\"root\":{\"path\":\"..rootfs/.x/...\"}}", "/b", &spec);
        assert_string_equal(spec.root_path, "/b/..rootfs/.x/...");
        oci_spec_free(&spec);

        /* an absolute path is the runtime's business and is kept as written */
        parse_ok("{\"root\":{\"path\":\"/a/../rootfs\"}}", "/b", &spec);
        assert_string_equal(spec.root_path, "/a/../rootfs");
        oci_spec_free(&spec);

        expect_bad("{\"root\":{\"path\":\"../rootfs\"}}",
                   "'root.path' '../rootfs' leaves the bundle through '..'");
        expect_bad("{\"root\":{\"path\":\"a/../../rootfs\"}}", "through '..'");
        expect_bad("{\"root\":{\"path\":\"rootfs/..\"}}", "through '..'");
        expect_bad("{\"root\":{\"path\":\"..\"}}", "through '..'");
        expect_bad("{}", "config.json has no 'root.path'");
        expect_bad("{\"root\":null}", "has no 'root.path'");
        expect_bad("{\"root\":{}}", "has no 'root.path'");
        expect_bad("{\"root\":{\"path\":\"\"}}", "has no 'root.path'");
        expect_bad("{\"root\":{\"path\":5}}", "'config.root.path' is not a string");
        expect_bad("{\"root\":\"rootfs\"}", "'config.root' is not an object");
        expect_bad("{\"root\":{\"path\":\"a\"},\"root\":{\"path\":\"b\"}}",
                   "'config.json' has key 'root' twice");
}

static void test_dev_shm_paths(void **state)
{
        /* cleaned as runc and securejoin clean them (Go's filepath.Clean) */
        static const char *const yes[] = {
            "/dev/shm",        "/dev/shm/",   "//dev//shm",    "/dev/shm//",    "dev/shm",
            "///dev///shm///", "/dev/./shm",  "//dev//shm/",   "/dev/x/../shm", "./dev/shm",
            "/dev/shm/.",      "/../dev/shm", "../../dev/shm", "/dev/shm/x/.."};
        static const char *const no[] = {
            "/dev",      "/dev/",    "/dev/shm/x",  "/dev/shmx",  "/dev/sh",
            "/devx/shm", "/shm",     "/dev/shm/..", "",           "/",
            "/run/shm",  "/dev/SHM", "/dev/../shm", "/x/dev/shm", "/dev/shm/x/../.."};
        for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
                _cleanup_free_ char *clean = oci_spec_clean_path(yes[i]);
                if (strcmp(clean, "/dev/shm") != 0)
                        fail_msg("'%s' is /dev/shm, not '%s'", yes[i], clean);
        }
        for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
                _cleanup_free_ char *clean = oci_spec_clean_path(no[i]);
                if (strcmp(clean, "/dev/shm") == 0)
                        fail_msg("'%s' is not /dev/shm", no[i]);
        }
        /* However long the way there: a part longer than the result, or than PATH_MAX. */
        char long_way[PATH_MAX + 64];
        memset(long_way, 'a', sizeof(long_way));
        long_way[0] = '/';
        snprintf(long_way + PATH_MAX, sizeof(long_way) - PATH_MAX, "/../dev/shm");
        _cleanup_free_ char *clean = oci_spec_clean_path(long_way);
        assert_string_equal(clean, "/dev/shm");

        for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
                char entry[256];
                struct oci_spec spec;
                snprintf(entry, sizeof(entry),
                         "{\"destination\":\"%s\",\"type\":\"tmpfs\",\"source\":\"shm\","
                         "\"options\":[\"nosuid\",\"size=65536k\"]}",
                         yes[i]);
                parse_mounts(entry, &spec);
                assert_true(spec.shm.present);
                assert_false(spec.shm.bind);
                assert_string_equal(spec.shm.type, "tmpfs");
                assert_string_equal(spec.shm.source, "shm");
                oci_spec_free(&spec);
        }
}

static void test_runc_default_mounts(void **state)
{
        /* the mounts `runc spec` writes */
        struct oci_spec spec;
        parse_mounts(
            "{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
            "{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\","
            "\"options\":[\"nosuid\",\"strictatime\",\"mode=755\",\"size=65536k\"]},"
            "{\"destination\":\"/dev/pts\",\"type\":\"devpts\",\"source\":\"devpts\"},"
            "{\"destination\":\"/dev/shm\",\"type\":\"tmpfs\",\"source\":\"shm\","
            "\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"mode=1777\",\"size=65536k\"]},"
            "{\"destination\":\"/dev/mqueue\",\"type\":\"mqueue\",\"source\":\"mqueue\"},"
            "{\"destination\":\"/sys/fs/cgroup\",\"type\":\"cgroup\",\"source\":\"cgroup\","
            "\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"relatime\",\"ro\"]}",
            &spec);
        assert_true(spec.shm.present);
        assert_false(spec.shm.bind);
        assert_string_equal(spec.shm.type, "tmpfs");
        oci_spec_free(&spec);
}

static void test_bind_detection(void **state)
{
        struct oci_spec spec;
        /* Podman: a bind of <bundle>/shm */
        parse_mounts(
            "{\"destination\":\"/dev/shm\",\"type\":\"bind\",\"source\":\"/x/userdata/shm\","
            "\"options\":[\"rbind\",\"nosuid\"]}",
            &spec);
        assert_true(spec.shm.bind);
        assert_string_equal(spec.shm.source, "/x/userdata/shm");
        oci_spec_free(&spec);

        parse_mounts("{\"destination\":\"/dev/shm\",\"type\":\"bind\",\"source\":\"/s\"}", &spec);
        assert_true(spec.shm.bind);
        oci_spec_free(&spec);

        /* Docker --ipc=shareable: no type, options bind */
        parse_mounts("{\"destination\":\"/dev/shm\",\"source\":\"/s\",\"options\":[\"rbind\"]}",
                     &spec);
        assert_true(spec.shm.bind);
        assert_null(spec.shm.type);
        oci_spec_free(&spec);

        parse_mounts("{\"destination\":\"/dev/shm\",\"type\":\"none\",\"source\":\"/s\","
                     "\"options\":[\"ro\",\"bind\"]}",
                     &spec);
        assert_true(spec.shm.bind);
        oci_spec_free(&spec);

        /* words that only look like bind */
        parse_mounts("{\"destination\":\"/dev/shm\",\"type\":\"tmpfs\",\"source\":\"shm\","
                     "\"options\":[\"rbinding\",\"Bind\",\"nobind\"]}",
                     &spec);
        assert_false(spec.shm.bind);
        oci_spec_free(&spec);

        /* options and types that are not strings */
        expect_bad("{\"root\":{\"path\":\"r\"},\"mounts\":[{\"destination\":\"/dev/shm\","
                   "\"options\":[\"bind\",7]}]}",
                   "'config.mounts[0].options[]' is not a string");
        expect_bad("{\"root\":{\"path\":\"r\"},\"mounts\":[{\"destination\":\"/dev/shm\","
                   "\"options\":\"bind\"}]}",
                   "'config.mounts[0].options' is not an array");
        expect_bad("{\"root\":{\"path\":\"r\"},\"mounts\":[{\"destination\":\"/dev/shm\","
                   "\"type\":1}]}",
                   "'config.mounts[0].type' is not a string");
        expect_bad("{\"root\":{\"path\":\"r\"},\"mounts\":[{\"destination\":\"/dev/shm\","
                   "\"source\":{}}]}",
                   "'config.mounts[0].source' is not a string");
}

static void test_last_entry_wins(void **state)
{
        struct oci_spec spec;
        parse_mounts("{\"destination\":\"/dev/shm\",\"type\":\"tmpfs\",\"source\":\"shm\"},"
                     "{\"destination\":\"/dev/shm/\",\"type\":\"bind\",\"source\":\"/first\"},"
                     "{\"destination\":\"/tmp\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"},"
                     "{\"destination\":\"//dev/shm\",\"type\":\"bind\",\"source\":\"/last\","
                     "\"options\":[\"rbind\"]}",
                     &spec);
        assert_true(spec.shm.present);
        assert_true(spec.shm.bind);
        assert_string_equal(spec.shm.source, "/last");
        oci_spec_free(&spec);

        /* a later tmpfs entry is not a bind even if an earlier one was */
        parse_mounts("{\"destination\":\"/dev/shm\",\"type\":\"bind\",\"source\":\"/s\"},"
                     "{\"destination\":\"/dev/shm\",\"type\":\"tmpfs\",\"source\":\"shm\"}",
                     &spec);
        assert_false(spec.shm.bind);
        assert_string_equal(spec.shm.type, "tmpfs");
        oci_spec_free(&spec);

        /* mounts that are absent, null or empty: no /dev/shm entry */
        parse_ok("{\"root\":{\"path\":\"r\"},\"mounts\":null}", "/b", &spec);
        assert_false(spec.shm.present);
        oci_spec_free(&spec);
        parse_mounts("", &spec);
        assert_false(spec.shm.present);
        oci_spec_free(&spec);

        expect_bad("{\"root\":{\"path\":\"r\"},\"mounts\":{}}", "'config.mounts' is not an array");
        expect_bad("{\"root\":{\"path\":\"r\"},\"mounts\":[\"/dev/shm\"]}",
                   "'config.mounts[0]' is not an object");
        expect_bad("{\"root\":{\"path\":\"r\"},\"mounts\":[{\"type\":\"tmpfs\"},{}]}",
                   "'config.mounts[0]' has no destination");
        expect_bad("{\"root\":{\"path\":\"r\"},\"mounts\":[{\"destination\":1}]}",
                   "'config.mounts[0].destination' is not a string");
}

static void test_hostname_source(void **state)
{
        struct oci_spec spec;
        parse_mounts("{\"destination\":\"/etc/resolv.conf\",\"type\":\"bind\","
                     "\"source\":\"/var/lib/docker/containers/abc/resolv.conf\"},"
                     "{\"destination\":\"/etc/hostname\",\"type\":\"bind\","
                     "\"source\":\"/var/lib/docker/containers/abc/hostname\"}",
                     &spec);
        assert_string_equal(spec.hostname_source, "/var/lib/docker/containers/abc/hostname");
        assert_false(spec.shm.present);
        oci_spec_free(&spec);

        parse_mounts("{\"destination\":\"/etc/hostname\",\"type\":\"bind\"}", &spec);
        assert_null(spec.hostname_source);
        oci_spec_free(&spec);
}

static void parse_keys(const char *text, const struct spec_keys *keys, struct oci_spec *spec)
{
        struct shm_error e = {0};
        if (oci_spec_parse(text, strlen(text), "/b", keys, spec, &e) != 0)
                fail_msg("oci_spec_parse('%s') with keys failed: %s", text, e.message);
}

static void expect_bad_keys(const char *text, const struct spec_keys *keys, const char *part)
{
        struct oci_spec spec;
        struct shm_error e = {0};
        int r = oci_spec_parse(text, strlen(text), "/b", keys, &spec, &e);
        if (r >= 0)
                fail_msg("config '%s' was accepted", text);
        assert_int_equal(r, -e.code);
        assert_contains(e.message, part);
        assert_null(spec.annotations);
        assert_null(spec.root_path);
}

static void test_annotations(void **state)
{
        struct oci_spec spec;
        /* NULL keys keeps every annotation (sorted by key for the duplicate check) */
        parse_ok("{\"root\":{\"path\":\"r\"},\"annotations\":{"
                 "\"io.kubernetes.cri.image-name\":\"docker.io/library/redis:7\","
                 "\"example.com/shm\":\"\",\"k\":\"v\"}}",
                 "/b", &spec);
        assert_int_equal(spec.n_annotations, 3);
        assert_int_equal(spec.n_annotations_skipped, 0);
        assert_string_equal(oci_spec_annotation(&spec, "io.kubernetes.cri.image-name"),
                            "docker.io/library/redis:7");
        assert_string_equal(oci_spec_annotation(&spec, "k"), "v");
        assert_string_equal(oci_spec_annotation(&spec, "example.com/shm"), "");
        /* a map: keys are exact, no case folding */
        assert_null(oci_spec_annotation(&spec, "K"));
        assert_null(oci_spec_annotation(&spec, "missing"));
        oci_spec_free(&spec);

        parse_ok("{\"root\":{\"path\":\"r\"},\"annotations\":{}}", "/b", &spec);
        assert_int_equal(spec.n_annotations, 0);
        assert_null(oci_spec_annotation(&spec, "k"));
        oci_spec_free(&spec);

        parse_ok("{\"root\":{\"path\":\"r\"},\"annotations\":null}", "/b", &spec);
        assert_int_equal(spec.n_annotations, 0);
        oci_spec_free(&spec);

        /* map keys that fold to a field name are data, not fields */
        parse_ok("{\"root\":{\"path\":\"r\"},\"annotations\":{\"Path\":\"1\",\"path\":\"2\","
                 "\"Root\":\"3\",\"ANNOTATIONS\":\"4\"}}",
                 "/b", &spec);
        assert_int_equal(spec.n_annotations, 4);
        assert_string_equal(oci_spec_annotation(&spec, "Path"), "1");
        assert_string_equal(oci_spec_annotation(&spec, "path"), "2");
        assert_string_equal(spec.root_path, "/b/r");
        oci_spec_free(&spec);

        /* with NULL keys, a NUL in a value skips that annotation (counted) */
        parse_ok("{\"root\":{\"path\":\"r\"},\"annotations\":{\"a\":\"x\\u0000y\",\"b\":\"c\"}}",
                 "/b", &spec);
        assert_int_equal(spec.n_annotations, 1);
        assert_int_equal(spec.n_annotations_skipped, 1);
        assert_null(oci_spec_annotation(&spec, "a"));
        assert_string_equal(oci_spec_annotation(&spec, "b"), "c");
        oci_spec_free(&spec);

        expect_bad("{\"root\":{\"path\":\"r\"},\"annotations\":{\"k\":1}}",
                   "'config.annotations' value of key 'k' is not a string");
        expect_bad("{\"root\":{\"path\":\"r\"},\"annotations\":{\"k\":{\"x\":\"y\"}}}",
                   "value of key 'k' is not a string");
        expect_bad("{\"root\":{\"path\":\"r\"},\"annotations\":{\"k\":[\"y\"]}}",
                   "value of key 'k' is not a string");
        expect_bad("{\"root\":{\"path\":\"r\"},\"annotations\":{\"k\":\"1\",\"k\":\"2\"}}",
                   "'config.annotations' has key 'k' twice");
        expect_bad("{\"root\":{\"path\":\"r\"},\"annotations\":[]}",
                   "'config.annotations' is not an object");
        expect_bad("{\"root\":{\"path\":\"r\"},\"annotations\":{},\"annotations\":{}}",
                   "'config.json' has key 'annotations' twice");
}

/* Annotations outside the keys list are skipped unread; asked-for ones are strict. */
static void test_annotation_keys(void **state)
{
        static const char *const wanted[] = {"io.kubernetes.cri.image-name", "w"};
        const struct spec_keys keys = {.keys = wanted, .n = 2};
        struct oci_spec spec;

        parse_keys("{\"root\":{\"path\":\"r\"},\"annotations\":{"
                   "\"other\":\"a\\u0000b\",\"dup\":\"1\",\"dup\":\"2\","
                   "\"io.kubernetes.cri.image-name\":\"redis:7\",\"W\":\"case\","
                   "\"x\":\"\\u0000\"}}",
                   &keys, &spec);
        assert_int_equal(spec.n_annotations, 1);
        assert_int_equal(spec.n_annotations_skipped, 5);
        assert_string_equal(oci_spec_annotation(&spec, "io.kubernetes.cri.image-name"), "redis:7");
        assert_null(oci_spec_annotation(&spec, "w"));
        assert_null(oci_spec_annotation(&spec, "other"));
        assert_null(oci_spec_annotation(&spec, "dup"));
        oci_spec_free(&spec);

        /* any number of unwanted annotations */
        size_t cap = 64 + (3 * SPEC_MAX_ANNOTATIONS) * 32;
        char *text = malloc(cap);
        assert_non_null(text);
        size_t used = (size_t)snprintf(text, cap, "{\"root\":{\"path\":\"r\"},\"annotations\":{");
        for (size_t i = 0; i < 3 * SPEC_MAX_ANNOTATIONS; i++)
                used += (size_t)snprintf(text + used, cap - used, "\"k%zu\":\"v\",", i);
        snprintf(text + used, cap - used, "\"w\":\"last\"}}");
        parse_keys(text, &keys, &spec);
        assert_int_equal(spec.n_annotations, 1);
        assert_int_equal(spec.n_annotations_skipped, 3 * SPEC_MAX_ANNOTATIONS);
        assert_string_equal(oci_spec_annotation(&spec, "w"), "last");
        oci_spec_free(&spec);
        free(text);

        /* a wanted key holding a NUL, or given twice, is refused by name */
        expect_bad_keys("{\"root\":{\"path\":\"r\"},\"annotations\":{\"w\":\"a\\u0000b\"}}", &keys,
                        "annotation 'w' contains a NUL character");
        expect_bad_keys("{\"root\":{\"path\":\"r\"},\"annotations\":{\"w\":\"1\",\"x\":\"\","
                        "\"w\":\"2\"}}",
                        &keys, "'config.annotations' has key 'w' twice");
        /* an empty keys list keeps nothing */
        const struct spec_keys none = {.keys = wanted, .n = 0};
        parse_keys("{\"root\":{\"path\":\"r\"},\"annotations\":{\"w\":\"1\"}}", &none, &spec);
        assert_int_equal(spec.n_annotations, 0);
        assert_int_equal(spec.n_annotations_skipped, 1);
        oci_spec_free(&spec);
}

static void test_annotation_limit(void **state)
{
        size_t cap = 64 + (SPEC_MAX_ANNOTATIONS + 3) * 24;
        char *text = malloc(cap);
        assert_non_null(text);
        /* more than SPEC_MAX_ANNOTATIONS with NULL keys: the rest are counted, never an error */
        for (size_t n = SPEC_MAX_ANNOTATIONS; n <= SPEC_MAX_ANNOTATIONS + 3; n += 3) {
                size_t used =
                    (size_t)snprintf(text, cap, "{\"root\":{\"path\":\"r\"},\"annotations\":{");
                for (size_t i = 0; i < n; i++)
                        used += (size_t)snprintf(text + used, cap - used, "%s\"k%zu\":\"v\"",
                                                 i ? "," : "", i);
                snprintf(text + used, cap - used, "}}");
                struct oci_spec spec;
                struct shm_error e = {0};
                int r = oci_spec_parse(text, strlen(text), "/b", NULL, &spec, &e);
                if (r != 0)
                        fail_msg("%zu annotations: %s", n, e.message);
                assert_int_equal(spec.n_annotations, SPEC_MAX_ANNOTATIONS);
                assert_int_equal(spec.n_annotations_skipped, n - SPEC_MAX_ANNOTATIONS);
                assert_string_equal(oci_spec_annotation(&spec, "k0"), "v");
                oci_spec_free(&spec);
        }
        free(text);
}

/* A read field whose key matches only case-insensitively, or is given twice, is refused. */
static void test_case_folded_keys(void **state)
{
        static const struct {
                const char *text, *key;
        } cases[] = {
            {"{\"Root\":{\"path\":\"r\"}}", "'Root'"},
            {"{\"root\":{\"Path\":\"r\"}}", "'Path'"},
            {"{\"root\":{\"PATH\":\"r\"}}", "'PATH'"},
            {"{\"root\":{\"path\":\"r\"},\"Mounts\":[]}", "'Mounts'"},
            {"{\"root\":{\"path\":\"r\"},\"mounts\":[{\"Destination\":\"/dev/shm\"}]}",
             "'Destination'"},
            {"{\"root\":{\"path\":\"r\"},\"mounts\":[{\"destination\":\"/x\",\"Source\":\"/s\"}]}",
             "'Source'"},
            {"{\"root\":{\"path\":\"r\"},\"mounts\":[{\"destination\":\"/x\",\"TYPE\":\"bind\"}]}",
             "'TYPE'"},
            {"{\"root\":{\"path\":\"r\"},\"mounts\":[{\"destination\":\"/x\",\"Options\":[]}]}",
             "'Options'"},
            {"{\"root\":{\"path\":\"r\"},\"Annotations\":{}}", "'Annotations'"},
            {"{\"root\":{\"path\":\"r\"},\"Linux\":{}}", "'Linux'"},
            {"{\"root\":{\"path\":\"r\"},\"linux\":{\"Resources\":{}}}", "'Resources'"},
            {"{\"root\":{\"path\":\"r\"},\"linux\":{\"resources\":{\"Memory\":{}}}}", "'Memory'"},
            {"{\"root\":{\"path\":\"r\"},\"linux\":{\"resources\":{\"memory\":{\"Limit\":1}}}}",
             "'Limit'"},
            {"{\"root\":{\"path\":\"r\"},\"linux\":{\"resources\":{\"Unified\":{}}}}", "'Unified'"},
            /* Go also folds U+017F (long s) to s and U+212A (Kelvin sign) to k */
            {"{\"root\":{\"path\":\"r\"},\"mounts\":[{\"destination\":\"/x\","
             "\"\xc5\xbfource\":\"/s\"}]}",
             "'\xc5\xbfource'"},
            {"{\"root\":{\"path\":\"r\"},\"mounts\":[{\"destination\":\"/x\","
             "\"type\":\"bind\",\"options\":[],\"\xc5\xbfOURCE\":\"/s\"}]}",
             "which runc reads as 'source'"},
            {"{\"root\":{\"path\":\"r\"},\"annotation\xc5\xbf\":{}}", "'annotation\xc5\xbf'"},
            /* no field the hook reads has a k: the Kelvin sign is in test_json_reader */
            {"{\"root\":{\"path\":\"r\"},\"linux\":{\"re\xc5\xbfources\":{}}}",
             "'re\xc5\xbfources'"},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                expect_bad(cases[i].text, cases[i].key);
                expect_bad(cases[i].text, "refusing the ambiguous config");
        }
        /* keys that do not fold to a field are skipped */
        struct oci_spec spec;
        parse_ok("{\"root\":{\"path\":\"r\",\"paths\":1,\"pat\":2},\"rooT\u00e9\":1,"
                 "\"mounts\":[{\"destination\":\"/dev/shm\",\"sourc\":\"/x\",\"sources\":\"/y\","
                 "\"type\":\"tmpfs\"}],\"linux\":{\"resources\":{\"memory\":{\"\xe2\x84\xaa\":1,"
                 "\"limits\":5}}}}",
                 "/b", &spec);
        assert_true(spec.shm.present);
        assert_null(spec.shm.source);
        assert_int_equal(spec.memory_limit, 0);
        oci_spec_free(&spec);

        /* a read field given twice, at any level */
        expect_bad("{\"root\":{\"path\":\"a\",\"path\":\"b\"}}",
                   "'config.root' has key 'path' twice");
        expect_bad("{\"root\":{\"path\":\"r\"},\"mounts\":[],\"mounts\":[]}",
                   "'config.json' has key 'mounts' twice");
        expect_bad("{\"root\":{\"path\":\"r\"},\"mounts\":[{\"destination\":\"/x\"},"
                   "{\"destination\":\"/dev/shm\",\"source\":\"/a\",\"source\":\"/b\"}]}",
                   "'config.mounts[1]' has key 'source' twice");
        expect_bad("{\"root\":{\"path\":\"r\"},\"linux\":{\"resources\":{\"memory\":{\"limit\":1,"
                   "\"limit\":2}}}}",
                   "has key 'limit' twice");
        /* unread keys may repeat */
        parse_ok("{\"root\":{\"path\":\"r\",\"readonly\":true,\"readonly\":false},\"x\":1,\"x\":2}",
                 "/b", &spec);
        oci_spec_free(&spec);
        /* the same field in two array elements is not a repeat */
        parse_mounts("{\"destination\":\"/a\"},{\"destination\":\"/b\"}", &spec);
        oci_spec_free(&spec);
}

static void test_memory_limit(void **state)
{
        static const struct {
                const char *linux_json;
                uint64_t want;
        } ok[] = {
            {"", 0},
            {",\"linux\":null", 0},
            {",\"linux\":{}", 0},
            {",\"linux\":{\"resources\":{}}", 0},
            {",\"linux\":{\"resources\":{\"memory\":{}}}", 0},
            {",\"linux\":{\"resources\":{\"memory\":{\"limit\":null}}}", 0},
            {",\"linux\":{\"resources\":{\"memory\":{\"limit\":-1}}}", 0},
            {",\"linux\":{\"resources\":{\"memory\":{\"limit\":0}}}", 0},
            {",\"linux\":{\"resources\":{\"memory\":{\"limit\":536870912,\"swap\":-1}}}",
             536870912},
            {",\"linux\":{\"resources\":{\"memory\":{\"limit\":9223372036854775807}}}",
             9223372036854775807ULL},
            /* cgroup v2 unified memory.max; the lowest of both wins; "max" is none */
            {",\"linux\":{\"resources\":{\"unified\":{\"memory.max\":\"1048576\"}}}", 1048576},
            {",\"linux\":{\"resources\":{\"unified\":{\"memory.max\":\"max\"}}}", 0},
            {",\"linux\":{\"resources\":{\"memory\":{\"limit\":2097152},\"unified\":{"
             "\"memory.max\":\"1048576\"}}}",
             1048576},
            {",\"linux\":{\"resources\":{\"unified\":{\"memory.max\":\"4194304\"},\"memory\":{"
             "\"limit\":2097152}}}",
             2097152},
            {",\"linux\":{\"resources\":{\"memory\":{\"limit\":2097152},\"unified\":{"
             "\"memory.max\":\"max\"}}}",
             2097152},
            {",\"linux\":{\"resources\":{\"unified\":{\"memory.high\":\"1\",\"Memory.max\":\"1\","
             "\"memory.max \":\"x\",\"memory.swap.max\":\"max\"}}}",
             0},
            {",\"linux\":{\"resources\":{\"memory\":{\"limit\":-1},\"unified\":{\"memory.max\":"
             "\"0\"}}}",
             0},
        };
        for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
                char text[512];
                struct oci_spec spec;
                snprintf(text, sizeof(text), "{\"root\":{\"path\":\"r\"}%s}", ok[i].linux_json);
                parse_ok(text, "/b", &spec);
                if (spec.memory_limit != ok[i].want)
                        fail_msg("'%s': limit %" PRIu64 ", want %" PRIu64, ok[i].linux_json,
                                 spec.memory_limit, ok[i].want);
                oci_spec_free(&spec);
        }
        expect_bad(
            "{\"root\":{\"path\":\"r\"},\"linux\":{\"resources\":{\"memory\":{\"limit\":5e8}}}}",
            "'config.linux.resources.memory.limit' is not an integer");
        expect_bad(
            "{\"root\":{\"path\":\"r\"},\"linux\":{\"resources\":{\"memory\":{\"limit\":1.5}}}}",
            "is not an integer");
        expect_bad(
            "{\"root\":{\"path\":\"r\"},\"linux\":{\"resources\":{\"memory\":{\"limit\":\"1g\"}}}}",
            "is not an integer");
        expect_bad("{\"root\":{\"path\":\"r\"},\"linux\":{\"resources\":{\"memory\":{\"limit\":"
                   "18446744073709551616}}}}",
                   "'config.linux.resources.memory.limit' is out of range");
        expect_bad("{\"root\":{\"path\":\"r\"},\"linux\":{\"resources\":{\"memory\":[]}}}",
                   "'config.linux.resources.memory' is not an object");
        expect_bad("{\"root\":{\"path\":\"r\"},\"linux\":{\"resources\":7}}",
                   "'config.linux.resources' is not an object");
        expect_bad("{\"root\":{\"path\":\"r\"},\"linux\":\"x\"}",
                   "'config.linux' is not an object");
        expect_bad("{\"root\":{\"path\":\"r\"},\"linux\":{\"resources\":{\"unified\":{"
                   "\"memory.max\":\"1g\"}}}}",
                   "has 'memory.max' '1g', which is neither a number of bytes nor 'max'");
        expect_bad("{\"root\":{\"path\":\"r\"},\"linux\":{\"resources\":{\"unified\":{"
                   "\"memory.max\":\"-1\"}}}}",
                   "'memory.max' '-1'");
        expect_bad("{\"root\":{\"path\":\"r\"},\"linux\":{\"resources\":{\"unified\":{"
                   "\"memory.max\":\"\"}}}}",
                   "'memory.max' ''");
        expect_bad("{\"root\":{\"path\":\"r\"},\"linux\":{\"resources\":{\"unified\":{"
                   "\"memory.max\":1048576}}}}",
                   "'config.linux.resources.unified' value of key 'memory.max' is not a string");
        expect_bad("{\"root\":{\"path\":\"r\"},\"linux\":{\"resources\":{\"unified\":[]}}}",
                   "'config.linux.resources.unified' is not an object");
}

/* Every bind mount's source is kept, for telling where a /dev/shm tmpfs came from. */
static void test_bind_sources(void **state)
{
        struct oci_spec spec;
        parse_mounts("{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
                     "{\"destination\":\"/a\",\"type\":\"bind\",\"source\":\"/src/a\"},"
                     "{\"destination\":\"/b\",\"source\":\"/src/b\",\"options\":[\"rbind\"]},"
                     "{\"destination\":\"/c\",\"type\":\"none\",\"source\":\"/src/c\","
                     "\"options\":[\"ro\",\"bind\"]},"
                     "{\"destination\":\"/d\",\"type\":\"bind\"},"
                     "{\"destination\":\"/e\",\"type\":\"bind\",\"source\":\"\"},"
                     "{\"destination\":\"/f\",\"type\":\"tmpfs\",\"source\":\"/src/f\"},"
                     "{\"destination\":\"/dev/shm\",\"type\":\"bind\",\"source\":\"/src/shm\"}",
                     &spec);
        static const char *const want[] = {"/src/a", "/src/b", "/src/c", "/src/shm"};
        assert_int_equal(spec.n_bind_sources, 4);
        for (size_t i = 0; i < 4; i++)
                assert_string_equal(spec.bind_sources[i], want[i]);
        assert_string_equal(spec.shm.source, "/src/shm");
        oci_spec_free(&spec);
        assert_null(spec.bind_sources);
        assert_int_equal(spec.n_bind_sources, 0);

        parse_mounts("{\"destination\":\"/dev/shm\",\"type\":\"tmpfs\",\"source\":\"shm\"}", &spec);
        assert_int_equal(spec.n_bind_sources, 0);
        oci_spec_free(&spec);
}

/*
 * What the hook does not read is only lexed: any depth, any value JSON
 * allows (numbers out of any range, strings that are not UTF-8).
 */
static void test_unread_subtrees(void **state)
{
        size_t levels = 10000, cap = 2 * levels + 256;
        char *text = malloc(cap * 4);
        struct oci_spec spec;
        assert_non_null(text);
        /* nesting far deeper than JSON_MAX_DEPTH, objects and arrays */
        size_t used = (size_t)snprintf(text, cap * 4, "{\"root\":{\"path\":\"r\"},\"process\":");
        for (size_t i = 0; i < levels; i++)
                used +=
                    (size_t)snprintf(text + used, cap * 4 - used, "%s", i % 2 ? "[" : "{\"x\":");
        text[used++] = '1';
        for (size_t i = levels; i-- > 0;)
                text[used++] = i % 2 ? ']' : '}';
        strcpy(text + used, ",\"mounts\":[{\"destination\":\"/dev/shm\",\"type\":\"tmpfs\"}]}");
        parse_ok(text, "/b", &spec);
        assert_true(spec.shm.present);
        assert_string_equal(spec.root_path, "/b/r");
        oci_spec_free(&spec);
        free(text);

        parse_ok("{\"root\":{\"path\":\"r\",\"x\":1e400},\"process\":{\"n\":-1e-400,"
                 "\"big\":123456789012345678901234567890,\"s\":\"\xff\xfe\xc0\x80\","
                 "\"t\":true,\"f\":false,\"z\":null,\"a\":[{},[],\"\",0.5]},"
                 "\"mounts\":[{\"destination\":\"/dev/shm\",\"type\":\"tmpfs\",\"x\":[1e400],"
                 "\"gidMappings\":[{\"a\":{\"b\":[[[]]]}}]}],"
                 "\"linux\":{\"resources\":{\"cpu\":{\"shares\":1e400},\"memory\":{"
                 "\"swap\":1e400}}}}",
                 "/b", &spec);
        assert_true(spec.shm.present);
        oci_spec_free(&spec);

        /* strings are bytes: invalid UTF-8 in a field the hook reads is kept as it is */
        parse_ok("{\"root\":{\"path\":\"r\xff\"},\"mounts\":[{\"destination\":\"/dev/shm\","
                 "\"type\":\"bind\",\"source\":\"/s\xc3\x28\"}]}",
                 "/b", &spec);
        assert_string_equal(spec.root_path, "/b/r\xff");
        assert_string_equal(spec.shm.source, "/s\xc3\x28");
        oci_spec_free(&spec);
}

static void test_strict_json(void **state)
{
        expect_bad("[]", "'config.json' is not an object");
        expect_bad("\"x\"", "'config.json' is not an object");
        expect_bad("", "config.json is not valid JSON");
        expect_bad("{\"root\":{\"path\":\"r\"}", "is not valid JSON");
        expect_bad("{\"root\":{\"path\":\"r\"}} {}", "is not valid JSON");
        expect_bad("{\"root\":{\"path\":\"r\"}} trailing", "is not valid JSON");
        /* yajl alone lets an unfinished string after the document pass */
        expect_bad("{\"root\":{\"path\":\"r\"}}\"", "trailing garbage");
        expect_bad("{\"root\":{\"path\":\"r\"}} \"x", "trailing garbage");
        expect_bad("{\"root\":{\"path\":\"r\"}}\"\\", "trailing garbage");
        expect_bad("{\"root\":{\"path\":\"r\"}, /* c */ \"x\":1}", "comment");
        /* After the document yajl sees trailing garbage before it sees a comment. */
        expect_bad("{\"root\":{\"path\":\"r\"}} // c",
                   "is not valid JSON: parse error: trailing garbage");
        expect_bad("{\"root\":{\"path\":\"r\\u0000x\"}}", "NUL character");
        /* a NUL in a read string field (not a map value) is refused by path */
        expect_bad("{\"root\":{\"path\":\"r\"},\"mounts\":[{\"destination\":\"/dev/shm\","
                   "\"source\":\"a\\u0000b\"}]}",
                   "'config.mounts[0].source' contains a NUL character");

        /* a '/' or brackets inside strings are not comments or nesting */
        struct oci_spec spec;
        parse_ok("{\"root\":{\"path\":\"r//x/*y*/\"},\"annotations\":{\"k\":\"[[[[{{{{\"}}", "/b",
                 &spec);
        assert_string_equal(spec.root_path, "/b/r//x/*y*/");
        assert_string_equal(oci_spec_annotation(&spec, "k"), "[[[[{{{{");
        oci_spec_free(&spec);

        /* The streamed reader has no depth limit on unread members (it was JSON_MAX_DEPTH
         * before): JSON_MAX_DEPTH + 1 levels now parse; see test_unread_subtrees. */
        char text[1024];
        int levels = JSON_MAX_DEPTH + 1;
        size_t used = (size_t)snprintf(text, sizeof(text), "{\"root\":{\"path\":\"r\"},\"x\":");
        for (int i = 0; i < levels; i++)
                text[used++] = '[';
        for (int i = 0; i < levels; i++)
                text[used++] = ']';
        strcpy(text + used, "}");
        parse_ok(text, "/b", &spec);
        oci_spec_free(&spec);

        static const char nul[] = "{\"root\":{\"path\":\"r\"}}\0";
        struct shm_error e = {0};
        assert_int_equal(oci_spec_parse(nul, sizeof(nul) - 1, "/b", NULL, &spec, &e), -EINVAL);
        assert_contains(e.message, "config.json contains a NUL byte");
}

static void test_json_helpers(void **state)
{
        yajl_val tree = NULL;
        struct shm_error e = {0};
        static const char text[] =
            "{\"s\":\"x\",\"i\":-3,\"d\":1.5,\"o\":{},\"a\":[1],\"n\":null,\"b\":true}";
        assert_int_equal(json_parse_object(text, strlen(text), "doc", &tree, &e), 0);

        const char *s;
        yajl_val v;
        int64_t i;
        bool present;
        assert_int_equal(json_get_string(tree, "s", "doc", &s, &e), 0);
        assert_string_equal(s, "x");
        assert_int_equal(json_get_string(tree, "missing", "doc", &s, &e), 0);
        assert_null(s);
        assert_int_equal(json_get_string(tree, "n", "doc", &s, &e), 0);
        assert_null(s);
        assert_int_equal(json_get_string(tree, "i", "doc", &s, &e), -EINVAL);
        assert_string_equal(e.message, "'doc.i' is not a string");

        assert_int_equal(json_get_int64(tree, "i", "doc", &i, &present, &e), 0);
        assert_true(present);
        assert_int_equal(i, -3);
        assert_int_equal(json_get_int64(tree, "n", "doc", &i, &present, &e), 0);
        assert_false(present);
        assert_int_equal(json_get_int64(tree, "d", "doc", &i, &present, &e), -EINVAL);
        assert_string_equal(e.message, "'doc.d' is not an integer");
        assert_int_equal(json_get_int64(tree, "b", "doc", &i, &present, &e), -EINVAL);

        assert_int_equal(json_get_object(tree, "o", "doc", &v, &e), 0);
        assert_non_null(v);
        assert_int_equal(json_get_object(tree, "a", "doc", &v, &e), -EINVAL);
        assert_string_equal(e.message, "'doc.a' is not an object");
        assert_int_equal(json_get_array(tree, "a", "doc", &v, &e), 0);
        assert_non_null(v);
        assert_int_equal(json_get_array(tree, "o", "doc", &v, &e), -EINVAL);
        assert_string_equal(e.message, "'doc.o' is not an array");

        /* on a non-object (or NULL) every member is missing */
        assert_null(json_member(NULL, "s"));
        assert_null(json_member(json_member(tree, "a"), "s"));
        assert_int_equal(json_get_string(NULL, "s", "doc", &s, &e), 0);
        assert_null(s);
        assert_int_equal(json_check_unique_keys(tree, "doc", &e), 0);
        yajl_tree_free(tree);

        /* json_parse_value takes any top-level value */
        assert_int_equal(json_parse_value("[1,2]", 5, "list", &tree, &e), 0);
        assert_true(YAJL_IS_ARRAY(tree));
        yajl_tree_free(tree);
        tree = NULL;
        assert_int_equal(json_parse_object("[1,2]", 5, "list", &tree, &e), -EINVAL);
        assert_null(tree);
        assert_string_equal(e.message, "list is not a JSON object");

        /* yajl's multi-line messages are cut to their first line */
        assert_int_equal(json_parse_value("{\"a\" 1}", 7, "doc", &tree, &e), -EINVAL);
        assert_null(strchr(e.message, '\n'));
        assert_contains(e.message, "doc is not valid JSON: ");
}

static void test_spec_load(void **state)
{
        char *dir = unit_mkdtemp();
        struct oci_spec spec;
        struct shm_error e = {0};

        /* missing config.json */
        assert_true(oci_spec_load(dir, NULL, &spec, &e) < 0);
        assert_contains(e.message, "bundle '");
        assert_contains(e.message, "cannot open 'config.json'");
        assert_null(spec.root_path);

        /* a regular file */
        unit_write(dir, "config.json", "{\"root\":{\"path\":\"rootfs\"}}");
        assert_int_equal(oci_spec_load(dir, NULL, &spec, &e), 0);
        char *want = unit_path(dir, "rootfs");
        assert_string_equal(spec.root_path, want);
        free(want);
        oci_spec_free(&spec);

        /* config.json through a symlink is refused */
        char *real = unit_path(dir, "real.json");
        char *config = unit_path(dir, "config.json");
        assert_int_equal(rename(config, real), 0);
        assert_int_equal(symlink(real, config), 0);
        assert_int_equal(oci_spec_load(dir, NULL, &spec, &e), -ELOOP);
        assert_contains(e.message, "'config.json' is a symbolic link");
        assert_int_equal(unlink(config), 0);

        /* a directory named config.json */
        assert_int_equal(mkdir(config, 0755), 0);
        assert_int_equal(oci_spec_load(dir, NULL, &spec, &e), -EINVAL);
        assert_contains(e.message, "not a regular file");
        assert_int_equal(rmdir(config), 0);

        /* larger than SPEC_MAX_BYTES (sparse) */
        int fd = open(config, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(ftruncate(fd, SPEC_MAX_BYTES + 1), 0);
        close(fd);
        assert_int_equal(oci_spec_load(dir, NULL, &spec, &e), -EFBIG);
        assert_contains(e.message, "larger than");

        /* a bundle that is missing */
        char *missing = unit_path(dir, "nope");
        assert_int_equal(oci_spec_load(missing, NULL, &spec, &e), -ENOENT);
        assert_contains(e.message, "cannot open bundle");
        free(missing);
        free(real);
        free(config);
        unit_rm_rf(dir);
}

/*
 * oci_spec_load reads config.json in pieces of JSON_STREAM_PIECE bytes: a
 * document of several pieces, with strings cut at piece boundaries, gives
 * what the whole text gives, and what follows it is still checked.
 */
static void test_load_in_pieces(void **state)
{
        char *dir = unit_mkdtemp();
        size_t cap = 5 * JSON_STREAM_PIECE, used = 0;
        char *text = malloc(cap);
        struct oci_spec whole, pieces;
        struct shm_error e = {0};
        (void)state;

        assert_non_null(text);
        used += (size_t)snprintf(text, cap, "{\"root\":{\"path\":\"r\"},\"annotations\":{");
        size_t n_keys = 0;
        for (; used < 3 * JSON_STREAM_PIECE; n_keys++)
                used += (size_t)snprintf(text + used, cap - used, "%s\"key-%zu\":\"%0*zu\"",
                                         n_keys ? "," : "", n_keys, (int)(n_keys % 97) + 1, n_keys);
        used += (size_t)snprintf(text + used, cap - used,
                                 "},\"mounts\":[{\"destination\":\"/dev/shm\",\"type\":"
                                 "\"tmpfs\",\"source\":\"shm\"}],\"linux\":{\"resources\":"
                                 "{\"memory\":{\"limit\":1073741824}}}}\n");
        unit_write_len(dir, "config.json", text, used);
        assert_int_equal(oci_spec_parse(text, used, dir, NULL, &whole, &e), 0);
        assert_int_equal(oci_spec_load(dir, NULL, &pieces, &e), 0);
        assert_int_equal(whole.n_annotations, n_keys);
        assert_int_equal(pieces.n_annotations, whole.n_annotations);
        for (size_t i = 0; i < whole.n_annotations; i++) {
                assert_string_equal(pieces.annotations[i].key, whole.annotations[i].key);
                assert_string_equal(pieces.annotations[i].value, whole.annotations[i].value);
        }
        assert_true(pieces.shm.present);
        assert_string_equal(pieces.shm.type, "tmpfs");
        assert_int_equal(pieces.memory_limit, 1073741824);
        oci_spec_free(&whole);
        oci_spec_free(&pieces);

        /* an unfinished string after the document, in a later piece */
        memset(text + used, ' ', JSON_STREAM_PIECE);
        text[used + JSON_STREAM_PIECE - 1] = '"';
        unit_write_len(dir, "config.json", text, used + JSON_STREAM_PIECE);
        assert_true(oci_spec_load(dir, NULL, &pieces, &e) < 0);
        assert_contains(e.message, "trailing garbage");
        assert_null(pieces.root_path);
        free(text);
        unit_rm_rf(dir);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_root_path),           cmocka_unit_test(test_dev_shm_paths),
            cmocka_unit_test(test_runc_default_mounts), cmocka_unit_test(test_bind_detection),
            cmocka_unit_test(test_last_entry_wins),     cmocka_unit_test(test_hostname_source),
            cmocka_unit_test(test_annotations),         cmocka_unit_test(test_annotation_limit),
            cmocka_unit_test(test_memory_limit),        cmocka_unit_test(test_strict_json),
            cmocka_unit_test(test_json_helpers),        cmocka_unit_test(test_spec_load),
            cmocka_unit_test(test_annotation_keys),     cmocka_unit_test(test_case_folded_keys),
            cmocka_unit_test(test_bind_sources),        cmocka_unit_test(test_unread_subtrees),
            cmocka_unit_test(test_load_in_pieces),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
