#!/bin/bash
# Run a command in a private mount namespace whose /run/oci-shm-hook is a
# fresh tmpfs:
#
#   tests/bench/private-records.sh COMMAND [ARGS...]
#
# The hook writes a decision record for `status` at every container it acts
# on, in the fixed directory /run/oci-shm-hook (hook/lib/record.h), and has
# no option to put it elsewhere. Benchmark runs would leave thousands of
# records of bench containers there, so the benchmark and its profile run
# here instead: the records go to the private tmpfs and vanish with the
# namespace. Runtimes and containers started inside inherit the same tmpfs.
# oci-shm-bench refuses to run unless /run/oci-shm-hook is such a mount.
set -euo pipefail
dir=/run/oci-shm-hook
[ $# -gt 0 ] || {
        echo "usage: $0 COMMAND [ARGS...]" >&2
        exit 2
}
[ "$(id -u)" = 0 ] || {
        echo "SKIP: needs root" >&2
        exit 77
}
# The mount needs a mount point: one the hook would make anyway, removed
# afterwards if this made it and it is still empty on the host.
made=
if [ ! -d "$dir" ]; then
        mkdir -m 0700 "$dir"
        made=1
fi
rc=0
# shellcheck disable=SC2016 # $0 and $@ are the inner shell's
OCI_SHM_BENCH_PRIVATE_RECORDS=1 unshare -m --propagation private sh -c \
        'mount -t tmpfs -o mode=0700,size=16m oci-shm-bench-records "$0" && exec "$@"' \
        "$dir" "$@" || rc=$?
if [ -n "$made" ]; then
        rmdir "$dir" 2>/dev/null || true
fi
exit $rc
