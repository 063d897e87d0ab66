#!/bin/bash
# 20 runc containers started at once, each with the hook: 16 with their own
# shm=request size, 2 matched by image (CRI annotation), 2 that match no rule.
# Every container must see exactly its own size, and the host must be left
# with no stray mounts.
set -euo pipefail
ID_PREFIX=security
source "$(dirname "$0")/../integration/lib.sh"
need_root
need runc jq busybox

N=20
POLICY=$WORK/policy.conf
cat >"$POLICY" <<'P'
image=selenium/*                  shm=1g
annotation:example.com/shm-size=* shm=request max=4g
P
make_bundle "$WORK/template"

declare -A WANT
for i in $(seq 1 $N); do
        b=$WORK/c$i
        cp -a "$WORK/template" "$b"
        if [ "$i" -le 16 ]; then
                set_annotation "$b" example.com/shm-size "$((64 + 16 * i))m"
                WANT[$i]=$(((64 + 16 * i) * 1024))
        elif [ "$i" -le 18 ]; then
                set_annotation "$b" io.kubernetes.cri.image-name "docker.io/selenium/standalone-chrome:4.$i"
                WANT[$i]=1048576
        else
                WANT[$i]=65536 # runc's default, untouched
        fi
        register_hook "$b" "$POLICY"
done

start=$(date +%s.%N)
pids=()
for i in $(seq 1 $N); do
        run_runc "$WORK/c$i" >"$WORK/out$i" 2>&1 &
        pids+=($!)
done
for i in $(seq 1 $N); do
        rc=0
        wait "${pids[$((i - 1))]}" || rc=$?
        echo "$rc" >"$WORK/rc$i"
done
elapsed=$(echo "$(date +%s.%N) - $start" | bc 2>/dev/null || echo "?")

ok=0
for i in $(seq 1 $N); do
        out=$(cat "$WORK/out$i")
        rc=$(cat "$WORK/rc$i")
        if [ "$rc" != 0 ]; then
                fail "container $i failed ($rc): $out"
                continue
        fi
        got=$(shm_kb "$out")
        if [ "$got" = "${WANT[$i]}" ]; then
                ok=$((ok + 1))
        else
                fail "container $i: /dev/shm is ${got:-?} KiB, expected ${WANT[$i]}"
        fi
done
expect_eq "containers with the right /dev/shm (started at once, ${elapsed}s)" "$ok" "$N"
expect_eq "no mounts left on the host below $WORK" \
        "$(awk -v w="$WORK" 'index($5, w) == 1' /proc/self/mountinfo | wc -l)" 0
finish
