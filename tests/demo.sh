#!/bin/bash
# oci-shm-hook in one minute: a Selenium-tagged runc container gets a 2 GiB
# /dev/shm from one line of policy. Run as root on Debian 12:
#     sudo tests/demo.sh
# Installs what it needs, builds the hook if build/oci-shm-hook is missing,
# runs one busybox container without the hook and one with it, and exits
# non-zero unless the second one sees 2 GiB.
set -euo pipefail
umask 022 # the hook refuses policies that group or others can write
cd "$(dirname "$0")/.."
TOP=$(pwd)
HOOK=${OCI_SHM_HOOK_BIN:-$TOP/build/oci-shm-hook}
IMAGE=docker.io/selenium/standalone-chrome:4.10
ID=${DEMO_ID_PREFIX:-oci-shm-demo}-$$

[ "$(id -u)" = 0 ] || { echo "demo: run as root (sudo $0)" >&2; exit 1; }

PACKAGES="build-essential cmake pkg-config libyajl-dev libmount-dev libcmocka-dev runc busybox-static jq"
missing=$(for p in $PACKAGES; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || echo "$p"
done)
if [ -n "$missing" ]; then
        echo "== installing" $missing
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        # shellcheck disable=SC2086
        apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

if [ ! -x "$HOOK" ]; then
        echo "== building the hook in $TOP/build"
        cmake -S "$TOP" -B "$TOP/build" >/dev/null
        cmake --build "$TOP/build" -j"$(nproc)" --target oci-shm-hook >/dev/null
fi

DIR=$(mktemp -d /tmp/oci-shm-demo.XXXXXX)
cleanup() {
        local c
        for c in a b c; do runc delete -f "$ID-$c" >/dev/null 2>&1 || true; done
        rm -rf "$DIR"
}
trap cleanup EXIT

# edit JQ-FILTER [ARGS...]: edit the bundle's config.json in place.
edit() {
        jq "$@" "$DIR/bundle/config.json" >"$DIR/config.json" && mv "$DIR/config.json" "$DIR/bundle/config.json"
}

# A busybox bundle tagged as the Selenium image, as containerd's CRI would.
mkdir -p "$DIR/bundle/rootfs/bin" "$DIR/bundle/rootfs/"{dev,proc,sys,tmp}
cp "$(command -v busybox)" "$DIR/bundle/rootfs/bin/busybox"
ln -s busybox "$DIR/bundle/rootfs/bin/df"
(cd "$DIR/bundle" && runc spec)
edit --arg image "$IMAGE" '.process.terminal = false | .process.args = ["df", "-h", "/dev/shm"]
        | .annotations["io.kubernetes.cri.image-name"] = $image'

# The whole policy.
echo 'image=selenium/* shm=2g' >"$DIR/policy.conf"

echo
echo "== $IMAGE with runc, without the hook:"
runc run --bundle "$DIR/bundle" "$ID-a" </dev/null

# Register the hook as users do: a prestart hook in config.json.
edit --arg hook "$HOOK" --arg policy "$DIR/policy.conf" \
        '.hooks.prestart = [{path: $hook, args: ["oci-shm-hook", "--policy", $policy, "prestart"]}]'

echo
echo "== the same container with the hook and the policy '$(cat "$DIR/policy.conf")':"
runc run --bundle "$DIR/bundle" "$ID-b" </dev/null

echo
echo "== what the hook decided (oci-shm-hook explain --bundle):"
"$HOOK" explain --policy "$DIR/policy.conf" --bundle "$DIR/bundle"

# Check the exact size in KiB with one more run.
edit '.process.args = ["df", "-k", "/dev/shm"]'
size_kb=$(runc run --bundle "$DIR/bundle" "$ID-c" </dev/null | awk 'NR == 2 {print $2}')
echo
if [ "$size_kb" = 2097152 ]; then
        echo "OK: /dev/shm is 2 GiB ($size_kb KiB) instead of the default 64 MiB"
else
        echo "FAILED: /dev/shm is ${size_kb:-unknown} KiB, expected 2097152 KiB (2 GiB)" >&2
        exit 1
fi
