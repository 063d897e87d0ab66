#!/bin/bash
# The bad-input table: every hostile or broken input the hook can get, fed to
# the hook binary the way a runtime does (state on stdin, <bundle>/config.json,
# the policy file), each with its expected exit status and a substring of its
# message. Prints the table with the results.
#
# The pid checks need real processes. The hook requires the container's pid to
# be a child of its own parent (the runtime), so "containers" here are started
# by this shell, which also runs the hook: a sibling in a private mount
# namespace (unshare -m) stands in for a container's init.
set -euo pipefail
ID_PREFIX=security
source "$(dirname "$0")/../integration/lib.sh"
need_root
need jq busybox unshare runc

make_bundle "$WORK/b"
B=$WORK/b
BAD=$WORK/bad
mkdir -p "$BAD"

# A stand-in container: a sibling process in its own mount namespace.
unshare -m --propagation private sleep 600 &
TARGET=$!
add_cleanup "kill $TARGET"
# A sibling in the hook's own mount namespace.
sleep 600 &
SAME_NS=$!
add_cleanup "kill $SAME_NS"
# A process that is not a child of this shell (its parent exits at once).
( setsid sleep 600 >/dev/null 2>&1 & echo $! >"$WORK/orphan.pid" )
ORPHAN=$(cat "$WORK/orphan.pid")
add_cleanup "kill $ORPHAN"
# A pid that has exited.
true &
EXITED=$!
wait "$EXITED" || true
for _ in $(seq 50); do [ "$(readlink "/proc/$TARGET/ns/mnt")" != "$(readlink /proc/self/ns/mnt)" ] && break; sleep 0.1; done

policy() { printf '%s\n' "$2" >"$WORK/$1.conf"; }
policy all 'shm=128m'
policy request 'annotation:example.com/shm=* shm=request max=1g'

state() { # state PID [BUNDLE]: a runc-like state
        jq -cn --arg b "${2:-$B}" --argjson pid "$1" \
                '{ociVersion: "1.0.2-dev", id: "security-bad-input", status: "creating", pid: $pid, bundle: $b}'
}

ROWS=()
# case NAME EXPECTED_RC NEEDLE STATE_FILE [HOOK ARGS...]: run the hook, check.
# Without HOOK ARGS the policy is all.conf. NEEDLE "" checks the status only.
case_() {
        local name=$1 want=$2 needle=$3 input=$4
        shift 4
        [ $# -gt 0 ] || set -- --policy "$WORK/all.conf"
        local rc=0 out verdict=PASS
        # Not in $(...): the hook must be a child of this shell, like the targets.
        "$HOOK" "$@" prestart <"$input" >"$WORK/hook.out" 2>&1 || rc=$?
        out=$(cat "$WORK/hook.out")
        if [ "$rc" != "$want" ]; then
                verdict=FAIL
                fail "$name: exit $rc, expected $want: $out"
        elif [ -n "$needle" ] && ! grep -qF -- "$needle" <<<"$out"; then
                verdict=FAIL
                fail "$name: message lacks '$needle': $out"
        else
                pass "$name: exit $rc"
        fi
        local msg
        msg=$(head -n1 <<<"$out" | sed 's/^oci-shm-hook: //')
        msg=${msg//$WORK/\$WORK}
        ROWS+=("$(printf '%-4s %-40s %4s %4s  %s' "$verdict" "$name" "$want" "$rc" "${msg:0:120}")")
}

# file NAME CONTENT...: write raw bytes (printf format) to $BAD/NAME, print the path.
file() {
        local f=$BAD/$1
        shift
        printf "$@" >"$f"
        echo "$f"
}

GOOD=$(state "$TARGET")

# ---- the state on stdin ----
case_ "state: empty" 1 "the container state on stdin is empty" "$(file empty '')"
case_ "state: truncated" 1 "is not valid JSON" "$(file truncated '%s' "${GOOD:0:40}")"
case_ "state: trailing garbage" 1 "is not valid JSON" "$(file trailing '%sgarbage' "$GOOD")"
case_ "state: two documents" 1 "is not valid JSON" "$(file two '%s\n%s' "$GOOD" "$GOOD")"
case_ "state: 10000 nested [, not an object" 1 "'the container state' is not an object" "$(file deep '%s' "$(printf '%*s' 10000 '' | tr ' ' '[')")"
# Odd input the hook does not read never refuses a container (SPEC: failure behaviour).
deep_unread=$(state "$TARGET" | sed "s/}\$/,\"deep\":$(printf '%*s' 10000 '' | tr ' ' '[')$(printf '%*s' 10000 '' | tr ' ' ']')}/")
case_ "state: 10000 nested [] in an unread member" 0 "" "$(file deep-unread '%s' "$deep_unread")"
case_ "state: nested objects in a string" 0 "" "$(file brackets-in-string '%s' "$(state "$TARGET" | jq -c --arg s "$(printf '%*s' 10000 '' | tr ' ' '[')" '.annotations = {x: $s}')")"
head -c $((5 << 20)) /dev/zero | tr '\0' 'x' >"$BAD/huge.pad"
{ printf '{"id":"x","pid":%d,"bundle":"%s","annotations":{"a":"' "$TARGET" "$B"; cat "$BAD/huge.pad"; printf '"}}'; } >"$BAD/huge"
case_ "state: 5 MiB of annotations" 0 "" "$BAD/huge"
# Past the bound (64 MiB; sparse, so it costs no disk) it is refused.
{ printf '{"id":"x","pid":%d,"bundle":"%s","annotations":{"a":"' "$TARGET" "$B"; head -c $((65 << 20)) /dev/zero | tr '\0' x; printf '"}}'; } >"$BAD/huge65"
case_ "state: 65 MiB" 1 "larger than 67108864 bytes" "$BAD/huge65"
case_ "state: Pid, a case variant runc reads as pid" 1 "has key 'Pid'" "$(file case-pid '{"id":"x","pid":%d,"Pid":%d,"bundle":"%s"}' "$TARGET" "$SAME_NS" "$B")"
# With no rule in the policy the hook exits 0 at once, whatever the input.
printf '# no rule\n' >"$WORK/none.conf"
case_ "state: garbage, no rule in the policy" 0 "" "$(file garbage-no-rule 'not json at all')" --policy "$WORK/none.conf"
case_ "state: duplicate key" 1 "has key 'pid' twice" "$(file dup '{"id":"x","pid":%d,"pid":%d,"bundle":"%s"}' "$TARGET" "$SAME_NS" "$B")"
case_ "state: raw NUL byte" 1 "contains a NUL byte" "$(file nul '{"id":"x\0y","pid":%d,"bundle":"%s"}' "$TARGET" "$B")"
case_ "state: \\u0000 in a string" 1 "NUL character" "$(file nul-escape '{"id":"x","pid":%d,"bundle":"%s\\u0000/x"}' "$TARGET" "$B")"
# Strings are bytes, as Go's decoder takes them: a path with invalid UTF-8 is just a path.
case_ "state: invalid UTF-8 in the bundle" 1 "cannot open bundle" "$(file utf8 '{"id":"x","pid":%d,"bundle":"%s\xff\xfe"}' "$TARGET" "$B")"
case_ "state: no pid" 1 "has no 'pid'" "$(file no-pid '{"id":"x","bundle":"%s"}' "$B")"
case_ "state: pid null" 1 "has no 'pid'" "$(file null-pid '{"id":"x","pid":null,"bundle":"%s"}' "$B")"
case_ "state: no bundle" 1 "has no 'bundle'" "$(file no-bundle '{"id":"x","pid":%d}' "$TARGET")"
case_ "state: bundle null" 1 "has no 'bundle'" "$(file null-bundle '{"id":"x","pid":%d,"bundle":null}' "$TARGET")"
case_ "state: no id" 1 "has no 'id'" "$(file no-id '{"pid":%d,"bundle":"%s"}' "$TARGET" "$B")"
case_ "state: id ../../etc" 1 "invalid id '../../etc'" "$(file id-dots '{"id":"../../etc","pid":%d,"bundle":"%s"}' "$TARGET" "$B")"
case_ "state: pid as string" 1 "'state.pid' is not an integer" "$(file pid-string '{"id":"x","pid":"%d","bundle":"%s"}' "$TARGET" "$B")"
case_ "state: pid float" 1 "'state.pid' is not an integer" "$(file pid-float '{"id":"x","pid":%d.5,"bundle":"%s"}' "$TARGET" "$B")"
case_ "state: pid 1e3" 1 "'state.pid' is not an integer" "$(file pid-exp '{"id":"x","pid":1e3,"bundle":"%s"}' "$B")"
case_ "state: pid negative" 1 "invalid pid -5" "$(file pid-neg '{"id":"x","pid":-5,"bundle":"%s"}' "$B")"
case_ "state: pid 0" 1 "invalid pid 0" "$(file pid-0 '{"id":"x","pid":0,"bundle":"%s"}' "$B")"
case_ "state: pid 1" 1 "invalid pid 1" "$(file pid-1 '{"id":"x","pid":1,"bundle":"%s"}' "$B")"
case_ "state: pid 2^63" 1 "invalid pid: out of range" "$(file pid-huge '{"id":"x","pid":9223372036854775808,"bundle":"%s"}' "$B")"
case_ "state: pid above PID_MAX_LIMIT" 1 "invalid pid 4194305" "$(file pid-max '{"id":"x","pid":4194305,"bundle":"%s"}' "$B")"
PID_MAX=$(cat /proc/sys/kernel/pid_max)
if [ "$PID_MAX" -lt 4194304 ]; then
        case_ "state: pid above pid_max" 1 "does not exist" "$(file pid-max-sys '%s' "$(state $((PID_MAX + 1)))")"
fi
case_ "state: pid of an exited process" 1 "container process $EXITED does not exist" "$(file exited '%s' "$(state "$EXITED")")"
case_ "state: pid not a child of the runtime" 1 "is not a child of the runtime" "$(file orphan '%s' "$(state "$ORPHAN")")"
case_ "state: pid in the hook's mount ns" 1 "shares the hook's mount namespace" "$(file same-ns '%s' "$(state "$SAME_NS")")"
case_ "state: pid of the hook's parent" 1 "is the hook or its runtime" "$(file parent '%s' "$(state $$)")"
# The hook's own pid: a shell that execs the hook, with its own pid in the state.
self_rc=0
self_out=$(bash -c 'exec "$0" --policy "$1" prestart < <(printf "{\"id\":\"x\",\"pid\":%d,\"bundle\":\"%s\"}" $$ "$2")' \
        "$HOOK" "$WORK/all.conf" "$B" 2>&1) || self_rc=$?
printf '%s\n' "$self_out" >"$BAD/self.out"
if [ "$self_rc" = 1 ] && grep -qF "is the hook or its runtime" <<<"$self_out"; then
        pass "state: the hook's own pid"
        ROWS+=("$(printf '%-4s %-40s %4s %4s  %s' PASS "state: the hook's own pid" 1 "$self_rc" "$(sed 's/^oci-shm-hook: //' <<<"$self_out" | head -n1)")")
else
        fail "state: the hook's own pid: exit $self_rc: $self_out"
        ROWS+=("$(printf '%-4s %-40s %4s %4s  %s' FAIL "state: the hook's own pid" 1 "$self_rc" "$self_out")")
fi
case_ "state: relative bundle" 1 "is not an absolute path" "$(file rel-bundle '%s' "$(state "$TARGET" "${B#/}")")"
case_ "state: missing bundle" 1 "cannot open bundle" "$(file missing-bundle '%s' "$(state "$TARGET" "$WORK/nope")")"
case_ "state: valid (control)" 0 "" "$(file good '%s' "$GOOD")"
# The control really acted, in the target's namespace only.
expect_contains "control: a 128 MiB tmpfs at <root>/dev/shm in the target's mount namespace" \
        "$(awk -v p="$B/rootfs/dev/shm" '$5 == p' "/proc/$TARGET/mountinfo")" "size=131072k"
expect_eq "control: nothing mounted at <root>/dev/shm on the host" \
        "$(awk -v p="$B/rootfs/dev/shm" '$5 == p' /proc/self/mountinfo)" ""

# ---- config.json ----
# cfg NAME JQ-FILTER: a bundle whose config.json is the template's, edited.
cfg() {
        local d=$WORK/cfg-$1
        mkdir -p "$d"
        ln -sfn "$B/rootfs" "$d/rootfs"
        jq "$2" "$B/config.json" >"$d/config.json"
        state "$TARGET" "$d" >"$BAD/state-$1"
        echo "$BAD/state-$1"
}
case_ "config: root.path ../../etc" 1 "leaves the bundle through '..'" "$(cfg escape '.root.path = "../../etc"')"
case_ "config: root.path rootfs/../../x" 1 "leaves the bundle through '..'" "$(cfg escape2 '.root.path = "rootfs/../../x"')"
case_ "config: no root.path" 1 "has no 'root.path'" "$(cfg no-root 'del(.root.path)')"
case_ "config: root.path null" 1 "has no 'root.path'" "$(cfg null-root '.root.path = null')"
case_ "config: root.path a number" 1 "'config.root.path' is not a string" "$(cfg num-root '.root.path = 7')"
p=$(cfg dup-ann '.annotations = {}')
sed -i 's/"annotations": {}/"annotations": {"a": "1", "a": "2"}/' "$WORK/cfg-dup-ann/config.json"
case_ "config: duplicate annotation no rule reads" 0 "" "$p"
p=$(cfg dup-ann-read '.annotations = {}')
sed -i 's/"annotations": {}/"annotations": {"example.com\/shm": "1g", "example.com\/shm": "2g"}/' "$WORK/cfg-dup-ann-read/config.json"
case_ "config: duplicate annotation a rule reads" 1 "has key 'example.com/shm' twice" "$p" --policy "$WORK/request.conf"
case_ "config: annotation not a string" 1 "value of key 'a' is not a string" "$(cfg ann-num '.annotations = {a: 1}')"
case_ "config: 4097 annotations" 0 "" "$(cfg many-ann '.annotations = ([range(4097)] | map({key: "k\(.)", value: "v"}) | from_entries)')"
case_ "config: NUL in an annotation no rule reads" 0 "" "$(cfg nul-unread '.annotations = {a: "x\u0000y"}')"
case_ "config: NUL in an annotation a rule reads" 1 "annotation 'example.com/shm' contains a NUL character" \
        "$(cfg nul-read '.annotations = {"example.com/shm": "1g\u0000"}')" --policy "$WORK/request.conf"
case_ "config: Mounts, a case variant" 1 "has key 'Mounts'" "$(cfg case-mounts '.Mounts = []')"
case_ "config: Destination beside destination" 1 "has key 'Destination'" "$(cfg case-dest '.mounts[0].Destination = "/dev/shm"')"
p=$(cfg dup-dest '.mounts[0].x = 1')
sed -i '0,/"x": 1/s//"destination": "\/dev\/shm"/' "$WORK/cfg-dup-dest/config.json"
case_ "config: destination twice" 1 "has key 'destination' twice" "$p"
case_ "config: memory.limit 1e400" 1 "'config.linux.resources.memory.limit' is not an integer" "$(cfg mem-float '.linux.resources.memory.limit = 1e400')"
case_ "config: 1e400 where no one reads" 0 "" "$(cfg float-unread '.process.x = 1e400')"
p=$(cfg deep '.')
printf '{"x":%s' "$(printf '%*s' 10000 '' | tr ' ' '[')" >"$WORK/cfg-deep/config.json"
case_ "config: 10000 nested [, cut short" 1 "config.json is not valid JSON" "$p"
p=$(cfg deep-closed '.')
jq -c . "$B/config.json" | sed "s/}\$/,\"x\":$(printf '%*s' 10000 '' | tr ' ' '[')$(printf '%*s' 10000 '' | tr ' ' ']')}/" >"$WORK/cfg-deep-closed/config.json"
case_ "config: 10000 nested [] no one reads" 0 "" "$p"
p=$(cfg huge '.')
{ printf '{"root":{"path":"rootfs"},"x":"'; cat "$BAD/huge.pad"; printf '"}'; } >"$WORK/cfg-huge/config.json"
case_ "config: 5 MiB" 0 "" "$p"
p=$(cfg huge65 '.')
{ printf '{"root":{"path":"rootfs"},"x":"'; head -c $((65 << 20)) /dev/zero | tr '\0' x; printf '"}'; } >"$WORK/cfg-huge65/config.json"
case_ "config: 65 MiB" 1 "larger than 67108864 bytes" "$p"
p=$(cfg trailing '.')
echo '{}' >>"$WORK/cfg-trailing/config.json"
case_ "config: two documents" 1 "config.json is not valid JSON" "$p"
p=$(cfg link '.')
mv "$WORK/cfg-link/config.json" "$WORK/cfg-link/real.json"
ln -s real.json "$WORK/cfg-link/config.json"
case_ "config: a symlink" 1 "'config.json' is a symbolic link" "$p"
p=$(cfg fifo '.')
rm "$WORK/cfg-fifo/config.json"
mkfifo "$WORK/cfg-fifo/config.json"
case_ "config: a FIFO" 1 "'config.json' is not a regular file" "$p"
p=$(cfg missing '.')
rm "$WORK/cfg-missing/config.json"
case_ "config: missing" 1 "cannot open 'config.json'" "$p"
case_ "config: valid (control)" 0 "" "$(cfg ok '.')"

# ---- the policy: broken policies leave the container unchanged (exit 0) ----
bad_policy() { # bad_policy NAME TEXT NEEDLE
        policy "$1" "$2"
        case_ "policy: $1" 0 "$3" "$BAD/good" --policy "$WORK/$1.conf"
}
bad_policy unknown-key 'image=* colour=blue shm=1g' "$WORK/unknown-key.conf:1: unknown key 'colour'"
bad_policy bad-glob 'image=[abc shm=1g' "$WORK/bad-glob.conf:1: pattern '[abc' has a '[' without a closing ']'"
bad_policy two-actions 'image=* shm=1g shm=2g' "exactly one shm= action"
bad_policy no-action 'image=postgres*' "rule has no shm= action"
bad_policy size-zero 'shm=0' "size '0' is zero"
bad_policy size-negative 'shm=-1' "invalid size '-1'"
bad_policy size-exponent 'shm=1e9' "invalid size '1e9'"
bad_policy size-hex 'shm=0x10' "invalid size '0x10'"
bad_policy size-fraction 'shm=1.5g' "invalid size '1.5g'"
bad_policy size-overflow 'shm=17179869184g' "is too large"
bad_policy percent-101 'shm=101%' "invalid percentage '101%'"
bad_policy not-key-value 'shm' "'shm' is not a key=value token"
printf 'shm=1g\0\n' >"$WORK/nul.conf"
case_ "policy: NUL byte" 0 "contains a NUL byte" "$BAD/good" --policy "$WORK/nul.conf"
case_ "policy: missing file" 0 "cannot open" "$BAD/good" --policy "$WORK/nope.conf"
case_ "policy: fail mode" 1 "refusing the container (--on-policy-error=fail)" "$BAD/good" \
        --policy "$WORK/two-actions.conf" --on-policy-error=fail

# ---- shm=request annotations ----
request() { # request VALUE RC NEEDLE
        local d=$WORK/req-$RANDOM$RANDOM
        mkdir -p "$d"
        ln -sfn "$B/rootfs" "$d/rootfs"
        jq --arg v "$1" '.annotations["example.com/shm"] = $v' "$B/config.json" >"$d/config.json"
        state "$TARGET" "$d" >"$d/state"
        case_ "request: $(printf %q "$1")" "$2" "$3" "$d/state" --policy "$WORK/request.conf"
}
for v in 0 -1 1e 0x10 '2g; rm -rf /' '' ' 2g' 2.5g 1e9 '2g ' 99999999999999999999 '$(reboot)'; do
        request "$v" 1 "annotation 'example.com/shm'"
done
# A value that tries to forge a line of its own in runc's error output.
request $'1g\nforged: ok' 1 "annotation 'example.com/shm'"
expect_not_contains "request: a newline in the value cannot start a line of its own" \
        "$(cut -c1-6 "$WORK/hook.out")" "forged"
request 512m 0 ""
request 8g 0 "clamped to the rule's max="

# ---- the same with real runc: a broken policy leaves /dev/shm as runc made it;
# an invalid request stops the container with the annotation named ----
cp -a "$B" "$WORK/runc-broken"
register_hook "$WORK/runc-broken" "$WORK/two-actions.conf"
run_in runc "$WORK/runc-broken"
expect_eq "runc: broken policy: the container runs" "$RC" 0
expect_eq "runc: broken policy: /dev/shm unchanged (runc's 64 MiB)" "$(shm_kb "$OUT")" 65536
cp -a "$B" "$WORK/runc-request"
set_annotation "$WORK/runc-request" example.com/shm '2g; rm -rf /'
register_hook "$WORK/runc-request" "$WORK/request.conf"
run_in runc "$WORK/runc-request"
expect_ne "runc: invalid request: the container is refused" "$RC" 0
expect_contains "runc: invalid request: the annotation is named" "$OUT" "annotation 'example.com/shm'"

echo
printf '%-4s %-40s %4s %4s  %s\n' "" "input" "want" "got" "message"
printf '%s\n' "${ROWS[@]}"
finish
