#!/bin/bash
# The hook's real runs under valgrind (memcheck): grow, fresh mount, host,
# skipped volume, no match, refusal (symlink), invalid request, broken policy,
# bad state. runc runs a wrapper script as the hook that execs valgrind, which
# runs the hook in the same process, so the hook's parent check still holds.
# Any memcheck error or definite/indirect leak makes valgrind exit 99 and log
# "ERROR SUMMARY: N errors" with N > 0; both fail the test.
# Valgrind does not know some new syscalls (pidfd_open, openat2, fsopen, ...)
# and answers ENOSYS, so these runs also cover the hook's fallback paths.
# Run by tests/ci/10-sanitizers.sh with OCI_SHM_HOOK_BIN=<an uninstrumented hook>.
set -euo pipefail
ID_PREFIX=security
source "$(dirname "$0")/../integration/lib.sh"
need_root
need runc jq busybox valgrind

VG_LOGS=$WORK/vg
mkdir -p "$VG_LOGS"
WRAPPER=$WORK/oci-shm-hook-valgrind
cat >"$WRAPPER" <<EOF2
#!/bin/sh
exec valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \\
        --show-leak-kinds=definite,indirect --track-fds=no \\
        --suppressions=$(cd "$(dirname "$0")" && pwd)/valgrind.supp \\
        --log-file=$VG_LOGS/vg.%p "$HOOK" "\$@"
EOF2
chmod +x "$WRAPPER"
REAL_HOOK=$HOOK
HOOK=$WRAPPER # register_hook uses $HOOK as the path

make_bundle "$WORK/template" "$SHOW_SHM; $SHOW_SHM_MOUNT"
policy() { printf '%s\n' "$2" >"$WORK/$1.conf"; }
policy grow 'shm=256m'
policy host 'shm=host'
policy nomatch 'image=nothing/* shm=1g'
policy broken 'image=* shm=1g shm=2g'
policy request 'annotation:example.com/shm=* shm=request'

RUNS=0
# vg_case NAME BUNDLE-EDIT POLICY WANT_RC NEEDLE
vg_case() {
        local name=$1 edit=$2 pol=$3 want=$4 needle=$5
        local b=$WORK/$name
        cp -a "$WORK/template" "$b"
        eval "$edit"
        register_hook "$b" "$WORK/$pol.conf"
        run_in runc "$b"
        RUNS=$((RUNS + 1))
        if [ "$want" = 0 ]; then
                expect_eq "$name: runc run" "$RC" 0
        else
                expect_ne "$name: runc run fails" "$RC" 0
                expect_not_contains "$name: not a valgrind error exit" "$OUT" "exit status 99"
        fi
        [ -z "$needle" ] || expect_contains "$name: output" "$OUT" "$needle"
}
vg_case grow ':' grow 0 "SHM_KB=262144"
vg_case fresh "jq_edit \$b/config.json '.mounts |= map(select(.destination != \"/dev/shm\"))'" grow 0 "SHM_KB=262144"
vg_case host ':' host 0 ""
mkdir -p "$WORK/voldir"
vg_case volume "jq_edit \$b/config.json --arg s $WORK/voldir '.mounts |= map(if .destination == \"/dev/shm\" then {destination: \"/dev/shm\", type: \"bind\", source: \$s, options: [\"rbind\"]} else . end)'" grow 0 ""
vg_case nomatch ':' nomatch 0 "SHM_KB=65536"
vg_case broken ':' broken 0 "SHM_KB=65536"
vg_case refusal "jq_edit \$b/config.json '.mounts |= map(select(.destination != \"/dev/shm\" and .destination != \"/dev\"))'; ln -s /etc \$b/rootfs/dev/shm" grow 1 "is a symbolic link"
vg_case request "set_annotation \$b example.com/shm '2g; rm -rf /'" request 1 "annotation 'example.com/shm'"
# Straight calls: bad state, 5 MiB state.
for input in '' '{"id":"x","pid":"12","bundle":"/b"}' '{"id":"x","pid":12,"pid":13,"bundle":"/b"}'; do
        rc=0
        printf '%s' "$input" | "$WRAPPER" --policy "$WORK/grow.conf" prestart >/dev/null 2>&1 || rc=$?
        RUNS=$((RUNS + 1))
        expect_eq "bad state '$input': the hook refuses it (not valgrind's 99)" "$rc" 1
done
rc=0
head -c $((5 << 20)) /dev/zero | "$WRAPPER" --policy "$WORK/grow.conf" prestart >/dev/null 2>&1 || rc=$?
RUNS=$((RUNS + 1))
expect_eq "5 MiB state: refused (not valgrind's 99)" "$rc" 1

logs=("$VG_LOGS"/vg.*)
expect_eq "every hook run went through valgrind" "${#logs[@]}" "$RUNS"
errors=$(grep -l 'ERROR SUMMARY: [1-9]\|definitely lost: [1-9]\|indirectly lost: [1-9]\|Invalid \(read\|write\|free\)\|uninitialised' "${logs[@]}" || true)
if [ -n "$errors" ]; then
        fail "valgrind found problems:"
        cat $errors >&2
else
        pass "valgrind: no memcheck errors and no leaks in $RUNS hook runs"
fi
# What valgrind could not follow, for the record.
grep -ho 'unhandled amd64-linux syscall: [0-9]*' "${logs[@]}" | sort -u | sed 's/^/note: /' || true
HOOK=$REAL_HOOK
finish
