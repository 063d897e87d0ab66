#!/bin/bash
# Policy sizes on real runc and crun containers: image matches from the CRI
# and CRI-O annotations, no match, percent of the memory limit, clamping,
# familiar names, grow-only, shm=keep and first match, shm=request, and the
# createRuntime stage. Every case runs on both runtimes.
set -euo pipefail
# shellcheck disable=SC2034 # read by lib.sh
ID_PREFIX=integ
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
need_root
need runc crun jq busybox unshare

ENGINES=(runc crun)
GiB=1073741824
make_bundle "$WORK/template" "$SHOW_SHM; $SHOW_SHM_MOUNT"

# bundle NAME: a fresh copy of the template; sets B to its path.
bundle() {
        B="$WORK/$1"
        cp -a "$WORK/template" "$B"
}

# policy NAME TEXT: write a policy file; sets P to its path.
policy() {
        P="$WORK/$1.conf"
        printf '%s\n' "$2" >"$P"
}

# expect_kb WHAT BUNDLE KIB: run on every engine, compare df -k /dev/shm.
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

# --- a matching image gets its size; the mount keeps its flags ---
policy selenium 'image=selenium/* shm=2g'

bundle cri
set_annotation "$B" io.kubernetes.cri.image-name docker.io/selenium/standalone-chrome:4.10
register_hook "$B" "$P"
for engine in "${ENGINES[@]}"; do
        run_in "$engine" "$B"
        expect_eq "$engine: CRI annotation selenium => 2g, exit" "$RC" 0
        expect_eq "$engine: CRI annotation selenium => 2g" "$(shm_kb "$OUT")" 2097152
        mnt=$(shm_mount "$OUT")
        read -r opts fstype super <<<"$mnt"
        expect_eq "$engine: /dev/shm is still a tmpfs" "$fstype" tmpfs
        for flag in nosuid nodev noexec; do
                expect_contains "$engine: /dev/shm keeps $flag ($opts)" ",$opts," ",$flag,"
        done
        expect_contains "$engine: the superblock says size=2097152k" ",$super," ",size=2097152k,"
done

bundle absroot
set_annotation "$B" io.kubernetes.cri.image-name docker.io/selenium/standalone-chrome:4.10
jq_edit "$B/config.json" --arg r "$B/rootfs" '.root.path = $r'
register_hook "$B" "$P"
expect_kb "absolute root.path, selenium => 2g" "$B" 2097152

bundle crio
set_annotation "$B" io.kubernetes.cri-o.ImageName docker.io/selenium/standalone-chrome:4.10
register_hook "$B" "$P"
expect_kb "CRI-O annotation selenium => 2g" "$B" 2097152

# --- no match leaves the engine's 64 MiB ---
bundle nomatch
set_annotation "$B" io.kubernetes.cri.image-name docker.io/library/redis:7
register_hook "$B" "$P"
expect_kb "redis does not match selenium/* => 64m" "$B" 65536

bundle quay
set_annotation "$B" io.kubernetes.cri.image-name quay.io/selenium/standalone-chrome:4.10
register_hook "$B" "$P"
expect_kb "quay.io/selenium/x does not match selenium/* => 64m" "$B" 65536

bundle noimage
register_hook "$B" "$P"
expect_kb "no image annotation => 64m" "$B" 65536

# --- percent of the memory limit, and clamping to it ---
policy percent 'image=pytorch/* shm=50%'
bundle percent
set_annotation "$B" io.kubernetes.cri.image-name docker.io/pytorch/pytorch:2.1.0
jq_edit "$B/config.json" --argjson l "$GiB" '.linux.resources.memory.limit = $l'
register_hook "$B" "$P"
expect_kb "shm=50% of a 1 GiB limit => 512m" "$B" 524288

policy clamp 'image=selenium/* shm=4g'
bundle clamp
set_annotation "$B" io.kubernetes.cri.image-name docker.io/selenium/standalone-chrome:4.10
jq_edit "$B/config.json" --argjson l "$GiB" '.linux.resources.memory.limit = $l'
register_hook "$B" "$P"
expect_kb "shm=4g with a 1 GiB limit is clamped => 1g" "$B" 1048576

# --- a limit above the container's own (a pod's cgroup), as the kernel has it ---
# tmpfs pages are charged to every cgroup up the path, so the lowest limit there
# bounds the size even when the container has none of its own.
POD_CG=oci-shm-test-pod-$$
if [ -d /sys/fs/cgroup/memory ]; then
        mkdir "/sys/fs/cgroup/memory/$POD_CG"
        echo $((128 << 20)) >"/sys/fs/cgroup/memory/$POD_CG/memory.limit_in_bytes"
        add_cleanup "rmdir /sys/fs/cgroup/*/$POD_CG/ctr-* /sys/fs/cgroup/*/$POD_CG 2>/dev/null"
        policy podlimit 'image=selenium/* shm=1g'
        bundle podlimit
        set_annotation "$B" io.kubernetes.cri.image-name docker.io/selenium/standalone-chrome:4.10
        jq_edit "$B/config.json" --arg p "/$POD_CG/ctr-1" '.linux.cgroupsPath = $p | del(.linux.resources.memory)'
        register_hook "$B" "$P"
        expect_kb "shm=1g, no limit of its own, in a 128 MiB parent cgroup => 128m" "$B" 131072
        policy podpercent 'image=pytorch/* shm=50%'
        bundle podpercent
        set_annotation "$B" io.kubernetes.cri.image-name docker.io/pytorch/pytorch:2.1.0
        jq_edit "$B/config.json" --arg p "/$POD_CG/ctr-2" '.linux.cgroupsPath = $p | del(.linux.resources.memory)'
        register_hook "$B" "$P"
        expect_kb "shm=50% in a 128 MiB parent cgroup => 64m" "$B" 65536
        # The container's own limit, lower, still wins.
        bundle podlower
        set_annotation "$B" io.kubernetes.cri.image-name docker.io/selenium/standalone-chrome:4.10
        jq_edit "$B/config.json" --arg p "/$POD_CG/ctr-3" --argjson l $((96 << 20)) \
                '.linux.cgroupsPath = $p | .linux.resources.memory.limit = $l'
        P=$WORK/podlimit.conf
        register_hook "$B" "$P"
        expect_kb "shm=1g with its own 96 MiB limit in a 128 MiB parent => 96m" "$B" 98304
fi

# --- familiar names ---
policy postgres 'image=postgres shm=1536m'
bundle postgres
set_annotation "$B" io.kubernetes.cri.image-name docker.io/library/postgres:16
register_hook "$B" "$P"
expect_kb "image=postgres matches docker.io/library/postgres:16 => 1536m" "$B" 1572864

bundle postgres-short
set_annotation "$B" io.kubernetes.cri.image-name postgres:16
register_hook "$B" "$P"
expect_kb "image=postgres matches the annotation 'postgres:16' => 1536m" "$B" 1572864

bundle postgres-other
set_annotation "$B" io.kubernetes.cri.image-name docker.io/bitnami/postgresql:16
register_hook "$B" "$P"
expect_kb "image=postgres does not match bitnami/postgresql => 64m" "$B" 65536

# --- grow-only: an explicit larger tmpfs is kept ---
policy grow 'image=selenium/* shm=1g'
bundle growonly
set_annotation "$B" io.kubernetes.cri.image-name docker.io/selenium/standalone-chrome:4.10
jq_edit "$B/config.json" '(.mounts[] | select(.destination == "/dev/shm") | .options) |=
        map(if startswith("size=") then "size=4g" else . end)'
register_hook "$B" "$P"
expect_kb "size=4g entry with shm=1g stays 4g" "$B" 4194304

# --- shm=keep exempts an image from a broader rule below; first match wins ---
policy order 'image=selenium/standalone-chrome* shm=keep
image=selenium/* shm=2g
image=* shm=1g
image=* shm=3g'
for pair in "docker.io/selenium/standalone-chrome:4.10 65536 keep" \
        "docker.io/selenium/hub:4.10 2097152 selenium" \
        "docker.io/library/redis:7 1048576 first-catch-all"; do
        read -r image kb name <<<"$pair"
        bundle "order-$name"
        set_annotation "$B" io.kubernetes.cri.image-name "$image"
        register_hook "$B" "$P"
        expect_kb "first match wins: $image => ${kb}k" "$B" "$kb"
done

# --- shm=request ---
policy request 'annotation:example.com/shm-size=* shm=request max=4g'
for pair in "3g 3145728" "512Mi 524288" "6g 4194304"; do
        read -r value kb <<<"$pair"
        bundle "request-$value"
        set_annotation "$B" example.com/shm-size "$value"
        register_hook "$B" "$P"
        expect_kb "shm=request max=4g with annotation $value => ${kb}k" "$B" "$kb"
done

# --- registered as createRuntime ---
bundle createruntime
set_annotation "$B" io.kubernetes.cri.image-name docker.io/selenium/standalone-chrome:4.10
register_hook "$B" "$WORK/selenium.conf" createRuntime
expect_eq "the hook is registered under createRuntime" \
        "$(jq -r '.hooks.createRuntime[0].args[-1], (.hooks.prestart // [] | length)' "$B/config.json" | tr '\n' ' ')" \
        "createRuntime 0 "
expect_kb "createRuntime hook, selenium => 2g" "$B" 2097152

finish
