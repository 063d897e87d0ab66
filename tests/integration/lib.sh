#!/bin/bash
# Shared helpers for the integration tests: real containers, real engines.
# Each test sources this file, then calls the helpers below. A test exits 0
# on success, 1 on failure, 77 when it cannot run here (ctest shows SKIPPED).
set -euo pipefail
umask 022 # the hook refuses policies that group or others can write

HOOK=${OCI_SHM_HOOK_BIN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/oci-shm-hook}
TEST_NAME=$(basename "$0" .sh)
FAILURES=0
# Container ids are "$ID_PREFIX-$TEST_NAME-$$-N": set ID_PREFIX before sourcing
# to give an area its own ids. Containers left with this test's ids are
# deleted when it exits.
ID_PREFIX=${ID_PREFIX:-oci-shm}
ID_BASE="${ID_PREFIX}-${TEST_NAME}-$$"

skip() {
        echo "SKIP: $*"
        exit 77
}

fail() {
        echo "FAIL: $*" >&2
        FAILURES=$((FAILURES + 1))
}

pass() {
        echo "ok: $*"
}

# Under CI every engine must be there: a missing tool is a failure, not a skip.
need() {
        local tool
        for tool in "$@"; do
                if ! command -v "$tool" >/dev/null 2>&1; then
                        if [ "${CI:-}" = true ]; then
                                echo "FAIL: '$tool' is not installed" >&2
                                exit 1
                        fi
                        skip "'$tool' is not installed"
                fi
        done
}

need_root() {
        [ "$(id -u)" = 0 ] || skip "needs root"
}

[ -x "$HOOK" ] || { echo "FAIL: hook binary '$HOOK' not found (set OCI_SHM_HOOK_BIN)" >&2; exit 1; }

WORK=$(mktemp -d "/tmp/oci-shm-test.${TEST_NAME}.XXXXXX")
CLEANUPS=()
# delete_leftovers: force-delete this test's containers that are still known.
delete_leftovers() {
        local engine id
        for engine in runc crun; do
                command -v "$engine" >/dev/null 2>&1 || continue
                for id in $("$engine" list -q 2>/dev/null); do
                        case $id in
                        "$ID_BASE"-*) "$engine" delete -f "$id" >/dev/null 2>&1 || true ;;
                        esac
                done
        done
}
on_exit() {
        local i
        delete_leftovers
        for ((i = ${#CLEANUPS[@]} - 1; i >= 0; i--)); do
                eval "${CLEANUPS[$i]}" >/dev/null 2>&1 || true
        done
        rm -rf "$WORK" 2>/dev/null || true
}
trap on_exit EXIT
add_cleanup() {
        CLEANUPS+=("$*")
}

# make_rootfs DIR: a busybox root file system.
make_rootfs() {
        local dir=$1 tool
        mkdir -p "$dir"/{bin,proc,dev,sys,tmp,etc}
        cp "$(command -v busybox)" "$dir/bin/busybox"
        for tool in sh df cat ls grep stat touch echo sleep mount awk head wc; do
                ln -sf busybox "$dir/bin/$tool"
        done
}

# The /dev/shm mount as the container sees it, on the line
# "SHM_MNT=PER-MOUNT-OPTIONS FSTYPE SUPER-OPTIONS" (absent when not a mount point).
# shellcheck disable=SC2034 # for the tests
SHOW_SHM_MOUNT='awk '"'"'$5 == "/dev/shm" {print "SHM_MNT=" $6 " " $(NF-2) " " $NF}'"'"' /proc/self/mountinfo'

# make_bundle DIR [CMD]: rootfs + `runc spec` config.json running CMD with sh -c.
# The default command prints the size of /dev/shm in KiB on the line "SHM_KB=N".
SHOW_SHM='echo SHM_KB=$(df -k /dev/shm | awk "NR==2 {print \$2}")'
make_bundle() {
        local dir=$1 cmd=${2:-$SHOW_SHM}
        mkdir -p "$dir"
        make_rootfs "$dir/rootfs"
        (cd "$dir" && runc spec)
        jq_edit "$dir/config.json" --arg cmd "$cmd" \
                '.process.terminal = false | .process.args = ["sh", "-c", $cmd]'
}

# jq_edit FILE [JQ ARGS...] FILTER: edit a JSON file in place.
jq_edit() {
        local file=$1
        shift
        jq "$@" "$file" >"$file.tmp" && mv "$file.tmp" "$file"
}

# set_annotation BUNDLE KEY VALUE
set_annotation() {
        jq_edit "$1/config.json" --arg k "$2" --arg v "$3" '.annotations[$k] = $v'
}

# register_hook BUNDLE POLICY [STAGE] [EXTRA HOOK ARGS...]: as users do, in config.json.
register_hook() {
        local bundle=$1 policy=$2 stage=${3:-prestart}
        shift 3 || shift $#
        local extra
        extra=$(printf '%s\n' "$@" | jq -R . | jq -s 'map(select(. != ""))')
        jq_edit "$bundle/config.json" --arg hook "$HOOK" --arg policy "$policy" \
                --arg stage "$stage" --argjson extra "$extra" \
                '.hooks[$stage] = (.hooks[$stage] // []) + [{path: $hook,
                  args: (["oci-shm-hook", "--policy", $policy] + $extra + [$stage]),
                  timeout: 10}]'
}

# add_hook BUNDLE STAGE ENTRY_JSON: append a raw hook entry (for env, extra hooks).
add_hook() {
        jq_edit "$1/config.json" --arg stage "$2" --argjson entry "$3" \
                '.hooks[$stage] = (.hooks[$stage] // []) + [$entry]'
}

# new_id: a fresh container id of this test.
ID_SEQ=0
new_id() {
        ID_SEQ=$((ID_SEQ + 1))
        echo "${ID_BASE}-${ID_SEQ}-$RANDOM"
}

# run_runc BUNDLE [ID]: run the container, print its output; returns runc's status.
run_runc() {
        local bundle=$1 id=${2:-$(new_id)}
        runc run --bundle "$bundle" "$id" </dev/null 2>&1
}

# run_crun BUNDLE [ID]: crun refuses hybrid cgroups; hide the empty v2 hierarchy.
run_crun() {
        local bundle=$1 id=${2:-$(new_id)}
        unshare -m sh -c 'umount /sys/fs/cgroup/unified 2>/dev/null; exec crun run --bundle "$1" "$2"' \
                sh "$bundle" "$id" </dev/null 2>&1
}

# run_in ENGINE BUNDLE: run with runc or crun; sets OUT (stdout+stderr) and RC.
# shellcheck disable=SC2034 # for the tests
run_in() {
        RC=0
        OUT=$("run_$1" "$2") || RC=$?
}

# shm_kb OUTPUT: the SHM_KB= value printed by the default command.
shm_kb() {
        sed -n 's/^SHM_KB=\([0-9]*\).*/\1/p' <<<"$1" | head -n1
}

# shm_mount OUTPUT: the SHM_MNT= value printed by $SHOW_SHM_MOUNT (last one wins).
shm_mount() {
        sed -n 's/^SHM_MNT=//p' <<<"$1" | tail -n1
}

# expect_eq WHAT ACTUAL EXPECTED
expect_eq() {
        if [ "$2" = "$3" ]; then
                pass "$1 ($2)"
        else
                fail "$1: got '$2', expected '$3'"
        fi
}

# expect_contains WHAT TEXT NEEDLE
expect_contains() {
        if grep -qF -- "$3" <<<"$2"; then
                pass "$1"
        else
                fail "$1: '$3' not found in: $2"
        fi
}

# expect_not_contains WHAT TEXT NEEDLE
expect_not_contains() {
        if grep -qF -- "$3" <<<"$2"; then
                fail "$1: '$3' unexpectedly found in: $2"
        else
                pass "$1"
        fi
}

# expect_ne WHAT ACTUAL UNEXPECTED
expect_ne() {
        if [ "$2" != "$3" ]; then
                pass "$1 ($2)"
        else
                fail "$1: got '$2'"
        fi
}

finish() {
        if [ "$FAILURES" -gt 0 ]; then
                echo "$TEST_NAME: $FAILURES failure(s)"
                exit 1
        fi
        echo "$TEST_NAME: all passed"
        exit 0
}
