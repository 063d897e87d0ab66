#!/bin/bash
# Podman with the shipped hooks.d JSON (config/oci-shm-hook.json, rendered
# with this build's hook and the test policy) passed as --hooks-dir, with a
# private storage root, in a private mount namespace whose /dev/shm stands for
# the host's. Covers single containers and a real Podman pod.
# ctest-labels: engines
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/engines/private-ns.sh"
source "$HERE/lib.sh"
source "$HERE/engines/common.sh"
need_root
need podman catatonit runc busybox jq findmnt

D=$WORK/podman
mkdir -p "$D/hooks"
POLICY=$WORK/policy.conf
engines_policy "$POLICY"
echo 'image=*/ipc-bridge:*         shm=host' >>"$POLICY"
PLAIN=localhost/engines-plain:1
SIDECAR=docker.io/library/engines-sidecar:1
SELENIUM_FULL=docker.io/$SELENIUM

# The shipped registration file is what Podman reads; only the hook path and
# the policy change for the build tree.
SHIPPED=$SRC_TOP/config/oci-shm-hook.json
expect_eq "the shipped hooks.d JSON is version 1.0.0 with the prestart stage" \
        "$(jq -c '[.version, .hook.path, .hook.args, .stages, .when.always, (.hook.env | map(startswith("PATH=")) | any), (.hook.timeout > 0)]' "$SHIPPED")" \
        '["1.0.0","/usr/libexec/oci/hooks.d/oci-shm-hook",["oci-shm-hook","prestart"],["prestart"],true,true,true]'
jq --arg hook "$HOOK" --arg policy "$POLICY" \
        '.hook.path = $hook | .hook.args = [.hook.args[0], "--policy", $policy] + .hook.args[1:]' \
        "$SHIPPED" >"$D/hooks/oci-shm-hook.json"

# The VM cannot set Podman's default rlimits: containers.conf sets them for
# every container, the pod's infra container included.
printf '[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\n' \
        >"$D/containers.conf"
export CONTAINERS_CONF=$D/containers.conf
P=(podman --root "$D/storage" --runroot "$D/run" --tmpdir "$D/tmp" --runtime=runc
        --cgroup-manager=cgroupfs --events-backend=file --hooks-dir "$D/hooks")

cleanup_podman() {
        # The storage is this test's own: every container and pod in it is ours.
        "${P[@]}" pod rm -af -t 0 >/dev/null 2>&1 || true
        "${P[@]}" rm -af -t 0 >/dev/null 2>&1 || true
        "${P[@]}" rmi -af >/dev/null 2>&1 || true
        umount_below "$D"
}
add_cleanup cleanup_podman

engines_image_tar "$WORK/rootfs.tar"
for image in "$SELENIUM_FULL" "$PLAIN" "$SIDECAR"; do
        "${P[@]}" import -q "$WORK/rootfs.tar" "$image" >/dev/null
done
DRIVER=$("${P[@]}" info --format '{{.Store.GraphDriverName}}')

prun() {
        "${P[@]}" run --rm --network=none "$@" 2>&1
}
userdata() {
        echo "$D/storage/$DRIVER-containers/$1/userdata"
}

out=$(prun "$SELENIUM_FULL" sh -c "$SHOW_SHM")
expect_eq "Selenium image: /dev/shm" "$(shm_kb "$out")" "$KB_2G"
out=$(prun "$PLAIN" sh -c "$SHOW_SHM")
expect_eq "unrelated image keeps Podman's default 64000k" "$(shm_kb "$out")" 64000
out=$(prun "$SIDECAR" sh -c "$SHOW_SHM")
expect_eq "the sidecar rule gives a lone sidecar 512m" "$(shm_kb "$out")" "$KB_512M"
out=$(prun --shm-size 4g "$SELENIUM_FULL" sh -c "$SHOW_SHM")
expect_eq "--shm-size 4g is kept (grow only)" "$(shm_kb "$out")" "$KB_4G"

# From the host: Podman's tmpfs at <bundle>/shm, while the container runs.
id=$("${P[@]}" run -d --network=none --name "engines-podman-$$" "$SELENIUM_FULL" sleep 300)
bundle=$(userdata "$id")
expect_eq "the host sees <bundle>/shm grown" "$(kb_of "$bundle/shm")" "$KB_2G"
expect_eq "<bundle>/shm is a tmpfs mount of its own" \
        "$(findmnt -rn -o FSTYPE --mountpoint "$bundle/shm")" tmpfs
expect_eq "config.json binds /dev/shm from <bundle>/shm" \
        "$(jq -r '.mounts[] | select(.destination == "/dev/shm") | .source' "$bundle/config.json")" \
        "$bundle/shm"
"${P[@]}" rm -f -t 0 "engines-podman-$$" >/dev/null

# --ipc=host: the policy matches, the host's /dev/shm keeps its size and device.
host_dev=$(dev_of /dev/shm)
out=$(prun --ipc=host "$SELENIUM_FULL" sh -c "$SHOW_SHM")
expect_eq "--ipc=host: the container sees the host's /dev/shm" "$(shm_kb "$out")" "$HOST_SHM_KB"
expect_eq "--ipc=host: the host's /dev/shm size is unchanged" "$(kb_of /dev/shm)" "$HOST_SHM_KB"
expect_eq "--ipc=host: the host's /dev/shm device is unchanged" "$(dev_of /dev/shm)" "$host_dev"

# A Podman pod: every container binds the infra container's <bundle>/shm.
pod=engines-podman-pod-$$
"${P[@]}" pod create --name "$pod" --network=none >/dev/null
"${P[@]}" run -d --pod "$pod" --name "$pod-browser" "$SELENIUM_FULL" \
        sh -c 'echo from-browser >/dev/shm/marker; sleep 300' >/dev/null
infra=$("${P[@]}" pod inspect "$pod" --format '{{.InfraContainerID}}')
pod_shm=$(userdata "$infra")/shm
expect_eq "pod: the infra container's shm tmpfs grew on the host" "$(kb_of "$pod_shm")" "$KB_2G"
out=$(prun --pod "$pod" "$PLAIN" sh -c "$SHOW_SHM; cat /dev/shm/marker")
expect_eq "pod: another container sees the grown size" "$(shm_kb "$out")" "$KB_2G"
expect_contains "pod: another container sees the browser's file" "$out" from-browser
out=$(prun --pod "$pod" "$SIDECAR" sh -c "$SHOW_SHM")
expect_eq "pod: a sidecar asking 512m does not shrink it" "$(shm_kb "$out")" "$KB_2G"
expect_eq "pod: the host tmpfs after the sidecar" "$(kb_of "$pod_shm")" "$KB_2G"
"${P[@]}" pod rm -f -t 0 "$pod" >/dev/null

# Annotations are the user's (podman --annotation): they never name the engine,
# the image or a sandbox. The image comes from containers-storage only.
host_dev=$(dev_of /dev/shm)
out=$(prun --annotation io.container.manager=other --annotation io.kubernetes.cri-o.ContainerType=container \
        --annotation io.kubernetes.cri-o.ImageName=docker.io/evil/ipc-bridge:1 "$PLAIN" sh -c "$SHOW_SHM")
expect_eq "forged CRI-O image name: no shm=host, Podman's own 64000k" "$(shm_kb "$out")" 64000
out=$(prun --annotation io.kubernetes.cri.image-name=docker.io/evil/ipc-bridge:1 "$PLAIN" sh -c "$SHOW_SHM")
expect_eq "forged containerd image name: no shm=host" "$(shm_kb "$out")" 64000
out=$(prun --annotation io.kubernetes.cri-o.ContainerType=sandbox "$SELENIUM_FULL" sh -c "$SHOW_SHM")
expect_eq "a forged sandbox type does not skip the Selenium rule" "$(shm_kb "$out")" "$KB_2G"
expect_eq "forged annotations: the host's /dev/shm device and size are unchanged" \
        "$(dev_of /dev/shm) $(kb_of /dev/shm)" "$host_dev $HOST_SHM_KB"
out=$("${P[@]}" run --rm --network=none --annotation io.container.manager=other "$SELENIUM_FULL" \
        sh -c "$SHOW_SHM" 2>&1)
expect_eq "the real image still matches with a forged manager" "$(shm_kb "$out")" "$KB_2G"

cleanup_podman
expect_eq "no mount left below the test directory" "$(findmnt -rn -o TARGET | grep -cF "$D" || true)" 0
finish
