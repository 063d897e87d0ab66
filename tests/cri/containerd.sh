# shellcheck shell=bash
# Start and stop a real containerd 1.6 (CRI plugin) for the tests, with its
# own config, socket, root, state, runc root and opt directory under a
# temporary directory: never the default socket or /var/lib/containerd.
# Source this file; see ../../README.md (Kubernetes) and ENGINES.md.

CRI_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CRI_PY=${CRI_PY:-/usr/bin/python3} # Debian's python3-grpcio is for Debian's python
SANDBOX_IMAGE=registry.k8s.io/pause:3.9

# runtime_table NAME DIR [BASE_SPEC] [BINARY_NAME]: one runc runtime of the CRI plugin.
runtime_table() {
        local name=$1 dir=$2 spec=${3:-} binary=${4:-}
        cat <<EOF
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.$name]
    runtime_type = "io.containerd.runc.v2"
    # Go's filepath.Match: "*" passes keys without a "/" (containerd's and CRI-O's own).
    pod_annotations = ["*", "io.kubernetes.cri-o.*", "oci-shm-hook/*"]
    container_annotations = ["oci-shm-hook/*"]
EOF
        [ -z "$spec" ] || printf '    base_runtime_spec = "%s"\n' "$spec"
        cat <<EOF
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.$name.options]
      SystemdCgroup = false
      Root = "$dir/runc"
EOF
        [ -z "$binary" ] || printf '      BinaryName = "%s"\n' "$binary"
}

# cri_config FILE DIR SOCK [BASE_SPEC] [SHIM]: write a containerd config
# (version 2) keeping everything under DIR, listening on SOCK. The default
# runtime (runc) registers the hook through BASE_SPEC; with SHIM (the path of
# oci-shm-runtime), the runtime handler "shm" runs it as runc instead, and
# "both" does both.
cri_config() {
        local file=$1 dir=$2 sock=$3 spec=${4:-} shim=${5:-}
        mkdir -p "$dir"/{root,state,runc,opt,cni-bin,cni-conf}
        {
                cat <<EOF
version = 2
root = "$dir/root"
state = "$dir/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "$sock"
[plugins."io.containerd.internal.v1.opt"]
  path = "$dir/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$SANDBOX_IMAGE"
  # These VMs lack CAP_SYS_RESOURCE: without it runc cannot lower oom_score_adj.
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$dir/cni-bin"
    conf_dir = "$dir/cni-conf"
EOF
                runtime_table runc "$dir" "$spec"
                if [ -n "$shim" ]; then
                        runtime_table shm "$dir" "" "$shim"
                        runtime_table both "$dir" "$spec" "$shim"
                fi
        } >"$file"
}

# containerd_start CONFIG SOCK LOG [WRAPPER...]: start containerd in its own
# session, wait for its CRI service; sets CONTAINERD_PID. WRAPPER runs it
# (e.g. in another mount namespace); it must exec containerd.
containerd_start() {
        local config=$1 sock=$2 log=$3 i
        shift 3
        setsid "$@" containerd --config "$config" >>"$log" 2>&1 </dev/null &
        CONTAINERD_PID=$!
        CONTAINERD_SOCK=$sock
        # Up to about a minute: the machine may be busy building.
        for i in $(seq 200); do
                if [ -S "$sock" ] && "$CRI_PY" "$CRI_DIR/cri.py" --address "$sock" version >/dev/null 2>&1; then
                        return 0
                fi
                kill -0 "$CONTAINERD_PID" 2>/dev/null || break
                sleep 0.1
        done
        echo "containerd did not start (try $i); its log:" >&2
        tail -n 30 "$log" >&2
        return 1
}

# containerd_stop [--remove-pods]: stop the containerd started above, by its
# pid; first remove its pods (their shims outlive containerd) when asked.
containerd_stop() {
        local i
        [ -n "${CONTAINERD_PID:-}" ] || return 0
        if [ "${1:-}" = --remove-pods ] && kill -0 "$CONTAINERD_PID" 2>/dev/null; then
                "$CRI_PY" "$CRI_DIR/cri.py" --address "$CONTAINERD_SOCK" rmall ||
                        echo "could not remove the pods of containerd $CONTAINERD_PID" >&2
        fi
        kill -TERM "$CONTAINERD_PID" 2>/dev/null || true
        for i in $(seq 50); do
                kill -0 "$CONTAINERD_PID" 2>/dev/null || break
                sleep 0.1
        done
        if kill -0 "$CONTAINERD_PID" 2>/dev/null; then
                echo "containerd $CONTAINERD_PID did not stop on SIGTERM after $i tries; killing it" >&2
                kill -KILL "$CONTAINERD_PID" 2>/dev/null || true
        fi
        wait "$CONTAINERD_PID" 2>/dev/null || true
        CONTAINERD_PID=
}

# shims_of SOCK: pids of containerd shims serving SOCK (their command line names it).
shims_of() {
        local p
        for p in /proc/[0-9]*; do
                if { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | grep -q "containerd-shim.* -address $1\( \|$\)"; then
                        echo "${p#/proc/}"
                fi
        done
}

# mounts_under DIR: host mounts at or below DIR.
mounts_under() {
        awk -v d="$1" '$2 == d || index($2, d "/") == 1 {print $2}' /proc/mounts
}

# cri_import SOCK ARCHIVE: import an OCI archive into the k8s.io namespace.
cri_import() {
        ctr --address "$1" -n k8s.io images import "$2" >/dev/null
}

# containerd_rescue SOCK DIR: when shims of SOCK outlive their containerd (a
# test stopped half-way), start a plain containerd on the same DIR and SOCK,
# remove every pod, and stop it; the shims then exit with their containers.
containerd_rescue() {
        local sock=$1 dir=$2
        [ -n "$(shims_of "$sock")" ] || return 0
        echo "removing the pods left on $sock" >&2
        cri_config "$dir/rescue.toml" "$dir" "$sock"
        if containerd_start "$dir/rescue.toml" "$sock" "$dir/rescue.log"; then
                containerd_stop --remove-pods
        fi
}
