/* SPDX-License-Identifier: Apache-2.0 */
/*
 * engine.c: which engine made a container (from the bundle's location and the
 * engine's own record only), and what that engine says of its image, sandbox
 * and Kubernetes identity. Annotations a user sets never change either.
 */
#include "unit.h"

#include "engine.h"
#include "json.h"

#define ID  "7b78313d1b7a143e546099c2367dea1c34d8183f9a171c5f81855652f75844eb"
#define ID2 "1111111111111111111111111111111111111111111111111111111111111111"

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

/* Every key a user could set to claim another engine, image, pod or sandbox. */
#define FORGED_ANNOTATIONS                                                                         \
        "\"io.container.manager\":\"libpod\","                                                     \
        "\"io.kubernetes.cri-o.ImageName\":\"forged.example/crio:1\","                             \
        "\"io.kubernetes.cri-o.ContainerType\":\"sandbox\","                                       \
        "\"io.kubernetes.cri-o.ContainerName\":\"k8s_fc_fpod_fns_uid_0\","                         \
        "\"io.kubernetes.cri.image-name\":\"forged.example/cri:1\","                               \
        "\"io.kubernetes.cri.container-type\":\"sandbox\","                                        \
        "\"io.kubernetes.cri.sandbox-namespace\":\"kube-system\","                                 \
        "\"io.kubernetes.cri.sandbox-name\":\"fpod\","                                             \
        "\"io.kubernetes.cri.container-name\":\"fc\","                                             \
        "\"io.kubernetes.cri.sandbox-id\":\"" ID2 "\""

struct lookup {
        char *ref;
        const char *source;
        bool warn;
        char note[512];
};

/* Parse with every annotation kept (NULL keys), so nothing is hidden from the engine code. */
static void spec_of(const char *json, struct oci_spec *spec)
{
        struct shm_error e = {0};
        if (oci_spec_parse(json, strlen(json), "/b", NULL, spec, &e) != 0)
                fail_msg("oci_spec_parse('%s'): %s", json, e.message);
}

/* A config.json with these annotations (a JSON members list, may be empty) and mounts. */
static void spec_with(const char *annotations, const char *mounts, struct oci_spec *spec)
{
        char *json;
        assert_true(asprintf(&json,
                             "{\"root\":{\"path\":\"rootfs\"},\"annotations\":{%s},"
                             "\"mounts\":[%s]}",
                             annotations, mounts) > 0);
        spec_of(json, spec);
        free(json);
}

static void identify(const char *id, const char *bundle, const struct oci_spec *spec,
                     struct engine *engine)
{
        struct shm_error e = {0};
        if (engine_identify(id, bundle, spec, engine, &e) != 0)
                fail_msg("engine_identify('%s', '%s'): %s", id, bundle, e.message);
}

static void expect_kind(const struct engine *engine, enum engine_kind kind, const char *what)
{
        if (engine->kind != kind)
                fail_msg("%s: engine %s, want %s", what, engine_name(engine->kind),
                         engine_name(kind));
}

static void find(const struct engine *engine, const char *id, const struct oci_spec *spec,
                 struct lookup *out)
{
        free(out->ref);
        memset(out, 0, sizeof(*out));
        out->ref = (char *)"stale";
        out->source = "stale";
        out->warn = true;
        strcpy(out->note, "stale");
        engine_find_image(engine, id, spec, &out->ref, &out->source, &out->warn, out->note,
                          sizeof(out->note));
}

static void expect_ref(const struct lookup *l, const char *ref, const char *source)
{
        if (!l->ref || strcmp(l->ref, ref) != 0)
                fail_msg("image '%s' (note '%s'), want '%s'", l->ref ? l->ref : "(none)", l->note,
                         ref);
        assert_string_equal(l->source, source);
        assert_false(l->warn);
}

/* No image; the note says why and `warn` says whether the engine's own record failed. */
static void expect_none(const struct lookup *l, const char *note, bool warn)
{
        if (l->ref)
                fail_msg("found image '%s' from %s, want none", l->ref, l->source);
        assert_null(l->source);
        if (!strstr(l->note, note))
                fail_msg("note '%s' lacks '%s'", l->note, note);
        if (l->warn != warn)
                fail_msg("note '%s': warn %d, want %d", l->note, l->warn, warn);
}

static void expect_str(const char *got, const char *want, const char *what)
{
        if (!want ? got != NULL : !got || strcmp(got, want) != 0)
                fail_msg("%s is '%s', want '%s'", what, got ? got : "(null)",
                         want ? want : "(null)");
}

static void expect_k8s(const struct engine *engine, const char *ns, const char *pod,
                       const char *container)
{
        expect_str(engine->k8s_namespace, ns, "k8s namespace");
        expect_str(engine->k8s_pod, pod, "k8s pod");
        expect_str(engine->k8s_container, container, "k8s container");
}

/* <dir>/graph/overlay-containers/{containers.json,<id>/userdata}; returns the bundle. */
static char *storage_layout(const char *dir, const char *id, const char *containers_json)
{
        char rel[256], *bundle;
        snprintf(rel, sizeof(rel), "graph/overlay-containers/%s/userdata", id);
        unit_mkdirs(dir, rel);
        if (containers_json)
                unit_write(dir, "graph/overlay-containers/containers.json", containers_json);
        bundle = unit_path(dir, rel);
        return bundle;
}

static void test_names(void **state)
{
        assert_string_equal(engine_name(ENGINE_NONE), "none");
        assert_string_equal(engine_name(ENGINE_PODMAN), "podman");
        assert_string_equal(engine_name(ENGINE_CRIO), "cri-o");
        assert_string_equal(engine_name(ENGINE_CONTAINERD), "containerd");
        assert_string_equal(engine_name(ENGINE_DOCKER), "docker");
        assert_string_equal(engine_name((enum engine_kind)42), "none");

        /* engine_keys lists every key the engines read, so main keeps them */
        static const char *const read[] = {
            "io.kubernetes.cri.image-name",        "io.kubernetes.cri.container-type",
            "io.kubernetes.cri.sandbox-namespace", "io.kubernetes.cri.sandbox-name",
            "io.kubernetes.cri.container-name",    "io.kubernetes.cri.sandbox-id",
            "io.kubernetes.cri-o.ImageName",       "io.kubernetes.cri-o.ContainerType",
            "io.kubernetes.cri-o.ContainerName",
        };
        assert_int_equal(engine_keys.n, sizeof(read) / sizeof(read[0]));
        for (size_t i = 0; i < sizeof(read) / sizeof(read[0]); i++) {
                bool found = false;
                for (size_t k = 0; k < engine_keys.n; k++)
                        found |= strcmp(engine_keys.keys[k], read[i]) == 0;
                if (!found)
                        fail_msg("engine_keys lacks '%s'", read[i]);
        }
}

static void test_podman(void **state)
{
        char *dir = unit_mkdtemp();
        struct oci_spec spec;
        struct engine engine;
        struct lookup l = {0};
        char *bundle =
            storage_layout(dir, ID,
                           "[" PODMAN_ENTRY(ID2, "docker.io/library/other:1") "," PODMAN_ENTRY(
                               ID, "docker.io/selenium/standalone-chrome:4.10") "]");
        char *storage_dir = unit_path(dir, "graph/overlay-containers");

        spec_with("", "", &spec);
        identify(ID, bundle, &spec, &engine);
        expect_kind(&engine, ENGINE_PODMAN, "podman bundle");
        assert_string_equal(engine.dir, storage_dir);
        assert_false(engine.sandbox);
        expect_k8s(&engine, NULL, NULL, NULL);
        assert_null(engine.sandbox_id);
        find(&engine, ID, &spec, &l);
        expect_ref(&l, "docker.io/selenium/standalone-chrome:4.10", "containers-storage");
        assert_string_equal(l.note, "");
        engine_free(&engine);
        assert_null(engine.dir);
        oci_spec_free(&spec);

        /* a trailing slash on the bundle */
        char *slashed;
        assert_true(asprintf(&slashed, "%s//", bundle) > 0);
        spec_with("", "", &spec);
        identify(ID, slashed, &spec, &engine);
        expect_kind(&engine, ENGINE_PODMAN, "trailing slash");
        assert_string_equal(engine.dir, storage_dir);
        engine_free(&engine);
        oci_spec_free(&spec);
        free(slashed);

        /* every forged key: still Podman, the image from storage, no pod, no sandbox */
        spec_with(FORGED_ANNOTATIONS, "", &spec);
        identify(ID, bundle, &spec, &engine);
        expect_kind(&engine, ENGINE_PODMAN, "podman with forged annotations");
        assert_false(engine.sandbox);
        expect_k8s(&engine, NULL, NULL, NULL);
        assert_null(engine.sandbox_id);
        find(&engine, ID, &spec, &l);
        expect_ref(&l, "docker.io/selenium/standalone-chrome:4.10", "containers-storage");
        engine_free(&engine);
        oci_spec_free(&spec);

        /* another container's directory, or an id that is not the state's: no engine */
        spec_with("\"io.kubernetes.cri-o.ImageName\":\"quay.io/crio/img:1\"", "", &spec);
        identify(ID2, bundle, &spec, &engine);
        expect_kind(&engine, ENGINE_NONE, "id not the bundle's");
        assert_null(engine.dir);
        find(&engine, ID2, &spec, &l);
        expect_ref(&l, "quay.io/crio/img:1", "annotation-unverified");
        engine_free(&engine);
        /* not .../<id>/userdata */
        char *other = unit_path(dir, "graph/overlay-containers/" ID);
        identify(ID, other, &spec, &engine);
        expect_kind(&engine, ENGINE_NONE, "bundle without userdata");
        engine_free(&engine);
        free(other);
        other = unit_path(dir, "graph/overlay-containers/" ID "/userdata2");
        identify(ID, other, &spec, &engine);
        expect_kind(&engine, ENGINE_NONE, "userdata2");
        engine_free(&engine);
        free(other);
        oci_spec_free(&spec);

        free(storage_dir);
        free(bundle);
        free(l.ref);
        unit_rm_rf(dir);
}

/* Only 64 lower-case hex digits are engine ids, and the directory must be <driver>-containers. */
static void test_storage_layout_words(void **state)
{
        static const struct {
                const char *id, *storage;
        } cases[] = {
            {"abc", "overlay-containers"},
            {"7B78313D1B7A143E546099C2367DEA1C34D8183F9A171C5F81855652F75844EB",
             "overlay-containers"},
            {ID "0", "overlay-containers"},
            {ID, "Overlay-containers"},
            {ID, "-containers"},
            {ID, "over_lay-containers"},
            {ID, "overlay-container"},
            {ID, "containers"},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char *dir = unit_mkdtemp(), rel[256], *bundle;
                struct oci_spec spec;
                struct engine engine;
                snprintf(rel, sizeof(rel), "x/%s/%s/userdata", cases[i].storage, cases[i].id);
                unit_mkdirs(dir, rel);
                snprintf(rel, sizeof(rel), "x/%s/containers.json", cases[i].storage);
                unit_write(dir, rel, "[" PODMAN_ENTRY(ID, "evil:1") "]");
                snprintf(rel, sizeof(rel), "x/%s/%s/userdata", cases[i].storage, cases[i].id);
                bundle = unit_path(dir, rel);
                spec_with("", "", &spec);
                identify(cases[i].id, bundle, &spec, &engine);
                expect_kind(&engine, ENGINE_NONE, bundle);
                engine_free(&engine);
                oci_spec_free(&spec);
                free(bundle);
                unit_rm_rf(dir);
        }
        /* any lower-case driver name with digits is a storage */
        char *dir = unit_mkdtemp();
        unit_mkdirs(dir, "x/zfs2-containers/" ID "/userdata");
        unit_write(dir, "x/zfs2-containers/containers.json", "[" PODMAN_ENTRY(ID, "ok:1") "]");
        char *bundle = unit_path(dir, "x/zfs2-containers/" ID "/userdata");
        struct oci_spec spec;
        struct engine engine;
        struct lookup l = {0};
        spec_with("", "", &spec);
        identify(ID, bundle, &spec, &engine);
        expect_kind(&engine, ENGINE_PODMAN, "zfs2-containers");
        find(&engine, ID, &spec, &l);
        expect_ref(&l, "ok:1", "containers-storage");
        free(l.ref);
        engine_free(&engine);
        oci_spec_free(&spec);
        free(bundle);
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
        struct engine engine;
        struct lookup l = {0};

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
        char *bundle = storage_layout(dir, ID, json);
        spec_with("", "", &spec);
        identify(ID, bundle, &spec, &engine);
        expect_kind(&engine, ENGINE_PODMAN, "large storage");
        find(&engine, ID, &spec, &l);
        expect_ref(&l, "docker.io/selenium/standalone-chrome:4.10", "containers-storage");
        engine_free(&engine);
        oci_spec_free(&spec);
        free(l.ref);
        free(bundle);
        free(json);
        unit_rm_rf(dir);
}

/* One containers.json, our Podman container's image lookup: the image or (note, warn). */
static void storage_case(const char *json, const char *image, const char *note, bool warn)
{
        char *dir = unit_mkdtemp();
        char *bundle = storage_layout(dir, ID, json);
        struct oci_spec spec;
        struct engine engine;
        struct lookup l = {0};

        spec_with("", "", &spec);
        identify(ID, bundle, &spec, &engine);
        expect_kind(&engine, ENGINE_PODMAN, json);
        find(&engine, ID, &spec, &l);
        if (image) {
                expect_ref(&l, image, "containers-storage");
                free(l.ref);
        } else {
                if (l.ref)
                        fail_msg("containers.json '%s' gave image '%s'", json, l.ref);
                if (!strstr(l.note, note) || l.warn != warn)
                        fail_msg("containers.json '%s': note '%s' (warn %d), want '%s' (warn %d)",
                                 json, l.note, l.warn, note, warn);
                assert_null(l.source);
        }
        engine_free(&engine);
        oci_spec_free(&spec);
        free(bundle);
        unit_rm_rf(dir);
}

static void test_podman_storage_records(void **state)
{
        static const struct {
                const char *json, *image, *note;
                bool warn;
        } cases[] = {
            /* the read stops at our entry: what follows is never read */
            {"[{\"id\":\"" ID "\",\"metadata\":\"{\\\"image-name\\\":\\\"a:1\\\"}\"}, garbage",
             "a:1", NULL, false},
            {"[{\"id\":\"" ID "\",\"metadata\":\"{\\\"image-name\\\":\\\"a:1\\\"}\"}]]]]", "a:1",
             NULL, false},
            {"[{\"id\":\"" ID "\",\"metadata\":\"{\\\"image-name\\\":\\\"a:1\\\"}\"},{\"id\":5}]",
             "a:1", NULL, false},
            /* other entries before ours may hold anything valid */
            {"[null, {\"id\":\"" ID2 "\",\"metadata\":\"not json\"},{},"
             "{\"names\":{\"deep\":[1e400]}},"
             "{\"id\":\"" ID "\",\"metadata\":\"{\\\"image-name\\\":\\\"b:2\\\"}\"}]",
             "b:2", NULL, false},
            /* metadata before the id, other members in the metadata */
            {"[{\"metadata\":\"{\\\"name\\\":\\\"n\\\",\\\"image-name\\\":\\\"c:3\\\","
             "\\\"x\\\":{}}\",\"id\":\"" ID "\"}]",
             "c:3", NULL, false},
            /* the engine's record was expected and is not usable: warn */
            {"", NULL, "not valid JSON", true},
            {"[", NULL, "not valid JSON", true},
            {"[1, {\"id\":\"" ID "\",\"metadata\":\"{}\"}]", NULL,
             "'containers.json[0]' is not an object", true},
            {"[{}, [], {\"id\":\"" ID "\"}]", NULL, "'containers.json[1]' is not an object", true},
            {"{}", NULL, "'containers.json' is not an array", true},
            {"[] []", NULL, "not valid JSON", true},
            {"[]", NULL, "is not in", true},
            {"[{\"id\":\"" ID2 "\"}]", NULL, "is not in", true},
            {"[{\"id\":\"" ID2 "\",\"metadata\":\"{}\"}", NULL, "not valid JSON", true},
            {"[{\"id\":\"" ID "\"}]", NULL, "no metadata", true},
            {"[{\"id\":\"" ID "\",\"metadata\":null}]", NULL, "no metadata", true},
            {"[{\"id\":\"" ID "\",\"metadata\":{\"image-name\":\"x\"}}]", NULL, "is not a string",
             true},
            {"[{\"id\":5}]", NULL, "is not a string", true},
            {"[{\"id\":\"" ID "\",\"metadata\":\"not json\"}]", NULL, "not valid JSON", true},
            {"[{\"id\":\"" ID "\",\"metadata\":\"[]\"}]", NULL, "is not an object", true},
            {"[{\"id\":\"" ID "\",\"metadata\":\"{\\\"image-name\\\":7}\"}]", NULL,
             "is not a string", true},
            {"[{\"id\":\"" ID "\",\"metadata\":\"{\\\"image-name\\\":\\\"a\\\\u0000b\\\"}\"}]",
             NULL, "NUL", true},
            /* a case variant of a read key, or our id twice in an entry */
            {"[{\"ID\":\"" ID "\",\"metadata\":\"{}\"}]", NULL, "which runc reads as 'id'", true},
            {"[{\"id\":\"" ID "\",\"Metadata\":\"{}\"}]", NULL, "'Metadata'", true},
            {"[{\"id\":\"" ID "\",\"metadata\":\"{\\\"Image-Name\\\":\\\"x\\\"}\"}]", NULL,
             "'Image-Name'", true},
            {"[{\"id\":\"" ID2 "\",\"id\":\"" ID "\",\"metadata\":\"{}\"}]", NULL, "twice", true},
            /* no image name: a container made from a root file system, nothing to warn of */
            {"[{\"id\":\"" ID "\",\"metadata\":\"{}\"}]", NULL, "names no image", false},
            {"[{\"id\":\"" ID "\",\"metadata\":\"{\\\"image-name\\\":null}\"}]", NULL,
             "names no image", false},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
                storage_case(cases[i].json, cases[i].image, cases[i].note, cases[i].warn);
}

/*
 * Metadata that fails to parse after its image-name was read is a malformed
 * record: no image (engine.h: "a missing or malformed record is no image").
 */
static void test_podman_bad_metadata(void **state)
{
        static const char *const cases[] = {
            "[{\"id\":\"" ID "\",\"metadata\":\"{\\\"image-name\\\":\\\"x\\\"} /* c */\"}]",
            "[{\"id\":\"" ID "\",\"metadata\":\"{\\\"image-name\\\":\\\"x\\\"} y\"}]",
            "[{\"id\":\"" ID "\",\"metadata\":\"{\\\"image-name\\\":\\\"x\\\",\\\"y\\\":\"}]",
            "[{\"id\":\"" ID "\",\"metadata\":\"{\\\"image-name\\\":\\\"a\\\","
            "\\\"image-name\\\":\\\"b\\\"}\"}]",
            "[{\"id\":\"" ID "\",\"metadata\":\"{\\\"image-name\\\":\\\"a\\\","
            "\\\"Image-Name\\\":\\\"b\\\"}\"}]",
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
                storage_case(cases[i], NULL, "containers-storage entry of '" ID "'", true);
}

/* The same layout without containers.json beside it is CRI-O's run root. */
static void test_crio(void **state)
{
        char *dir = unit_mkdtemp();
        char *bundle = storage_layout(dir, ID, NULL);
        char *storage_dir = unit_path(dir, "graph/overlay-containers");
        struct oci_spec spec;
        struct engine engine;
        struct lookup l = {0};

        spec_with("\"io.kubernetes.cri-o.ImageName\":\"quay.io/crio/img:1\","
                  "\"io.kubernetes.cri-o.ContainerType\":\"container\","
                  "\"io.kubernetes.cri-o.ContainerName\":\"k8s_web_nginx-7d9_default_"
                  "0b1c2d3e-aaaa-bbbb-cccc-123456789abc_2\","
                  /* a pod's own annotations in containerd's keys, which CRI-O never reads */
                  "\"io.kubernetes.cri.image-name\":\"forged.example/cri:1\","
                  "\"io.kubernetes.cri.container-type\":\"sandbox\","
                  "\"io.kubernetes.cri.sandbox-namespace\":\"kube-system\","
                  "\"io.kubernetes.cri.sandbox-name\":\"fpod\","
                  "\"io.kubernetes.cri.container-name\":\"fc\","
                  "\"io.kubernetes.cri.sandbox-id\":\"" ID2 "\","
                  "\"io.container.manager\":\"libpod\"",
                  "", &spec);
        identify(ID, bundle, &spec, &engine);
        expect_kind(&engine, ENGINE_CRIO, "cri-o bundle");
        assert_string_equal(engine.dir, storage_dir);
        assert_false(engine.sandbox);
        expect_k8s(&engine, "default", "nginx-7d9", "web");
        assert_null(engine.sandbox_id);
        find(&engine, ID, &spec, &l);
        expect_ref(&l, "quay.io/crio/img:1", "crio-annotation");
        engine_free(&engine);
        oci_spec_free(&spec);

        /* only CRI-O's own image key: containerd's is never a fallback */
        spec_with("\"io.kubernetes.cri.image-name\":\"forged.example/cri:1\"", "", &spec);
        identify(ID, bundle, &spec, &engine);
        expect_kind(&engine, ENGINE_CRIO, "cri-o, containerd key only");
        assert_false(engine.sandbox);
        expect_k8s(&engine, NULL, NULL, NULL);
        find(&engine, ID, &spec, &l);
        expect_none(&l, "cri-o sets no image name for it", false);
        engine_free(&engine);
        oci_spec_free(&spec);

        /* an empty value is no image */
        spec_with("\"io.kubernetes.cri-o.ImageName\":\"\"", "", &spec);
        identify(ID, bundle, &spec, &engine);
        find(&engine, ID, &spec, &l);
        expect_none(&l, "sets no image name", false);
        engine_free(&engine);
        oci_spec_free(&spec);

        /* the pod sandbox, by CRI-O's own key */
        spec_with("\"io.kubernetes.cri-o.ContainerType\":\"sandbox\","
                  "\"io.kubernetes.cri-o.ContainerName\":\"k8s_POD_nginx-7d9_default_uid_0\"",
                  "", &spec);
        identify(ID, bundle, &spec, &engine);
        assert_true(engine.sandbox);
        expect_k8s(&engine, "default", "nginx-7d9", "POD");
        engine_free(&engine);
        oci_spec_free(&spec);
        spec_with("\"io.kubernetes.cri-o.ContainerType\":\"Sandbox\"", "", &spec);
        identify(ID, bundle, &spec, &engine);
        assert_false(engine.sandbox);
        engine_free(&engine);
        oci_spec_free(&spec);

        free(storage_dir);
        free(bundle);
        free(l.ref);
        unit_rm_rf(dir);
}

/* io.kubernetes.cri-o.ContainerName: k8s_<container>_<pod>_<namespace>_<uid>_<attempt>. */
static void test_crio_names(void **state)
{
        static const struct {
                const char *name, *container, *pod, *ns;
        } cases[] = {
            {"k8s_c_p_n_u_0", "c", "p", "n"},
            {"k8s_c_p_n_", "c", "p", "n"},
            {"k8s_c_p_n", NULL, NULL, NULL},
            {"k8s_c_p", NULL, NULL, NULL},
            {"k8s__p_n_u_0", NULL, NULL, NULL},
            {"k8s_c__n_u_0", NULL, NULL, NULL},
            {"k8s_c_p__u_0", NULL, NULL, NULL},
            {"K8S_c_p_n_u_0", NULL, NULL, NULL},
            {"k8sc_p_n_u_0", NULL, NULL, NULL},
            {"x_k8s_c_p_n_u_0", NULL, NULL, NULL},
            {"", NULL, NULL, NULL},
        };
        char *dir = unit_mkdtemp();
        char *bundle = storage_layout(dir, ID, NULL);
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char annotation[256];
                struct oci_spec spec;
                struct engine engine;
                snprintf(annotation, sizeof(annotation),
                         "\"io.kubernetes.cri-o.ContainerName\":\"%s\"", cases[i].name);
                spec_with(annotation, "", &spec);
                identify(ID, bundle, &spec, &engine);
                expect_kind(&engine, ENGINE_CRIO, cases[i].name);
                expect_str(engine.k8s_container, cases[i].container, cases[i].name);
                expect_str(engine.k8s_pod, cases[i].pod, cases[i].name);
                expect_str(engine.k8s_namespace, cases[i].ns, cases[i].name);
                engine_free(&engine);
                oci_spec_free(&spec);
        }
        free(bundle);
        unit_rm_rf(dir);
}

static void test_containerd(void **state)
{
        static const char bundle[] = "/run/containerd/io.containerd.runtime.v2.task/k8s.io/" ID;
        struct oci_spec spec;
        struct engine engine;
        struct lookup l = {0};

        spec_with("\"io.kubernetes.cri.image-name\":\"docker.io/library/redis:7\","
                  "\"io.kubernetes.cri.container-type\":\"container\","
                  "\"io.kubernetes.cri.sandbox-namespace\":\"default\","
                  "\"io.kubernetes.cri.sandbox-name\":\"redis-0\","
                  "\"io.kubernetes.cri.container-name\":\"redis\","
                  "\"io.kubernetes.cri.sandbox-id\":\"" ID2 "\","
                  /* a pod's own annotations in CRI-O's keys, which containerd never reads */
                  "\"io.kubernetes.cri-o.ImageName\":\"forged.example/crio:1\","
                  "\"io.kubernetes.cri-o.ContainerType\":\"sandbox\","
                  "\"io.kubernetes.cri-o.ContainerName\":\"k8s_fc_fpod_fns_uid_0\","
                  "\"io.container.manager\":\"libpod\"",
                  "", &spec);
        identify(ID, bundle, &spec, &engine);
        expect_kind(&engine, ENGINE_CONTAINERD, bundle);
        assert_string_equal(engine.dir, "/run/containerd");
        assert_false(engine.sandbox);
        expect_k8s(&engine, "default", "redis-0", "redis");
        assert_string_equal(engine.sandbox_id, ID2);
        find(&engine, ID, &spec, &l);
        expect_ref(&l, "docker.io/library/redis:7", "containerd-annotation");
        engine_free(&engine);
        oci_spec_free(&spec);

        /* only containerd's own image key */
        spec_with("\"io.kubernetes.cri-o.ImageName\":\"forged.example/crio:1\","
                  "\"io.kubernetes.cri-o.ContainerType\":\"sandbox\","
                  "\"io.kubernetes.cri-o.ContainerName\":\"k8s_fc_fpod_fns_uid_0\"",
                  "", &spec);
        identify(ID, "/var/run/k3s/containerd/io.containerd.runtime.v2.task/k8s.io/" ID "/", &spec,
                 &engine);
        expect_kind(&engine, ENGINE_CONTAINERD, "k3s state, CRI-O keys only");
        assert_string_equal(engine.dir, "/var/run/k3s/containerd");
        assert_false(engine.sandbox);
        expect_k8s(&engine, NULL, NULL, NULL);
        assert_null(engine.sandbox_id);
        find(&engine, ID, &spec, &l);
        expect_none(&l, "containerd sets no image name for it", false);
        engine_free(&engine);
        oci_spec_free(&spec);

        /* the pod sandbox, by containerd's key */
        spec_with("\"io.kubernetes.cri.container-type\":\"sandbox\"", "", &spec);
        identify(ID, bundle, &spec, &engine);
        assert_true(engine.sandbox);
        engine_free(&engine);
        oci_spec_free(&spec);

        /* other namespaces are not the CRI: Docker's moby, ctr's default; then annotations */
        static const char *const not_cri[] = {
            "/run/docker/containerd/daemon/io.containerd.runtime.v2.task/moby/" ID,
            "/run/containerd/io.containerd.runtime.v2.task/default/" ID,
            "/run/containerd/io.containerd.runtime.v2.task/K8s.io/" ID,
            "/run/containerd/io.containerd.runtime.v1.linux/k8s.io/" ID,
            "/run/containerd/io.containerd.runtime.v2.task/k8s.io/" ID "/rootfs",
            "/run/containerd/io.containerd.runtime.v2.task/k8s.io/abc",
            "/run/containerd/io.containerd.runtime.v2.task/k8s.io/" ID2,
            "io.containerd.runtime.v2.task/k8s.io/" ID,
        };
        spec_with("\"io.kubernetes.cri.image-name\":\"docker.io/library/redis:7\"", "", &spec);
        for (size_t i = 0; i < sizeof(not_cri) / sizeof(not_cri[0]); i++) {
                identify(strstr(not_cri[i], "/abc") ? "abc" : ID, not_cri[i], &spec, &engine);
                expect_kind(&engine, ENGINE_NONE, not_cri[i]);
                find(&engine, ID, &spec, &l);
                expect_ref(&l, "docker.io/library/redis:7", "annotation-unverified");
                engine_free(&engine);
        }
        oci_spec_free(&spec);
        free(l.ref);
}

/* A Docker container: its config.v2.json and /etc/hostname bind in <data-root>/containers/<id>. */
#define DOCKER_CONFIG(id, image)                                                                   \
        "{\"StreamConfig\":{},\"State\":{\"Running\":false},\"ID\":\"" id "\","                    \
        "\"Image\":\"sha256:7cf20e021381eb61a18d476ea62237bf112cf7a2159849e1f46de6121b57d9d1\","   \
        "\"Config\":{\"Hostname\":\"7b78313d1b7a\",\"Env\":[\"PATH=/bin\"],"                       \
        "\"Cmd\":[\"true\"],\"Image\":\"" image "\",\"Labels\":{}}}"

static void docker_spec(const char *annotations, const char *hostname_source, struct oci_spec *spec)
{
        char mounts[2048];
        snprintf(mounts, sizeof(mounts),
                 "{\"destination\":\"/etc/resolv.conf\",\"type\":\"bind\",\"source\":\"/etc/"
                 "resolv.conf\"},"
                 "{\"destination\":\"/etc/hostname\",\"type\":\"bind\",\"source\":\"%s\","
                 "\"options\":[\"rbind\",\"rprivate\"]}",
                 hostname_source);
        spec_with(annotations, mounts, spec);
}

static const char docker_bundle[] =
    "/run/docker/containerd/daemon/io.containerd.runtime.v2.task/moby/" ID;

static void test_docker(void **state)
{
        char *dir = unit_mkdtemp();
        unit_write(dir, "root/containers/" ID "/config.v2.json",
                   DOCKER_CONFIG(ID, "selenium/standalone-chrome:4.10"));
        unit_write(dir, "root/containers/" ID "/hostname", "7b78313d1b7a\n");
        char *hostname = unit_path(dir, "root/containers/" ID "/hostname");
        char *containers = unit_path(dir, "root/containers");
        struct oci_spec spec;
        struct engine engine;
        struct lookup l = {0};

        docker_spec("", hostname, &spec);
        identify(ID, docker_bundle, &spec, &engine);
        expect_kind(&engine, ENGINE_DOCKER, "docker");
        assert_string_equal(engine.dir, containers);
        assert_false(engine.sandbox);
        expect_k8s(&engine, NULL, NULL, NULL);
        find(&engine, ID, &spec, &l);
        expect_ref(&l, "selenium/standalone-chrome:4.10", "docker-config");
        engine_free(&engine);
        oci_spec_free(&spec);

        /* docker run --annotation sets any key: none of them counts */
        docker_spec(FORGED_ANNOTATIONS, hostname, &spec);
        identify(ID, docker_bundle, &spec, &engine);
        expect_kind(&engine, ENGINE_DOCKER, "docker with forged annotations");
        assert_false(engine.sandbox);
        expect_k8s(&engine, NULL, NULL, NULL);
        assert_null(engine.sandbox_id);
        find(&engine, ID, &spec, &l);
        expect_ref(&l, "selenium/standalone-chrome:4.10", "docker-config");
        engine_free(&engine);

        /* the id must be the directory's name, and the state's */
        identify(ID2, docker_bundle, &spec, &engine);
        expect_kind(&engine, ENGINE_NONE, "docker, other id");
        find(&engine, ID2, &spec, &l);
        expect_ref(&l, "forged.example/cri:1", "annotation-unverified");
        engine_free(&engine);
        oci_spec_free(&spec);

        /* the hostname source must be <data-root>/containers/<id>/hostname, config.v2.json there */
        char *no_record = unit_path(dir, "other/containers/" ID "/hostname");
        unit_write(dir, "other/containers/" ID "/hostname", "x\n");
        char *relative = NULL;
        assert_true(asprintf(&relative, "%s", hostname + 1) > 0);
        const char *not_docker[] = {
            relative, "/etc/hostname", "/x/other/" ID "/hostname", "/x/containers/" ID, no_record,
        };
        for (size_t i = 0; i < sizeof(not_docker) / sizeof(not_docker[0]); i++) {
                docker_spec("", not_docker[i], &spec);
                identify(ID, docker_bundle, &spec, &engine);
                expect_kind(&engine, ENGINE_NONE, not_docker[i]);
                engine_free(&engine);
                oci_spec_free(&spec);
        }
        /* a hostname file with another name, or the id in another case */
        char *other_name = unit_path(dir, "root/containers/" ID "/hostname2");
        docker_spec("", other_name, &spec);
        identify(ID, docker_bundle, &spec, &engine);
        expect_kind(&engine, ENGINE_NONE, other_name);
        engine_free(&engine);
        oci_spec_free(&spec);
        free(other_name);
        /* /etc/hostname given as a non-clean destination is still /etc/hostname */
        char mounts[1024];
        snprintf(mounts, sizeof(mounts),
                 "{\"destination\":\"/etc/./hostname\",\"type\":\"bind\",\"source\":\"%s\"}",
                 hostname);
        spec_with("", mounts, &spec);
        identify(ID, docker_bundle, &spec, &engine);
        expect_kind(&engine, ENGINE_DOCKER, "/etc/./hostname");
        engine_free(&engine);
        oci_spec_free(&spec);

        free(relative);
        free(no_record);
        free(containers);
        free(hostname);
        free(l.ref);
        unit_rm_rf(dir);
}

static void test_docker_records(void **state)
{
        static const struct {
                const char *json, *image, *note;
                bool warn;
        } cases[] = {
            {DOCKER_CONFIG(ID, "redis:7"), "redis:7", NULL, false},
            /* Config.Image before ID; the read stops once both are known */
            {"{\"Config\":{\"Image\":\"redis:7\"},\"ID\":\"" ID "\"} garbage", "redis:7", NULL,
             false},
            {"{\"ID\":\"" ID "\",\"Config\":{\"Image\":\"redis:7\"}, \"x\":[[[", "redis:7", NULL,
             false},
            /* the record must be this container's */
            {DOCKER_CONFIG(ID2, "redis:7"), NULL, "is not the record of", true},
            {"{\"Config\":{\"Image\":\"redis:7\"}}", NULL, "is not the record of", true},
            {"{\"ID\":\"" ID "\"}", NULL, "by image ID", false},
            /* run by image ID: no name a rule could mean */
            {DOCKER_CONFIG(ID, "sha256:7cf20e021381eb61a18d476ea62237bf112cf7a2159849e1f46de6121b5"
                               "7d9d1"),
             NULL, "by image ID", false},
            {DOCKER_CONFIG(ID, "7cf20e021381"), NULL, "by image ID", false},
            /* malformed: warn */
            {"", NULL, "not valid JSON", true},
            {"[]", NULL, "'config.v2.json' is not an object", true},
            {"{\"ID\":\"" ID "\",\"Config\":[]}", NULL, "'config.v2.Config' is not an object",
             true},
            {"{\"ID\":\"" ID "\",\"Config\":{\"Image\":7}}", NULL,
             "'config.v2.Config.Image' is not a string", true},
            {"{\"ID\":\"" ID "\",\"Config\":{\"Image\":\"a\\u0000b\"}}", NULL, "NUL", true},
            {"{\"ID\":\"" ID "\",\"Config\":{\"Ima", NULL, "not valid JSON", true},
            /* case variants and repeats of read keys */
            {"{\"Id\":\"" ID "\",\"Config\":{\"Image\":\"x\"}}", NULL, "which runc reads as 'ID'",
             true},
            {"{\"ID\":\"" ID "\",\"config\":{\"Image\":\"x\"}}", NULL, "'config'", true},
            {"{\"ID\":\"" ID "\",\"Config\":{\"image\":\"x\"}}", NULL, "'image'", true},
            {"{\"ID\":\"" ID2 "\",\"ID\":\"" ID "\",\"Config\":{\"Image\":\"x\"}}", NULL,
             "has key 'ID' twice", true},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char *dir = unit_mkdtemp();
                unit_write(dir, "root/containers/" ID "/config.v2.json", cases[i].json);
                char *hostname = unit_path(dir, "root/containers/" ID "/hostname");
                struct oci_spec spec;
                struct engine engine;
                struct lookup l = {0};
                docker_spec("\"io.kubernetes.cri.image-name\":\"forged:1\"", hostname, &spec);
                identify(ID, docker_bundle, &spec, &engine);
                expect_kind(&engine, ENGINE_DOCKER, cases[i].json);
                find(&engine, ID, &spec, &l);
                if (cases[i].image) {
                        expect_ref(&l, cases[i].image, "docker-config");
                        free(l.ref);
                } else {
                        if (l.ref)
                                fail_msg("config.v2.json '%s' gave image '%s'", cases[i].json,
                                         l.ref);
                        assert_null(l.source);
                        if (!strstr(l.note, cases[i].note) || l.warn != cases[i].warn)
                                fail_msg("config.v2.json '%s': note '%s' (warn %d), want '%s' "
                                         "(warn %d)",
                                         cases[i].json, l.note, l.warn, cases[i].note,
                                         cases[i].warn);
                }
                engine_free(&engine);
                oci_spec_free(&spec);
                free(hostname);
                unit_rm_rf(dir);
        }
}

/* No engine claims the bundle (runc or crun by hand): the annotations are all there is. */
static void test_no_engine(void **state)
{
        static const struct {
                const char *annotations, *image;
                bool sandbox;
                const char *ns, *pod, *container;
        } cases[] = {
            /* containerd's key first, then CRI-O's */
            {"\"io.kubernetes.cri-o.ImageName\":\"quay.io/crio/img:1\","
             "\"io.kubernetes.cri.image-name\":\"docker.io/library/redis:7\"",
             "docker.io/library/redis:7", false, NULL, NULL, NULL},
            {"\"io.kubernetes.cri-o.ImageName\":\"quay.io/crio/img:1\"", "quay.io/crio/img:1",
             false, NULL, NULL, NULL},
            {"\"io.kubernetes.cri.image-name\":\"\","
             "\"io.kubernetes.cri-o.ImageName\":\"quay.io/crio/img:1\"",
             "quay.io/crio/img:1", false, NULL, NULL, NULL},
            /* either engine's sandbox key */
            {"\"io.kubernetes.cri.container-type\":\"sandbox\"", NULL, true, NULL, NULL, NULL},
            {"\"io.kubernetes.cri-o.ContainerType\":\"sandbox\"", NULL, true, NULL, NULL, NULL},
            {"\"io.kubernetes.cri.container-type\":\"Sandbox\"", NULL, false, NULL, NULL, NULL},
            {"\"x\":\"sandbox\"", NULL, false, NULL, NULL, NULL},
            /* no Kubernetes identity from a bundle no engine claims (SPEC: namespace=, pod= and
             * container= never hold outside Kubernetes), whatever keys it carries */
            {"\"io.kubernetes.cri.sandbox-namespace\":\"ns\",\"io.kubernetes.cri.sandbox-name\":"
             "\"pod\",\"io.kubernetes.cri.container-name\":\"c\","
             "\"io.kubernetes.cri-o.ContainerName\":\"k8s_oc_opod_ons_u_0\"",
             NULL, false, NULL, NULL, NULL},
            {"\"io.kubernetes.cri-o.ContainerName\":\"k8s_oc_opod_ons_u_0\"", NULL, false, NULL,
             NULL, NULL},
            /* case variants and other keys are not engine keys */
            {"\"io.kubernetes.cri.image-Name\":\"a\",\"org.opencontainers.image.ref.name\":\"b\","
             "\"io.container.manager\":\"libpod\"",
             NULL, false, NULL, NULL, NULL},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct oci_spec spec;
                struct engine engine;
                struct lookup l = {0};
                spec_with(cases[i].annotations,
                          "{\"destination\":\"/dev/shm\",\"type\":\"tmpfs\",\"source\":\"shm\"}",
                          &spec);
                identify("unit-engine-runc", "/tmp/nonexistent-bundle", &spec, &engine);
                expect_kind(&engine, ENGINE_NONE, cases[i].annotations);
                assert_null(engine.dir);
                if (engine.sandbox != cases[i].sandbox)
                        fail_msg("'%s': sandbox %d", cases[i].annotations, engine.sandbox);
                expect_k8s(&engine, cases[i].ns, cases[i].pod, cases[i].container);
                find(&engine, "unit-engine-runc", &spec, &l);
                if (cases[i].image) {
                        expect_ref(&l, cases[i].image, "annotation-unverified");
                        free(l.ref);
                } else {
                        expect_none(&l, "no engine claims the bundle; it sets no image name",
                                    false);
                }
                engine_free(&engine);
                oci_spec_free(&spec);
        }

        /* a NULL or zero-sized note is allowed */
        struct oci_spec spec;
        struct engine engine;
        spec_with("", "", &spec);
        identify("id", "/b", &spec, &engine);
        char *ref = (char *)"x";
        const char *source = "x";
        bool warn = true;
        engine_find_image(&engine, "id", &spec, &ref, &source, &warn, NULL, 0);
        assert_null(ref);
        assert_null(source);
        assert_false(warn);
        char note[1] = {'x'};
        engine_find_image(&engine, "id", &spec, &ref, &source, &warn, note, sizeof(note));
        assert_null(ref);
        assert_int_equal(note[0], '\0');
        engine_free(&engine);
        oci_spec_free(&spec);
}

/* main keeps only engine_keys (and the policy's): the decisions are the same. */
static void test_engine_keys_only(void **state)
{
        static const char json[] =
            "{\"root\":{\"path\":\"r\"},\"annotations\":{"
            "\"io.kubernetes.cri.image-name\":\"docker.io/library/redis:7\","
            "\"io.kubernetes.cri.container-type\":\"sandbox\","
            "\"io.kubernetes.cri.sandbox-namespace\":\"default\","
            "\"io.kubernetes.cri.sandbox-name\":\"redis-0\","
            "\"io.kubernetes.cri.container-name\":\"redis\","
            "\"io.kubernetes.cri.sandbox-id\":\"" ID2 "\",\"other\":\"x\\u0000\"}}";
        struct oci_spec spec;
        struct engine engine;
        struct lookup l = {0};
        struct shm_error e = {0};
        assert_int_equal(oci_spec_parse(json, strlen(json), "/b", &engine_keys, &spec, &e), 0);
        assert_int_equal(spec.n_annotations, 6);
        assert_int_equal(spec.n_annotations_skipped, 1);
        identify(ID, "/run/containerd/io.containerd.runtime.v2.task/k8s.io/" ID, &spec, &engine);
        expect_kind(&engine, ENGINE_CONTAINERD, "containerd, engine_keys");
        assert_true(engine.sandbox);
        expect_k8s(&engine, "default", "redis-0", "redis");
        assert_string_equal(engine.sandbox_id, ID2);
        find(&engine, ID, &spec, &l);
        expect_ref(&l, "docker.io/library/redis:7", "containerd-annotation");
        free(l.ref);
        engine_free(&engine);
        oci_spec_free(&spec);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_names),
            cmocka_unit_test(test_podman),
            cmocka_unit_test(test_storage_layout_words),
            cmocka_unit_test(test_podman_large_storage),
            cmocka_unit_test(test_podman_storage_records),
            cmocka_unit_test(test_podman_bad_metadata),
            cmocka_unit_test(test_crio),
            cmocka_unit_test(test_crio_names),
            cmocka_unit_test(test_containerd),
            cmocka_unit_test(test_docker),
            cmocka_unit_test(test_docker_records),
            cmocka_unit_test(test_no_engine),
            cmocka_unit_test(test_engine_keys_only),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
