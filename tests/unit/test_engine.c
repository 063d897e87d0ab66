/* SPDX-License-Identifier: Apache-2.0 */
/* engine.c: finding a container's image reference for every engine. */
#include "unit.h"

#include "engine.h"
#include "json.h"

#define ID "7b78313d1b7a143e546099c2367dea1c34d8183f9a171c5f81855652f75844eb"

/* An entry as Podman 4.3.1 really wrote it to <graphroot>/vfs-containers/containers.json. */
#define PODMAN_ENTRY(id, image)                                                                    \
        "{\"id\":\"" id "\",\"names\":[\"unit-podman-probe\"],"                                    \
        "\"image\":\"7cf20e021381eb61a18d476ea62237bf112cf7a2159849e1f46de6121b57d9d1\","          \
        "\"layer\":\"1ce217f909fbd15dc57825f4d54e9d875de67e1c84736bb2af6ab1f47f52406c\","          \
        "\"metadata\":\"{\\\"image-name\\\":\\\"" image "\\\",\\\"image-id\\\":"                   \
        "\\\"7cf20e021381eb61a18d476ea62237bf112cf7a2159849e1f46de6121b57d9d1\\\",\\\"name\\\":"   \
        "\\\"unit-podman-probe\\\",\\\"created-at\\\":1795719753}\","                              \
        "\"created\":\"2026-11-26T19:02:33.364795179Z\",\"flags\":{\"MountLabel\":\"\","           \
        "\"ProcessLabel\":\"\"}}"

struct lookup {
        char *ref;
        const char *source;
        char note[512];
};

static void spec_of(const char *json, struct oci_spec *spec)
{
        struct shm_error e = {0};
        if (oci_spec_parse(json, strlen(json), "/b", spec, &e) != 0)
                fail_msg("oci_spec_parse: %s", e.message);
}

static void lookup(const char *id, const char *bundle, const struct oci_spec *spec,
                   struct lookup *out)
{
        free(out->ref);
        memset(out, 0, sizeof(*out));
        strcpy(out->note, "stale");
        engine_image_reference(id, bundle, spec, &out->ref, &out->source, out->note,
                               sizeof(out->note));
}

static void expect_ref(const struct lookup *l, const char *ref, const char *source)
{
        if (!l->ref || strcmp(l->ref, ref) != 0)
                fail_msg("image '%s' (note '%s'), want '%s'", l->ref ? l->ref : "(none)", l->note,
                         ref);
        assert_string_equal(l->source, source);
}

static void expect_none(const struct lookup *l)
{
        if (l->ref)
                fail_msg("found image '%s' from %s, want none", l->ref, l->source);
        assert_null(l->source);
}

static void test_annotations(void **state)
{
        struct oci_spec spec;
        struct lookup l = {0};

        spec_of("{\"root\":{\"path\":\"r\"},\"annotations\":{"
                "\"io.kubernetes.cri-o.ImageName\":\"quay.io/crio/img:1\","
                "\"io.kubernetes.cri.image-name\":\"docker.io/library/redis:7\"}}",
                &spec);
        lookup("x", "/b", &spec, &l);
        expect_ref(&l, "docker.io/library/redis:7", "annotation io.kubernetes.cri.image-name");
        assert_string_equal(l.note, "");
        oci_spec_free(&spec);

        spec_of("{\"root\":{\"path\":\"r\"},\"annotations\":{"
                "\"io.kubernetes.cri-o.ImageName\":\"quay.io/crio/img:1\"}}",
                &spec);
        lookup("x", "/b", &spec, &l);
        expect_ref(&l, "quay.io/crio/img:1", "annotation io.kubernetes.cri-o.ImageName");
        oci_spec_free(&spec);

        /* an empty value is skipped */
        spec_of("{\"root\":{\"path\":\"r\"},\"annotations\":{"
                "\"io.kubernetes.cri.image-name\":\"\","
                "\"io.kubernetes.cri-o.ImageName\":\"quay.io/crio/img:1\"}}",
                &spec);
        lookup("x", "/b", &spec, &l);
        expect_ref(&l, "quay.io/crio/img:1", "annotation io.kubernetes.cri-o.ImageName");
        oci_spec_free(&spec);

        /* CRI-O marks its containers: then only its own key counts, as pods can set the other */
        spec_of("{\"root\":{\"path\":\"r\"},\"annotations\":{"
                "\"io.kubernetes.cri-o.ContainerType\":\"container\","
                "\"io.kubernetes.cri.image-name\":\"docker.io/library/spoofed:1\","
                "\"io.kubernetes.cri-o.ImageName\":\"quay.io/crio/img:1\"}}",
                &spec);
        lookup("x", "/b", &spec, &l);
        expect_ref(&l, "quay.io/crio/img:1", "annotation io.kubernetes.cri-o.ImageName");
        oci_spec_free(&spec);
        spec_of("{\"root\":{\"path\":\"r\"},\"annotations\":{"
                "\"io.kubernetes.cri-o.ContainerType\":\"container\","
                "\"io.kubernetes.cri.image-name\":\"docker.io/library/spoofed:1\"}}",
                &spec);
        lookup("x", "/b", &spec, &l);
        expect_none(&l);
        oci_spec_free(&spec);

        /* other annotations and case variants are not image names */
        spec_of(
            "{\"root\":{\"path\":\"r\"},\"annotations\":{"
            "\"io.kubernetes.cri.image-Name\":\"a\",\"org.opencontainers.image.ref.name\":\"b\"}}",
            &spec);
        lookup("x", "/b", &spec, &l);
        expect_none(&l);
        /* no id is fine too */
        lookup(NULL, NULL, &spec, &l);
        expect_none(&l);
        oci_spec_free(&spec);
        free(l.ref);
}

/* <dir>/graph/overlay-containers/{containers.json,<id>/userdata}; returns the bundle. */
static char *podman_layout(const char *dir, const char *containers_json)
{
        unit_mkdirs(dir, "graph/overlay-containers/" ID "/userdata");
        if (containers_json)
                unit_write(dir, "graph/overlay-containers/containers.json", containers_json);
        return unit_path(dir, "graph/overlay-containers/" ID "/userdata");
}

static void test_podman(void **state)
{
        char *dir = unit_mkdtemp();
        struct oci_spec spec;
        struct lookup l = {0};
        spec_of("{\"root\":{\"path\":\"rootfs\"}}", &spec);

        char *bundle = podman_layout(
            dir,
            "[" PODMAN_ENTRY(
                "1111111111111111111111111111111111111111111111111111111111111111",
                "docker.io/library/other:1") "," PODMAN_ENTRY(ID, "docker.io/selenium/"
                                                                  "standalone-chrome:4.10") "]");
        lookup(ID, bundle, &spec, &l);
        expect_ref(&l, "docker.io/selenium/standalone-chrome:4.10", "containers-storage");

        /* a trailing slash on the bundle */
        char *slashed;
        assert_true(asprintf(&slashed, "%s/", bundle) > 0);
        lookup(ID, slashed, &spec, &l);
        expect_ref(&l, "docker.io/selenium/standalone-chrome:4.10", "containers-storage");
        free(slashed);

        /* Podman's own containers: containers-storage, never an annotation a user set */
        struct oci_spec podman_spec;
        spec_of("{\"root\":{\"path\":\"rootfs\"},\"annotations\":{"
                "\"io.container.manager\":\"libpod\",\"io.kubernetes.cri-o.TTY\":\"false\","
                "\"io.kubernetes.cri.image-name\":\"docker.io/library/spoofed:1\"}}",
                &podman_spec);
        lookup(ID, bundle, &podman_spec, &l);
        expect_ref(&l, "docker.io/selenium/standalone-chrome:4.10", "containers-storage");
        oci_spec_free(&podman_spec);

        /* without an engine's mark (a bundle written by hand) the annotations come first */
        struct oci_spec annotated;
        spec_of("{\"root\":{\"path\":\"rootfs\"},\"annotations\":{"
                "\"io.kubernetes.cri-o.ImageName\":\"quay.io/crio/img:1\"}}",
                &annotated);
        lookup(ID, bundle, &annotated, &l);
        expect_ref(&l, "quay.io/crio/img:1", "annotation io.kubernetes.cri-o.ImageName");
        oci_spec_free(&annotated);

        /* the id must be the bundle's directory: no lookup of another container */
        lookup("1111111111111111111111111111111111111111111111111111111111111111", bundle, &spec,
               &l);
        expect_none(&l);
        /* an invalid id is never looked up */
        lookup("../x", bundle, &spec, &l);
        expect_none(&l);
        /* a bundle that is not .../<id>/userdata */
        char *other = unit_path(dir, "graph/overlay-containers/" ID);
        lookup(ID, other, &spec, &l);
        expect_none(&l);
        free(other);
        lookup(ID, "relative/" ID "/userdata", &spec, &l);
        expect_none(&l);
        lookup(ID, "/" ID "/userdata", &spec, &l);
        expect_none(&l);

        free(bundle);
        oci_spec_free(&spec);
        free(l.ref);
        unit_rm_rf(dir);
}

/*
 * containers.json is streamed in pieces: a file of many containers, ours
 * last with "metadata" before "id" and its metadata cut by a piece boundary.
 */
static void test_podman_large_storage(void **state)
{
        size_t cap = 4 * JSON_STREAM_PIECE, used = 0;
        char *json = malloc(cap);
        char *dir = unit_mkdtemp();
        struct oci_spec spec;
        struct lookup l = {0};
        (void)state;

        assert_non_null(json);
        used += (size_t)snprintf(json, cap, "[");
        for (unsigned i = 0; used < 2 * JSON_STREAM_PIECE - 40; i++)
                used += (size_t)snprintf(
                    json + used, cap - used,
                    "{\"id\":\"%064u\",\"names\":[\"c%u\"],\"metadata\":"
                    "\"{\\\"image-name\\\":\\\"docker.io/library/other:%u\\\"}\"},",
                    i, i, i);
        used += (size_t)snprintf(json + used, cap - used,
                                 "{\"metadata\":\"{\\\"image-name\\\":\\\"docker.io/selenium/"
                                 "standalone-chrome:4.10\\\"}\",\"id\":\"" ID "\"}]");
        assert_true(used > 2 * JSON_STREAM_PIECE);
        char *bundle = podman_layout(dir, json);
        spec_of("{\"root\":{\"path\":\"rootfs\"},\"annotations\":{"
                "\"io.container.manager\":\"libpod\"}}",
                &spec);
        lookup(ID, bundle, &spec, &l);
        expect_ref(&l, "docker.io/selenium/standalone-chrome:4.10", "containers-storage");
        oci_spec_free(&spec);
        free(l.ref);
        free(bundle);
        free(json);
        unit_rm_rf(dir);
}

static void test_podman_malformed(void **state)
{
        static const struct {
                const char *json, *note;
        } cases[] = {
            {NULL, "containers.json"}, /* missing file */
            {"", "not valid JSON"},
            {"[", "not valid JSON"},
            {"{}", ""},
            {"[] []", "not valid JSON"},
            {"[1, \"x\", null, {\"id\": 5}]", "is not in"},
            {"[{\"id\":\"" ID "\"}]", "no metadata"},
            {"[{\"id\":\"" ID "\",\"metadata\":null}]", "no metadata"},
            {"[{\"id\":\"" ID "\",\"metadata\":{\"image-name\":\"x\"}}]", "is not a string"},
            {"[{\"id\":\"" ID "\",\"metadata\":\"not json\"}]", "not valid JSON"},
            {"[{\"id\":\"" ID "\",\"metadata\":\"[]\"}]", "not a JSON object"},
            {"[{\"id\":\"" ID "\",\"metadata\":\"{}\"}]", ""},
            {"[{\"id\":\"" ID "\",\"metadata\":\"{\\\"image-name\\\":7}\"}]", ""},
            {"[{\"id\":\"" ID "\",\"metadata\":\"{\\\"image-name\\\":null}\"}]", ""},
            {"[{\"id\":\"" ID "\",\"metadata\":\"{\\\"image-name\\\":\\\"a\\\\u0000b\\\"}\"}]",
             "NUL"},
            {"[{\"id\":\"" ID "\",\"metadata\":\"{\\\"image-name\\\":\\\"x\\\"} /* c */\"}]",
             "comment"},
            {"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]"
             "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
             "nested deeper"},
            {"[{\"id\":\"" ID "\"} // c\n]", "comment"},
            /* yajl alone lets an unfinished string after the document pass */
            {"[{\"id\":\"" ID "\",\"metadata\":\"{}\"}] \"", "trailing garbage"},
        };
        struct oci_spec spec;
        spec_of("{\"root\":{\"path\":\"rootfs\"}}", &spec);
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char *dir = unit_mkdtemp();
                char *bundle = podman_layout(dir, cases[i].json);
                struct lookup l = {0};
                lookup(ID, bundle, &spec, &l);
                if (l.ref)
                        fail_msg("containers.json '%s' gave image '%s'", cases[i].json, l.ref);
                assert_null(l.source);
                if (!strstr(l.note, cases[i].note))
                        fail_msg("containers.json '%s': note '%s' lacks '%s'",
                                 cases[i].json ? cases[i].json : "(missing)", l.note,
                                 cases[i].note);
                free(bundle);
                unit_rm_rf(dir);
        }

        /* containers.json through a symlink is refused */
        char *dir = unit_mkdtemp();
        unit_write(dir, "elsewhere.json", "[" PODMAN_ENTRY(ID, "evil:1") "]");
        char *bundle = podman_layout(dir, NULL);
        char *target = unit_path(dir, "elsewhere.json");
        char *link = unit_path(dir, "graph/overlay-containers/containers.json");
        assert_int_equal(symlink(target, link), 0);
        struct lookup l = {0};
        lookup(ID, bundle, &spec, &l);
        expect_none(&l);
        assert_contains(l.note, "symbolic link");
        free(target);
        free(link);
        free(bundle);
        unit_rm_rf(dir);
        oci_spec_free(&spec);
}

/* A config.json whose /etc/hostname is a bind of <source>. */
static void docker_spec(const char *hostname_source, struct oci_spec *spec)
{
        char json[2048];
        snprintf(json, sizeof(json),
                 "{\"root\":{\"path\":\"/var/lib/docker/vfs/dir/x\"},\"mounts\":["
                 "{\"destination\":\"/etc/resolv.conf\",\"type\":\"bind\",\"source\":\"/etc/"
                 "resolv.conf\"},"
                 "{\"destination\":\"/etc/hostname\",\"type\":\"bind\",\"source\":\"%s\","
                 "\"options\":[\"rbind\",\"rprivate\"]}]}",
                 hostname_source);
        spec_of(json, spec);
}

static void test_docker(void **state)
{
        char *dir = unit_mkdtemp();
        unit_write(
            dir, "root/containers/" ID "/config.v2.json",
            "{\"StreamConfig\":{},\"State\":{\"Running\":false},\"ID\":\"" ID "\","
            "\"Image\":\"sha256:7cf20e021381eb61a18d476ea62237bf112cf7a2159849e1f46de6121b57d9d1\","
            "\"Config\":{\"Hostname\":\"7b78313d1b7a\",\"Env\":[\"PATH=/bin\"],"
            "\"Cmd\":[\"true\"],\"Image\":\"selenium/standalone-chrome:4.10\","
            "\"Labels\":{}}}");
        unit_write(dir, "root/containers/" ID "/hostname", "7b78313d1b7a\n");
        char *hostname = unit_path(dir, "root/containers/" ID "/hostname");
        struct oci_spec spec;
        struct lookup l = {0};

        docker_spec(hostname, &spec);
        lookup(ID, "/run/docker/containerd/daemon/io.containerd.runtime.v2.task/moby/" ID, &spec,
               &l);
        expect_ref(&l, "selenium/standalone-chrome:4.10", "docker config.v2.json");
        /* the id must be the directory's name */
        lookup("1111111111111111111111111111111111111111111111111111111111111111", "/b", &spec, &l);
        expect_none(&l);
        lookup(NULL, "/b", &spec, &l);
        expect_none(&l);
        oci_spec_free(&spec);

        /* Docker's own record comes before annotations, which docker run --annotation sets */
        char json[2048];
        snprintf(json, sizeof(json),
                 "{\"root\":{\"path\":\"r\"},\"annotations\":{\"io.kubernetes.cri.image-name\":"
                 "\"redis:7\"},\"mounts\":[{\"destination\":\"/etc/hostname\",\"source\":\"%s\"}]}",
                 hostname);
        spec_of(json, &spec);
        lookup(ID, "/b", &spec, &l);
        expect_ref(&l, "selenium/standalone-chrome:4.10", "docker config.v2.json");
        oci_spec_free(&spec);

        /* the hostname source must be <root>/containers/<id>/FILE */
        static const char *const not_docker[] = {
            "relative/containers/" ID "/hostname",
            "/etc/hostname",
            "/x/other/" ID "/hostname",
            ("/x/containers/" ID),
        };
        for (size_t i = 0; i < sizeof(not_docker) / sizeof(not_docker[0]); i++) {
                docker_spec(not_docker[i], &spec);
                lookup(ID, "/b", &spec, &l);
                expect_none(&l);
                oci_spec_free(&spec);
        }
        free(hostname);
        free(l.ref);
        unit_rm_rf(dir);
}

static void test_docker_malformed(void **state)
{
        static const struct {
                const char *json, *note;
        } cases[] = {
            {NULL, "cannot open 'config.v2.json'"},
            {"", "not valid JSON"},
            {"[]", "not a JSON object"},
            {"{\"Config\":[]}", "'config.v2.Config' is not an object"},
            {"{\"Config\":{\"Image\":7}}", "'config.v2.Config.Image' is not a string"},
            {"{\"Config\":{}}", ""},
            {"{\"Config\":null}", ""},
            {"{\"Image\":\"sha256:abc\"}", ""},
            /* run by image ID: no name a rule could mean */
            {"{\"Config\":{\"Image\":\"sha256:"
             "7cf20e021381eb61a18d476ea62237bf112cf7a2159849e1f46de6121b57d9d1\"}}",
             ""},
            {"{\"Config\":{\"Image\":\"7cf20e021381\"}}", ""},
            {"{\"Config\":{\"Image\":\"a\\u0000b\"}}", "NUL"},
            {"{\"Config\":{\"Image\":\"x\"}} garbage", "not valid JSON"},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char *dir = unit_mkdtemp();
                unit_mkdirs(dir, "root/containers/" ID);
                if (cases[i].json)
                        unit_write(dir, "root/containers/" ID "/config.v2.json", cases[i].json);
                char *hostname = unit_path(dir, "root/containers/" ID "/hostname");
                struct oci_spec spec;
                struct lookup l = {0};
                docker_spec(hostname, &spec);
                lookup(ID, "/b", &spec, &l);
                if (l.ref)
                        fail_msg("config.v2.json '%s' gave image '%s'", cases[i].json, l.ref);
                assert_null(l.source);
                if (!strstr(l.note, cases[i].note))
                        fail_msg("config.v2.json '%s': note '%s' lacks '%s'",
                                 cases[i].json ? cases[i].json : "(missing)", l.note,
                                 cases[i].note);
                oci_spec_free(&spec);
                free(hostname);
                unit_rm_rf(dir);
        }
}

static void test_no_engine(void **state)
{
        /* a plain runc bundle: no annotations, no engine files */
        struct oci_spec spec;
        struct lookup l = {0};
        spec_of("{\"root\":{\"path\":\"rootfs\"},\"mounts\":[{\"destination\":\"/dev/shm\","
                "\"type\":\"tmpfs\",\"source\":\"shm\"}]}",
                &spec);
        lookup("unit-engine-runc", "/tmp/nonexistent-bundle", &spec, &l);
        expect_none(&l);
        /* a NULL or zero-sized note is allowed */
        char *ref = (char *)"x";
        const char *source = "x";
        engine_image_reference("id", "/b", &spec, &ref, &source, NULL, 0);
        assert_null(ref);
        assert_null(source);
        oci_spec_free(&spec);
}

static void test_pod_sandbox(void **state)
{
        static const struct {
                const char *annotations;
                bool sandbox;
        } cases[] = {
            {"\"io.kubernetes.cri.container-type\":\"sandbox\"", true},
            {"\"io.kubernetes.cri-o.ContainerType\":\"sandbox\"", true},
            {"\"io.kubernetes.cri.container-type\":\"container\"", false},
            {"\"io.kubernetes.cri-o.ContainerType\":\"container\"", false},
            {"\"io.kubernetes.cri.container-type\":\"Sandbox\"", false},
            {"\"x\":\"sandbox\"", false},
            {"", false},
        };
        (void)state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char json[256];
                struct oci_spec spec;
                snprintf(json, sizeof(json), "{\"root\":{\"path\":\"r\"},\"annotations\":{%s}}",
                         cases[i].annotations);
                spec_of(json, &spec);
                assert_int_equal(engine_is_pod_sandbox(&spec), cases[i].sandbox);
                oci_spec_free(&spec);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_annotations), cmocka_unit_test(test_pod_sandbox),
            cmocka_unit_test(test_podman),      cmocka_unit_test(test_podman_malformed),
            cmocka_unit_test(test_docker),      cmocka_unit_test(test_docker_malformed),
            cmocka_unit_test(test_no_engine),   cmocka_unit_test(test_podman_large_storage),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
