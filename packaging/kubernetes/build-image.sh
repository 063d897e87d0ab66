#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# build-image.sh BUILD_DIR IMAGE: build the DaemonSet's installer image from a
# local build, without a registry or a base image (Containerfile.scratch):
#
#   /bin/busybox and its applets     the shell and tools install-node.sh uses
#   /opt/oci-shm-hook/bin/           oci-shm-hook, oci-shm-runtime from BUILD_DIR
#   /opt/oci-shm-hook/...            oci-shm-hook.json, containerd/base-runtime-spec.json,
#                                    install-node.sh, as Containerfile lays them out
#   the shared libraries the binaries load (ldd), so `oci-shm-hook check` runs
#   in the image; on the node they use the node's C library, which must be at
#   least as new as the build machine's.
#
# Env: PODMAN, the podman command with any global options [podman];
#      BUSYBOX, a static busybox [$(command -v busybox)].
# Run from anywhere; needs podman, ldd and a static busybox.
set -eu
[ $# -eq 2 ] || { echo "usage: $0 BUILD_DIR IMAGE" >&2; exit 2; }
build=$1
image=$2
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
PODMAN=${PODMAN:-podman}
BUSYBOX=${BUSYBOX:-$(command -v busybox)}

for prog in oci-shm-hook oci-shm-runtime; do
        [ -x "$build/$prog" ] || { echo "$0: no $prog in '$build' (build first)" >&2; exit 1; }
done
if ldd "$BUSYBOX" >/dev/null 2>&1; then
        echo "$0: '$BUSYBOX' is not a static busybox (Debian: busybox-static)" >&2
        exit 1
fi

ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
root=$ctx/rootfs
opt=$root/opt/oci-shm-hook
mkdir -p "$root/bin" "$root/tmp" "$root/host" "$opt/bin" "$opt/containerd"
chmod 1777 "$root/tmp"
cp "$BUSYBOX" "$root/bin/busybox"
for applet in $("$BUSYBOX" --list); do
        [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
done
cp "$build/oci-shm-hook" "$build/oci-shm-runtime" "$opt/bin/"
cp "$top/config/oci-shm-hook.json" "$opt/oci-shm-hook.json"
cp "$top/config/containerd/base-runtime-spec.json" "$opt/containerd/base-runtime-spec.json"
cp "$top/packaging/kubernetes/install-node.sh" "$opt/install-node.sh"
chmod 755 "$opt/install-node.sh" "$opt/bin/oci-shm-hook" "$opt/bin/oci-shm-runtime"
# The libraries and the loader, at the paths the binaries name.
for lib in $(for bin in "$build/oci-shm-hook" "$build/oci-shm-runtime"; do ldd "$bin"; done |
        awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' | sort -u); do
        mkdir -p "$root${lib%/*}"
        cp -L "$lib" "$root$lib"
done
$PODMAN build --quiet -f "$here/Containerfile.scratch" -t "$image" "$ctx"
