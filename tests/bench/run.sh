#!/bin/bash
# Benchmark oci-shm-hook next to its static floor and its peers (issues 6 and 14).
#
#   sudo tests/bench/run.sh [--quick] [oci-shm-bench options...]
#
# Builds a Release tree in $BUILD (default build-bench): the hook as shipped
# (static by default), the same hook without its decision record write
# (bench-hook-norecord), the static floor and the bench; makes three busybox
# runc bundles (no hook, this hook, /bin/true as the hook) and runs
# oci-shm-bench, which prints the table and issue 14's figures with PASS/MISS.
# Extra arguments go to oci-shm-bench (--runs N, --runc-runs N, --peer-runs N,
# --warmup N, --quick, --keep); `--hook PATH` benchmarks another hook binary
# against the same floor (then without the record-less case).
# Everything runs through private-records.sh: the hook's decision records go
# to a private tmpfs over /run/oci-shm-hook, none to the host's.
# Needs root, runc, busybox (static), jq and util-linux (nsenter, unshare).
set -euo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$TOP/build-bench}
ID_PREFIX=bench

[ "$(id -u)" = 0 ] || {
        echo "SKIP: needs root" >&2
        exit 77
}
if [ "${OCI_SHM_BENCH_PRIVATE_RECORDS:-}" != 1 ]; then
        exec "$TOP/tests/bench/private-records.sh" "$0" "$@"
fi
missing=()
for tool in runc busybox jq nsenter cmake; do
        command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
        echo "installing what is missing: ${missing[*]}" >&2
        apt-get install -y -qq --no-install-recommends runc busybox-static jq util-linux cmake \
                >/dev/null
fi

cmake -S "$TOP" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DOCI_SHM_HOOK_WERROR=ON >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target oci-shm-hook oci-shm-bench bench-floor-static \
        bench-hook-norecord >/dev/null

HOOK=$BUILD/oci-shm-hook
# The same hook without its record write: only comparable to this tree's hook.
NORECORD=$BUILD/tests/bench/bench-hook-norecord
args=()
while [ $# -gt 0 ]; do
        case $1 in
        --hook)
                HOOK=$(realpath "$2")
                NORECORD=
                shift 2
                ;;
        *)
                args+=("$1")
                shift
                ;;
        esac
done

WORK=$(mktemp -d /tmp/oci-shm-bench-run.XXXXXX)
cleanup() {
        local id
        for id in $(runc list -q 2>/dev/null); do
                case $id in "$ID_PREFIX"-*) runc delete -f "$id" >/dev/null 2>&1 || true ;; esac
        done
        rm -rf "$WORK"
}
trap cleanup EXIT

# A busybox bundle whose container runs `true`; its /dev/shm is runc's default
# 64 MiB tmpfs, and its image annotation is matched by the last of ten rules.
plain=$WORK/runc-plain
mkdir -p "$plain/rootfs"/{bin,proc,dev,sys,tmp,etc}
cp "$(command -v busybox)" "$plain/rootfs/bin/busybox"
ln -s busybox "$plain/rootfs/bin/sh"
(cd "$plain" && runc spec)
jq '.process.terminal = false | .process.args = ["sh", "-c", ":"]
    | .annotations["io.kubernetes.cri.image-name"] = "docker.io/bench/app:1.0"' \
        "$plain/config.json" >"$plain/config.json.new"
mv "$plain/config.json.new" "$plain/config.json"

policy=$WORK/policy-10.conf
for ((i = 0; i < 9; i++)); do
        case $((i % 3)) in
        0) printf 'image=*/team-%04d/*  shm=1g\n' "$i" ;;
        1) printf 'image=*/team-%04d-tool:*  shm=2g\n' "$i" ;;
        2) printf 'image=registry.example.com/team-%04d/*  shm=512m\n' "$i" ;;
        esac
done >"$policy"
echo 'image=docker.io/bench/app:*  shm=65m' >>"$policy"

hooked=$WORK/runc-hook
cp -a "$plain" "$hooked"
jq --arg hook "$HOOK" --arg policy "$policy" \
        '.hooks.prestart = [{path: $hook, args: ["oci-shm-hook", "--policy", $policy, "prestart"],
                             timeout: 10}]' "$plain/config.json" >"$hooked/config.json"

# The same bundle with /bin/true as its hook: what runc costs to run any hook.
truehook=$WORK/runc-true
cp -a "$plain" "$truehook"
jq '.hooks.prestart = [{path: "/bin/true", args: ["true"], timeout: 10}]' \
        "$plain/config.json" >"$truehook/config.json"

# Check once that the hook acts in this bundle: /dev/shm is 65 MiB inside.
mkdir "$WORK/check"
jq --arg root "$hooked/rootfs" '.process.args = ["sh", "-c", "busybox df -k /dev/shm"]
    | .root.path = $root' "$hooked/config.json" >"$WORK/check/config.json"
out=$(runc run --bundle "$WORK/check" "$ID_PREFIX-check-$$" </dev/null 2>&1) || {
        echo "FAIL: runc with the hook does not run: $out" >&2
        exit 1
}
if ! grep -q ' 66560 ' <<<"$out"; then
        echo "FAIL: the hook did not grow /dev/shm to 65 MiB in runc: $out" >&2
        exit 1
fi

"$BUILD/tests/bench/oci-shm-bench" --hook "$HOOK" ${NORECORD:+--hook-norecord "$NORECORD"} \
        --floor-static "$BUILD/tests/bench/bench-floor-static" \
        --peer "$TOP/tests/bench/peer-hook.sh" \
        --runc-plain "$plain" --runc-hook "$hooked" --runc-true-hook "$truehook" "${args[@]}"
