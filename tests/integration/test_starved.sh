#!/bin/bash
# Starved: the hook short of file descriptors, address space, room in /run for
# its decision records, and a syslog to talk to. Every case must end with the
# documented result (SPEC, failure behaviour): the change made, the container
# refused with a clear message (exit 1), or started unchanged (exit 0), and
# never a hang (a watchdog kills the hook after 10 s) or a crash (a signal).
#
# Runs in a private mount namespace (engines/private-ns.sh) whose /dev is a
# private copy (the machine's /dev and /dev/shm are never touched) and whose
# /run is, for the last cases, a tiny full tmpfs. With runc: no /dev/log, and a
# /dev/log datagram socket whose queue is full and that never reads. Direct
# hook runs (a sibling process in its own mount namespace stands in for the
# container, as in tests/security/test_bad_input.sh): RLIMIT_NOFILE 3 to 8,
# RLIMIT_AS at and below what the hook needs, a full /run.
set -euo pipefail
# shellcheck disable=SC2034 # read by lib.sh
ID_PREFIX=integ
# shellcheck source=engines/private-ns.sh
source "$(dirname "$0")/engines/private-ns.sh"
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
need_root
need runc jq busybox unshare nsenter prlimit python3

POLICY=$WORK/policy.conf
echo 'shm=128m' >"$POLICY"
REQUEST=$WORK/request.conf
echo 'annotation:example.com/shm=* shm=request max=1g' >"$REQUEST"
OLD_KB=65536
NEW_KB=131072
ROWS=()
row() { ROWS+=("$(printf '%-44s %-5s %s' "$1" "$2" "$3")"); }

# private_dev: /dev becomes a tmpfs of binds of the machine's entries, without
# its sockets (so no /dev/log), in this namespace only.
private_dev() {
        private_dev_copy "$WORK/dev"
        mount --move "$WORK/dev" /dev
}

# runc_case NAME BUNDLE WANT_RC WANT_KB_OR_NEEDLE: one container, timed.
runc_case() {
        local name=$1 bundle=$2 want=$3 expect=$4 start ms
        start=$(date +%s%N)
        run_in runc "$bundle"
        ms=$((($(date +%s%N) - start) / 1000000))
        if [ "$want" = 0 ]; then
                expect_eq "$name: the container runs" "$RC" 0
                expect_eq "$name: /dev/shm (KiB)" "$(shm_kb "$OUT")" "$expect"
        else
                expect_ne "$name: the container is refused" "$RC" 0
                expect_contains "$name: the reason is shown" "$OUT" "$expect"
        fi
        [ "$ms" -lt 5000 ] && pass "$name: done in $ms ms" || fail "$name: took $ms ms"
        row "$name" "$RC" "${ms} ms $(grep -o 'oci-shm-hook: .*' <<<"$OUT" | head -n1 | cut -c1-70)"
}

private_dev
[ ! -e /dev/log ] && pass "no /dev/log in the private /dev" || fail "/dev/log is still there"
make_bundle "$WORK/grow"
register_hook "$WORK/grow" "$POLICY"
make_bundle "$WORK/refuse"
set_annotation "$WORK/refuse" example.com/shm 'two gigs'
register_hook "$WORK/refuse" "$REQUEST"

# ---- no /dev/log ----
runc_case "runc, no /dev/log: grow" "$WORK/grow" 0 "$NEW_KB"
runc_case "runc, no /dev/log: refused" "$WORK/refuse" 1 "annotation 'example.com/shm'"

# ---- a syslog socket that never reads, its queue full ----
python3 - /dev/log "$WORK/wedged.ready" <<'PY' &
import os, signal, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o666)
w = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
w.connect(sys.argv[1])
w.setblocking(False)
n = 0
try:
    while True:
        w.send(b"<30>filler")
        n += 1
except BlockingIOError:
    pass
open(sys.argv[2], "w").write(str(n))
signal.pause()  # never reads
PY
add_cleanup "kill $!"
for _ in $(seq 50); do [ -s "$WORK/wedged.ready" ] && break; sleep 0.1; done
[ -S /dev/log ] && [ -s "$WORK/wedged.ready" ] &&
        pass "/dev/log: a datagram socket, full after $(cat "$WORK/wedged.ready") datagrams, never read" ||
        fail "the wedged /dev/log socket is not there"
for i in 1 2 3 4 5; do
        runc_case "runc, wedged /dev/log: grow #$i" "$WORK/grow" 0 "$NEW_KB"
done
runc_case "runc, wedged /dev/log: refused" "$WORK/refuse" 1 "annotation 'example.com/shm'"

# ---- direct runs against a sibling "container" ----
make_bundle "$WORK/direct"
jq_edit "$WORK/direct/config.json" '.mounts |= map(select(.destination != "/dev/shm")) + [{destination: "/dev/shm",
        type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]}]'
TARGET_SHM=$WORK/direct/rootfs/dev/shm
mkdir -p "$TARGET_SHM"
unshare -m --propagation private sh -c \
        "mount -t tmpfs -o nosuid,noexec,nodev,mode=1777,size=65536k shm '$TARGET_SHM' && exec sleep 600" &
TARGET=$!
add_cleanup "kill $TARGET"
for _ in $(seq 50); do grep -q " $TARGET_SHM " "/proc/$TARGET/mountinfo" 2>/dev/null && break; sleep 0.1; done
STATE=$WORK/state.json
jq -cn --arg b "$WORK/direct" --argjson pid "$TARGET" \
        '{ociVersion: "1.0.2", id: "starved", status: "creating", pid: $pid, bundle: $b}' >"$STATE"

# The size of the container's /dev/shm in KiB, then back to 64 MiB.
target_kb() {
        awk -v p="$TARGET_SHM" '$5 == p {sub(/.*size=/, "", $NF); sub(/k.*/, "", $NF); print $NF}' \
                "/proc/$TARGET/mountinfo"
}
reset_target() { nsenter -t "$TARGET" -m mount -o remount,size=65536k "$TARGET_SHM"; }

# direct PRLIMIT-ARGS...: the hook, a child of this shell as the container is,
# under prlimit (which execs it), killed after 10 s. Sets RC, OUT, MS, KB.
direct() {
        local start pid i
        start=$(date +%s%N)
        # As a runtime runs a hook: only fds 0, 1 and 2 (ctest, say, leaves others open).
        (
                for fd in /proc/$BASHPID/fd/*; do
                        fd=${fd##*/}
                        [ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null
                done
                exec prlimit "$@" -- "$HOOK" --policy "${DIRECT_POLICY:-$POLICY}" prestart
        ) <"$STATE" >"$WORK/direct.out" 2>&1 &
        pid=$!
        for ((i = 0; i < 2000; i++)); do
                [ -d "/proc/$pid" ] && [ "$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null)" != Z ] || break
                sleep 0.005
        done
        [ "$i" -lt 2000 ] || kill -KILL "$pid"
        RC=0
        wait "$pid" || RC=$?
        MS=$((($(date +%s%N) - start) / 1000000))
        OUT=$(cat "$WORK/direct.out")
        OUT=${OUT//$WORK/\$WORK}
        KB=$(target_kb)
        reset_target
}

# judge NAME: the documented results only; a signal or a hang fails.
judge() {
        local name=$1 verdict
        if [ "$RC" -ge 128 ]; then
                verdict="FAIL: killed by signal $((RC - 128))${MS:+ after $MS ms}"
        elif [ "$RC" = 0 ] && [ "$KB" = "$NEW_KB" ]; then
                verdict=grown
        elif [ "$RC" = 0 ] && [ "$KB" = "$OLD_KB" ] && [ -n "$OUT" ]; then
                verdict="started unchanged"
        elif [ "$RC" = 1 ] && [ "$KB" = "$OLD_KB" ] && [ -n "$OUT" ]; then
                verdict=refused
        else
                verdict="FAIL: exit $RC, /dev/shm $KB KiB, message '$OUT'"
        fi
        case $verdict in
        FAIL*) fail "$name: $verdict" ;;
        *) pass "$name: $verdict" ;;
        esac
        row "$name" "$RC" "$verdict, ${MS} ms $(head -n1 <<<"$OUT" | sed 's/^oci-shm-hook: //' | cut -c1-60)"
        VERDICT=$verdict
}

direct
judge "direct, no limits (control)"
expect_eq "control: grown" "$VERDICT" grown

# ASan reserves terabytes of address space and opens files of its own at start:
# the limits below say nothing about a sanitizer build (10-sanitizers.sh).
if readelf -d "$HOOK" 2>/dev/null | grep -q 'libasan'; then
        pass "a sanitizer build: the RLIMIT_NOFILE and RLIMIT_AS cases run in the plain build only"
        SANITIZED=1
fi

# ---- RLIMIT_NOFILE ----
[ -n "${SANITIZED:-}" ] || for n in 3 4 5 6 7 8; do
        direct --nofile="$n:$n"
        judge "RLIMIT_NOFILE $n"
done
[ -n "${SANITIZED:-}" ] || expect_eq "RLIMIT_NOFILE 8: grown" "$VERDICT" grown

# ---- RLIMIT_AS ----
if [ -z "${SANITIZED:-}" ]; then
        # min_as: NEED = the smallest RLIMIT_AS (KiB, to 16) at which the hook exits 0.
        # Not in $(...): the hook must stay a child of this shell.
        min_as() {
                local lo=$((FLOOR - 16)) hi=65536 mid
                while [ $((hi - lo)) -gt 16 ]; do
                        mid=$(((lo + hi) / 2))
                        direct --as=$((mid * 1024))
                        [ "$RC" = 0 ] && hi=$mid || lo=$mid
                done
                NEED=$hi
        }
        # Below what static glibc's own start needs the kernel or libc kills even --version:
        # nothing of the hook has run there, so the sweeps start at that floor.
        lo=256 hi=65536
        while [ $((hi - lo)) -gt 16 ]; do
                mid=$(((lo + hi) / 2))
                # In sh -c, so that the shell reporting the segfault is the one told to be quiet.
                sh -c '"$@" >/dev/null; exit $?' sh prlimit --as=$((mid * 1024)) -- "$HOOK" --version 2>/dev/null &&
                        hi=$mid || lo=$mid
        done
        FLOOR=$hi
        min_as
        echo "RLIMIT_AS: --version needs $FLOOR KiB, a hook run $NEED KiB"
        [ "$NEED" -lt 65536 ] && pass "a hook run needs $NEED KiB of address space" || fail "no RLIMIT_AS up to 64 MiB works"
        direct --as=$(((NEED + 64) * 1024))
        judge "RLIMIT_AS $((NEED + 64)) KiB (64 KiB above the need)"
        expect_eq "RLIMIT_AS just above the need: grown" "$VERDICT" grown
        # A 2 MB config.json needs more: every limit between the floor and its need
        # must refuse with a reason (yajl's failed allocations once were a segfault).
        head -c 2000000 /dev/zero | tr '\0' x >"$WORK/pad"
        jq_edit "$WORK/direct/config.json" --rawfile pad "$WORK/pad" \
                '.annotations.pad = $pad | .annotations["example.com/shm"] = "128m"'
        DIRECT_POLICY=$REQUEST
        min_as
        BIG_NEED=$NEED
        echo "RLIMIT_AS: with a 2 MB config.json a hook run needs $BIG_NEED KiB"
        bad=0
        for ((kb = FLOOR; kb < BIG_NEED; kb += 128)); do
                direct --as=$((kb * 1024))
                # The need found by bisection moves by a few KiB between runs (where the
                # kernel places mappings): just below it a run may still fit and grow.
                if [ "$RC" -ge 128 ] || { [ "$RC" = 1 ] && ! grep -q "out of memory" <<<"$OUT"; } ||
                        { [ "$RC" = 1 ] && [ "$KB" != "$OLD_KB" ]; } ||
                        { [ "$RC" = 0 ] && [ "$KB" != "$NEW_KB" ]; }; then
                        bad=$((bad + 1))
                        [ "$bad" -gt 5 ] || fail "2 MB config.json, RLIMIT_AS $kb KiB: exit $RC, $KB KiB: $OUT"
                fi
        done
        expect_eq "2 MB config.json, RLIMIT_AS $FLOOR..$BIG_NEED KiB: every run refused with 'out of memory' (or, within a few KiB of the need, grown), none crashed" "$bad" 0
        direct --as=$((BIG_NEED * 1024 - 64 * 1024))
        judge "2 MB config.json, RLIMIT_AS 64 KiB below its need"
        expect_eq "2 MB config.json below its need: refused" "$VERDICT" refused
        direct --as=$(((BIG_NEED + 64) * 1024))
        judge "2 MB config.json, RLIMIT_AS 64 KiB above its need"
        expect_eq "2 MB config.json above its need: grown" "$VERDICT" grown
        unset DIRECT_POLICY
        jq_edit "$WORK/direct/config.json" 'del(.annotations)'
fi

# ---- a full /run: no room for the decision record ----
mount -t tmpfs -o size=64k,nr_inodes=16,mode=0755 starved-run /run
add_cleanup "umount -l /run"
i=0
while head -c 65536 /dev/zero >"/run/fill$i" 2>/dev/null; do i=$((i + 1)); done
while : 2>/dev/null >"/run/i$i"; do i=$((i + 1)); done
expect_eq "/run is full: no room for a byte" "$(echo x 2>/dev/null >/run/probe && echo room || echo full)" full
direct
judge "full /run, no /run/oci-shm-hook"
expect_eq "full /run: grown all the same" "$VERDICT" grown
expect_eq "full /run: nothing left behind" "$(ls -A /run | grep -c oci-shm-hook || true)" 0
# The record directory there already, the file system full.
rm -f /run/i*
mkdir -m 0700 /run/oci-shm-hook
while : 2>/dev/null >"/run/i$i"; do i=$((i + 1)); done
while head -c 4096 /dev/zero >>"/run/fill0" 2>/dev/null; do :; done
# One inode free, no block: the record's temporary file is made, its write fails.
rm "/run/i$((i - 1))"
direct
judge "full /run, /run/oci-shm-hook there"
expect_eq "full /run with the directory: grown all the same" "$VERDICT" grown
expect_eq "full /run: no partial record left" "$(ls -A /run/oci-shm-hook)" ""

echo
printf '%-44s %-5s %s\n' "case" "exit" "result"
printf '%s\n' "${ROWS[@]}"
finish
