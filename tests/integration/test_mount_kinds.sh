#!/bin/bash
# What is at /dev/shm decides what the hook does, on runc and crun:
# no /dev/shm entry gets a fresh tmpfs (new mount API and the legacy
# fallback, with and without a dev/shm directory in the root file system),
# shm=host binds the host's /dev/shm and leaves the host's size alone.
set -euo pipefail
# shellcheck disable=SC2034 # read by lib.sh
ID_PREFIX=integ
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
need_root
need runc crun jq busybox unshare findmnt

ENGINES=(runc crun)
SELENIUM=docker.io/selenium/standalone-chrome:4.10
SHOW_MODE='echo SHM_MODE=$(stat -c %a /dev/shm)'
make_bundle "$WORK/template" "$SHOW_SHM; $SHOW_SHM_MOUNT; $SHOW_MODE"
set_annotation "$WORK/template" io.kubernetes.cri.image-name "$SELENIUM"
printf 'image=selenium/* shm=2g\n' >"$WORK/selenium.conf"
printf 'image=selenium/* shm=host\n' >"$WORK/host.conf"
printf 'image=redis shm=2g\n' >"$WORK/redis.conf"

# bundle NAME: a fresh copy of the template; sets B to its path.
bundle() {
        B="$WORK/$1"
        cp -a "$WORK/template" "$B"
}

drop_shm_entry() {
        jq_edit "$1/config.json" '.mounts |= map(select(.destination != "/dev/shm"))'
}

# expect_fresh_tmpfs ENGINE WHAT: OUT shows a 2 GiB tmpfs with the usual flags.
expect_fresh_tmpfs() {
        local engine=$1 what=$2 opts fstype flag
        expect_eq "$engine: $what: exit" "$RC" 0
        expect_eq "$engine: $what: size" "$(shm_kb "$OUT")" 2097152
        read -r opts fstype _ <<<"$(shm_mount "$OUT")"
        expect_eq "$engine: $what: a tmpfs is mounted at /dev/shm" "${fstype:-none}" tmpfs
        for flag in nosuid nodev noexec; do
                expect_contains "$engine: $what: $flag ($opts)" ",$opts," ",$flag,"
        done
        expect_eq "$engine: $what: mode" "$(sed -n 's/^SHM_MODE=//p' <<<"$OUT")" 1777
}

# --- no /dev/shm entry in config.json: a fresh tmpfs of the policy size ---
for api in auto legacy; do
        bundle "noentry-$api"
        drop_shm_entry "$B"
        register_hook "$B" "$WORK/selenium.conf" prestart --mount-api "$api"
        for engine in "${ENGINES[@]}"; do
                run_in "$engine" "$B"
                expect_fresh_tmpfs "$engine" "no /dev/shm entry, --mount-api $api"
        done
done

# Without a matching rule nothing is mounted there.
bundle noentry-nomatch
drop_shm_entry "$B"
register_hook "$B" "$WORK/redis.conf"
for engine in "${ENGINES[@]}"; do
        run_in "$engine" "$B"
        expect_eq "$engine: no entry, no match: exit" "$RC" 0
        expect_eq "$engine: no entry, no match: /dev/shm is not a mount point" \
                "$(shm_mount "$OUT")" ""
done

# No /dev tmpfs and no dev/shm directory in the root file system: the hook
# creates the directory in the rootfs itself (host disk) and removes nothing.
for api in auto legacy; do
        for engine in "${ENGINES[@]}"; do
                bundle "nodir-$api-$engine"
                drop_shm_entry "$B"
                jq_edit "$B/config.json" '.mounts |= map(select(.destination != "/dev"))'
                rm -rf "$B/rootfs/dev/shm"
                register_hook "$B" "$WORK/selenium.conf" prestart --mount-api "$api"
                (cd "$B/rootfs" && find . | sort) >"$WORK/before"
                run_in "$engine" "$B"
                expect_fresh_tmpfs "$engine" "no dev/shm directory, --mount-api $api"
                (cd "$B/rootfs" && find . | sort) >"$WORK/after"
                expect_eq "$engine: no dev/shm directory, $api: nothing in the rootfs was removed" \
                        "$(comm -23 "$WORK/before" "$WORK/after" | tr '\n' ' ')" ""
                if [ -d "$B/rootfs/dev/shm" ] && [ ! -L "$B/rootfs/dev/shm" ]; then
                        pass "$engine: $api: the hook created rootfs/dev/shm as a directory"
                else
                        fail "$engine: $api: rootfs/dev/shm is not a directory after the run"
                fi
                expect_eq "$engine: $api: the rootfs binaries are intact" \
                        "$(cmp "$(command -v busybox)" "$B/rootfs/bin/busybox" && echo same)" same
                expect_eq "$engine: $api: nothing is left mounted on the host under the bundle" \
                        "$(findmnt -rn -o TARGET | grep -cF "$B" || true)" 0
        done
done

# With a /dev tmpfs but no dev/shm in the rootfs (the directory is made in
# the container's /dev tmpfs).
bundle nodir-devtmpfs
drop_shm_entry "$B"
rm -rf "$B/rootfs/dev/shm"
register_hook "$B" "$WORK/selenium.conf"
for engine in "${ENGINES[@]}"; do
        run_in "$engine" "$B"
        expect_fresh_tmpfs "$engine" "/dev tmpfs without dev/shm"
done
if [ -e "$B/rootfs/dev/shm" ]; then
        fail "rootfs/dev/shm appeared on the host although /dev is a tmpfs"
else
        pass "the host rootfs was not touched when /dev is a tmpfs"
fi

# --- unsafe targets: dev/shm in the rootfs is a symlink (absolute, or
# relative and climbing out) or a file. The container is refused and
# nothing is mounted on the host. ---
mkdir -p "$WORK/escape"
for kind in absolute relative file; do
        for api in auto legacy; do
                for engine in "${ENGINES[@]}"; do
                        bundle "unsafe-$kind-$api-$engine"
                        drop_shm_entry "$B"
                        jq_edit "$B/config.json" '.mounts |= map(select(.destination != "/dev"))'
                        rm -rf "$B/rootfs/dev/shm"
                        case $kind in
                        absolute) ln -s "$WORK/escape" "$B/rootfs/dev/shm" ;;
                        relative) ln -s "../../../../../../../../../..$WORK/escape" "$B/rootfs/dev/shm" ;;
                        file) echo data >"$B/rootfs/dev/shm" ;;
                        esac
                        register_hook "$B" "$WORK/selenium.conf" prestart --mount-api "$api"
                        if [ "$engine" = crun ]; then
                                set_annotation "$B" run.oci.hooks.stderr "$B/hooks.stderr"
                        fi
                        run_in "$engine" "$B"
                        [ -f "$B/hooks.stderr" ] && OUT+=$(cat "$B/hooks.stderr")
                        what="$engine: unsafe dev/shm ($kind), --mount-api $api"
                        expect_ne "$what: refused" "$RC" 0
                        expect_not_contains "$what: the container did not run" "$OUT" "SHM_KB="
                        expect_contains "$what: the error names the target" "$OUT" "dev/shm"
                        expect_eq "$what: nothing mounted on the host" \
                                "$(findmnt -rn -o TARGET | grep -cF "$WORK/escape" || true)" 0
                        expect_eq "$what: the escape directory is untouched" \
                                "$(ls -A "$WORK/escape")" ""
                        if [ "$kind" = file ]; then
                                expect_eq "$what: the file is intact" "$(cat "$B/rootfs/dev/shm")" data
                        else
                                expect_eq "$what: the symlink is intact" \
                                        "$(test -L "$B/rootfs/dev/shm" && echo link)" link
                        fi
                done
        done
done

# --- shm=host: the host's /dev/shm, shared both ways, never resized ---
host_size() { df -k /dev/shm | awk 'NR == 2 {print $2}'; }
# Every mount at the host's /dev/shm, with its id, device and options.
host_mounts() { awk '$5 == "/dev/shm"' /proc/self/mountinfo | tr '\n' ';'; }
host_size_before=$(host_size)
host_mounts_before=$(host_mounts)
for kind in entry noentry; do
        for engine in "${ENGINES[@]}"; do
                marker="integ-$$-$kind-$engine"
                add_cleanup "rm -f /dev/shm/$marker /dev/shm/$marker.back"
                echo "written by the host $marker" >"/dev/shm/$marker"
                bundle "host-$kind-$engine"
                [ "$kind" = noentry ] && drop_shm_entry "$B"
                jq_edit "$B/config.json" --arg m "$marker" \
                        '.process.args[2] = "cat /dev/shm/\($m); echo back > /dev/shm/\($m).back; " + .process.args[2]'
                register_hook "$B" "$WORK/host.conf"
                run_in "$engine" "$B"
                expect_eq "$engine: shm=host ($kind): exit" "$RC" 0
                expect_contains "$engine: shm=host ($kind): the host's file is visible" "$OUT" \
                        "written by the host $marker"
                expect_eq "$engine: shm=host ($kind): the container's file reached the host" \
                        "$(cat "/dev/shm/$marker.back" 2>/dev/null)" back
                expect_eq "$engine: shm=host ($kind): the container sees the host's size" \
                        "$(shm_kb "$OUT")" "$host_size_before"
                rm -f "/dev/shm/$marker" "/dev/shm/$marker.back"
        done
done
expect_eq "the host's /dev/shm size is unchanged" "$(host_size)" "$host_size_before"
expect_eq "the host's /dev/shm mounts are unchanged" "$(host_mounts)" "$host_mounts_before"

finish
