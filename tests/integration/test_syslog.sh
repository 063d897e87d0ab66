#!/bin/bash
# The hook's log: one line per decision to syslog (ident oci-shm-hook), in the
# key=value form admins grep, errors at LOG_ERR, no-match only at debug level,
# and no input able to forge a line. A small listener stands in for the
# syslog daemon at /dev/log, in a private mount namespace whose /dev is a copy:
# the machine's /dev (and any syslog daemon on it) is not touched.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/engines/private-ns.sh"
# shellcheck disable=SC2034 # read by lib.sh
ID_PREFIX=integ
# shellcheck source=lib.sh
source "$HERE/lib.sh"
need_root
need runc jq busybox python3

LOG=$WORK/syslog.txt
private_dev_log "$LOG"

P=$WORK/policy.conf
cat >"$P" <<'EOF2'
image=selenium/*                    shm=2g
annotation:example.com/shm-size=*   shm=request max=4g
EOF2

# log_for ID: the lines logged about container ID (after a short wait for delivery).
log_for() {
        sleep 0.2
        grep -F "container=$1" "$LOG" || true
}

# A decision: one line, in the documented form, at LOG_INFO of LOG_DAEMON (<30>).
B=$WORK/grow
make_bundle "$B"
set_annotation "$B" io.kubernetes.cri.image-name docker.io/selenium/standalone-chrome:4.10
register_hook "$B" "$P"
id=$(new_id)
out=$(run_runc "$B" "$id")
expect_eq "grown container sees 2 GiB" "$(shm_kb "$out")" 2097152
line=$(log_for "$id")
expect_eq "one line for the decision" "$(grep -c . <<<"$line")" 1
expect_contains "ident, pid and facility/priority" "$line" "<30>"
expect_contains "ident" "$line" "oci-shm-hook["
expect_contains "the documented key=value form" "$line" \
        "container=$id image=docker.io/selenium/standalone-chrome:4.10 rule=$P:1 action=size bytes=2147483648 shm=private-tmpfs before=67108864 after=2147483648 result=grown"

# No match: nothing at the default level, a no-match line at debug level.
B=$WORK/nomatch
make_bundle "$B"
set_annotation "$B" io.kubernetes.cri.image-name docker.io/library/redis:7
register_hook "$B" "$P"
id=$(new_id)
run_runc "$B" "$id" >/dev/null
expect_eq "no line for no match at info level" "$(log_for "$id")" ""
B=$WORK/nomatch-debug
make_bundle "$B"
set_annotation "$B" io.kubernetes.cri.image-name docker.io/library/redis:7
register_hook "$B" "$P" prestart --log-level debug
id=$(new_id)
run_runc "$B" "$id" >/dev/null
expect_contains "debug level logs no-match" "$(log_for "$id")" "result=no-match"

# A refusal: LOG_ERR (<27>), the annotation named, and a newline in the value
# cannot start a forged line of its own.
B=$WORK/refuse
make_bundle "$B"
set_annotation "$B" example.com/shm-size $'2g\ncontainer=forged result=grown'
register_hook "$B" "$P"
id=$(new_id)
rc=0
out=$(run_runc "$B" "$id") || rc=$?
expect_ne "the container is refused" "$rc" 0
line=$(log_for "$id")
expect_contains "the error is logged at LOG_ERR" "$line" "<27>"
expect_contains "the error names the annotation" "$line" "annotation 'example.com/shm-size'"
expect_contains "a refusal is a decision line too" "$line" "result=failed error=\"annotation 'example.com/shm-size'"
if grep -q "^[^<]*container=forged" "$LOG" || grep -q "^<[0-9]*>.*: container=forged" "$LOG"; then
        fail "a value forged a log line: $(grep forged "$LOG")"
else
        pass "no forged line"
fi
expect_contains "runc's message shows the newline replaced" "$out" "'2g?container=forged result=grown'"

# An image name that is not a reference: logged quoted, never as fields of its own.
B=$WORK/badref
make_bundle "$B"
set_annotation "$B" io.kubernetes.cri.image-name "x result=grown bytes=1"
printf 'shm=1g\n' >"$WORK/all.conf"
register_hook "$B" "$WORK/all.conf"
id=$(new_id)
run_runc "$B" "$id" >/dev/null
line=$(log_for "$id")
expect_contains "the bad reference is quoted" "$line" 'image=invalid reference="x result=grown bytes=1"'
expect_contains "the decision names no image" "$line" "container=$id image=invalid rule="
expect_eq "no forged field bytes=1 outside quotes" \
        "$(sed 's/"[^"]*"//g' <<<"$line" | grep -cE ' bytes=1( |$)' || true)" 0

finish
