#!/bin/bash
# Phase: Kubernetes for real. Starts a real containerd 1.6 (CRI plugin) with
# its own config, socket, root, state and runc root under a temporary
# directory, registers the hook through the shipped
# config/containerd/base-runtime-spec.json, and runs pods the way the kubelet
# does (tests/cri/test_pods.py). Then runs packaging/kubernetes/install-node.sh
# against a node whose containerd really runs, and the DaemonSet's installer
# image (built without a registry) under Podman against a fake node root.
# The same containerd also runs oci-shm-runtime as runc (runtime handlers
# "shm" and "both"). Leaves nothing mounted or running; timings are printed
# as "(timing: ...)". Env: BUILD = the build directory; CRI_CASES = only
# these cases of test_pods.py (e.g. "match retag").
set -euo pipefail
TOP=$(pwd)
BUILD=$(realpath -m "${BUILD:-$TOP/build}") # absolute: hooks and phases run elsewhere
export OCI_SHM_HOOK_BIN=$BUILD/oci-shm-hook
# shellcheck source=../integration/lib.sh
source "$TOP/tests/integration/lib.sh"
# shellcheck source=../cri/containerd.sh
source "$TOP/tests/cri/containerd.sh"
need_root

# Tools beyond tests/packages.txt (CI may run on a fresh machine).
missing=
for tool in containerd:containerd protoc:protobuf-compiler podman:podman busybox:busybox-static jq:jq \
        shellcheck:shellcheck; do
        command -v "${tool%%:*}" >/dev/null 2>&1 || missing="$missing ${tool#*:}"
done
"$CRI_PY" -c 'import grpc, google.protobuf, yaml' 2>/dev/null || missing="$missing python3-grpcio python3-protobuf python3-yaml"
if [ -n "$missing" ]; then
        echo "installing:$missing"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        # shellcheck disable=SC2086
        apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
need containerd ctr protoc podman busybox jq shellcheck

T0=$SECONDS
timing() { echo "(timing: $1: $((SECONDS - T0)) s)"; }

# Pods' cgroups: /$CGROUP_TOP/pod<uid> in every hierarchy (tests/cri/cri.py), removed at the end.
CGROUP_TOP=oci-shm-cri-$$
export OCI_SHM_CRI_CGROUP=/$CGROUP_TOP
cgroups_left() { find /sys/fs/cgroup/*/"$CGROUP_TOP" -depth -type d 2>/dev/null || true; }
remove_cgroups() { cgroups_left | while read -r d; do rmdir "$d" 2>/dev/null || true; done; }

# Nothing may outlive the phase: containerd by its pid, then any mount left
# under $WORK (a failure, reported at the end, but never left behind).
unmount_leftovers() {
        local m
        for m in $(mounts_under "$WORK" | sort -r); do umount -l "$m" 2>/dev/null || true; done
}
cleanup_cri() {
        containerd_stop --remove-pods
        containerd_rescue "$WORK/a/containerd.sock" "$WORK/a"
        containerd_rescue "$WORK/node/run/containerd/containerd.sock" "$WORK/node-containerd"
        unmount_leftovers
        remove_cgroups
}
add_cleanup cleanup_cri

# ---- syslog: a listener at /dev/log, as tests/integration/test_syslog.sh does ----
LOG=
if [ ! -e /dev/log ]; then
        LOG=$WORK/syslog.txt
        syslog_listener /dev/log "$LOG" "$CRI_PY"
else
        echo "note: /dev/log belongs to this machine's syslog daemon; log lines are not checked"
fi

# ---- the images: one OCI archive, imported with ctr ----
IMAGES=$WORK/images.tar
mapfile -t names < <("$CRI_PY" -c 'import sys; sys.path.insert(0, sys.argv[1])
import test_pods; print("\n".join(test_pods.IMAGES))' "$TOP/tests/cri")
bash "$TOP/tests/cri/make-image.sh" "$IMAGES" "$SANDBOX_IMAGE" "${names[@]}"

# ---- A. pods on a containerd with the hook in the shipped base spec ----
echo "--- containerd CRI pods"
A=$WORK/a
mkdir -p "$A"
POLICY=$A/policy.conf
: >"$POLICY"
# As the README tells users: the shipped spec, with this build's hook and our policy.
jq --arg hook "$HOOK" --arg policy "$POLICY" \
        '.hooks.createRuntime |= map(.path = $hook | .args = [.args[0], "--policy", $policy] + .args[1:])' \
        "$TOP/config/containerd/base-runtime-spec.json" >"$A/base-runtime-spec.json"
expect_eq "base spec: the hook with --policy, stage createRuntime" \
        "$(jq -c '.hooks.createRuntime[0].args' "$A/base-runtime-spec.json")" \
        "[\"oci-shm-hook\",\"--policy\",\"$POLICY\",\"createRuntime\"]"
SOCK=$A/containerd.sock
# Runtime handlers "shm" and "both" run oci-shm-runtime as runc, which takes
# the policy from containerd's environment (README: Docker: oci-shm-runtime).
cri_config "$A/config.toml" "$A" "$SOCK" "$A/base-runtime-spec.json" "$BUILD/oci-shm-runtime"
if containerd_start "$A/config.toml" "$SOCK" "$A/containerd.log" env OCI_SHM_HOOK_POLICY="$POLICY"; then
        pass "containerd started (pid $CONTAINERD_PID): $("$CRI_PY" "$CRI_DIR/cri.py" --address "$SOCK" version)"
        cri_import "$SOCK" "$IMAGES"
        timing "containerd up, images imported"
        # shellcheck disable=SC2086 # CRI_CASES: case names, split on purpose
        if "$CRI_PY" "$CRI_DIR/test_pods.py" --address "$SOCK" --state "$A/state" --policy "$POLICY" \
                --work "$A" --hook "$HOOK" --shim ${LOG:+--log "$LOG"} ${CRI_CASES:-}; then
                pass "CRI pod cases"
        else
                fail "CRI pod cases (failures listed above)"
        fi
        expect_eq "the cases removed every pod" "$("$CRI_PY" "$CRI_DIR/cri.py" --address "$SOCK" pods)" ""
        containerd_stop --remove-pods
        sleep 0.2
        expect_eq "no shim left for this containerd" "$(shims_of "$SOCK" | tr '\n' ' ')" ""
        expect_eq "nothing left mounted under the test's directory" "$(mounts_under "$WORK" | tr '\n' ' ')" ""
        unmount_leftovers
else
        fail "containerd did not start"
fi
timing "CRI pods"

# ---- B. install-node.sh against a node whose containerd really runs ----
# The node: its /etc and /usr/libexec under $NODE. Its containerd runs in a
# mount namespace where $NODE/etc and $NODE/usr/libexec are laid over /etc and
# /usr/libexec (read-only overlays, remade at every start), so containerd,
# runc and the hook see the node's files at the node's paths, as on a real
# node: /etc/containerd/config.toml, the base spec the installer writes,
# /usr/libexec/oci/hooks.d/oci-shm-hook and /etc/oci-shm-hook/policy.conf.
# Mounts made in there never reach the host (slave propagation) and go away
# with the namespace's last process.
echo "--- install-node.sh against a live containerd"
NODE=$WORK/node
NSOCK=$NODE/run/containerd/containerd.sock
mkdir -p "$NODE/etc/containerd" "$NODE/usr/libexec" "$NODE/run/containerd" "$WORK/node-containerd"
cat >"$WORK/node-ns.sh" <<'EOF'
#!/bin/sh
# node-ns.sh NODE CMD...: run CMD with NODE's /etc and /usr/libexec over the host's.
node=$1
shift
exec unshare -m --propagation slave sh -c '
        mount -t overlay overlay -o "lowerdir=$0/etc:/etc" /etc &&
        mount -t overlay overlay -o "lowerdir=$0/usr/libexec:/usr/libexec" /usr/libexec &&
        exec "$@"' "$node" "$@"
EOF
NCFG=$NODE/etc/containerd/config.toml
cri_config "$NCFG" "$WORK/node-containerd" "$NSOCK"
node_containerd() { # (re)start the node's containerd with the node's config.toml
        containerd_stop
        containerd_start /etc/containerd/config.toml "$NSOCK" "$WORK/node-containerd.log" \
                sh "$WORK/node-ns.sh" "$NODE"
}
ncri() { "$CRI_PY" "$CRI_DIR/cri.py" --address "$NSOCK" "$@"; }
# node_pod NAME IMAGE: a one-container pod; prints its container id.
node_pod() {
        local ids
        ids=$(ncri run "$1" "$2") || return 1
        echo "${ids#* }"
}
node_shm() { ncri exec "$1" df -k /dev/shm | awk 'NR == 2 {print $2}'; }

CM=$WORK/configmap
mkdir -p "$CM" "$WORK/status"
echo "image=selenium/* shm=2g" >"$CM/policy.conf"
PAYLOAD=$WORK/payload
mkdir -p "$PAYLOAD/bin" "$PAYLOAD/containerd"
cp "$BUILD/oci-shm-hook" "$BUILD/oci-shm-runtime" "$PAYLOAD/bin/"
cp "$TOP/config/oci-shm-hook.json" "$PAYLOAD/"
cp "$TOP/config/containerd/base-runtime-spec.json" "$PAYLOAD/containerd/"
installer() { # installer CMD: output in $out, status in $rc
        rc=0
        out=$(env NODE_ROOT="$NODE" PAYLOAD="$PAYLOAD" POLICY_SOURCE="$CM/policy.conf" \
                STATUS_DIR="$WORK/status" sh "$TOP/packaging/kubernetes/install-node.sh" "$@" 2>&1) || rc=$?
        local l
        while IFS= read -r l; do printf '    | %s\n' "$l"; done <<<"$out"
}
SPEC=/etc/containerd/oci-shm-base-runtime-spec.json
SELENIUM=docker.io/selenium/standalone-chrome:4.10

if node_containerd; then
        cri_import "$NSOCK" "$IMAGES"
        cid=$(node_pod before-install "$SELENIUM")
        expect_eq "before install: a selenium pod has containerd's 64 MiB" "$(node_shm "$cid")" 65536

        installer install
        expect_eq "install exits 0 with containerd running" "$rc" 0
        expect_contains "the installer found containerd by its live socket" "$out" "containerd does not use the hook yet"
        line=$(grep -o "base_runtime_spec = \"[^\"]*\"" <<<"$out" | head -n1)
        expect_eq "it prints the base_runtime_spec line" "$line" "base_runtime_spec = \"$SPEC\""
        # Apply it as an admin does: in the runc runtime's table of config.toml.
        sed -i "/^ *\[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc\]\$/a\\    $line" "$NCFG"
        expect_eq "config.toml names the spec" "$(grep -c "^ *$line\$" "$NCFG")" 1
        if node_containerd; then
                pass "containerd restarted with the installer's base spec"
                cid2=$(node_pod after-install "$SELENIUM")
                expect_eq "a selenium pod started afterwards gets the policy's 2 GiB" "$(node_shm "$cid2")" 2097152
                cid3=$(node_pod other "docker.io/library/redis:7")
                expect_eq "a redis pod keeps 64 MiB" "$(node_shm "$cid3")" 65536
                expect_eq "the pod from before install is unchanged" "$(node_shm "$cid")" 65536
                if [ -n "$LOG" ]; then
                        sleep 0.2
                        expect_contains "the node's hook logged it, with the node's policy" \
                                "$(grep -F "container=$cid2" "$LOG" || true)" "rule=/etc/oci-shm-hook/policy.conf:1"
                fi
        else
                fail "containerd does not start with the installer's base spec"
        fi

        installer uninstall
        expect_eq "uninstall refused while config.toml names the spec" "$rc" 1
        expect_contains "...saying to restart containerd first" "$out" "restart containerd"
        sed -i "\\|^ *$line\$|d" "$NCFG"
        if node_containerd; then pass "containerd restarted without the base spec"; else fail "containerd restart"; fi
        installer uninstall
        expect_eq "uninstall exits 0" "$rc" 0
        for f in "$SPEC" /usr/libexec/oci/hooks.d/oci-shm-hook /etc/oci-shm-hook/policy.conf; do
                if [ ! -e "$NODE$f" ]; then pass "uninstall removed $f"; else fail "uninstall left $f"; fi
        done
        if node_containerd; then
                pass "containerd starts after uninstall"
                expect_eq "the pod started with the hook still has 2 GiB" "$(node_shm "$cid2")" 2097152
                expect_eq "the pod from before install still has 64 MiB" "$(node_shm "$cid")" 65536
                cid4=$(node_pod after-uninstall "$SELENIUM")
                expect_eq "a selenium pod started after uninstall has 64 MiB" "$(node_shm "$cid4")" 65536
        else
                fail "containerd does not start after uninstall"
        fi
        ncri rmall || fail "removing the node's pods"
        containerd_stop
        sleep 0.2
        expect_eq "no shim left for the node's containerd" "$(shims_of "$NSOCK" | tr '\n' ' ')" ""
else
        fail "the node's containerd did not start"
fi
timing "installer against a live containerd"

# ---- C. the installer image, built without a registry, run by Podman ----
# As the DaemonSet runs it: the init container "install" (then the uninstall
# DaemonSet's "uninstall") with the volumes, env and securityContext the
# manifests give it (tests/cri/daemonset.py), against a fake node root.
echo "--- the installer image under Podman"
PD=$WORK/podman
PODMAN="podman --root $PD/root --runroot $PD/run --tmpdir $PD/tmp --storage-driver vfs --cgroup-manager=cgroupfs --events-backend=file"
IMAGE=localhost/oci-shm-hook/node-installer:ci
podman_cleanup() {
        $PODMAN rm -af -t 0 >/dev/null 2>&1 || true
        $PODMAN rmi -af >/dev/null 2>&1 || true
}
add_cleanup podman_cleanup
if shellcheck -s sh "$TOP/packaging/kubernetes/build-image.sh"; then
        pass "build-image.sh is clean POSIX sh (shellcheck -s sh)"
else
        fail "shellcheck build-image.sh"
fi
if out=$(PODMAN=$PODMAN sh "$TOP/packaging/kubernetes/build-image.sh" "$BUILD" "$IMAGE" 2>&1); then
        pass "build-image.sh built $IMAGE from scratch ($($PODMAN image inspect --format '{{.Size}}' "$IMAGE") bytes)"
else
        fail "build-image.sh: $out"
fi
expect_eq "the image's entrypoint and command" \
        "$($PODMAN image inspect --format '{{json .Config.Entrypoint}} {{json .Config.Cmd}}' "$IMAGE" 2>&1)" \
        '["/opt/oci-shm-hook/install-node.sh"] ["install"]'

FN=$WORK/fake-node
mkdir -p "$FN/etc/containerd" "$FN/run/crio" "$FN/run/containerd"
echo node-2 >"$FN/etc/hostname"
printf 'version = 2\n' >"$FN/etc/containerd/config.toml"
"$CRI_PY" -c 'import socket, sys
for p in sys.argv[1:]:
    socket.socket(socket.AF_UNIX).bind(p)' "$FN/run/crio/crio.sock" "$FN/run/containerd/containerd.sock"
fn_snapshot() { (cd "$FN" && find . -printf '%y %m %p\n' | sort && find . -type f -print0 | sort -z | xargs -0 sha256sum); }
fn_snapshot >"$WORK/fake-node-before"
CM2=$WORK/configmap2
mkdir -p "$CM2"
cm2_set() { configmap_publish "$CM2" "$1"; }
cm2_set "image=selenium/* shm=2g"
# ds_run MANIFEST CONTAINER [podman run options] [-- NAME=VALUE...]: output in $out, status in $rc
ds_run() {
        local manifest=$1 name=$2 args
        shift 2
        local pre=() env=()
        while [ $# -gt 0 ] && [ "$1" != -- ]; do pre+=("$1"); shift; done
        [ $# -eq 0 ] || { shift; env=("$@"); }
        rc=0
        mapfile -d '' args < <("$CRI_PY" "$CRI_DIR/daemonset.py" podman "$manifest" "$name" "$FN" "$CM2" "$IMAGE" "${env[@]}") ||
                { fail "daemonset.py podman $name"; return 1; }
        [ ${#args[@]} -gt 0 ] || { fail "daemonset.py podman $name printed nothing"; return 1; }
        # shellcheck disable=SC2086 # PODMAN: command and global options
        out=$($PODMAN run --pull=never --runtime=runc --network=none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 \
                "${pre[@]}" "${args[@]}" 2>&1) || rc=$?
}
K8S=$TOP/packaging/kubernetes
ds_run "$K8S/daemonset.yaml" install --rm
expect_eq "the install container exits 0" "$rc" 0
echo "$out" | grep -v '^  ' || true
for prog in oci-shm-hook oci-shm-runtime; do
        if cmp -s "$BUILD/$prog" "$FN/usr/libexec/oci/hooks.d/$prog"; then pass "$prog on the node is this build's"; else fail "$prog not installed"; fi
done
expect_eq "binaries are mode 755" "$(stat -c %a "$FN/usr/libexec/oci/hooks.d/oci-shm-hook")" 755
expect_eq "the node's policy is the ConfigMap's" "$(cat "$FN/etc/oci-shm-hook/policy.conf")" "image=selenium/* shm=2g"
expect_eq "CRI-O hooks.d JSON names the installed hook" \
        "$(jq -r .hook.path "$FN/usr/share/containers/oci/hooks.d/oci-shm-hook.json")" /usr/libexec/oci/hooks.d/oci-shm-hook
expect_eq "containerd base spec names the installed hook" \
        "$(jq -r '.hooks.createRuntime[0].path' "$FN/etc/containerd/oci-shm-base-runtime-spec.json")" /usr/libexec/oci/hooks.d/oci-shm-hook
expect_contains "containerd: the line to add is printed" "$out" 'base_runtime_spec = "/etc/containerd/oci-shm-base-runtime-spec.json"'
expect_eq "config.toml untouched" "$(cat "$FN/etc/containerd/config.toml")" "version = 2"
expect_eq "the manifest lists what was written" \
        "$(grep -c '^f ' "$FN/etc/oci-shm-hook/.installed-by-daemonset")" 5
expect_contains "the node's hook accepts the node's policy" \
        "$("$FN/usr/libexec/oci/hooks.d/oci-shm-hook" check --policy "$FN/etc/oci-shm-hook/policy.conf" 2>&1)" "policy OK"

# policy-sync: read-only root, no capabilities, its own status and /tmp.
cm2_set "image=selenium/* shm=3g"
ds_run "$K8S/daemonset.yaml" policy-sync -d --name policy-sync -- SYNC_INTERVAL=1
expect_eq "policy-sync starts" "$rc" 0
for _ in $(seq 50); do
        [ "$(cat "$FN/etc/oci-shm-hook/policy.conf" 2>/dev/null)" = "image=selenium/* shm=3g" ] && break
        sleep 0.1
done
expect_eq "policy-sync installs the ConfigMap's new policy" "$(cat "$FN/etc/oci-shm-hook/policy.conf")" "image=selenium/* shm=3g"
# The manifest's own readiness probe, run in the container as the kubelet does.
mapfile -d '' probe < <("$CRI_PY" -c 'import sys, yaml
d = [x for x in yaml.safe_load_all(open(sys.argv[1])) if x and x.get("kind") == "DaemonSet"][0]
c = [c for c in d["spec"]["template"]["spec"]["containers"] if c["name"] == "policy-sync"][0]
print("\0".join(c["readinessProbe"]["exec"]["command"]), end="")' "$K8S/daemonset.yaml")
ready() { $PODMAN exec policy-sync "${probe[@]}" >/dev/null 2>&1 && echo ready || echo not-ready; }
expect_eq "readiness probe: ready with a valid policy" "$(ready)" ready
cm2_set "image=selenium/* shm=lots"
for _ in $(seq 30); do [ "$(ready)" = not-ready ] && break; sleep 0.1; done
expect_eq "readiness probe: not ready with an invalid ConfigMap policy" "$(ready)" not-ready
expect_eq "...and the node keeps its policy" "$(cat "$FN/etc/oci-shm-hook/policy.conf")" "image=selenium/* shm=3g"
expect_contains "policy-sync logs the refusal with the line" "$($PODMAN logs policy-sync 2>&1)" "policy.conf (ConfigMap):1:"
$PODMAN rm -f -t 0 policy-sync >/dev/null 2>&1 || fail "removing policy-sync"

ds_run "$K8S/uninstall/daemonset.yaml" uninstall --rm
expect_eq "the uninstall container exits 0" "$rc" 0
# The kubelet makes DirectoryOrCreate hostPaths; on a real node they stay, empty.
for d in usr/libexec/oci/hooks.d etc/oci-shm-hook usr/share/containers/oci/hooks.d; do
        rmdir -p "$FN/$d" 2>/dev/null || true
done
if diff -u "$WORK/fake-node-before" <(fn_snapshot); then
        pass "after the uninstall container the node is as before (but the hostPath directories)"
else
        fail "the uninstall container left the node different (diff above)"
fi
timing "installer image under Podman"

# ---- D. the same image as the DaemonSet's pods, on the node's live containerd ----
# As a cluster without a registry would: the image imported with ctr, the
# init containers run through the CRI as privileged host-network pods with the
# manifests' hostPath volumes on the node of part B, whose containerd is live.
echo "--- the DaemonSet's init containers as CRI pods on the node's containerd"
$PODMAN save --quiet --format docker-archive -o "$WORK/installer.tar" "$IMAGE" ||
        fail "podman save $IMAGE"
ds_cri() { # ds_cri MANIFEST CONTAINER: output in $out, status in $rc
        rc=0
        out=$("$CRI_PY" "$CRI_DIR/daemonset.py" cri --address "$NSOCK" "$1" "$2" "$NODE" "$CM" "$IMAGE" 2>&1) || rc=$?
        local l
        while IFS= read -r l; do printf '    | %s\n' "$l"; done <<<"$out"
}
if node_containerd; then
        cri_import "$NSOCK" "$WORK/installer.tar"
        ds_cri "$K8S/daemonset.yaml" install
        expect_eq "the install pod exits 0" "$rc" 0
        if cmp -s "$BUILD/oci-shm-hook" "$NODE/usr/libexec/oci/hooks.d/oci-shm-hook"; then
                pass "the install pod put this build's hook on the node"
        else
                fail "the install pod did not install the hook"
        fi
        expect_eq "...and the ConfigMap's policy" "$(cat "$NODE/etc/oci-shm-hook/policy.conf" 2>&1)" "image=selenium/* shm=2g"
        if [ ! -e "$NODE/usr/share/containers/oci/hooks.d/oci-shm-hook.json" ]; then
                pass "no CRI-O registration on a containerd-only node"
        else
                fail "CRI-O JSON written on a containerd node"
        fi
        line=$(grep -o "base_runtime_spec = \"[^\"]*\"" <<<"$out" | head -n1)
        expect_eq "the install pod prints the base_runtime_spec line" "$line" "base_runtime_spec = \"$SPEC\""
        sed -i "/^ *\[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc\]\$/a\\    $line" "$NCFG"
        if node_containerd; then
                cid5=$(node_pod after-ds-install "$SELENIUM")
                expect_eq "after the install pod and a restart, a selenium pod gets 2 GiB" "$(node_shm "$cid5")" 2097152
        else
                fail "containerd does not start with the install pod's base spec"
        fi
        sed -i "\\|^ *$line\$|d" "$NCFG"
        if node_containerd; then
                ds_cri "$K8S/uninstall/daemonset.yaml" uninstall
                expect_eq "the uninstall pod exits 0" "$rc" 0
                expect_eq "...and removes every file install wrote" \
                        "$(find "$NODE" ! -type d \( -name 'oci-shm*' -o -name '.installed-by-daemonset' \) |
                                sed "s|^$NODE||" | sort | tr '\n' ' ')" ""
                # The hostPath directories are the kubelet's (DirectoryOrCreate): they stay, empty.
                expect_eq "...leaving the hostPath /etc/oci-shm-hook empty" "$(ls -A "$NODE/etc/oci-shm-hook")" ""
        else
                fail "containerd does not start without the base spec"
        fi
        if node_containerd; then
                expect_eq "after uninstall and a restart, the earlier pod keeps 2 GiB" "$(node_shm "$cid5")" 2097152
                cid6=$(node_pod after-ds-uninstall "$SELENIUM")
                expect_eq "...and a new selenium pod has 64 MiB" "$(node_shm "$cid6")" 65536
        else
                fail "containerd does not start after the uninstall pod"
        fi
        ncri rmall || fail "removing the node's pods"
        containerd_stop
else
        fail "the node's containerd did not start"
fi
timing "DaemonSet pods on the node's containerd"
podman_cleanup

# ---- nothing left ----
sleep 0.2
expect_eq "nothing mounted under the test's directory at the end" "$(mounts_under "$WORK" | tr '\n' ' ')" ""
expect_eq "no shim left" "$(shims_of "$SOCK"; shims_of "$NSOCK")" ""
remove_cgroups
expect_eq "the pods' cgroups are gone" "$(cgroups_left | tr '\n' ' ')" ""

finish
