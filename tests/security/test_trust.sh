#!/bin/bash
# The README's Security promises, attacked with real runc and crun: input the
# container's user controls (image files, config.json mounts and keys,
# annotations) must never make the hook resize, bind or mount anything the
# container does not own, and input no rule reads must never refuse a
# container. Every case checks the host side too: a host tmpfs keeps its size.
set -euo pipefail
ID_PREFIX=security
source "$(dirname "$0")/../integration/lib.sh"
need_root
need runc crun jq busybox unshare mountpoint

POLICY=$WORK/policy.conf
echo 'shm=256m' >"$POLICY"
EMPTY=$WORK/empty.conf
printf '# every rule commented out, as the package ships it\n#image=selenium/* shm=2g\n' >"$EMPTY"
ANN_POLICY=$WORK/annotation.conf
echo 'annotation:example.com/shm=* shm=request max=1g' >"$ANN_POLICY"

# A host tmpfs the container's user can name (like /run/user/1000): 10 MiB.
VICTIM=$WORK/victim
mkdir -p "$VICTIM"
mount -t tmpfs -o size=10m victim-tmpfs "$VICTIM"
add_cleanup "umount -l '$VICTIM'"
victim_kb() { df -k "$VICTIM" | awk 'NR==2 {print $2}'; }

make_bundle "$WORK/template"

# bundle NAME: a fresh copy of the template with the hook registered on $POLICY.
bundle() {
        B=$WORK/$1
        rm -rf "$B"
        cp -a "$WORK/template" "$B"
        register_hook "$B" "${2:-$POLICY}"
}

# refused ENGINE WHAT NEEDLE: the container did not start, with NEEDLE in runc's
# output (crun shows no hook stderr), and the victim tmpfs kept its 10 MiB.
refused() {
        local engine=$1 what=$2 needle=$3
        run_in "$engine" "$B"
        expect_ne "$engine: $what: the container is refused" "$RC" 0
        [ "$engine" = crun ] || expect_contains "$engine: $what: the reason" "$OUT" "$needle"
        expect_eq "$engine: $what: the host tmpfs is untouched" "$(victim_kb)" 10240
}

for engine in runc crun; do
        # 1. An image symlink data -> /dev/shm, a host tmpfs bound at /data: the
        # runtime resolves the symlink in the root and mounts it over /dev/shm.
        bundle "symlink-$engine"
        ln -s /dev/shm "$B/rootfs/data"
        jq_edit "$B/config.json" --arg src "$VICTIM" \
                '.mounts += [{destination: "/data", type: "bind", source: $src, options: ["rbind", "rw"]}]'
        refused "$engine" "host tmpfs on /dev/shm through an image symlink" "is also mounted at"

        # The same with shm=request: the user picks the size.
        bundle "symlink-request-$engine" "$ANN_POLICY"
        ln -s /dev/shm "$B/rootfs/data"
        set_annotation "$B" example.com/shm 512m
        jq_edit "$B/config.json" --arg src "$VICTIM" \
                '.mounts += [{destination: "/data", type: "bind", source: $src, options: ["rbind"]}]'
        refused "$engine" "shm=request through an image symlink" "refusing to change it"

        # 2. A later mount at /dev/./shm: the runtime folds it to /dev/shm, so it is
        # the /dev/shm entry, a bind of a volume the container does not own.
        bundle "dotted-$engine"
        jq_edit "$B/config.json" --arg src "$VICTIM" \
                '.mounts += [{destination: "/dev/./shm", type: "bind", source: $src, options: ["rbind"]}]'
        run_in "$engine" "$B"
        expect_eq "$engine: /dev/./shm bind: the container runs" "$RC" 0
        expect_eq "$engine: /dev/./shm bind: it sees the volume, left alone" "$(shm_kb "$OUT")" 10240
        expect_eq "$engine: /dev/./shm bind: the host tmpfs is untouched" "$(victim_kb)" 10240

        # 3. Keys that runc (case-insensitive, last wins) and crun (exact) read apart.
        bundle "case-dest-$engine"
        jq_edit "$B/config.json" --arg src "$VICTIM" \
                '.mounts += [{destination: "/mnt", Destination: "/dev/shm", type: "bind", source: $src, options: ["rbind"]}]'
        refused "$engine" "a Destination key" "has key 'Destination', which runc reads as 'destination'"
        bundle "case-root-$engine"
        cp -a "$B/rootfs" "$B/rootfs2"
        jq_edit "$B/config.json" '.Root = {path: "rootfs2"}'
        refused "$engine" "a top-level Root key" "has key 'Root'"
        bundle "fold-source-$engine"
        # U+017F LATIN SMALL LETTER LONG S: Go's encoding/json folds it to 's'.
        mkdir -p "$WORK/plain"
        jq_edit "$B/config.json" --arg src "$VICTIM" --arg plain "$WORK/plain" \
                '.mounts += [{destination: "/dev/shm", type: "bind", source: $plain, "ſource": $src, options: ["rbind"]}]'
        refused "$engine" "a key with U+017F for s" "has key 'ſource'"

        # (A tmpfs of another mount namespace, named as /proc/PID/root/...: the kernel
        # refuses to bind it (EINVAL); the hook's bind-source check is tested in unit.mount.)

        # 5. Input no rule reads never refuses a container, with or without rules.
        for p in "$EMPTY" "$POLICY"; do
                what=$([ "$p" = "$EMPTY" ] && echo "no rule" || echo "a rule that reads no annotation")
                bundle "odd-$engine" "$p"
                jq_edit "$B/config.json" '.annotations = ([range(4097)] | map({key: "k\(.)", value: "v"}) | from_entries)
                        | .annotations["nul"] = "a\u0000b"'
                head -c $((5 << 20)) /dev/zero | tr '\0' x >"$WORK/pad"
                jq_edit "$B/config.json" --rawfile pad "$WORK/pad" '.annotations["huge"] = $pad'
                run_in "$engine" "$B"
                expect_eq "$engine: $what: 4,097 annotations, a NUL and 5 MiB: the container runs" "$RC" 0
                want=$([ "$p" = "$EMPTY" ] && echo 65536 || echo 262144)
                expect_eq "$engine: $what: /dev/shm" "$(shm_kb "$OUT")" "$want"
        done
        # An annotation a rule reads is part of the decision: a NUL in it refuses.
        bundle "nul-read-$engine" "$ANN_POLICY"
        jq_edit "$B/config.json" '.annotations["example.com/shm"] = "512m\u0000x"'
        refused "$engine" "a NUL in an annotation a rule reads" "annotation 'example.com/shm' contains a NUL character"
done

# 6. shm=host where the host's /dev/shm is a plain directory on devtmpfs (here:
# in a private mount namespace, where the tmpfs is unmounted; the host keeps it).
echo 'shm=host' >"$WORK/host.conf"
bundle host-dir "$WORK/host.conf"
rc=0
out=$(unshare -m --propagation private sh -c \
        'while mountpoint -q /dev/shm; do umount /dev/shm; done; exec runc run --bundle "$1" "$2"' sh "$B" "$(new_id)" </dev/null 2>&1) || rc=$?
expect_ne "shm=host: a host /dev/shm that is no tmpfs of its own is refused" "$rc" 0
expect_contains "shm=host: the reason" "$out" "the host's /dev/shm is not a tmpfs of its own"

finish
