#!/bin/bash
# Where the hook's time goes: callgrind instruction counts (repeatable on noisy
# machines) and strace syscall counts, for the benchmark's inputs.
#
#   sudo tests/bench/profile.sh [HOOK] [OUTDIR]
#
# HOOK defaults to build-bench/oci-shm-hook (built by tests/bench/run.sh).
# Prints, per case, the total instructions (Ir) of a whole run, from the first
# instruction (of the dynamic loader, if the hook is linked dynamically) to
# exit, the top functions, and the syscall counts; the raw callgrind.out.* and
# strace logs stay in OUTDIR. It runs through private-records.sh, so the
# hook's decision records go to a private tmpfs, not to the host's /run.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$TOP/build-bench}
HOOK=$(realpath "${1:-$BUILD/oci-shm-hook}")
OUT=${2:-$(mktemp -d /tmp/oci-shm-profile.XXXXXX)}
TOPN=${TOPN:-15}
mkdir -p "$OUT"

[ "$(id -u)" = 0 ] || {
        echo "SKIP: needs root" >&2
        exit 77
}
if [ "${OCI_SHM_BENCH_PRIVATE_RECORDS:-}" != 1 ]; then
        exec "$TOP/tests/bench/private-records.sh" "$0" "$HOOK" "$OUT"
fi
for tool in valgrind callgrind_annotate strace; do
        command -v "$tool" >/dev/null || apt-get install -y -qq valgrind strace >/dev/null
done

# Inputs: the bench's own, kept in OUT/inputs (its namespace child is gone).
if [ ! -e "$OUT/inputs/state-hook-10.json" ]; then
        "$BUILD/tests/bench/oci-shm-bench" --smoke --work "$OUT/inputs" --hook "$HOOK" >/dev/null
fi
IN=$OUT/inputs

# A live mount namespace with the 64 MiB tmpfs at <rootfs>/dev/shm.
unshare -m --propagation private sh -c \
        'mount -t tmpfs -o size=64m,mode=1777 shm "$1/rootfs/dev/shm" && exec sleep 3600' \
        sh "$IN" &
NS_PID=$!
trap 'kill $NS_PID 2>/dev/null || true' EXIT
for _ in $(seq 100); do
        grep -q " $IN/rootfs/dev/shm " "/proc/$NS_PID/mountinfo" 2>/dev/null && break
        sleep 0.05
done
reset_shm() {
        nsenter -t "$NS_PID" -m mount -o remount,size=64m "$IN/rootfs/dev/shm"
}
state() {
        sed -E "s/\"pid\":[0-9]+/\"pid\":$NS_PID/" "$IN/state-$1.json"
}

# case key, policy rules
for c in ${CASES:-hook-10:10 hook-10k:10000 hook-1m:10}; do
        key=${c%%:*} rules=${c##*:}
        reset_shm
        state "$key" | valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind.out.$key" \
                "$HOOK" --policy "$IN/policy-$rules.conf" prestart 2>"$OUT/valgrind.$key.log"
        total=$(callgrind_annotate "$OUT/callgrind.out.$key" | awk '/PROGRAM TOTALS/ {print $1}')
        echo "=== $key: $total instructions (Ir), whole run"
        callgrind_annotate --threshold=100 "$OUT/callgrind.out.$key" 2>/dev/null |
                awk '/file:function/ {on=1; next} on && NF {print}' | head -n "$TOPN" || true
        echo "--- inclusive (main and the big callees)"
        callgrind_annotate --inclusive=yes "$OUT/callgrind.out.$key" 2>/dev/null |
                awk '/file:function/ {on=1; next} on && NF {print}' |
                grep -E 'main|run_hook|oci_spec|oci_state|policy_|shm_apply|lookup_mountinfo|cgroup_|record_write|engine_|json_|yajl_parse|_dl_start|dl_main|_dl_relocate|openlog|vsyslog|__libc_start' |
                head -n 25 || true
        echo
done

reset_shm
state hook-10 | strace -D -f -o "$OUT/strace.hook-10.log" \
        "$HOOK" --policy "$IN/policy-10.conf" prestart
echo "=== strace: syscalls of one 10-rule run ($(wc -l <"$OUT/strace.hook-10.log") lines)"
awk '{ sub(/^[0-9]+ +/, ""); match($0, /^[a-z0-9_]+/); if (RSTART) n[substr($0, RSTART, RLENGTH)]++ }
     END { for (s in n) printf "%6d %s\n", n[s], s }' "$OUT/strace.hook-10.log" | sort -rn
echo "--- files opened"
grep -E '^[0-9]* *(open|openat|openat2)\(' "$OUT/strace.hook-10.log" | sed -E 's/^[0-9]+ +//' |
        cut -c1-110
echo
echo "raw output in $OUT"
