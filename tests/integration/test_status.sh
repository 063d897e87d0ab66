#!/bin/bash
# `oci-shm-hook status` (issue 12) against real runc, crun, Podman and Docker
# containers, in a private mount namespace whose /run/oci-shm-hook is a tmpfs
# of this test's own (the hook, run by the engines started from here, writes
# its records there). containerd is not covered here: its CRI test harness is separate.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/engines/private-ns.sh"
source "$HERE/lib.sh"
source "$HERE/engines/common.sh"
need_root
need runc crun podman catatonit busybox jq gcc promtool
# A command that fails outside a check ends the test (set -e): say which.
trap 'echo "FAIL: line $LINENO: \"$BASH_COMMAND\" exited $?" >&2' ERR

MiB=1048576
RECORDS=/run/oci-shm-hook
# The directory the hook makes on a real node; here a tmpfs of this test's over it.
[ -d "$RECORDS" ] || install -d -m 0700 "$RECORDS"
mount -t tmpfs -o size=16m,mode=0700 status-records "$RECORDS"
add_cleanup "umount -l $RECORDS"

# A policy whose file name needs escaping in Prometheus labels and JSON.
POLICY="$WORK/po\"l\\icy.conf"
cat >"$POLICY" <<'EOF'
annotation:status-test=dd     shm=256m
annotation:status-test=sysv   shm=128m
image=selenium/*              shm=2g
image=engines-sidecar         shm=512m
EOF

# The SysV helper, static, for the busybox root file systems.
gcc -static -O2 -o "$WORK/sysv_shm" "$HERE/helpers/sysv_shm.c"

status() {
        "$HOOK" status "$@"
}

# bundle DIR ANNOTATION ARGS-JSON: a busybox bundle (with dd and the helper) and the hook.
bundle() {
        local dir=$1 note=$2 args=$3
        make_bundle "$dir"
        ln -sf busybox "$dir/rootfs/bin/dd"
        cp "$WORK/sysv_shm" "$dir/rootfs/bin/sysv_shm"
        jq_edit "$dir/config.json" --argjson a "$args" '.process.args = $a'
        [ -z "$note" ] || set_annotation "$dir" status-test "$note"
        register_hook "$dir" "$POLICY"
}

# wait_for FILE TEXT: until the container printed TEXT (10 s at most).
wait_for() {
        local i
        for i in $(seq 100); do
                grep -q "$2" "$1" 2>/dev/null && return 0
                sleep 0.1
        done
        fail "no '$2' in $1: $(cat "$1" 2>/dev/null)"
        return 1
}

crun_detached() {
        unshare -m sh -c 'umount /sys/fs/cgroup/unified 2>/dev/null; exec crun run -d --bundle "$1" "$2"' \
                sh "$1" "$2"
}

# json_of ID [--all]: the container's object in `status --json`.
json_of() {
        local id=$1
        shift
        status --json "$@" | jq -c --arg id "$id" '.containers[] | select(.id == $id)'
}

# ---- runc: 100 MiB in /dev/shm; crun: SysV segments; runc: untouched, with a memory limit ----
A=$(new_id)
bundle "$WORK/a" dd '["sh", "-c", "dd if=/dev/zero of=/dev/shm/fill bs=1048576 count=100 2>/dev/null; echo FILLED; exec sleep 600"]'
runc run -d --bundle "$WORK/a" "$A" </dev/null >"$WORK/a.out" 2>&1
wait_for "$WORK/a.out" FILLED

B=$(new_id)
bundle "$WORK/b" sysv '["/bin/sysv_shm", "3", "1048576", "2"]'
crun_detached "$WORK/b" "$B" </dev/null >"$WORK/b.out" 2>&1
wait_for "$WORK/b.out" SYSV_READY

C=$(new_id)
bundle "$WORK/c" "" '["sleep", "600"]'
jq_edit "$WORK/c/config.json" '.linux.resources.memory = {limit: 33554432}'
runc run -d --bundle "$WORK/c" "$C" </dev/null >"$WORK/c.out" 2>&1

out=$(status)
echo "$out"
expect_contains "the table has the issue's columns" "$(head -n1 <<<"$out")" \
        "CONTAINER"
expect_eq "the header" "$(head -n1 <<<"$out" | tr -s ' ')" \
        "CONTAINER ENGINE IMAGE RULE SHM SIZE USED USE% SYSV"
line_a=$(grep -F "$A " <<<"$out" || true)
line_b=$(grep -F "$B " <<<"$out" || true)
expect_eq "runc container A: engine, rule, kind, size, used, use" \
        "$(awk '{print $2, $4, $5, $6, $7, $8, $9}' <<<"$line_a")" \
        "runc $POLICY:1 private-tmpfs 256M 100M 40% 0"
expect_eq "crun container B: 3 segments of 1 MiB" \
        "$(awk '{print $2, $4, $5, $6, $9, $10, $11}' <<<"$line_b")" \
        "crun $POLICY:2 private-tmpfs 128M 3 segs 3.0M"
expect_eq "sorted by use: A (40%) above B (0%)" \
        "$(grep -nF -e "$A " -e "$B " <<<"$out" | cut -d: -f1 | tr '\n' ' ')" "2 3 "
expect_not_contains "the untouched container is not listed without --all" "$out" "$C"

ja=$(json_of "$A")
used=$(jq '.shm.used_bytes' <<<"$ja")
if [ "$used" -ge $((100 * MiB)) ] && [ "$used" -le $((101 * MiB)) ]; then
        pass "A uses about 100 MiB ($used bytes)"
else
        fail "A uses $used bytes, not about 100 MiB"
fi
expect_eq "A: size, SysV, hook record" \
        "$(jq -c '[.shm.size_bytes, .sysv.segments, .hook.result, .hook.target_bytes, .recorded]' <<<"$ja")" \
        "[268435456,0,\"grown\",268435456,true]"
jb=$(json_of "$B")
pid_b=$(jq '.pid' <<<"$jb")
expect_eq "B: each segment is 1 MiB, attached twice, made and last used by its pid 1" \
        "$(jq -c '[.sysv.segments, .sysv.bytes, .sysv.attached, ([.sysv.list[] | [.bytes, .attached, .creator_pid, .last_pid]] | unique)]' <<<"$jb")" \
        "[3,3145728,6,[[1048576,2,$pid_b,$pid_b]]]"

detail=$(status "$B")
echo "$detail"
expect_eq "status ID: one line per segment" \
        "$(grep -cE "^  [0-9]+ +0x[0-9a-f]{8} +1048576 +2 " <<<"$detail")" 3
expect_contains "status ID: the rule" "$detail" "rule:         $POLICY:2"
expect_contains "status ID: a unique prefix works" "$(status "${B:0:${#B}-1}")" "container:    $B"
rc=0
status "$ID_BASE-nope" >/dev/null 2>&1 || rc=$?
expect_eq "status of an unknown id fails" "$rc" 1

all=$(status --all)
line_c=$(grep -F "$C " <<<"$all" || true)
expect_eq "--all: the untouched container, no rule, runc's 64M, no segments" \
        "$(awk '{print $2, $3, $4, $5, $6, $9}' <<<"$line_c")" "runc - - private-tmpfs 64M 0"
expect_contains "--all: a /dev/shm larger than the memory limit is warned about" "$all" \
        "warning: $C: /dev/shm (64M) is larger than the memory limit (32M)"
expect_not_contains "no limit warning for A" "$all" "warning: $A: /dev/shm (256M)"
expect_contains "--warn 40 warns at A's 40%" "$(status --warn 40)" \
        "warning: $A: /dev/shm is 40% full (100M of 256M)"
expect_not_contains "the default --warn 90 does not" "$out" "warning: $A"
rc=0
status --warn 0 >/dev/null 2>&1 || rc=$?
expect_eq "--warn 0 is a usage error" "$rc" 2

# ---- an image whose /dev/shm is a symbolic link out of its root ----
# No /dev mount: the image's own dev/shm, a link to a host path where a
# decoy tmpfs of 7776k (whole pages) sits. Reading /proc/PID/root/dev/shm
# naively lands on the decoy (checked below), status must not.
DECOY=$WORK/decoy
mkdir -p "$DECOY"
mount -t tmpfs -o size=7776k status-decoy "$DECOY"
add_cleanup "umount -l $DECOY"
L=$(new_id)
bundle "$WORK/l" "" '["sleep", "600"]'
jq_edit "$WORK/l/config.json" '.mounts |= map(select(.destination | startswith("/dev") | not))'
mkdir -p "$WORK/l/rootfs/dev"
ln -s "$DECOY" "$WORK/l/rootfs/dev/shm"
runc run -d --bundle "$WORK/l" "$L" </dev/null >"$WORK/l.out" 2>&1 || fail "the symlink container: $(cat "$WORK/l.out")"
jl=$(json_of "$L" --all)
expect_eq "the naive path /proc/PID/root/dev/shm does reach the decoy" \
        "$(kb_of "/proc/$(jq .pid <<<"$jl")/root/dev/shm")" 7776
expect_eq "symlinked /dev/shm: seen as a link, not read from the host" \
        "$(jq -c '[.shm.symlink, .shm.size_bytes, .shm.kind]' <<<"$jl")" '[true,null,"symlink"]'
expect_contains "symlinked /dev/shm: the note names the link" "$(jq -r .shm.note <<<"$jl")" \
        "symbolic link to '$DECOY', which leads nowhere"
expect_not_contains "the decoy's size shows nowhere" "$(status --all --json)" "7962624"
runc delete -f "$L" >/dev/null
# A link that tries to climb out ("../../../..") resolves inside the root:
# there it reaches the container's own /tmp, a tmpfs of 3332k.
L2=$(new_id)
bundle "$WORK/l2" "" '["sleep", "600"]'
jq_edit "$WORK/l2/config.json" '.mounts |= map(select(.destination | startswith("/dev") | not))'
mkdir -p "$WORK/l2/rootfs/dev"
ln -s ../../../../../../tmp "$WORK/l2/rootfs/dev/shm"
mount -t tmpfs -o size=3332k status-l2tmp "$WORK/l2/rootfs/tmp"
add_cleanup "umount -l $WORK/l2/rootfs/tmp"
runc run -d --bundle "$WORK/l2" "$L2" </dev/null >"$WORK/l2.out" 2>&1 || fail "the second symlink container: $(cat "$WORK/l2.out")"
jl2=$(json_of "$L2" --all)
expect_eq "a link climbing out is read inside the container's root" \
        "$(jq -c '[.shm.symlink, .shm.size_bytes, .shm.kind]' <<<"$jl2")" '[true,3411968,"private-tmpfs"]'
expect_contains "and noted" "$(jq -r .shm.note <<<"$jl2")" "read inside the container's root"
runc delete -f "$L2" >/dev/null

# ---- Podman: a container and a pod sharing one tmpfs ----
D=$WORK/podman
mkdir -p "$D/hooks"
jq --arg hook "$HOOK" --arg policy "$POLICY" \
        '.hook.path = $hook | .hook.args = [.hook.args[0], "--policy", $policy] + .hook.args[1:]' \
        "$SRC_TOP/config/oci-shm-hook.json" >"$D/hooks/oci-shm-hook.json"
printf '[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\n' >"$D/containers.conf"
export CONTAINERS_CONF=$D/containers.conf
P=(podman --root "$D/storage" --runroot "$D/run" --tmpdir "$D/tmp" --runtime=runc
        --cgroup-manager=cgroupfs --events-backend=file --hooks-dir "$D/hooks")
cleanup_podman() {
        "${P[@]}" pod rm -af -t 0 >/dev/null 2>&1 || true
        "${P[@]}" rm -af -t 0 >/dev/null 2>&1 || true
        umount_below "$D"
}
add_cleanup cleanup_podman
engines_image_tar "$WORK/rootfs.tar"
for image in "docker.io/$SELENIUM" docker.io/library/engines-sidecar:1 localhost/status-plain:1; do
        "${P[@]}" import -q "$WORK/rootfs.tar" "$image" >/dev/null
done
solo=$("${P[@]}" run -d --network=none "docker.io/$SELENIUM" sleep 600)
pod=status-pod-$$
"${P[@]}" pod create --name "$pod" --network=none >/dev/null
side=$("${P[@]}" run -d --pod "$pod" docker.io/library/engines-sidecar:1 sleep 600)
plain=$("${P[@]}" run -d --pod "$pod" localhost/status-plain:1 sleep 600)
infra=$("${P[@]}" pod inspect "$pod" --format '{{.InfraContainerID}}')

js=$(json_of "$solo")
expect_eq "Podman container: engine, rule, kind and size" \
        "$(jq -c '[.engine, (.rule | endswith(":3")), .shm.kind, .shm.size_bytes]' <<<"$js")" \
        '["podman",true,"private-tmpfs",2147483648]'
expect_contains "the table shows Podman's short id" "$(status)" "${solo:0:12} "
pod_json=$(status --all --json | jq -c --arg a "$side" --arg b "$plain" --arg c "$infra" \
        '[.containers[] | select(.id == $a or .id == $b or .id == $c)]')
expect_eq "pod: three containers (infra too), one tmpfs of 512m shared by 3" \
        "$(jq -c '[length, ([.[].shm.device] | unique | length), ([.[] | [.shm.kind, .shm.shared_by, .shm.size_bytes]] | unique)]' <<<"$pod_json")" \
        '[3,1,[["pod-tmpfs",3,536870912]]]'
expect_eq "pod: the sidecar's rule explains the size: no warning" \
        "$(jq -c '[.[].warnings[]]' <<<"$pod_json")" '[]'
# (Only this test's containers: another test's may have segments of its own.)
expect_eq "none of B's segments leak into another container" \
        "$(status --all --json | jq -c --arg ids "$A $C $solo $side $plain $infra" \
                '[.containers[] | select(.id as $id | $ids | split(" ") | index($id)) | [.id, .sysv.segments]] | map(select(.[1] != 0)) | length')" \
        0
expect_eq "...and each of them was read (6 containers, segment counts known)" \
        "$(status --all --json | jq -c --arg ids "$A $C $solo $side $plain $infra" \
                '[.containers[] | select(.id as $id | $ids | split(" ") | index($id)) | .sysv.segments | numbers] | length')" \
        6

# A pod tmpfs grown by hand (no rule says 700m) is warned about.
DRIVER=$("${P[@]}" info --format '{{.Store.GraphDriverName}}')
mount -o remount,size=700m "$D/storage/$DRIVER-containers/$infra/userdata/shm"
expect_contains "pod: a size no rule explains is warned about" "$(status --all)" \
        "has a size no rule explains"

# ---- Docker, through oci-shm-runtime, with a dockerd of this test's own ----
SHIM=$(dirname "$HOOK")/oci-shm-runtime
if command -v dockerd >/dev/null 2>&1 && [ -x "$SHIM" ]; then
        DD=$WORK/docker
        mkdir -p "$DD"
        export DOCKER_HOST=unix://$DD/sock
        OCI_SHM_HOOK_POLICY=$POLICY dockerd --iptables=false --ip6tables=false --bridge=none \
                --storage-driver=vfs --data-root "$DD/root" --exec-root "$DD/exec" \
                -H "$DOCKER_HOST" --pidfile "$DD/pid" --add-runtime "shm=$SHIM" \
                >"$DD/dockerd.log" 2>&1 </dev/null &
        DOCKERD_PID=$!
        stop_docker() {
                docker ps -aq 2>/dev/null | xargs -r docker rm -f >/dev/null 2>&1 || true
                local pid
                for pid in "$DOCKERD_PID" "$(cat "$DD/exec/containerd/containerd.pid" 2>/dev/null)"; do
                        [ -n "$pid" ] && grep -qF "$DD" "/proc/$pid/cmdline" 2>/dev/null && kill "$pid"
                done
                sleep 1
                umount_below "$DD"
        }
        add_cleanup stop_docker
        for i in $(seq 150); do
                docker version >/dev/null 2>&1 && break
                sleep 0.2
        done
        docker import "$WORK/rootfs.tar" "$SELENIUM" >/dev/null
        dock=$(docker run -d --runtime shm --network none "$SELENIUM" sleep 600)
        expect_eq "Docker container: engine, image, rule, kind, size" \
                "$(json_of "$dock" | jq -c '[.engine, .image, (.rule | endswith(":3")), .shm.kind, .shm.size_bytes]')" \
                "[\"docker\",\"docker.io/$SELENIUM\",true,\"private-tmpfs\",2147483648]"
        docker rm -f "$dock" >/dev/null
        unset DOCKER_HOST
else
        echo "note: no dockerd or oci-shm-runtime here; Docker not covered"
fi

# ---- --json shape, Prometheus, --output ----
shape='.version == 1 and (.containers | type == "array") and all(.containers[];
    (.id | type == "string") and (.engine | type == "string")
    and (.image | type == "string" or type == "null") and (.rule | type == "string" or type == "null")
    and (.pid | type == "number") and (.recorded | type == "boolean")
    and (.memory_limit_bytes | type == "number" or type == "null")
    and (.shm | (.kind | type == "string") and (.shared_by | type == "number")
        and (.symlink | type == "boolean") and (.note | type == "string" or type == "null")
        and all(.size_bytes, .used_bytes, .use_percent, .inodes, .inodes_used; type == "number" or type == "null")
        and (.device | type == "string" or type == "null"))
    and (.sysv | all(.segments, .bytes, .attached; type == "number" or type == "null")
        and (.list | type == "array") and all(.list[]; all(.shmid, .key, .bytes, .attached,
            .creator_pid, .last_pid, .owner_uid, .mode; type == "number")))
    and (.hook == null or (.hook | (.kind | type == "string") and (.target_bytes | type == "number")
        and (.after_bytes | type == "number") and (.result | type == "string") and (.time | type == "number")))
    and (.warnings | type == "array"))'
expect_eq "--json has the documented shape" "$(status --all --json | jq "$shape")" true
expect_eq "--json: every container once" \
        "$(status --all --json | jq '[.containers[].id] | (length == (unique | length))')" true

status --all --format=prometheus --output "$WORK/shm.prom"
promtool check metrics <"$WORK/shm.prom" >"$WORK/promtool.out" 2>&1 &&
        pass "promtool check metrics accepts it" ||
        fail "promtool: $(cat "$WORK/promtool.out")"
expect_contains "Prometheus: A's used bytes, labels escaped" "$(cat "$WORK/shm.prom")" \
        "oci_shm_used_bytes{container=\"$A\",engine=\"runc\",image=\"\",rule=\"$(sed 's/\\/\\\\/g; s/"/\\"/g' <<<"$POLICY"):1\",kind=\"private-tmpfs\"} $used"
expect_contains "Prometheus: B's segments" "$(cat "$WORK/shm.prom")" \
        "oci_shm_sysv_segments{container=\"$B\",engine=\"crun\""
expect_eq "--output leaves no temporary file" "$(find "$WORK" -maxdepth 1 -name 'shm.prom.tmp*' | wc -l)" 0

# ---- a /dev/shm with 100,000 files costs status nothing (statfs only) ----
pid_a=$(jq .pid <<<"$ja")
(cd "/proc/$pid_a/root/dev/shm" && seq -f 'f%g' 100000 | xargs touch)
start=$(date +%s%N)
status --json >"$WORK/many.json"
ms=$((($(date +%s%N) - start) / 1000000))
inodes=$(jq --arg id "$A" '.containers[] | select(.id == $id) | .shm.inodes_used' "$WORK/many.json")
[ "$inodes" -ge 100000 ] && pass "inodes used counts the 100,000 files ($inodes)" ||
        fail "inodes used: $inodes"
[ "$ms" -lt 1000 ] && pass "status with 100,000 files in a /dev/shm: $ms ms" || fail "status took $ms ms"

# ---- the record write never fails a start ----
chmod 0755 "$RECORDS"
before=$(ls "$RECORDS" | wc -l)
W=$(new_id)
bundle "$WORK/w" dd "$(jq -nc --arg c "$SHOW_SHM" '["sh", "-c", $c]')"
RC=0
OUT=$(run_runc "$WORK/w" "$W") || RC=$?
expect_eq "an unusable record directory: the container still starts, sized" \
        "$RC $(shm_kb "$OUT")" "0 262144"
expect_not_contains "and the hook says nothing about it at the default log level" "$OUT" "record"
expect_eq "no record was written there" "$(ls "$RECORDS" | wc -l)" "$before"
chmod 0700 "$RECORDS"

# ---- records: removed when the container stops; 1000 stale ones stay cheap ----
rec_a=$(grep -lx "id=$A" "$RECORDS"/* || true)
[ -n "$rec_a" ] && pass "A has a record ($(basename "$rec_a"))" || fail "no record for A"
expect_eq "the record directory is root's alone" "$(stat -c '%a %U' "$RECORDS")" "700 root"
runc delete -f "$A" >/dev/null
status >/dev/null
[ ! -e "$rec_a" ] && pass "A's record is gone once A stopped" || fail "A's record is still there"
for i in $(seq 1000); do
        echo "version=1" >"$RECORDS/4194303-$i"
done
start=$(date +%s%N)
status >/dev/null
ms=$((($(date +%s%N) - start) / 1000000))
[ "$ms" -lt 1000 ] && pass "status with 1000 stale records: $ms ms" || fail "status took $ms ms"
expect_eq "the 1000 stale records are removed" "$(find "$RECORDS" -maxdepth 1 -name '4194303-*' | wc -l)" 0
# The hook itself prunes a directory that has grown (tmpfs: about 1024 entries).
for i in $(seq 1100); do
        echo "version=1" >"$RECORDS/4194303-$i"
done
OUT=$(run_runc "$WORK/w")
expect_eq "the hook pruned 1100 stale records while writing its own" \
        "$(find "$RECORDS" -maxdepth 1 -name '4194303-*' | wc -l)" 0

cleanup_podman
crun delete -f "$B" >/dev/null 2>&1 || true
runc delete -f "$C" >/dev/null 2>&1 || true
finish
