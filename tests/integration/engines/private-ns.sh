#!/bin/bash
# Source first, before lib.sh: re-runs the calling test in a private mount
# namespace whose /dev/shm is a small tmpfs of its own (HOST_SHM_KB). A hook
# that wrongly resized "the host's /dev/shm" would grow that one, where the
# test sees it, and never the machine's real /dev/shm.
HOST_SHM_KB=102400
if [ "$(id -u)" != 0 ]; then
        echo "SKIP: needs root"
        exit 77
fi
if [ -z "${ENGINES_PRIVATE_NS:-}" ]; then
        if ! command -v unshare >/dev/null 2>&1; then
                echo "FAIL: unshare (util-linux) is not installed" >&2
                exit 1
        fi
        ENGINES_PRIVATE_NS=1 exec unshare -m --propagation private bash "$0" "$@"
fi
mount -t tmpfs -o size=${HOST_SHM_KB}k,mode=1777,nosuid,nodev engines-hostshm /dev/shm
