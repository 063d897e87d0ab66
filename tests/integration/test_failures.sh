#!/bin/bash
# Failure behaviour (SPEC.md "Failure behaviour") on real runc and crun:
# an invalid shm=request refuses the container and names the annotation; a
# broken policy lets containers start unchanged unless --on-policy-error=fail;
# a malformed state or config.json is refused with a one-line reason.
set -euo pipefail
# shellcheck disable=SC2034 # read by lib.sh
ID_PREFIX=integ
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
need_root
need runc crun jq busybox unshare

ENGINES=(runc crun)
SELENIUM=docker.io/selenium/standalone-chrome:4.10
make_bundle "$WORK/template" "$SHOW_SHM"
set_annotation "$WORK/template" io.kubernetes.cri.image-name "$SELENIUM"

# bundle NAME: a fresh copy of the template; sets B to its path.
bundle() {
        B="$WORK/$1"
        cp -a "$WORK/template" "$B"
}

# run_seen ENGINE BUNDLE: run_in, with what a user would see of the hook's
# stderr. runc prints it in its error; crun drops hook output unless the
# annotation run.oci.hooks.stderr names a file, so set it and append the file.
run_seen() {
        local engine=$1 b=$2
        if [ "$engine" = crun ]; then
                set_annotation "$b" run.oci.hooks.stderr "$b/hooks.stderr"
                rm -f "$b/hooks.stderr"
        fi
        run_in "$engine" "$b"
        if [ "$engine" = crun ] && [ -f "$b/hooks.stderr" ]; then
                OUT+=$'\n'$(cat "$b/hooks.stderr")
        fi
}

# A process in a private mount namespace, for direct hook runs whose state
# needs a live pid (the hook refuses pid 1 and must never touch ours).
unshare -m --propagation private sleep 600 &
SLEEPER=$!
add_cleanup "kill $SLEEPER"

# expect_refused ENGINE WHAT NEEDLE: the container did not run, the runtime
# failed and its output carries NEEDLE.
expect_refused() {
        local engine=$1 what=$2 needle=$3
        expect_ne "$engine: $what: the runtime fails" "$RC" 0
        expect_not_contains "$engine: $what: the container did not run" "$OUT" "SHM_KB="
        expect_contains "$engine: $what: the error says why" "$OUT" "$needle"
}

# no_container_left ENGINE WHAT: the failed start left no container behind.
no_container_left() {
        local left
        left=$("$1" list -q 2>/dev/null | grep -c "^$ID_BASE-" || true)
        expect_eq "$1: $2: no container is left behind" "$left" 0
}

# --- shm=request: valid sizes work, an invalid one refuses the container ---
printf 'annotation:example.com/shm-size=* shm=request max=8g\n' >"$WORK/request.conf"
for value in '2g; rm -rf /' '0' '-1g' '1.5g' '2x' ''; do
        bundle "request-$RANDOM"
        set_annotation "$B" example.com/shm-size "$value"
        register_hook "$B" "$WORK/request.conf"
        for engine in "${ENGINES[@]}"; do
                run_seen "$engine" "$B"
                expect_refused "$engine" "request '$value'" "example.com/shm-size"
                no_container_left "$engine" "request '$value'"
        done
done

# --- a broken policy: containers start unchanged, with a warning ---
printf 'image=selenium/* shm=2g\nimage=pytorch/* shm=lots\n' >"$WORK/broken.conf"
bundle broken
register_hook "$B" "$WORK/broken.conf"
for engine in "${ENGINES[@]}"; do
        run_in "$engine" "$B"
        expect_eq "$engine: broken policy: the container starts" "$RC" 0
        expect_eq "$engine: broken policy: /dev/shm stays 64m" "$(shm_kb "$OUT")" 65536
done

# The warning itself (runc shows hook stderr only on failure): run the hook
# directly on the same bundle; it stops before touching any mount.
state=$(jq -cn --arg b "$B" '{ociVersion: "1.0.2", id: "integ-direct", status: "creating",
        pid: '"$SLEEPER"', bundle: $b}')
rc=0
err=$("$HOOK" --policy "$WORK/broken.conf" prestart <<<"$state" 2>&1 >/dev/null) || rc=$?
expect_eq "direct run, broken policy: exit 0" "$rc" 0
expect_contains "direct run, broken policy: warning on stderr" "$err" "warning"
expect_contains "direct run, broken policy: names FILE:LINE" "$err" "$WORK/broken.conf:2"

bundle broken-fail
register_hook "$B" "$WORK/broken.conf" prestart --on-policy-error=fail
for engine in "${ENGINES[@]}"; do
        run_seen "$engine" "$B"
        expect_refused "$engine" "broken policy with --on-policy-error=fail" "broken.conf:2"
        no_container_left "$engine" "--on-policy-error=fail"
done

# A missing explicitly named policy file is a problem too (not "empty").
bundle missing-policy
register_hook "$B" "$WORK/does-not-exist.conf" prestart --on-policy-error=fail
for engine in "${ENGINES[@]}"; do
        run_seen "$engine" "$B"
        expect_refused "$engine" "missing policy file with --on-policy-error=fail" \
                "does-not-exist.conf"
done

# --- malformed state on stdin: non-zero exit, one line on stderr ---
printf 'image=selenium/* shm=2g\n' >"$WORK/selenium.conf"
check_bad_state() {
        local what=$1 input=$2 rc=0 out err
        out=$("$HOOK" --policy "$WORK/selenium.conf" prestart <<<"$input" 2>"$WORK/stderr") || rc=$?
        [ -n "$input" ] || out=$("$HOOK" --policy "$WORK/selenium.conf" prestart </dev/null \
                2>"$WORK/stderr") || rc=$?
        err=$(cat "$WORK/stderr")
        expect_ne "bad state ($what): non-zero exit" "$rc" 0
        expect_eq "bad state ($what): nothing on stdout" "$out" ""
        expect_eq "bad state ($what): one line on stderr" "$(wc -l <"$WORK/stderr")" 1
        expect_contains "bad state ($what): the line is the hook's" "$err" "oci-shm-hook"
        echo "   message: $err"
}
check_bad_state "empty" ""
check_bad_state "not JSON" "this is not json"
check_bad_state "truncated JSON" '{"ociVersion": "1.0.2", "id": "x", "pid": 1'
check_bad_state "missing pid" "$(jq -cn --arg b "$B" '{ociVersion: "1.0.2", id: "x", status: "creating", bundle: $b}')"
check_bad_state "pid is a string" "$(jq -cn --arg b "$B" '{ociVersion: "1.0.2", id: "x", status: "creating", pid: "1", bundle: $b}')"
check_bad_state "missing bundle" '{"ociVersion": "1.0.2", "id": "x", "status": "creating", "pid": '"$SLEEPER"'}'
check_bad_state "bundle without config.json" "$(jq -cn --arg b "$WORK/nowhere" '{ociVersion: "1.0.2", id: "x", status: "creating", pid: '"$SLEEPER"', bundle: $b}')"
check_bad_state "array" '[1, 2, 3]'

# --- config.json that is not valid JSON in a real bundle ---
# The runtime parses config.json before the hooks run, so an earlier hook
# breaks it, as a buggy tool editing bundles would.
for engine in "${ENGINES[@]}"; do
        bundle "badconfig-$engine"
        add_hook "$B" prestart "$(jq -cn --arg f "$B/config.json" \
                '{path: "/bin/sh", args: ["sh", "-c", "printf \"{not json\" > \"$0\"", $f]}')"
        register_hook "$B" "$WORK/selenium.conf"
        run_seen "$engine" "$B"
        expect_refused "$engine" "invalid config.json" "config.json"
        expect_contains "$engine: invalid config.json: the hook's message" "$OUT" "oci-shm-hook"
        expect_eq "$engine: invalid config.json: the earlier hook did break it" \
                "$(cat "$B/config.json")" "{not json"
done

finish
