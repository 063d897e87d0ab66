/* SPDX-License-Identifier: Apache-2.0 */
/* mount.c, the pure parts: engine-managed shm paths and classifying what is at /dev/shm. */
#include "unit.h"

#include <sys/sysmacros.h>

#include "mount.h"

#define ID  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ID2 "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

static void test_engine_managed_paths(void **state)
{
        static const char *const yes[] = {
            /* containerd CRI, default and other state directories */
            "/run/containerd/io.containerd.grpc.v1.cri/sandboxes/" ID "/shm",
            "/var/run/k3s/containerd/io.containerd.grpc.v1.cri/sandboxes/" ID2 "/shm",
            "/io.containerd.grpc.v1.cri/sandboxes/" ID "/shm",
            /* CRI-O and Podman: containers-storage, any driver, any root */
            "/run/containers/storage/overlay-containers/" ID "/userdata/shm",
            "/var/lib/containers/storage/overlay-containers/" ID "/userdata/shm",
            "/home/u/.local/share/containers/storage/vfs-containers/" ID "/userdata/shm",
            "/data/btrfs-containers/" ID "/userdata/shm",
            "/x/zfs2-containers/" ID "/userdata/shm",
            /* Docker, default and --data-root */
            "/var/lib/docker/containers/" ID "/mounts/shm",
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
            /* '.' and '..' */
            "/var/lib/docker/containers/" ID "/mounts/shm/..",
            "/var/lib/docker/containers/" ID "/mounts/shm/.",
            "/var/lib/docker/containers/" ID "/mounts/../mounts/shm",
            "/var/lib/docker/containers/" ID "/../" ID "/mounts/shm",
            "/var/lib/docker/containers/" ID "/./mounts/shm",
            "/io.containerd.grpc.v1.cri/sandboxes/" ID "/../shm",
            "/x/overlay-containers/" ID "/userdata/./shm",
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
        for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
                if (!shm_source_is_engine_managed(yes[i]))
                        fail_msg("'%s' should be engine-managed", yes[i]);
        for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
                if (shm_source_is_engine_managed(no[i]))
                        fail_msg("'%s' should not be engine-managed", no[i] ? no[i] : "(null)");
}

static const dev_t SHM_DEV = 0x2a;  /* the container's /dev/shm mount */
static const dev_t HOST_DEV = 0x17; /* the host's /dev/shm */

static struct shm_observation tmpfs_obs(void)
{
        return (struct shm_observation){.mount_root = true,
                                        .dev = SHM_DEV,
                                        .fstype = "tmpfs",
                                        .fs_root = "/",
                                        .host_dev_known = true,
                                        .host_dev = HOST_DEV};
}

static void expect_kind(const struct shm_observation *obs, const struct spec_mount *entry,
                        enum shm_kind want, const char *what)
{
        enum shm_kind got = shm_classify(obs, entry);
        if (got != want)
                fail_msg("%s: classified as %s, want %s", what, shm_kind_name(got),
                         shm_kind_name(want));
}

static void test_classify(void **state)
{
        const struct spec_mount runc_tmpfs = {.present = true, .type = "tmpfs", .source = "shm"};
        const struct spec_mount docker_shareable = {.present = true,
                                                    .bind = true,
                                                    .source = "/var/lib/docker/containers/" ID
                                                              "/mounts/shm"};
        const struct spec_mount podman = {
            .present = true,
            .bind = true,
            .type = "bind",
            .source = "/var/lib/containers/storage/overlay-containers/" ID "/userdata/shm"};
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
        const struct spec_mount other_type = {.present = true, .type = "ramfs", .source = "x"};
        expect_kind(&obs, &other_type, SHM_KIND_OTHER, "ramfs entry over a tmpfs");
        const struct spec_mount no_type = {.present = true, .source = "x"};
        expect_kind(&obs, &no_type, SHM_KIND_OTHER, "entry without type");

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

        /* an engine-managed shared tmpfs: engine path and the same device */
        obs = tmpfs_obs();
        obs.source_dev_known = true;
        obs.source_dev = SHM_DEV;
        expect_kind(&obs, &podman, SHM_KIND_ENGINE_SHARED, "podman userdata/shm");
        expect_kind(&obs, &docker_shareable, SHM_KIND_ENGINE_SHARED, "docker mounts/shm");
        const struct spec_mount cri = {
            .present = true,
            .bind = true,
            .type = "bind",
            .source = "/run/containerd/io.containerd.grpc.v1.cri/sandboxes/" ID "/shm"};
        expect_kind(&obs, &cri, SHM_KIND_ENGINE_SHARED, "containerd sandbox shm");
        /* a bind of some other path, even a tmpfs root, is a volume */
        expect_kind(&obs, &volume, SHM_KIND_OTHER, "other bind source");
        /* the engine path must be what is mounted there */
        obs.source_dev = SHM_DEV + 1;
        expect_kind(&obs, &podman, SHM_KIND_OTHER, "engine path, other device");
        obs.source_dev = SHM_DEV;
        obs.source_dev_known = false;
        expect_kind(&obs, &podman, SHM_KIND_OTHER, "engine path, device unknown");

        /* not a whole tmpfs: a volume */
        obs = tmpfs_obs();
        obs.source_dev_known = true;
        obs.source_dev = SHM_DEV;
        obs.fs_root = "/pods/x";
        expect_kind(&obs, &podman, SHM_KIND_OTHER, "sub-directory of a tmpfs");
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

static void test_kind_names(void **state)
{
        assert_string_equal(shm_kind_name(SHM_KIND_NONE), "none");
        assert_string_equal(shm_kind_name(SHM_KIND_PRIVATE), "private-tmpfs");
        assert_string_equal(shm_kind_name(SHM_KIND_ENGINE_SHARED), "engine-shared-tmpfs");
        assert_string_equal(shm_kind_name(SHM_KIND_HOST), "host");
        assert_string_equal(shm_kind_name(SHM_KIND_OTHER), "volume");
        assert_string_equal(shm_kind_name((enum shm_kind)42), "unknown");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_engine_managed_paths),
            cmocka_unit_test(test_classify),
            cmocka_unit_test(test_kind_names),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
