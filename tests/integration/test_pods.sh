#!/bin/bash
# shellcheck disable=SC2016 # jq filters are single-quoted on purpose
# Kubernetes-shaped pods without Kubernetes: runc bundles with the annotations
# containerd CRI and CRI-O set, /dev/shm a bind of a pod tmpfs mounted at the
# engine's own path, as the engines do. In a private mount namespace whose
# /dev/shm stands for the host's. The containerd containers use the hook entry
# of the shipped config/containerd/base-runtime-spec.json (createRuntime).
# ctest-labels: engines
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/engines/private-ns.sh"
ID_PREFIX=engines
source "$HERE/lib.sh"
source "$HERE/engines/common.sh"
need_root
need runc busybox jq findmnt

POLICY=$WORK/policy.conf
engines_policy "$POLICY"
add_cleanup umount_below "$WORK"
SELENIUM_FULL=docker.io/$SELENIUM
SIDECAR=docker.io/library/engines-sidecar:1
BASE_SPEC=$SRC_TOP/config/containerd/base-runtime-spec.json

# pod_tmpfs DIR SIZE: a tmpfs mounted at DIR, as an engine makes a pod's shm.
pod_tmpfs() {
        mkdir -p "$1"
        mount -t tmpfs -o "size=$2,mode=1777,nosuid,nodev,noexec" shm "$1"
}

# container ENGINE IMAGE SHM_SOURCE CMD: a bundle shaped by ENGINE (containerd,
# crio, or none), /dev/shm bound from SHM_SOURCE (empty: runc's own tmpfs).
# The bundle lies where that engine puts it (the hook decides the engine from
# that): containerd's task directory under $WORK/state, CRI-O's run directory
# $WORK/storage/overlay-containers/<id>/userdata (no containers.json beside it).
container() {
        local engine=$1 image=$2 source=$3 cmd=$4 bundle id
        id=$(hex64)
        case $engine in
        containerd) bundle=${STATE:-$WORK/state}/io.containerd.runtime.v2.task/k8s.io/$id ;;
        crio) bundle=$WORK/storage/overlay-containers/$id/userdata ;;
        *) bundle=$(mktemp -d "$WORK/bundle.XXXXXX") ;;
        esac
        mkdir -p "$bundle"
        make_bundle "$bundle" "$cmd"
        case $engine in
        containerd)
                set_annotation "$bundle" io.kubernetes.cri.container-type "${CONTAINER_TYPE:-container}"
                set_annotation "$bundle" io.kubernetes.cri.sandbox-id "$SANDBOX"
                set_annotation "$bundle" io.kubernetes.cri.image-name "$image"
                # The hook entry exactly as the shipped base spec has it, for the build tree.
                jq_edit "$bundle/config.json" --slurpfile base "$BASE_SPEC" \
                        --arg hook "$HOOK" --arg policy "$POLICY" \
                        '.hooks = ($base[0].hooks | .createRuntime |= map(.path = $hook
                          | .args = [.args[0], "--policy", $policy] + .args[1:]))'
                ;;
        crio)
                set_annotation "$bundle" io.kubernetes.cri-o.ContainerType "${CONTAINER_TYPE:-container}"
                set_annotation "$bundle" io.kubernetes.cri-o.SandboxID "$SANDBOX"
                set_annotation "$bundle" io.kubernetes.cri-o.ImageName "$image"
                register_hook "$bundle" "$POLICY" prestart
                ;;
        esac
        if [ -n "$source" ]; then
                jq_edit "$bundle/config.json" --arg src "$source" \
                        '.mounts |= map(if .destination == "/dev/shm" then
                          {destination: "/dev/shm", type: "bind", source: $src,
                           options: ["rbind", "rprivate", "nosuid", "nodev", "noexec"]}
                          else . end)'
        fi
        run_runc "$bundle" "$id"
}

WRITE='; echo from-browser >/dev/shm/marker'
READ='; cat /dev/shm/marker'

expect_eq "the shipped base spec has one createRuntime hook" \
        "$(jq -c '[.hooks | keys, (.createRuntime | length), .createRuntime[0].path, .createRuntime[0].args, (.createRuntime[0].env | length > 0), (.createRuntime[0].timeout > 0)]' "$BASE_SPEC")" \
        '[["createRuntime"],1,"/usr/libexec/oci/hooks.d/oci-shm-hook",["oci-shm-hook","createRuntime"],true,true]'

# The sidecar rule on its own: a lone sidecar with runc's private tmpfs gets 512m.
SANDBOX=$(hex64)
out=$(container containerd "$SIDECAR" "" "$SHOW_SHM")
expect_eq "a lone sidecar gets the 512m of its rule" "$(shm_kb "$out")" "$KB_512M"

# containerd CRI: <state>/io.containerd.grpc.v1.cri/sandboxes/<id>/shm.
SANDBOX=$(hex64)
pod=$WORK/state/io.containerd.grpc.v1.cri/sandboxes/$SANDBOX/shm
pod_tmpfs "$pod" 64m
out=$(container containerd "$SELENIUM_FULL" "$pod" "$SHOW_SHM$WRITE")
expect_eq "containerd pod: the browser sees 2g" "$(shm_kb "$out")" "$KB_2G"
expect_eq "containerd pod: the sandbox tmpfs grew on the host" "$(kb_of "$pod")" "$KB_2G"
out=$(container containerd "$SIDECAR" "$pod" "$SHOW_SHM$READ")
expect_eq "containerd pod: a sidecar asking 512m does not shrink it" "$(shm_kb "$out")" "$KB_2G"
expect_contains "containerd pod: the sidecar sees the browser's file" "$out" from-browser
expect_eq "containerd pod: the sandbox tmpfs after the sidecar" "$(kb_of "$pod")" "$KB_2G"

# The pod's sandbox (pause) container has no memory limit and never sizes the
# pod's /dev/shm, even with an image a rule matches: its containers do.
for engine in containerd crio; do
        SANDBOX=$(hex64)
        pod=$WORK/sandbox-$engine/io.containerd.grpc.v1.cri/sandboxes/$SANDBOX/shm
        pod_tmpfs "$pod" 64m
        out=$(CONTAINER_TYPE=sandbox container "$engine" "$SELENIUM_FULL" "$pod" "$SHOW_SHM")
        expect_eq "$engine sandbox container: /dev/shm stays 64m" "$(shm_kb "$out")" 65536
        expect_eq "$engine sandbox container: the pod tmpfs is not grown" "$(kb_of "$pod")" 65536
done

# A bind that only looks like a pod's tmpfs is a volume: the engine's own shm
# must lie in that engine's own directory (containerd: the pod's own sandbox).
SANDBOX=$(hex64)
elsewhere=$WORK/elsewhere/io.containerd.grpc.v1.cri/sandboxes/$SANDBOX/shm
pod_tmpfs "$elsewhere" 64m
out=$(container containerd "$SELENIUM_FULL" "$elsewhere" "$SHOW_SHM")
expect_eq "containerd: a sandbox-shaped tmpfs outside containerd's state: left alone" "$(shm_kb "$out")" 65536
expect_eq "containerd: that tmpfs is not grown" "$(kb_of "$elsewhere")" 65536
other=$WORK/state/io.containerd.grpc.v1.cri/sandboxes/$(hex64)/shm
pod_tmpfs "$other" 64m
out=$(container containerd "$SELENIUM_FULL" "$other" "$SHOW_SHM")
expect_eq "containerd: another pod's sandbox tmpfs: left alone" "$(shm_kb "$out")" 65536
expect_eq "containerd: the other pod's tmpfs is not grown" "$(kb_of "$other")" 65536
mkdir -p "$WORK/linkdir/io.containerd.grpc.v1.cri/sandboxes"
ln -s "$WORK/elsewhere/io.containerd.grpc.v1.cri/sandboxes/$SANDBOX" "$WORK/state/io.containerd.grpc.v1.cri/sandboxes/$SANDBOX"
out=$(container containerd "$SELENIUM_FULL" "$WORK/state/io.containerd.grpc.v1.cri/sandboxes/$SANDBOX/shm" "$SHOW_SHM")
expect_eq "containerd: the pod's shm path through a symlink: left alone" "$(shm_kb "$out")" 65536
expect_eq "containerd: the tmpfs behind the symlink is not grown" "$(kb_of "$elsewhere")" 65536

# An admin's symlink to containerd's state directory (moved to another disk) is fine.
ln -s "$WORK/state" "$WORK/state-link"
SANDBOX=$(hex64)
pod_tmpfs "$WORK/state/io.containerd.grpc.v1.cri/sandboxes/$SANDBOX/shm" 64m
out=$(STATE=$WORK/state-link container containerd "$SELENIUM_FULL" \
        "$WORK/state-link/io.containerd.grpc.v1.cri/sandboxes/$SANDBOX/shm" "$SHOW_SHM")
expect_eq "containerd: a state directory reached through a symlink: the pod gets 2g" \
        "$(shm_kb "$out")" "$KB_2G"

# CRI-O: <storage>/overlay-containers/<id>/userdata/shm.
SANDBOX=$(hex64)
pod=$WORK/storage/overlay-containers/$SANDBOX/userdata/shm
pod_tmpfs "$pod" 64m
out=$(container crio "$SELENIUM_FULL" "$pod" "$SHOW_SHM$WRITE")
expect_eq "CRI-O pod: the browser sees 2g" "$(shm_kb "$out")" "$KB_2G"
expect_eq "CRI-O pod: the pod tmpfs grew on the host" "$(kb_of "$pod")" "$KB_2G"
out=$(container crio "$SIDECAR" "$pod" "$SHOW_SHM$READ")
expect_eq "CRI-O pod: a sidecar asking 512m does not shrink it" "$(shm_kb "$out")" "$KB_2G"
expect_contains "CRI-O pod: the sidecar sees the browser's file" "$out" from-browser
expect_eq "CRI-O pod: the pod tmpfs after the sidecar" "$(kb_of "$pod")" "$KB_2G"

# A pod tmpfs that is already larger than the rule is kept.
SANDBOX=$(hex64)
pod=$WORK/storage/overlay-containers/$SANDBOX/userdata/shm
pod_tmpfs "$pod" 3g
out=$(container crio "$SELENIUM_FULL" "$pod" "$SHOW_SHM")
expect_eq "CRI-O pod of 3g: the browser's 2g rule does not shrink it" "$(shm_kb "$out")" 3145728

# Volumes the user bound at /dev/shm are never resized.
SANDBOX=$(hex64)
pod_tmpfs "$WORK/kubelet" 64m
emptydir=$WORK/kubelet/pods/$(hex64)/volumes/kubernetes.io~empty-dir/dshm
mkdir -p "$emptydir"
out=$(container containerd "$SELENIUM_FULL" "$emptydir" "$SHOW_SHM")
expect_eq "an emptyDir-like directory of a tmpfs is left alone" "$(shm_kb "$out")" "$KB_64M"
expect_eq "that tmpfs is unchanged on the host" "$(kb_of "$WORK/kubelet")" "$KB_64M"

pod_tmpfs "$WORK/volumes/shm-volume" 64m
out=$(container crio "$SELENIUM_FULL" "$WORK/volumes/shm-volume" "$SHOW_SHM")
expect_eq "a whole tmpfs at a non-engine path is left alone" "$(shm_kb "$out")" "$KB_64M"
expect_eq "that tmpfs is unchanged on the host" "$(kb_of "$WORK/volumes/shm-volume")" "$KB_64M"

# An engine-shaped path that is only a directory of a bigger tmpfs is not the pod's shm.
pod_tmpfs "$WORK/fake" 64m
fake=$WORK/fake/io.containerd.grpc.v1.cri/sandboxes/$SANDBOX/shm
mkdir -p "$fake"
out=$(container containerd "$SELENIUM_FULL" "$fake" "$SHOW_SHM")
expect_eq "an engine-shaped directory that is not a mount is left alone" "$(shm_kb "$out")" "$KB_64M"
expect_eq "its tmpfs is unchanged on the host" "$(kb_of "$WORK/fake")" "$KB_64M"

# hostIPC: containerd and CRI-O bind the host's /dev/shm; never resized.
host_dev=$(dev_of /dev/shm)
for engine in containerd crio; do
        out=$(container "$engine" "$SELENIUM_FULL" /dev/shm "$SHOW_SHM")
        expect_eq "$engine hostIPC: the container sees the host's /dev/shm" "$(shm_kb "$out")" "$HOST_SHM_KB"
        expect_eq "$engine hostIPC: the host's /dev/shm size is unchanged" "$(kb_of /dev/shm)" "$HOST_SHM_KB"
        expect_eq "$engine hostIPC: the host's /dev/shm device is unchanged" "$(dev_of /dev/shm)" "$host_dev"
done
# The device tells, not the path: the host's /dev/shm bound at a sandbox's shm path.
SANDBOX=$(hex64)
pod=$WORK/state/io.containerd.grpc.v1.cri/sandboxes/$SANDBOX/shm
mkdir -p "$pod"
mount --bind /dev/shm "$pod"
out=$(container containerd "$SELENIUM_FULL" "$pod" "$SHOW_SHM")
expect_eq "the host's /dev/shm at an engine path: the container sees it" "$(shm_kb "$out")" "$HOST_SHM_KB"
expect_eq "the host's /dev/shm at an engine path: size unchanged" "$(kb_of /dev/shm)" "$HOST_SHM_KB"
expect_eq "the host's /dev/shm at an engine path: device unchanged" "$(dev_of /dev/shm)" "$host_dev"
finish
