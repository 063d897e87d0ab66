#!/bin/bash
# oci-shm-runtime's argument handling and config.json edit, without an engine:
# a fake "real runtime" records the arguments it was given.
# ctest-labels: engines
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
source "$HERE/engines/common.sh"
need jq cmp
need_shim

FAKE=$WORK/fake-runtime
ARGV=$WORK/argv
printf '#!/bin/sh\nprintf "%%s\\n" "$@" >"%s"\n' "$ARGV" >"$FAKE"
chmod +x "$FAKE"
POLICY=$WORK/policy.conf
engines_policy "$POLICY"
HOOK_BESIDE=$(cd "$(dirname "$SHIM")" && pwd -P)/oci-shm-hook

CONFIG='{"ociVersion":"1.0.2","process":{"args":["sh"],"cwd":"/"},
 "root":{"path":"rootfs"},
 "linux":{"resources":{"memory":{"limit":9223372036854775807,"swap":-1}}},
 "annotations":{"big":"x"},"x-big":123456789012345678901234567890,
 "x-float":1.5e300,"x-negzero":-0.0,"x-frac":0.1000000000000000055511151231257827,
 "x-str":"caf\u00e9 \"q\" \\ \t end","x-null":null,"x-empty":{},"x-arr":[]}'

new_bundle() {
        local dir
        dir=$(mktemp -d "$WORK/bundle.XXXXXX")
        printf '%s\n' "${1:-$CONFIG}" >"$dir/config.json"
        echo "$dir"
}

# shim ARGS...: run the shim with the fake runtime; sets STATUS and ERR.
shim() {
        rm -f "$ARGV"
        STATUS=0
        ERR=$(OCI_SHM_RUNTIME=$FAKE "$SHIM" "$@" 2>&1 >/dev/null) || STATUS=$?
}

# shim_in DIR ARGS...: the same, from directory DIR.
shim_in() {
        local dir=$1
        shift
        rm -f "$ARGV"
        STATUS=0
        ERR=$(cd "$dir" && OCI_SHM_RUNTIME=$FAKE "$SHIM" "$@" 2>&1 >/dev/null) || STATUS=$?
}

hooks_of() {
        jq --arg h "$HOOK_BESIDE" '[.hooks.prestart[]? | select(.path == $h)] | length' "$1/config.json"
}

ran() {
        [ -e "$ARGV" ] && echo ran || echo no
}

same_file() {
        cmp -s "$1" "$2" && echo same || echo different
}

# expect_forwarded WHAT ARGS...: the runtime ran with exactly these arguments.
expect_forwarded() {
        local what=$1
        shift
        if [ -f "$ARGV" ] && [ "$(cat "$ARGV")" = "$(printf '%s\n' "$@")" ]; then
                pass "$what: the runtime got the same arguments"
        else
                fail "$what: the runtime got '$(tr '\n' ' ' <"$ARGV" 2>/dev/null)', expected '$*'"
        fi
}

expect_added() {
        local what=$1 bundle=$2
        expect_eq "$what: exit status" "$STATUS" 0
        expect_eq "$what: one prestart hook in config.json" "$(hooks_of "$bundle")" 1
}

# Every argument form of --bundle that runc (urfave/cli over Go's flag
# package) or crun (argp) accepts and both would read as B.
for form in "--bundle B" "--bundle=B" "-b B" "-bB" "-bundle B" "--b B" "--bund B" "--bu=B"; do
        b=$(new_bundle)
        read -ra args <<<"${form//B/$b}"
        shim create "${args[@]}" --pid-file "$WORK/pid" engines-id
        expect_added "create $form" "$b"
        expect_forwarded "create $form" create "${args[@]}" --pid-file "$WORK/pid" engines-id
done

# No bundle: the current directory, as runc does.
b=$(new_bundle)
shim_in "$b" create engines-id
expect_added "create without --bundle (current directory)" "$b"
expect_forwarded "create without --bundle" create engines-id

# Global options before the command, as Docker and containerd call runc.
b=$(new_bundle)
cwd_bundle=$(new_bundle)
cp "$cwd_bundle/config.json" "$WORK/orig.json"
shim_in "$cwd_bundle" --root "$WORK/root" --log "$WORK/log.json" --log-format json \
        --systemd-cgroup create --bundle "$b" --pid-file "$WORK/pid" engines-id
expect_added "global options, then create --bundle" "$b"
expect_forwarded "global options, then create --bundle" --root "$WORK/root" \
        --log "$WORK/log.json" --log-format json --systemd-cgroup create --bundle "$b" \
        --pid-file "$WORK/pid" engines-id
expect_eq "global options: the current directory's config.json is untouched" \
        "$(same_file "$cwd_bundle/config.json" "$WORK/orig.json")" same

# urfave/cli reorders flags given after the container id.
b=$(new_bundle)
shim --root="$WORK/root" create engines-id --bundle "$b"
expect_added "create ID --bundle B" "$b"

# Commands other than create pass straight through, config.json byte-identical.
b=$(new_bundle)
cp "$b/config.json" "$WORK/orig.json"
for cmd in "start engines-id" "state engines-id" "kill engines-id KILL" \
        "delete --force engines-id" "run --bundle $b engines-id" "features"; do
        read -ra args <<<"$cmd"
        shim_in "$b" --root "$WORK/root" "${args[@]}"
        expect_eq "'${args[0]}': exit status" "$STATUS" 0
        expect_forwarded "'${args[0]}'" --root "$WORK/root" "${args[@]}"
done
expect_eq "other commands: config.json byte-identical" \
        "$(same_file "$b/config.json" "$WORK/orig.json")" same
# A global option's value that reads "create" is not the command.
shim_in "$b" --root create start engines-id
expect_forwarded "'--root create start'" --root create start engines-id
expect_eq "'--root create start': config.json byte-identical" \
        "$(same_file "$b/config.json" "$WORK/orig.json")" same
shim_in "$b" create --help
expect_forwarded "'create --help'" create --help
expect_eq "'create --help': config.json byte-identical" \
        "$(same_file "$b/config.json" "$WORK/orig.json")" same

# Idempotent: a second create leaves the file as it is.
b=$(new_bundle)
shim create --bundle "$b" engines-id
cp "$b/config.json" "$WORK/once.json"
shim create --bundle "$b" engines-id
expect_added "a second create" "$b"
expect_eq "a second create: config.json byte-identical" \
        "$(same_file "$b/config.json" "$WORK/once.json")" same
expect_forwarded "a second create" create --bundle "$b" engines-id

# A hook already registered in another stage (the containerd base spec) is not added again.
b=$(new_bundle "$(jq -c --arg h "$HOOK_BESIDE" \
        '.hooks = {createRuntime: [{path: $h, args: ["oci-shm-hook", "createRuntime"]}]}' \
        <<<"$CONFIG")")
cp "$b/config.json" "$WORK/orig.json"
shim create --bundle "$b" engines-id
expect_eq "hook already in createRuntime: exit status" "$STATUS" 0
expect_eq "hook already in createRuntime: config.json byte-identical" \
        "$(same_file "$b/config.json" "$WORK/orig.json")" same

# Other hooks are kept; ours goes last in prestart.
b=$(new_bundle "$(jq -c '.hooks = {prestart: [{path: "/bin/true"}], poststop: [{path: "/bin/false"}]}' \
        <<<"$CONFIG")")
shim create --bundle "$b" engines-id
expect_eq "existing hooks kept, ours appended" \
        "$(jq -c '[.hooks.prestart[].path, .hooks.poststop[].path]' "$b/config.json")" \
        "[\"/bin/true\",\"$HOOK_BESIDE\",\"/bin/false\"]"
b=$(new_bundle '{"ociVersion":"1.0.2","hooks":null}')
shim create --bundle "$b" engines-id
expect_added "\"hooks\": null" "$b"

# Every other byte is kept exactly as written: the output is the input with
# the entry inserted.
ENTRY="{\"path\":\"$HOOK_BESIDE\",\"args\":[\"oci-shm-hook\",\"prestart\"],\"env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"],\"timeout\":10}"
b=$(new_bundle)
chmod 640 "$b/config.json"
shim create --bundle "$b" engines-id
printf '%s,"hooks":{"prestart":[%s]}}\n' "${CONFIG%\}}" "$ENTRY" >"$WORK/want.json"
expect_eq "the output is the input with the hook inserted, byte for byte" \
        "$(same_file "$b/config.json" "$WORK/want.json")" same
for text in 9223372036854775807 123456789012345678901234567890 1.5e300 -0.0 \
        0.1000000000000000055511151231257827 '"swap":-1' '"x-null":null' '"x-empty":{}' \
        '"x-arr":[]'; do
        expect_contains "kept as written: $text" "$(cat "$b/config.json")" "$text"
done
expect_eq "every field but hooks is unchanged" \
        "$(jq -cS 'del(.hooks)' "$b/config.json")" "$(jq -cS 'del(.hooks)' <<<"$CONFIG")"
expect_eq "the string with escapes is unchanged" "$(jq -r '."x-str"' "$b/config.json")" \
        "$(jq -r '."x-str"' <<<"$CONFIG")"
expect_eq "the hook entry: path, args, env, timeout" \
        "$(jq -c '.hooks.prestart[0] | [.path, .args, .env, .timeout]' "$b/config.json")" \
        "[\"$HOOK_BESIDE\",[\"oci-shm-hook\",\"prestart\"],[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"],10]"
expect_eq "the file mode is kept" "$(stat -c %a "$b/config.json")" 640
expect_eq "no temporary file is left" "$(find "$b" -name '.config.json*' | wc -l)" 0

# OCI_SHM_HOOK_POLICY becomes the hook's --policy; a relative one is refused.
b=$(new_bundle)
OCI_SHM_HOOK_POLICY=$POLICY shim create --bundle "$b" engines-id
expect_eq "OCI_SHM_HOOK_POLICY forwarded as --policy" \
        "$(jq -c '.hooks.prestart[0].args' "$b/config.json")" \
        "[\"oci-shm-hook\",\"--policy\",\"$POLICY\",\"prestart\"]"
b=$(new_bundle)
OCI_SHM_HOOK_POLICY=policy.conf shim create --bundle "$b" engines-id
expect_eq "a relative OCI_SHM_HOOK_POLICY: exit status" "$STATUS" 1
expect_contains "a relative OCI_SHM_HOOK_POLICY: message" "$ERR" "is not an absolute path"
expect_eq "a relative OCI_SHM_HOOK_POLICY: the runtime did not run" "$(ran)" no

# Refused: a symlinked or invalid config.json. One line, exit 1, the runtime never runs.
b=$(new_bundle)
mv "$b/config.json" "$b/real.json"
ln -s real.json "$b/config.json"
cp "$b/real.json" "$WORK/orig.json"
shim --log "$WORK/err.json" --log-format json create --bundle "$b" engines-id
expect_eq "symlinked config.json: exit status" "$STATUS" 1
expect_contains "symlinked config.json: message" "$ERR" \
        "oci-shm-runtime: error: bundle '$b': 'config.json' is a symbolic link"
expect_eq "symlinked config.json: one line on stderr" "$(wc -l <<<"$ERR")" 1
expect_eq "symlinked config.json: the runtime did not run" "$(ran)" no
expect_eq "symlinked config.json: its target is untouched" \
        "$(same_file "$b/real.json" "$WORK/orig.json")" same
expect_eq "symlinked config.json: still a symlink" "$([ -L "$b/config.json" ] && echo yes)" yes
expect_contains "the error is in the runtime's --log too, where containerd's shim reads it" \
        "$(jq -r 'select(.level == "error") | .msg' "$WORK/err.json")" "is a symbolic link"

for bad in '{"ociVersion": "1.0.2",' '[1, 2]' '{"a": 1} {"b": 2}' '{"hooks": [1]}' \
        '{"hooks": {"prestart": {}}}' '{"a": 1, "a": 2}' '{"a": 1 /* c */}'; do
        b=$(new_bundle "$bad")
        shim create --bundle "$b" engines-id
        expect_eq "config.json '$bad': exit status" "$STATUS" 1
        expect_contains "config.json '$bad': message" "$ERR" "oci-shm-runtime: error: bundle '$b'"
        expect_eq "config.json '$bad': the runtime did not run" "$(ran)" no
        expect_eq "config.json '$bad': unchanged" "$(cat "$b/config.json")" "$bad"
done
b=$(new_bundle)
head -c $((5 << 20)) /dev/zero | tr '\0' ' ' >>"$b/config.json"
shim create --bundle "$b" engines-id
expect_eq "a config.json over the size cap: exit status" "$STATUS" 1
expect_contains "a config.json over the size cap: message" "$ERR" "larger than"
expect_eq "a config.json over the size cap: the runtime did not run" "$(ran)" no
shim create --bundle "$WORK/missing" engines-id
expect_eq "a missing bundle: exit status" "$STATUS" 1
expect_eq "a missing bundle: the runtime did not run" "$(ran)" no
shim create engines-id --bundle
expect_eq "create --bundle without a value: exit status" "$STATUS" 1

# Argument lists the shim cannot read as runc or crun would, or that they
# would read as different bundles: refused, the runtime never runs, and the
# current directory's config.json is never the one edited.
cwd_bundle=$(new_bundle)
cp "$cwd_bundle/config.json" "$WORK/orig.json"
b=$(new_bundle)
for form in "create -b=B engines-id" "create -bundle=B engines-id" \
        "create --bundle B --unknown engines-id" "create --co B engines-id" \
        "create --bundle B id1 id2" "create --no-pivot engines-id --bundle B" \
        "create -- --bundle B engines-id" "--bogus create --bundle B engines-id" \
        "--root R create --root R --bundle B engines-id" "create --bundle= engines-id" \
        "create"; do
        read -ra args <<<"${form//B/$b}"
        shim_in "$cwd_bundle" "${args[@]}"
        expect_eq "'$form': exit status" "$STATUS" 1
        expect_contains "'$form': message" "$ERR" "oci-shm-runtime: error: "
        expect_eq "'$form': one line on stderr" "$(wc -l <<<"$ERR")" 1
        expect_eq "'$form': the runtime did not run" "$(ran)" no
        expect_eq "'$form': ./config.json untouched" \
                "$(same_file "$cwd_bundle/config.json" "$WORK/orig.json")" same
        expect_eq "'$form': the named bundle untouched" \
                "$(same_file "$b/config.json" "$WORK/orig.json")" same
done
shim_in "$cwd_bundle" create -b="$b" engines-id
expect_contains "-b=DIR: the message names both readings" "$ERR" \
        "runc: bundle '$b', crun: bundle '=$b'"
shim_in "$cwd_bundle" --log "$WORK/refused.log" --log-format json create --bundle "$b" --x id
expect_contains "a refused argument list is logged to the runtime's --log" \
        "$(jq -r 'select(.level == "error") | .msg' "$WORK/refused.log")" "refusing to guess"

# Hostile config.json text: byte for byte, the input with the entry inserted.
hostile_case() {
        local what=$1 in=$2 want=$3
        b=$(mktemp -d "$WORK/bundle.XXXXXX")
        printf '%s' "$in" >"$b/config.json"
        printf '%s' "$want" >"$WORK/want.json"
        shim create --bundle "$b" engines-id
        expect_eq "$what: exit status" "$STATUS" 0
        expect_eq "$what: byte for byte" "$(same_file "$b/config.json" "$WORK/want.json")" same
}
H='"hooks":{"prestart":['"$ENTRY"']}'
hostile_case "lone surrogates, 1e400, -0" \
        '{"a":"\ud800lone","b":"\ud800\u0041","c":1e400,"d":-0,"e":-0.0E-0}' \
        '{"a":"\ud800lone","b":"\ud800\u0041","c":1e400,"d":-0,"e":-0.0E-0,'"$H"'}'
hostile_case "duplicate nested keys, key order" \
        '{"z":{"k":1,"k":2},"hooks":{"poststop":[{"path":"/x","x":{"k":1,"k":1}}]},"a":0}' \
        '{"z":{"k":1,"k":2},"hooks":{"poststop":[{"path":"/x","x":{"k":1,"k":1}}],"prestart":['"$ENTRY"']},"a":0}'
hostile_case "CRLF and odd white space" \
        $'{\r\n\t"hooks" :\t{ "prestart" : [\r\n {"path":"/bin/true"} \r\n ] }\r\n}\r\n' \
        $'{\r\n\t"hooks" :\t{ "prestart" : [\r\n {"path":"/bin/true"},'"$ENTRY"$' \r\n ] }\r\n}\r\n'
hostile_case "an empty stage array" '{"hooks":{"prestart":[]}}' '{"hooks":{"prestart":['"$ENTRY"']}}'
for key in Hooks HOOKS 'hoo\u212As' 'hook\u017f'; do
        b=$(new_bundle "{\"$key\":{},\"a\":1}")
        cp "$b/config.json" "$WORK/orig.json"
        shim create --bundle "$b" engines-id
        expect_eq "top-level key '$key': exit status" "$STATUS" 1
        expect_contains "top-level key '$key': message" "$ERR" "which runc reads as 'hooks'"
        expect_eq "top-level key '$key': unchanged" "$(same_file "$b/config.json" "$WORK/orig.json")" same
done
for bad in '{"hooks":{},"hooks":{}}' '{"hooks":{"prestart":[],"prestart":[]}}' \
        '{"hooks":{"Prestart":[]}}'; do
        b=$(new_bundle "$bad")
        shim create --bundle "$b" engines-id
        expect_eq "config.json '$bad': exit status" "$STATUS" 1
        expect_contains "config.json '$bad': message names the key" "$ERR" "key '"
        expect_eq "config.json '$bad': the runtime did not run" "$(ran)" no
done
# A 4 MiB config.json (the cap) with CRLF lines.
b=$(mktemp -d "$WORK/bundle.XXXXXX")
{
        printf '{\r\n"x":"'
        head -c $(((4 << 20) - 400)) /dev/zero | tr '\0' 'a'
        printf '",\r\n"hooks":{"prestart":[]}\r\n}\r\n'
} >"$b/config.json"
sed "s|\"prestart\":\[\]|\"prestart\":[$ENTRY]|" "$b/config.json" >"$WORK/want.json"
shim create --bundle "$b" engines-id
expect_eq "a 4 MiB config.json: exit status" "$STATUS" 0
expect_eq "a 4 MiB config.json: byte for byte" "$(same_file "$b/config.json" "$WORK/want.json")" same

# Through real runc: a hostile config.json edited by the shim still starts,
# the hook sizes /dev/shm, and the file is the input with the entry inserted.
if [ "$(id -u)" = 0 ] && command -v runc >/dev/null; then
        b=$WORK/real
        make_bundle "$b"
        set_annotation "$b" io.kubernetes.cri.image-name docker.io/selenium/standalone-chrome:4.10
        # Added as text: jq would re-encode these.
        {
                printf '{"x-lone":"\\ud800lone","x-pair":"\\ud800\\u0041","x-big":1e400,"x-negzero":-0,\r\n'
                tail -n +2 "$b/config.json"
        } >"$WORK/hostile.json"
        mv "$WORK/hostile.json" "$b/config.json"
        cp "$b/config.json" "$WORK/orig.json"
        id=$(new_id)
        STATUS=0
        OCI_SHM_RUNTIME=$(command -v runc) OCI_SHM_HOOK_POLICY=$POLICY "$SHIM" --root /run/runc \
                --log "$WORK/runc.log" --log-format json create -b "$b" "$id" \
                </dev/null >"$WORK/real.out" 2>&1 || STATUS=$?
        expect_eq "real runc: create through the shim" "$STATUS" 0
        runc start "$id" || fail "real runc: start"
        for _ in $(seq 100); do
                [ "$(runc state "$id" 2>/dev/null | jq -r .status)" = stopped ] && break
                sleep 0.1
        done
        runc delete -f "$id" || true
        expect_eq "real runc: the hook sized /dev/shm" "$(shm_kb "$(cat "$WORK/real.out")")" "$KB_2G"
        {
                head -c -3 "$WORK/orig.json"
                printf ',"hooks":{"prestart":[{"path":"%s","args":["oci-shm-hook","--policy","%s","prestart"],"env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"timeout":10}]}\n}\n' \
                        "$HOOK_BESIDE" "$POLICY"
        } >"$WORK/want.json"
        expect_eq "real runc: config.json is the input with the entry inserted" \
                "$(same_file "$b/config.json" "$WORK/want.json")" same
        expect_contains "real runc: the lone surrogate is still escaped" "$(head -n1 "$b/config.json")" \
                '"x-lone":"\ud800lone"'
fi

# The real runtime: OCI_SHM_RUNTIME, else runc in PATH, never the shim itself.
b=$(new_bundle)
STATUS=0
ERR=$(OCI_SHM_RUNTIME=$SHIM "$SHIM" create --bundle "$b" engines-id 2>&1) || STATUS=$?
expect_eq "OCI_SHM_RUNTIME pointing at the shim: exit status" "$STATUS" 1
expect_contains "OCI_SHM_RUNTIME pointing at the shim: message" "$ERR" "itself"
mkdir -p "$WORK/path1" "$WORK/path2"
ln -s "$SHIM" "$WORK/path1/runc"
cp "$FAKE" "$WORK/path2/runc"
rm -f "$ARGV"
STATUS=0
(unset OCI_SHM_RUNTIME; PATH=$WORK/path1:$WORK/path2:/usr/bin:/bin "$WORK/path1/runc" state engines-id) ||
        STATUS=$?
expect_eq "runc in PATH, skipping the shim installed as runc: exit status" "$STATUS" 0
expect_forwarded "runc in PATH" state engines-id
STATUS=0
ERR=$(unset OCI_SHM_RUNTIME; PATH=$WORK/path1 "$WORK/path1/runc" state engines-id 2>&1) || STATUS=$?
expect_eq "no real runc in PATH: exit status" "$STATUS" 1
expect_contains "no real runc in PATH: message" "$ERR" "is not in PATH; set OCI_SHM_RUNTIME"

# The hook is found beside the shim, else at the installed path.
mkdir -p "$WORK/lonely"
cp "$SHIM" "$WORK/lonely/oci-shm-runtime"
b=$(new_bundle)
STATUS=0
ERR=$(OCI_SHM_RUNTIME=$FAKE "$WORK/lonely/oci-shm-runtime" create --bundle "$b" engines-id 2>&1) ||
        STATUS=$?
if [ "$STATUS" = 0 ]; then
        expect_eq "no hook beside the shim: the installed hook is used" \
                "$(jq -r '.hooks.prestart[0].path | endswith("/oci/hooks.d/oci-shm-hook")' "$b/config.json")" true
else
        expect_contains "no hook beside the shim and none installed: message" "$ERR" \
                "oci-shm-hook is neither beside oci-shm-runtime nor at"
fi

# --help and --version.
out=$("$SHIM" --help)
expect_contains "--help names OCI_SHM_RUNTIME" "$out" OCI_SHM_RUNTIME
expect_contains "--help names OCI_SHM_HOOK_POLICY" "$out" OCI_SHM_HOOK_POLICY
rm -f "$ARGV"
out=$(OCI_SHM_RUNTIME=$FAKE "$SHIM" --version)
expect_contains "--version prints the shim's version" "$out" "oci-shm-runtime "
expect_forwarded "--version asks the real runtime too" --version
finish
