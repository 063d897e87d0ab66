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

# configmap_publish DIR TEXT: a new version of a ConfigMap volume with TEXT as its
# policy.conf, swapped in through ..data as the kubelet does.
configmap_publish() {
        local v
        v="..$(date +%s%N)"
        mkdir "$1/$v"
        printf '%s\n' "$2" >"$1/$v/policy.conf"
        ln -sfn "$v" "$1/..data_tmp" && mv -T "$1/..data_tmp" "$1/..data"
        [ -L "$1/policy.conf" ] || ln -s ..data/policy.conf "$1/policy.conf"
}

finish() {
        if [ "$FAILURES" -gt 0 ]; then
                echo "$TEST_NAME: $FAILURES failure(s)"
                exit 1
        fi
        echo "$TEST_NAME: all passed"
        exit 0
}

# make_rootless_user NAME: a new user for rootless engines, as an admin makes
# one: `useradd -m`, a subordinate uid and gid range of 65536 in /etc/subuid
# and /etc/subgid (useradd allocates it; when it does not, the first free one
# above every range there). Sets RL_USER, RL_UID, RL_GID, RL_HOME and
# RL_RUNTIME_DIR (the user's XDG_RUNTIME_DIR, 0700: a short path, Podman 4.3
# refuses a runroot, $XDG_RUNTIME_DIR/containers, over 50 characters). Undone at
# exit: every process of the user killed by pid, `userdel -r`, its ranges
# removed.
make_rootless_user() {
        local name=$1 file start
        RL_USER=$name
        if getent passwd "$name" >/dev/null; then
                echo "FAIL: user '$name' exists already" >&2
                exit 1
        fi
        add_cleanup remove_rootless_user
        useradd -m -s /bin/sh "$name"
        RL_UID=$(id -u "$name")
        RL_GID=$(id -g "$name")
        RL_HOME=$(getent passwd "$name" | cut -d: -f6)
        for file in /etc/subuid /etc/subgid; do
                grep -q "^$name:" "$file" 2>/dev/null && continue
                start=$(awk -F: 'BEGIN {m = 100000} $2 + $3 > m {m = $2 + $3} END {print m}' \
                        /etc/subuid /etc/subgid 2>/dev/null)
                echo "$name:$start:65536" >>"$file"
        done
        RL_RUNTIME_DIR=$(mktemp -d /tmp/ocishm-xdg.XXXXXX)
        chown "$RL_UID:$RL_GID" "$RL_RUNTIME_DIR"
}

# as_rootless_user CMD...: run CMD as RL_USER with the environment a login
# gives (HOME, USER, PATH, XDG_RUNTIME_DIR), in their home directory.
as_rootless_user() {
        setpriv --reuid "$RL_UID" --regid "$RL_GID" --init-groups \
                env -i -C "$RL_HOME" HOME="$RL_HOME" USER="$RL_USER" LOGNAME="$RL_USER" \
                PATH=/usr/local/bin:/usr/bin:/bin XDG_RUNTIME_DIR="$RL_RUNTIME_DIR" "$@"
}

# rootless_user_pids: the pids of RL_USER's processes (rootless Podman leaves
# a pause process and conmon behind).
rootless_user_pids() {
        ps -o pid= -u "$RL_UID" 2>/dev/null | tr -d ' ' || true
}

# kill_rootless_user_processes: SIGKILL each of RL_USER's processes by pid.
kill_rootless_user_processes() {
        local pids i
        for i in 1 2 3 4 5 6 7 8 9 10; do
                pids=$(rootless_user_pids)
                [ -n "$pids" ] || return 0
                # shellcheck disable=SC2086 # one pid a word
                kill -KILL $pids 2>/dev/null || true
                sleep 0.2
        done
}

# remove_rootless_user: once only, while the uid is still the user's (a later
# user may get it).
remove_rootless_user() {
        [ -n "${RL_UID:-}" ] && [ -z "${RL_REMOVED:-}" ] || return 0
        RL_REMOVED=1
        kill_rootless_user_processes
        userdel -r "$RL_USER" 2>/dev/null || true
        [ -z "${RL_RUNTIME_DIR:-}" ] || rm -rf "$RL_RUNTIME_DIR"
        sed -i "/^$RL_USER:/d" /etc/subuid /etc/subgid
}

# private_dev_log FILE: in a private mount namespace (engines/private-ns.sh
# only), replace /dev with a tmpfs of binds of its entries plus a socket at
# /dev/log that appends every syslog datagram to FILE, one a line (and an
# mqueue at /dev/mqueue, as systemd mounts it, where there is none). The
# machine's /dev is not changed. Call before any engine starts, so that the
# namespaces it makes copy this /dev.
private_dev_log() {
        local log=$1 dev=$WORK/dev
        [ -n "${ENGINES_PRIVATE_NS:-}" ] || {
                echo "FAIL: private_dev_log outside the private mount namespace" >&2
                exit 1
        }
        private_dev_copy "$dev"
        # What a systemd host has and this VM lacks: Podman binds it for --ipc=host.
        if [ ! -e "$dev/mqueue" ]; then
                mkdir "$dev/mqueue" && mount -t mqueue -o nosuid,nodev,noexec mqueue "$dev/mqueue"
        fi
        syslog_listener "$dev/log" "$log"
        mount --move "$dev" /dev
}

# private_dev_copy DIR: a tmpfs at DIR holding binds of the machine's /dev
# entries but its sockets (so no /dev/log), for `mount --move DIR /dev` in a
# private mount namespace. The machine's /dev is not changed.
private_dev_copy() {
        local dev=$1 entry name
        mkdir -p "$dev"
        mount -t tmpfs -o mode=0755,nosuid devcopy "$dev"
        for entry in /dev/*; do
                name=${entry##*/}
                if [ -L "$entry" ]; then
                        cp -P "$entry" "$dev/$name"
                elif [ -d "$entry" ]; then
                        mkdir "$dev/$name" && mount --rbind "$entry" "$dev/$name"
                elif [ -S "$entry" ] || [ -p "$entry" ]; then
                        continue
                else
                        touch "$dev/$name" && mount --bind "$entry" "$dev/$name"
                fi
        done
}

# syslog_listener SOCKET LOG [PYTHON]: a datagram socket at SOCKET that appends
# each message, one line each, to LOG, until the test ends.
syslog_listener() {
        local socket=$1 log=$2 python=${3:-python3}
        "$python" - "$socket" "$log" <<'PY' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o666)
with open(sys.argv[2], "ab", buffering=0) as out:
    while True:
        out.write(s.recv(65536).replace(b"\n", b"\\n") + b"\n")
PY
        add_cleanup "kill $!; rm -f '$socket'"
        for _ in $(seq 50); do [ -S "$socket" ] && break; sleep 0.1; done
        [ -S "$socket" ] || { echo "FAIL: the listener did not bind $socket" >&2; exit 1; }
}
