#!/bin/bash
# Where the policy comes from, on real runc and crun containers: a policy.d
# style directory read in lexical order (only *.conf), and
# OCI_SHM_HOOK_POLICY in the hook entry's env (a file or a directory), which
# --policy overrides; a BOM, IEC units and dangling symlinks in a policy dir.
set -euo pipefail
# shellcheck disable=SC2034 # read by lib.sh
ID_PREFIX=integ
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
need_root
need runc crun jq busybox unshare

ENGINES=(runc crun)
make_bundle "$WORK/template" "$SHOW_SHM"

# bundle NAME IMAGE: a fresh copy of the template tagged IMAGE; sets B.
bundle() {
        B="$WORK/$1"
        cp -a "$WORK/template" "$B"
        set_annotation "$B" io.kubernetes.cri.image-name "$2"
}

expect_kb() {
        local what=$1 b=$2 kb=$3 engine
        for engine in "${ENGINES[@]}"; do
                run_in "$engine" "$b"
                if [ "$RC" != 0 ]; then
                        fail "$engine: $what: the container failed ($RC): $OUT"
                        continue
                fi
                expect_eq "$engine: $what" "$(shm_kb "$OUT")" "$kb"
        done
}

# hook_with_env BUNDLE POLICY [ARGS...]: a hook entry that names its policy
# only through env, as hooks.d files and base specs do.
hook_with_env() {
        local b=$1 policy=$2 extra
        shift 2
        extra=$(printf '%s\n' "$@" | jq -R . | jq -sc 'map(select(. != ""))')
        add_hook "$b" prestart "$(jq -cn --arg hook "$HOOK" --arg env "OCI_SHM_HOOK_POLICY=$policy" \
                --argjson extra "$extra" '{path: $hook, args: (["oci-shm-hook"] + $extra + ["prestart"]),
                         env: ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", $env], timeout: 10}')"
}

# --- a directory: *.conf in lexical order ("10-" before "20-" before "9-") ---
D="$WORK/policy.d"
mkdir -p "$D"
printf 'image=redis shm=3g\n' >"$D/9-late.conf"
printf 'image=* shm=1g\n' >"$D/20-catchall.conf"
printf 'image=selenium/* shm=2g\n' >"$D/10-selenium.conf"
printf 'image=* shm=4g\n' >"$D/05-disabled.conf.off"
printf 'this is not a policy\n' >"$D/README"
mkdir "$D/00-subdir.conf.d"

bundle dir-selenium docker.io/selenium/standalone-chrome:4.10
register_hook "$B" "$D"
expect_kb "policy dir: 10-selenium.conf wins over 20-catchall.conf" "$B" 2097152

bundle dir-redis docker.io/library/redis:7
register_hook "$B" "$D"
expect_kb "policy dir: 20-catchall.conf comes before 9-late.conf (lexical)" "$B" 1048576

# Trailing slash, and an empty directory (empty policy: nothing changes).
bundle dir-slash docker.io/selenium/standalone-chrome:4.10
register_hook "$B" "$D/"
expect_kb "policy dir with a trailing slash" "$B" 2097152
mkdir "$WORK/empty.d"
bundle dir-empty docker.io/selenium/standalone-chrome:4.10
register_hook "$B" "$WORK/empty.d" prestart --on-policy-error=fail
expect_kb "an empty policy dir changes nothing" "$B" 65536

# --- OCI_SHM_HOOK_POLICY in the hook entry's env ---
printf 'image=selenium/* shm=3g\n' >"$WORK/env.conf"
bundle env-file docker.io/selenium/standalone-chrome:4.10
hook_with_env "$B" "$WORK/env.conf"
expect_eq "the env hook entry has no --policy" \
        "$(jq '.hooks.prestart[0].args | index("--policy")' "$B/config.json")" null
expect_kb "OCI_SHM_HOOK_POLICY=FILE" "$B" 3145728

bundle env-dir docker.io/library/redis:7
hook_with_env "$B" "$D"
expect_kb "OCI_SHM_HOOK_POLICY=DIR" "$B" 1048576

printf 'image=selenium/* shm=1536m\n' >"$WORK/arg.conf"
bundle env-and-arg docker.io/selenium/standalone-chrome:4.10
hook_with_env "$B" "$WORK/env.conf" --policy "$WORK/arg.conf"
expect_kb "--policy overrides OCI_SHM_HOOK_POLICY" "$B" 1572864

# --- issue 9: a BOM, IEC units, and a dangling policy.d/*.conf symlink ---
printf '\xef\xbb\xbfimage=selenium/* shm=1536MiB\n' >"$WORK/bom.conf"
bundle bom docker.io/selenium/standalone-chrome:4.10
register_hook "$B" "$WORK/bom.conf" prestart --on-policy-error=fail
expect_kb "a policy with a UTF-8 BOM and shm=1536MiB" "$B" 1572864

DD="$WORK/dangling.d"
mkdir -p "$DD"
printf 'image=selenium/* shm=2GiB\n' >"$DD/10-selenium.conf"
ln -s "$WORK/nowhere.conf" "$DD/20-gone.conf"
RC=0
OUT=$("$HOOK" check --policy "$DD" 2>&1) || RC=$?
expect_eq "check: a dangling symlink in a policy dir exits 1" "$RC" 1
expect_contains "check: names the dangling symlink" "$OUT" \
        "$DD/20-gone.conf: cannot open: a symbolic link to a file that does not exist"
bundle dangling docker.io/selenium/standalone-chrome:4.10
register_hook "$B" "$DD"
expect_kb "a dangling symlink makes the policy invalid: /dev/shm unchanged" "$B" 65536
bundle dangling-fail docker.io/selenium/standalone-chrome:4.10
register_hook "$B" "$DD" prestart --on-policy-error=fail
for engine in "${ENGINES[@]}"; do
        run_in "$engine" "$B"
        expect_ne "$engine: a dangling symlink refuses under --on-policy-error=fail" "$RC" 0
done
printf 'image=* shm=1g\n' >"$WORK/nowhere.conf"
bundle dangling-fixed docker.io/selenium/standalone-chrome:4.10
register_hook "$B" "$DD" prestart --on-policy-error=fail
expect_kb "once the link leads somewhere, 10-selenium.conf (2GiB) applies" "$B" 2097152

finish
