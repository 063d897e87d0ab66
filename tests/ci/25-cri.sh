#!/bin/bash
# Phase: Kubernetes for real. Starts a real containerd 1.6 (CRI plugin) with
# its own config, socket, root, state and runc root under a temporary
# directory, registers the hook through the shipped
# config/containerd/base-runtime-spec.json, and runs pods the way the kubelet
# does (tests/cri/test_pods.py). Then runs packaging/kubernetes/install-node.sh
# against a node whose containerd really runs, and the DaemonSet's installer
# image (built without a registry) under Podman against a fake node root.
# Leaves nothing mounted or running. Env: BUILD = the build directory.
set -euo pipefail
TOP=$(pwd)
BUILD=${BUILD:-$TOP/build}
export OCI_SHM_HOOK_BIN=$BUILD/oci-shm-hook
# shellcheck source=../integration/lib.sh
source "$TOP/tests/integration/lib.sh"
# shellcheck source=../cri/containerd.sh
source "$TOP/tests/cri/containerd.sh"
need_root

# Tools beyond tests/packages.txt (CI may run on a fresh machine).
missing=
for tool in containerd:containerd protoc:protobuf-compiler podman:podman busybox:busybox-static jq:jq; do
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
need containerd ctr protoc podman busybox jq

T0=$SECONDS
timing() { echo "(timing: $1: $((SECONDS - T0)) s)"; }

# Nothing may outlive the phase: containerd by its pid, then any mount left
# under $WORK (a failure, reported at the end, but never left behind).
cleanup_cri() {
        containerd_stop
        local m
        for m in $(mounts_under "$WORK" | sort -r); do umount -l "$m" 2>/dev/null || true; done
}
add_cleanup cleanup_cri

# ---- syslog: a listener at /dev/log, as tests/integration/test_syslog.sh does ----
LOG=
if [ ! -e /dev/log ]; then
        LOG=$WORK/syslog.txt
        "$CRI_PY" - "$LOG" <<'PY' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
os.chmod("/dev/log", 0o666)
with open(sys.argv[1], "ab", buffering=0) as out:
    while True:
        out.write(s.recv(65536).replace(b"\n", b"\\n") + b"\n")
PY
        LISTENER=$!
        add_cleanup "kill $LISTENER; rm -f /dev/log"
        for _ in $(seq 50); do [ -S /dev/log ] && break; sleep 0.1; done
        [ -S /dev/log ] || { fail "the syslog listener did not bind /dev/log"; LOG=; }
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
cri_config "$A/config.toml" "$A" "$SOCK" "$A/base-runtime-spec.json"
if containerd_start "$A/config.toml" "$SOCK" "$A/containerd.log"; then
        pass "containerd started (pid $CONTAINERD_PID): $("$CRI_PY" "$CRI_DIR/cri.py" --address "$SOCK" version)"
        cri_import "$SOCK" "$IMAGES"
        timing "containerd up, images imported"
        if "$CRI_PY" "$CRI_DIR/test_pods.py" --address "$SOCK" --state "$A/state" --policy "$POLICY" \
                --work "$A" --hook "$HOOK" ${LOG:+--log "$LOG"} ${CRI_CASES:-}; then
                pass "CRI pod cases"
        else
                fail "CRI pod cases (failures listed above)"
        fi
        containerd_stop
        sleep 0.2
        expect_eq "no shim left for this containerd" "$(shims_of "$SOCK" | tr '\n' ' ')" ""
        expect_eq "nothing left mounted under the test's directory" "$(mounts_under "$WORK" | tr '\n' ' ')" ""
else
        fail "containerd did not start"
fi
timing "CRI pods"

finish
