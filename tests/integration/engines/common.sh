#!/bin/bash
# Helpers for the engine tests (Podman, Docker, Kubernetes-shaped pods, the
# runtime shim). Source after lib.sh.

# shellcheck disable=SC2034 # used by the tests that source this file
# The shim sits beside the hook in the build tree.
SHIM=${OCI_SHM_RUNTIME_BIN:-$(dirname "$HOOK")/oci-shm-runtime}
SRC_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
SELENIUM=selenium/standalone-chrome:4.10
# What the policy below gives the Selenium image: 2 GiB in KiB, as df -k shows it.
KB_2G=2097152
KB_4G=4194304
KB_64M=65536
KB_512M=524288
need_shim() {
        [ -x "$SHIM" ] || {
                echo "FAIL: oci-shm-runtime '$SHIM' not found (set OCI_SHM_RUNTIME_BIN)" >&2
                exit 1
        }
}

# kb_of PATH: the size in KiB of the file system at PATH, from this namespace.
kb_of() {
        df -k "$1" | awk 'NR==2 {print $2}'
}

# dev_of PATH: the device number of PATH.
dev_of() {
        stat -c %d "$1"
}

# engines_image_tar FILE: a busybox root file system as an importable tarball.
engines_image_tar() {
        local tar=$1 dir
        dir=$(mktemp -d "$WORK/rootfs.XXXXXX")
        make_rootfs "$dir"
        tar -C "$dir" -cf "$tar" .
        rm -rf "$dir"
}

# engines_policy FILE: the node policy all engine tests use.
engines_policy() {
        cat >"$1" <<'EOF'
# Selenium needs a big /dev/shm; sidecars ask for less.
image=selenium/*               shm=2g
image=engines-sidecar          shm=512m
EOF
}

# hex64: a random engine-style container or sandbox id.
hex64() {
        head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'
}

# umount_below DIR: unmount everything mounted at or below DIR, deepest first.
umount_below() {
        local dir=$1 target
        findmnt -rn -o TARGET | awk -v d="$dir" 'index($0, d) == 1' | sort -r |
                while read -r target; do
                        umount -l "$target" 2>/dev/null || true
                done
}
