/* SPDX-License-Identifier: Apache-2.0 */
/* mount.c and engine.c, the pure parts: the engine's own shm paths and classifying /dev/shm. */
#include "unit.h"

#include <sys/sysmacros.h>

#include "engine.h"
#include "mount.h"

#define ID  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ID2 "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

/* Every shm path shape of every engine, each in its own directory. */
#define CRI_SHM(id)    "/run/containerd/io.containerd.grpc.v1.cri/sandboxes/" id "/shm"
#define PODMAN_SHM(id) "/var/lib/containers/storage/overlay-containers/" id "/userdata/shm"
#define CRIO_SHM(id)   "/run/containers/storage/overlay-containers/" id "/userdata/shm"
#define DOCKER_SHM(id) "/var/lib/docker/containers/" id "/mounts/shm"

static void expect_own(const struct engine *engine, const char *source, bool want)
{
        if (engine_shm_source_is_own(engine, source) != want)
                fail_msg("engine %s (dir '%s', sandbox '%s'): '%s' should %sbe its own shm",
                         engine_name(engine->kind), engine->dir ? engine->dir : "",
                         engine->sandbox_id ? engine->sandbox_id : "", source ? source : "(null)",
                         want ? "" : "not ");
}

/* A bundle no engine claims: any engine's shape will do, but only a real shape. */
static void test_shm_source_no_engine(void **state)
{
        static const char *const yes[] = {
            /* containerd CRI, default and other state directories */
            CRI_SHM(ID),
            "/var/run/k3s/containerd/io.containerd.grpc.v1.cri/sandboxes/" ID2 "/shm",
            "/io.containerd.grpc.v1.cri/sandboxes/" ID "/shm",
            /* CRI-O and Podman: containers-storage, any driver, any root */
            CRIO_SHM(ID),
            PODMAN_SHM(ID),
            "/home/u/.local/share/containers/storage/vfs-containers/" ID "/userdata/shm",
            "/data/btrfs-containers/" ID "/userdata/shm",
            "/x/zfs2-containers/" ID "/userdata/shm",
            /* Docker, default and --data-root */
            DOCKER_SHM(ID),
            "/srv/docker-root/containers/" ID "/mounts/shm",
            "/containers/" ID "/mounts/shm",
            /* repeated and trailing slashes */
            "//var//lib/docker/containers//" ID "//mounts//shm//",
            "/var/lib/docker/containers/" ID "/mounts/shm/",
        };
        static const char *const no[] = {
            NULL,
            "",
            "/",
            "shm",
            "/dev/shm",
            "/run/shm",
            /* relative */
            "var/lib/docker/containers/" ID "/mounts/shm",
            "run/containerd/io.containerd.grpc.v1.cri/sandboxes/" ID "/shm",
            "containers/" ID "/mounts/shm",
            /* ids that are not 64 lower-case hex digits */
            "/var/lib/docker/containers/" ID "0/mounts/shm",
            "/var/lib/docker/containers/"
            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde/mounts/shm",
            "/var/lib/docker/containers/abc/mounts/shm",
            "/var/lib/docker/containers/"
            "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef/mounts/shm",
            "/var/lib/docker/containers/"
            "0123456789abcdeg0123456789abcdef0123456789abcdef0123456789abcdef/mounts/shm",
            "/run/containerd/io.containerd.grpc.v1.cri/sandboxes/my-pod/shm",
            "/var/lib/containers/storage/overlay-containers/mycontainer/userdata/shm",
            /* '.' and '..' anywhere */
            "/var/lib/docker/containers/" ID "/mounts/shm/..",
            "/var/lib/docker/containers/" ID "/mounts/shm/.",
            "/var/lib/docker/containers/" ID "/mounts/../mounts/shm",
            "/var/lib/docker/containers/" ID "/../" ID "/mounts/shm",
            "/var/lib/docker/containers/" ID "/./mounts/shm",
            "/io.containerd.grpc.v1.cri/sandboxes/" ID "/../shm",
            "/x/overlay-containers/" ID "/userdata/./shm",
            "/etc/../var/lib/docker/containers/" ID "/mounts/shm",
            "/./run/containerd/io.containerd.grpc.v1.cri/sandboxes/" ID "/shm",
            "/x/../y/overlay-containers/" ID "/userdata/shm",
            /* wrong words */
            "/var/lib/docker/containers/" ID "/mounts/shm2",
            "/var/lib/docker/containers/" ID "/mount/shm",
            "/var/lib/docker/Containers/" ID "/mounts/shm",
            "/var/lib/docker/container/" ID "/mounts/shm",
            "/var/lib/docker/containers/" ID "/userdata/shm",
            "/var/lib/docker/containers/" ID "/shm",
            "/run/containerd/io.containerd.grpc.v1.cri/sandbox/" ID "/shm",
            "/run/containerd/io.containerd.grpc.v2.cri/sandboxes/" ID "/shm",
            "/run/containerd/io.containerd.runtime.v2.task/sandboxes/" ID "/shm",
            "/run/containerd/io.containerd.grpc.v1.cri/sandboxes/" ID "/mounts/shm",
            "/x/-containers/" ID "/userdata/shm",
            "/x/Overlay-containers/" ID "/userdata/shm",
            "/x/over_lay-containers/" ID "/userdata/shm",
            "/x/overlay-container/" ID "/userdata/shm",
            "/x/overlay-containers/" ID "/user-data/shm",
            "/x/overlay-containers/" ID "/userdata/mounts/shm",
            "/x/containers/" ID "/userdata/shm",
            /* the shm is the last component, not a parent */
            "/var/lib/docker/containers/" ID "/mounts/shm/x",
        };
        const struct engine none = {.kind = ENGINE_NONE};
        for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
                expect_own(&none, yes[i], true);
        for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
                expect_own(&none, no[i], false);
}

/* An identified engine: its own shape, in its own directory, and nothing else. */
static void test_shm_source_identified(void **state)
{
        struct engine docker = {.kind = ENGINE_DOCKER, .dir = (char *)"/var/lib/docker/containers"};
        struct engine podman = {.kind = ENGINE_PODMAN,
                                .dir = (char *)"/var/lib/containers/storage/overlay-containers"};
        struct engine crio = {.kind = ENGINE_CRIO,
                              .dir = (char *)"/run/containers/storage/overlay-containers"};
        struct engine containerd = {.kind = ENGINE_CONTAINERD, .dir = (char *)"/run/containerd"};
        const char *all[] = {CRI_SHM(ID), PODMAN_SHM(ID), CRIO_SHM(ID), DOCKER_SHM(ID)};
        struct engine *owner[] = {&containerd, &podman, &crio, &docker};

        /* each engine owns exactly its own path, never another engine's */
        for (size_t e = 0; e < 4; e++)
                for (size_t i = 0; i < 4; i++)
                        expect_own(owner[e], all[i], e == i);
        /* another container's shm in the same directory: IPC sharing between its containers */
        expect_own(&docker, DOCKER_SHM(ID2), true);
        expect_own(&podman, PODMAN_SHM(ID2), true);
        expect_own(&docker, DOCKER_SHM(ID) "/", true);

        /* the same shape under another directory: another engine instance, or a forgery */
        expect_own(&docker, "/srv/docker/containers/" ID "/mounts/shm", false);
        expect_own(&docker, "/var/lib/docker2/containers/" ID "/mounts/shm", false);
        expect_own(&podman,
                   "/home/u/.local/share/containers/storage/overlay-containers/" ID "/userdata/shm",
                   false);
        expect_own(&podman, "/var/lib/containers/storage/vfs-containers/" ID "/userdata/shm",
                   false);
        /* Podman's graph root is not CRI-O's run root, and the reverse */
        struct engine crio_at_graph = crio;
        crio_at_graph.dir = podman.dir;
        expect_own(&crio_at_graph, PODMAN_SHM(ID), true);
        expect_own(&crio_at_graph, CRIO_SHM(ID), false);
        expect_own(&containerd,
                   "/run/k3s/containerd/io.containerd.grpc.v1.cri/sandboxes/" ID "/shm", false);
        /* '.' and '..' are refused even when they would resolve into the directory */
        expect_own(&docker, "/var/lib/docker/containers/" ID "/mounts/./shm", false);
        expect_own(&docker, "/var/lib/docker/x/../containers/" ID "/mounts/shm", false);
        expect_own(&docker, "/var/lib/docker/containers/" ID2 "/../" ID "/mounts/shm", false);
        expect_own(&docker, NULL, false);
        expect_own(&docker, "", false);
        expect_own(&docker, "var/lib/docker/containers/" ID "/mounts/shm", false);

        /* containerd with a known sandbox: only that pod's own sandbox tmpfs */
        containerd.sandbox_id = (char *)ID;
        expect_own(&containerd, CRI_SHM(ID), true);
        expect_own(&containerd, CRI_SHM(ID) "/", true);
        expect_own(&containerd, CRI_SHM(ID2), false);
        containerd.sandbox_id = (char *)ID2;
        expect_own(&containerd, CRI_SHM(ID), false);
        expect_own(&containerd, CRI_SHM(ID2), true);
        containerd.sandbox_id = NULL;
        expect_own(&containerd, CRI_SHM(ID2), true);
}

static const dev_t SHM_DEV = 0x2a;  /* the container's /dev/shm mount */
static const dev_t HOST_DEV = 0x17; /* the host's /dev/shm */

/* What a runc tmpfs for {"source":"shm"} looks like from inside. */
static struct shm_observation tmpfs_obs(void)
{
        return (struct shm_observation){.mount_root = true,
                                        .dev = SHM_DEV,
                                        .fstype = "tmpfs",
                                        .fs_root = "/",
                                        .source = "shm",
                                        .host_dev_known = true,
                                        .host_dev = HOST_DEV};
}

/* An engine's shm bind, checked: engine_shm_source_is_own() said yes, same device. */
static struct shm_observation engine_obs(void)
{
        struct shm_observation obs = tmpfs_obs();
        obs.source = "shm";
        obs.engine_source = true;
        obs.source_dev_known = true;
        obs.source_dev = SHM_DEV;
        return obs;
}

/* Classify; `why` must be empty unless the kind is UNVERIFIED, then hold `because`. */
static void expect_why(const struct shm_observation *obs, const struct spec_mount *entry,
                       enum shm_kind want, const char *because, const char *what)
{
        char why[256];
        memset(why, 'x', sizeof(why));
        enum shm_kind got = shm_classify(obs, entry, why, sizeof(why));
        if (got != want)
                fail_msg("%s: classified as %s (why '%s'), want %s", what, shm_kind_name(got), why,
                         shm_kind_name(want));
        if (want != SHM_KIND_UNVERIFIED && why[0])
                fail_msg("%s: %s with a reason '%s'", what, shm_kind_name(got), why);
        if (want == SHM_KIND_UNVERIFIED && (!because || !strstr(why, because)))
                fail_msg("%s: reason '%s' lacks '%s'", what, why, because ? because : "(null)");
        /* a NULL or empty why is allowed and gives the same kind */
        assert_int_equal(shm_classify(obs, entry, NULL, 0), want);
        char one[1] = {'x'};
        assert_int_equal(shm_classify(obs, entry, one, sizeof(one)), want);
        assert_int_equal(one[0], '\0');
}

static void expect_kind(const struct shm_observation *obs, const struct spec_mount *entry,
                        enum shm_kind want, const char *what)
{
        expect_why(obs, entry, want, NULL, what);
}

static void test_classify(void **state)
{
        const struct spec_mount runc_tmpfs = {.present = true, .type = "tmpfs", .source = "shm"};
        const struct spec_mount podman = {
            .present = true, .bind = true, .type = "bind", .source = PODMAN_SHM(ID)};
        const struct spec_mount volume = {
            .present = true, .bind = true, .type = "bind", .source = "/mnt/some-tmpfs"};
        const struct spec_mount host = {
            .present = true, .bind = true, .type = "bind", .source = "/dev/shm"};
        const struct spec_mount absent = {.present = false};
        struct shm_observation obs;

        /* nothing mounted there */
        obs = tmpfs_obs();
        obs.mount_root = false;
        expect_kind(&obs, &runc_tmpfs, SHM_KIND_NONE, "not a mount root");
        expect_kind(&obs, NULL, SHM_KIND_NONE, "not a mount root, no entry");
        expect_kind(&obs, &host, SHM_KIND_NONE, "not a mount root, host entry");

        /* a private tmpfs from a config entry */
        obs = tmpfs_obs();
        expect_kind(&obs, &runc_tmpfs, SHM_KIND_PRIVATE, "runc tmpfs");
        const struct spec_mount other_type = {.present = true, .type = "ramfs", .source = "shm"};
        expect_kind(&obs, &other_type, SHM_KIND_OTHER, "ramfs entry over a tmpfs");
        const struct spec_mount no_type = {.present = true, .source = "shm"};
        expect_kind(&obs, &no_type, SHM_KIND_OTHER, "entry without type");

        /* a bind of a whole tmpfs that is not the engine's own is a volume */
        expect_kind(&obs, &volume, SHM_KIND_OTHER, "bind of some tmpfs");
        /* a tmpfs with no entry in config.json is not ours */
        expect_kind(&obs, NULL, SHM_KIND_OTHER, "no entry");
        expect_kind(&obs, &absent, SHM_KIND_OTHER, "absent entry");

        /* the host's /dev/shm, by device, whatever the entry says */
        obs = tmpfs_obs();
        obs.dev = HOST_DEV;
        expect_kind(&obs, &host, SHM_KIND_HOST, "host bind");
        expect_kind(&obs, &runc_tmpfs, SHM_KIND_HOST, "host device behind a tmpfs entry");
        expect_kind(&obs, &podman, SHM_KIND_HOST, "host device behind an engine path");
        expect_kind(&obs, NULL, SHM_KIND_HOST, "host device, no entry");
        obs.fstype = "ext4";
        expect_kind(&obs, NULL, SHM_KIND_HOST, "host device checked before the fs type");
        /* an unknown host device never matches */
        obs = tmpfs_obs();
        obs.host_dev_known = false;
        obs.host_dev = SHM_DEV;
        expect_kind(&obs, &runc_tmpfs, SHM_KIND_PRIVATE, "host device unknown");

        /* not a whole tmpfs: a volume */
        obs = tmpfs_obs();
        obs.fs_root = "/pods/x";
        expect_kind(&obs, &runc_tmpfs, SHM_KIND_OTHER, "tmpfs entry but a sub-directory");
        obs.fs_root = NULL;
        expect_kind(&obs, &runc_tmpfs, SHM_KIND_OTHER, "unknown fs root");
        obs = tmpfs_obs();
        obs.fstype = "ext4";
        expect_kind(&obs, &runc_tmpfs, SHM_KIND_OTHER, "ext4 volume");
        obs.fstype = NULL;
        expect_kind(&obs, &runc_tmpfs, SHM_KIND_OTHER, "unknown fs type");
        obs.fstype = "tmpfs2";
        expect_kind(&obs, &runc_tmpfs, SHM_KIND_OTHER, "tmpfs2");
}

/* A whole tmpfs behind a tmpfs entry is the container's own only when nothing ties it elsewhere. */
static void test_classify_unverified(void **state)
{
        const struct spec_mount runc_tmpfs = {.present = true, .type = "tmpfs", .source = "shm"};
        struct shm_observation obs;

        /* the same superblock mounted somewhere else: a host tmpfs put on /dev/shm */
        obs = tmpfs_obs();
        obs.also_mounted_at = "/run/user/1000";
        expect_why(&obs, &runc_tmpfs, SHM_KIND_UNVERIFIED,
                   "its file system is also mounted at '/run/user/1000'", "also mounted");
        /* a config.json bind source lies on it: a tmpfs from another namespace */
        obs = tmpfs_obs();
        obs.bound_from = "/proc/1234/root/dev/shm";
        expect_why(&obs, &runc_tmpfs, SHM_KIND_UNVERIFIED,
                   "config.json binds its file system from '/proc/1234/root/dev/shm'",
                   "bound from");
        /* both: the first fact is named */
        obs.also_mounted_at = "/mnt/t";
        expect_why(&obs, &runc_tmpfs, SHM_KIND_UNVERIFIED, "also mounted at '/mnt/t'", "both");
        /* mountinfo's source is not the entry's */
        obs = tmpfs_obs();
        obs.source = "tmpfs";
        expect_why(&obs, &runc_tmpfs, SHM_KIND_UNVERIFIED,
                   "its source is 'tmpfs', not config.json's 'shm'", "other source");
        obs.source = "Shm";
        expect_why(&obs, &runc_tmpfs, SHM_KIND_UNVERIFIED, "its source is 'Shm'", "source case");
        obs.source = "shm2";
        expect_why(&obs, &runc_tmpfs, SHM_KIND_UNVERIFIED, "not config.json's 'shm'", "shm2");
        obs.source = "";
        expect_why(&obs, &runc_tmpfs, SHM_KIND_UNVERIFIED, "its source is ''", "empty source");
        obs.source = NULL;
        expect_why(&obs, &runc_tmpfs, SHM_KIND_UNVERIFIED, "not config.json's 'shm'",
                   "unknown source");
        const struct spec_mount podman_tmpfs = {
            .present = true, .type = "tmpfs", .source = "tmpfs"};
        obs.source = "tmpfs";
        expect_kind(&obs, &podman_tmpfs, SHM_KIND_PRIVATE, "source 'tmpfs' as the entry says");

        /* a long reason is cut to the buffer, still NUL-terminated */
        char why[16];
        obs = tmpfs_obs();
        obs.also_mounted_at = "/a/very/long/mount/point/that/does/not/fit";
        assert_int_equal(shm_classify(&obs, &runc_tmpfs, why, sizeof(why)), SHM_KIND_UNVERIFIED);
        assert_int_equal(strlen(why), sizeof(why) - 1);

        /* none of this makes a sub-directory or another fs type private or unverified */
        obs.fs_root = "/x";
        expect_kind(&obs, &runc_tmpfs, SHM_KIND_OTHER, "also mounted, but a sub-directory");
        obs = tmpfs_obs();
        obs.dev = HOST_DEV;
        obs.also_mounted_at = "/dev/shm";
        expect_kind(&obs, &runc_tmpfs, SHM_KIND_HOST, "the host's, also mounted at /dev/shm");
}

static void test_classify_engine_shared(void **state)
{
        const struct spec_mount docker_shareable = {
            .present = true, .bind = true, .source = DOCKER_SHM(ID)};
        const struct spec_mount podman = {
            .present = true, .bind = true, .type = "bind", .source = PODMAN_SHM(ID)};
        const struct spec_mount cri = {
            .present = true, .bind = true, .type = "bind", .source = CRI_SHM(ID)};
        const struct spec_mount volume = {
            .present = true, .bind = true, .type = "bind", .source = "/mnt/some-tmpfs"};
        struct shm_observation obs = engine_obs();

        expect_kind(&obs, &podman, SHM_KIND_ENGINE_SHARED, "podman userdata/shm");
        expect_kind(&obs, &docker_shareable, SHM_KIND_ENGINE_SHARED, "docker mounts/shm");
        expect_kind(&obs, &cri, SHM_KIND_ENGINE_SHARED, "containerd sandbox shm");
        /* the decision is obs.engine_source (engine_shm_source_is_own), not the entry's path */
        obs.engine_source = false;
        expect_kind(&obs, &podman, SHM_KIND_OTHER, "engine path, not this engine's own");
        expect_kind(&obs, &cri, SHM_KIND_OTHER, "containerd path, another pod's");
        expect_kind(&obs, &volume, SHM_KIND_OTHER, "other bind source");
        obs.engine_source = true;
        expect_kind(&obs, &volume, SHM_KIND_ENGINE_SHARED, "a source the engine check accepted");
        /* the engine path must be what is mounted there */
        obs.source_dev = SHM_DEV + 1;
        expect_kind(&obs, &podman, SHM_KIND_OTHER, "engine path, other device");
        obs.source_dev = SHM_DEV;
        obs.source_dev_known = false;
        expect_kind(&obs, &podman, SHM_KIND_OTHER, "engine path, device unknown");
        /* the engine's shm is only shared when it is a whole tmpfs */
        obs = engine_obs();
        obs.fs_root = "/pods/x";
        expect_kind(&obs, &podman, SHM_KIND_OTHER, "sub-directory of a tmpfs");
        obs = engine_obs();
        obs.fstype = "ext4";
        expect_kind(&obs, &podman, SHM_KIND_OTHER, "ext4");
        /* a tmpfs entry is never engine-shared, whatever the observation says */
        const struct spec_mount runc_tmpfs = {.present = true, .type = "tmpfs", .source = "shm"};
        obs = engine_obs();
        expect_kind(&obs, &runc_tmpfs, SHM_KIND_PRIVATE, "tmpfs entry with engine_source set");
        /* the host's device wins over an engine path */
        obs.dev = obs.source_dev = HOST_DEV;
        expect_kind(&obs, &podman, SHM_KIND_HOST, "engine path on the host's device");
}

static void test_kind_names(void **state)
{
        assert_string_equal(shm_kind_name(SHM_KIND_NONE), "none");
        assert_string_equal(shm_kind_name(SHM_KIND_PRIVATE), "private-tmpfs");
        assert_string_equal(shm_kind_name(SHM_KIND_ENGINE_SHARED), "engine-shared-tmpfs");
        assert_string_equal(shm_kind_name(SHM_KIND_HOST), "host");
        assert_string_equal(shm_kind_name(SHM_KIND_OTHER), "volume");
        assert_string_equal(shm_kind_name(SHM_KIND_UNVERIFIED), "unverified-tmpfs");
        assert_string_equal(shm_kind_name((enum shm_kind)42), "unknown");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_shm_source_no_engine),
            cmocka_unit_test(test_shm_source_identified),
            cmocka_unit_test(test_classify),
            cmocka_unit_test(test_classify_unverified),
            cmocka_unit_test(test_classify_engine_shared),
            cmocka_unit_test(test_kind_names),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
