#!/bin/bash
# Symlink escapes with real runc. Images whose dev/shm is an absolute symlink
# (to a watched directory outside the root, and to /etc), a relative ../../..
# one, a dangling one, a regular file, and a symlinked dev; config.json mounts
# nothing at /dev/shm, once with runc's /dev tmpfs and once without it (so the
# image's own dev directory is used). A policy that matches everything.
#
# A second prestart hook, registered after ours, copies the container's
# /proc/<pid>/mountinfo. The test proves that no mount exists in the container's
# namespace outside the root that the host does not have too, that nothing was
# mounted on the watched directory or /etc, and that the hook either refused
# with a message naming the path or mounted strictly at <root>/dev/shm.
set -euo pipefail
ID_PREFIX=security
source "$(dirname "$0")/../integration/lib.sh"
need_root
need runc jq busybox

POLICY=$WORK/policy.conf
echo 'shm=256m' >"$POLICY"
OUTSIDE=$WORK/outside # the escape target we watch
mkdir -p "$OUTSIDE"
touch "$OUTSIDE/canary"

# The recorder: the second prestart hook. Writes the container's mountinfo.
cat >"$WORK/record.sh" <<'EOF'
#!/bin/sh
pid=$(sed -n 's/.*"pid":[[:space:]]*\([0-9]*\).*/\1/p')
cat "/proc/$pid/mountinfo" >"$1"
EOF
chmod +x "$WORK/record.sh"

make_bundle "$WORK/template" "$SHOW_SHM; $SHOW_SHM_MOUNT"
# No /dev/shm entry in config.json: the hook has to mount a fresh tmpfs.
jq_edit "$WORK/template/config.json" '.mounts |= map(select(.destination != "/dev/shm"))'

# prepare NAME DEVMODE: a fresh bundle in $B; DEVMODE "tmpfs" keeps runc's /dev
# tmpfs, "image" removes it so the image's own dev directory is the container's /dev.
# The hook runs with --mount-api $API.
prepare() {
        B=$WORK/$1
        rm -rf "$B"
        cp -a "$WORK/template" "$B"
        ROOT=$B/rootfs
        if [ "$2" = image ]; then
                jq_edit "$B/config.json" '.mounts |= map(select(.destination != "/dev"))'
        fi
        register_hook "$B" "$POLICY" prestart --mount-api "$API"
        add_hook "$B" prestart "$(jq -n --arg p "$WORK/record.sh" --arg o "$B/mountinfo" \
                '{path: $p, args: ["record", $o]}')"
}

# Mount points in the container's namespace that lie outside the root and that
# the host does not have: mounts something made out of bounds.
escapes() {
        local mi=$1 root=$2
        awk -v root="$root" 'NR == FNR { host[$5] = 1; next }
                $5 != root && index($5, root "/") != 1 && !($5 in host) { print $5 }' \
                /proc/self/mountinfo "$mi"
}

TABLE=()
# check NAME DEVMODE: run the prepared bundle and assert the outcome.
check() {
        local name="$1 ($2 /dev, $API)" outcome
        local shown="$ROOT/dev/shm"
        run_in runc "$B"
        local mi=$B/mountinfo
        # 1. nothing outside the root, in the container's namespace ...
        if [ -s "$mi" ]; then
                local out
                out=$(escapes "$mi" "$ROOT")
                if [ -n "$out" ]; then
                        fail "$name: mounts outside the root: $out"
                else
                        pass "$name: no mount outside the root in the container's namespace"
                fi
                if awk -v o="$OUTSIDE" '$5 == o || $5 == "/etc" { found = 1 } END { exit !found }' "$mi"; then
                        fail "$name: something is mounted on $OUTSIDE or /etc in the container"
                fi
        elif [ "$RC" = 0 ]; then
                fail "$name: the recording hook did not run"
        fi
        # ... and on the host.
        if awk -v o="$OUTSIDE" '$5 == o { found = 1 } END { exit !found }' /proc/self/mountinfo; then
                fail "$name: $OUTSIDE is a mount point on the host"
                umount -l "$OUTSIDE" || true
        fi
        [ -e "$OUTSIDE/canary" ] || fail "$name: the watched directory was covered or emptied"
        # 2. refused with a message naming the path, or mounted strictly inside.
        if [ "$RC" != 0 ]; then
                if grep -q 'oci-shm-hook: error' <<<"$OUT"; then
                        expect_contains "$name: the refusal names the path" "$OUT" "$shown"
                        expect_contains "$name: the refusal says why" "$OUT" "refusing"
                        outcome=$(grep -o "'$shown'[^\"\\]*" <<<"$OUT" | head -n1)
                        outcome="hook refused: ${outcome//$ROOT/<root>}"
                else
                        outcome="runc refused: $(grep -o 'msg="[^"]*' <<<"$OUT" | head -n1 | cut -c6-120)"
                        pass "$name: runc itself refused before our hook ran"
                fi
        else
                local kb
                kb=$(shm_kb "$OUT")
                expect_eq "$name: the container's /dev/shm is the hook's 256 MiB" "$kb" 262144
                if [ -s "$mi" ] && awk -v p="$shown" '$5 == p && $0 ~ / - tmpfs shm / { found = 1 } END { exit !found }' "$mi"; then
                        pass "$name: the tmpfs is at $shown"
                else
                        fail "$name: no hook tmpfs at $shown"
                fi
                outcome="mounted inside: /dev/shm = ${kb} KiB"
        fi
        TABLE+=("$(printf '%-58s %s' "$name" "${outcome:0:110}")")
}

for API in auto legacy; do
for devmode in tmpfs image; do
        prepare abs-outside-$devmode $devmode
        rm -rf "$ROOT/dev/shm"
        ln -s "$OUTSIDE" "$ROOT/dev/shm"
        check "dev/shm -> \$OUTSIDE (abs)" $devmode

        prepare abs-etc-$devmode $devmode
        ln -s /etc "$ROOT/dev/shm"
        check "dev/shm -> /etc" $devmode

        prepare relative-$devmode $devmode
        # From <root>/dev: ../../.. climbs above the root, to $WORK, then outside.
        ln -s ../../../outside "$ROOT/dev/shm"
        check "dev/shm -> ../../../outside" $devmode

        prepare dangling-$devmode $devmode
        ln -s /nonexistent-oci-shm-target "$ROOT/dev/shm"
        check "dev/shm -> /nonexistent (dangling)" $devmode

        prepare file-$devmode $devmode
        echo not-a-directory >"$ROOT/dev/shm"
        check "dev/shm is a regular file" $devmode

        prepare dev-link-$devmode $devmode
        rm -rf "$WORK/outside-dev-$devmode"
        mkdir -p "$WORK/outside-dev-$devmode"
        rmdir "$ROOT/dev"
        ln -s "$WORK/outside-dev-$devmode" "$ROOT/dev"
        check "dev -> \$WORK/outside-dev (abs)" $devmode
        # The directory outside must not have gained a mount or a shm directory from us.
        if awk -v o="$WORK/outside-dev-$devmode" 'index($5, o) == 1 { found = 1 } END { exit !found }' \
                /proc/self/mountinfo "$B/mountinfo" 2>/dev/null; then
                fail "dev -> outside ($devmode): a mount appeared in $WORK/outside-dev-$devmode"
        fi
        [ ! -e "$WORK/outside-dev-$devmode/shm" ] ||
                fail "dev -> outside ($devmode): shm was created in the directory outside the root"

        prepare dev-link-rel-$devmode $devmode
        rmdir "$ROOT/dev"
        ln -s ../../outside "$ROOT/dev"
        check "dev -> ../../outside (relative)" $devmode
done
done

echo
echo "OUTSIDE=\$WORK/outside; symlink cases (runc $(runc --version | awk 'NR == 1 {print $3}')):"
printf '  %s\n' "${TABLE[@]}"
finish
