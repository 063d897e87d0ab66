#!/bin/bash
# The admin commands: `check` (FILE:LINE problems, exit status) and `explain`
# with --image/--annotation/--memory-limit and with --bundle on a real bundle,
# whose answer must be what runc and crun then actually give the container.
set -euo pipefail
# shellcheck disable=SC2034 # read by lib.sh
ID_PREFIX=integ
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
need_root
need runc crun jq busybox unshare

ENGINES=(runc crun)
P="$WORK/policy.conf"
cat >"$P" <<'EOF'
# a test policy
image=selenium/standalone-chrome:3* shm=keep
image=selenium/*                    shm=2g

image=pytorch/*                     shm=50%
annotation:example.com/shm-size=*   shm=request max=4g
image=postgres                      shm=1g
EOF

# hook ARGS...: run the hook binary; sets OUT (stdout), ERR (stderr), RC.
hook() {
        RC=0
        OUT=$("$HOOK" "$@" 2>"$WORK/stderr") || RC=$?
        ERR=$(cat "$WORK/stderr")
}

# --- check ---
hook check --policy "$P"
expect_eq "check: valid policy exits 0" "$RC" 0
expect_eq "check: valid policy summary" "$OUT" "policy OK: 5 rules in 1 file"

cat >"$WORK/bad.conf" <<'EOF'
image=selenium/* shm=2g
image=pytorch/* shm=2x
# fine
shm=1g shm=2g
image=x shm=50% max=0
image=y
EOF
hook check --policy "$WORK/bad.conf"
expect_eq "check: invalid policy exits 1" "$RC" 1
for line in 2 4 5 6; do
        expect_contains "check: reports $WORK/bad.conf:$line" "$OUT" "$WORK/bad.conf:$line: "
done
expect_not_contains "check: no problem reported for line 1" "$OUT" "bad.conf:1:"
expect_not_contains "check: no problem reported for line 3" "$OUT" "bad.conf:3:"
expect_eq "check: one line per problem" "$(grep -c "^$WORK/bad.conf:[0-9]*: " <<<"$OUT")" 4
expect_contains "check: names the bad size" "$OUT" "2x"

D="$WORK/policy.d"
mkdir -p "$D"
printf 'image=selenium/* shm=2g\n' >"$D/10-a.conf"
printf '\n\nimage=* shm=nope\n' >"$D/20-b.conf"
printf 'garbage\n' >"$D/notes.txt"
hook check --policy "$D"
expect_eq "check: directory with a bad file exits 1" "$RC" 1
expect_eq "check: directory problem as FILE:LINE" "$OUT" \
        "$(grep -F "$D/20-b.conf:3: " <<<"$OUT" || echo "missing $D/20-b.conf:3")"
rm "$D/20-b.conf"
hook check --policy "$D"
expect_eq "check: fixed directory exits 0" "$RC" 0
expect_eq "check: fixed directory summary" "$OUT" "policy OK: 1 rule in 1 file"

hook check --policy "$WORK/missing.conf"
expect_eq "check: a missing named policy exits 1" "$RC" 1
expect_contains "check: a missing named policy is named" "$OUT$ERR" "$WORK/missing.conf"

# --- explain --image / --annotation / --memory-limit ---
# explain_expect WHAT RULE BYTES HUMAN ARGS...
explain_expect() {
        local what=$1 rule=$2 bytes=$3 human=$4
        shift 4
        hook explain --policy "$P" "$@"
        expect_eq "explain $what: exit" "$RC" 0
        expect_contains "explain $what: rule $rule" "$OUT" "rule:         $P:$rule: "
        expect_contains "explain $what: $bytes bytes ($human)" "$OUT" \
                "at least $bytes bytes ($human)"
}
explain_expect "selenium" 3 2147483648 "2 GiB" --image docker.io/selenium/standalone-chrome:4.10
expect_contains "explain selenium: image forms" "$OUT" \
        "docker.io/selenium/standalone-chrome:4.10 selenium/standalone-chrome:4.10 docker.io/selenium/standalone-chrome selenium/standalone-chrome"
explain_expect "familiar postgres" 7 1073741824 "1 GiB" --image postgres:16
expect_contains "explain postgres: normalized" "$OUT" "docker.io/library/postgres:16"
explain_expect "50% of 1g" 5 536870912 "512 MiB" --image pytorch/pytorch:2.1.0 --memory-limit 1g
expect_contains "explain 50% of 1g: shows the limit" "$OUT" "1073741824 bytes (1 GiB)"
explain_expect "request 3Gi" 6 3221225472 "3 GiB" --image redis:7 --annotation example.com/shm-size=3Gi
explain_expect "request above max" 6 4294967296 "4 GiB" --image redis:7 --annotation example.com/shm-size=6g
expect_contains "explain request above max: warns" "$OUT" "max="
explain_expect "selenium clamped to limit" 3 1073741824 "1 GiB" \
        --image docker.io/selenium/standalone-chrome:4.10 --memory-limit 1Gi

hook explain --policy "$P" --image docker.io/selenium/standalone-chrome:3.141
expect_contains "explain keep: rule 2" "$OUT" "rule:         $P:2: "
expect_contains "explain keep: action" "$OUT" "keep"

hook explain --policy "$P" --image docker.io/library/nginx:1.25
expect_eq "explain no match: exit" "$RC" 0
expect_contains "explain no match: says so" "$OUT" "none matched"

hook explain --policy "$P" --image redis:7 --annotation 'example.com/shm-size=2g; rm -rf /'
expect_eq "explain invalid request: exit 1" "$RC" 1
expect_contains "explain invalid request: names the annotation" "$OUT$ERR" "example.com/shm-size"

# --- explain --namespace / --pod / --container (Kubernetes identity) ---
K="$WORK/k8s.conf"
cat >"$K" <<'EOF'
namespace=selenium-grid shm=2g
pod=web-* container=chrome shm=1g
image=redis shm=256m
EOF
hook check --policy "$K"
expect_eq "check: namespace=, pod=, container= rules" "$OUT" "policy OK: 3 rules in 1 file"
hook explain --policy "$K" --namespace selenium-grid
expect_eq "explain --namespace: exit" "$RC" 0
expect_contains "explain --namespace: rule 1" "$OUT" "rule:         $K:1: namespace=selenium-grid shm=2g"
hook explain --policy "$K" --image redis --pod web-7 --container chrome
expect_contains "explain --pod --container: rule 2" "$OUT" "rule:         $K:2: "
expect_contains "explain --pod --container: shown" "$OUT" "pod=web-7 container=chrome"
hook explain --policy "$K" --image redis --annotation io.kubernetes.pod.namespace=selenium-grid
expect_contains "explain: an annotation is not the namespace" "$OUT" "rule:         $K:3: "
hook check --policy "$K" --namespace x
expect_eq "check --namespace: usage error" "$RC" 2
printf 'namespace= shm=1g\n' >"$WORK/k8s-bad.conf"
hook check --policy "$WORK/k8s-bad.conf"
expect_contains "check: namespace= needs a pattern" "$OUT" "'namespace=' needs a pattern"

hook explain --policy "$WORK/bad.conf" --image docker.io/selenium/standalone-chrome:4.10
expect_eq "explain with an invalid policy: exit 1" "$RC" 1
expect_contains "explain with an invalid policy: FILE:LINE" "$ERR" "$WORK/bad.conf:2:"

hook explain --policy "$D" --image docker.io/selenium/standalone-chrome:4.10
expect_contains "explain with a directory: rule in its file" "$OUT" "rule:         $D/10-a.conf:1: "

# --- explain --bundle on a real bundle, checked against real containers ---
make_bundle "$WORK/selenium-bundle"
B="$WORK/selenium-bundle"
set_annotation "$B" io.kubernetes.cri.image-name docker.io/selenium/standalone-chrome:4.10
jq_edit "$B/config.json" '.linux.resources.memory.limit = 3221225472'
register_hook "$B" "$P"
hook explain --policy "$P" --bundle "$B"
expect_eq "explain --bundle: exit" "$RC" 0
expect_contains "explain --bundle: container id from the directory" "$OUT" "container:    selenium-bundle"
expect_contains "explain --bundle: image from the CRI annotation" "$OUT" \
        "docker.io/selenium/standalone-chrome:4.10 (from "
expect_contains "explain --bundle: the memory limit" "$OUT" "3221225472 bytes (3 GiB)"
expect_contains "explain --bundle: rule FILE:LINE" "$OUT" "rule:         $P:3: "
expect_contains "explain --bundle: bytes and human units" "$OUT" "at least 2147483648 bytes (2 GiB)"
explained_kb=$(($(sed -n 's/.*at least \([0-9]*\) bytes.*/\1/p' <<<"$OUT") / 1024))
for engine in "${ENGINES[@]}"; do
        run_in "$engine" "$B"
        expect_eq "$engine: the container gets what explain --bundle said" "$(shm_kb "$OUT")" \
                "$explained_kb"
done

C="$WORK/crio-bundle"
cp -a "$B" "$C"
jq_edit "$C/config.json" '.annotations = {"io.kubernetes.cri-o.ImageName": "docker.io/pytorch/pytorch:2.1.0"}
        | .linux.resources.memory.limit = 1073741824'
hook explain --policy "$P" --bundle "$C"
expect_contains "explain --bundle (CRI-O): rule FILE:LINE" "$OUT" "rule:         $P:5: "
expect_contains "explain --bundle (CRI-O): 50% of 1 GiB" "$OUT" "at least 536870912 bytes (512 MiB)"
for engine in "${ENGINES[@]}"; do
        run_in "$engine" "$C"
        expect_eq "$engine: the CRI-O tagged container gets what explain said" \
                "$(shm_kb "$OUT")" 524288
done

E="$WORK/empty-bundle"
mkdir -p "$E"
printf '{not json' >"$E/config.json"
hook explain --policy "$P" --bundle "$E"
expect_eq "explain --bundle with invalid config.json: exit 1" "$RC" 1
expect_contains "explain --bundle with invalid config.json: says so" "$ERR" "config.json"

# --- usage ---
hook --version
expect_eq "--version: exit" "$RC" 0
expect_contains "--version: names the program" "$OUT" "oci-shm-hook "
hook --policy "$P" poststop </dev/null
expect_eq "unsupported stage: usage error" "$RC" 2
expect_contains "unsupported stage: names the supported ones" "$ERR" "prestart or createRuntime"
hook explain --policy "$P"
expect_eq "explain without --image or --bundle: usage error" "$RC" 2
hook explain --policy "$P" --image x --bundle "$B"
expect_eq "explain with both --image and --bundle: usage error" "$RC" 2
hook check --policy "$P" --image x
expect_eq "check with --image: usage error" "$RC" 2

finish
