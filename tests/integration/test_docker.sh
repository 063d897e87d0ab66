#!/bin/bash
# Docker through oci-shm-runtime: a dockerd of the test's own (vfs, no
# iptables, private data root, exec root and socket) with --add-runtime for
# the shim, in a private mount namespace whose /dev/shm stands for the host's.
# ctest-labels: engines
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/engines/private-ns.sh"
source "$HERE/lib.sh"
source "$HERE/engines/common.sh"
need_root
need dockerd docker runc busybox jq findmnt
need_shim

D=$WORK/docker
mkdir -p "$D"
POLICY=$WORK/policy.conf
engines_policy "$POLICY"
export DOCKER_HOST=unix://$D/sock

# A runtime whose real runtime cannot be found: the shim's error must reach the user.
cat >"$WORK/bad-runtime" <<BAD
#!/bin/sh
OCI_SHM_RUNTIME=/nonexistent/runc exec "$SHIM" "\$@"
BAD
chmod +x "$WORK/bad-runtime"

DOCKERD_PID=
CONTAINERD_PID=
# stop_pid PID: stop one of our daemons, only if its command line names our directory.
stop_pid() {
        local pid=$1 i
        [ -n "$pid" ] && tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF "$D" || return 0
        kill "$pid" 2>/dev/null || return 0
        for ((i = 0; i < 150; i++)); do
                kill -0 "$pid" 2>/dev/null || return 0
                sleep 0.2
        done
        kill -KILL "$pid" 2>/dev/null || true
}
stop_dockerd() {
        # Only our containers live in this daemon; remove them all.
        docker ps -aq 2>/dev/null | xargs -r docker rm -f >/dev/null 2>&1 || true
        stop_pid "$DOCKERD_PID"
        stop_pid "$CONTAINERD_PID"
        umount_below "$D"
}
add_cleanup stop_dockerd

OCI_SHM_HOOK_POLICY=$POLICY dockerd --iptables=false --ip6tables=false --bridge=none \
        --storage-driver=vfs --data-root "$D/root" --exec-root "$D/exec" \
        -H "unix://$D/sock" --pidfile "$D/pid" \
        --add-runtime "shm=$SHIM" --add-runtime "shmbad=$WORK/bad-runtime" \
        >"$D/dockerd.log" 2>&1 </dev/null &
DOCKERD_PID=$!
for ((i = 0; i < 150; i++)); do
        docker version >/dev/null 2>&1 && break
        sleep 0.2
done
if ! docker version >/dev/null 2>&1; then
        tail -20 "$D/dockerd.log" >&2
        echo "FAIL: dockerd did not start" >&2
        exit 1
fi
# The daemon must run its own containerd (in this namespace), not a system one.
CONTAINERD_PID=$(cat "$D/exec/containerd/containerd.pid" 2>/dev/null) || {
        echo "FAIL: dockerd did not start its own containerd (a system containerd is running?)" >&2
        exit 1
}
pass "dockerd started with runtime shm=$SHIM"

engines_image_tar "$WORK/rootfs.tar"
docker import "$WORK/rootfs.tar" "$SELENIUM" >/dev/null
docker import "$WORK/rootfs.tar" engines-plain:1 >/dev/null
docker import "$WORK/rootfs.tar" engines-sidecar:1 >/dev/null

drun() {
        docker run --rm --network none "$@" 2>&1
}

out=$(drun --runtime shm "$SELENIUM" sh -c "$SHOW_SHM")
expect_eq "Selenium image under the shim: /dev/shm" "$(shm_kb "$out")" "$KB_2G"

out=$(drun --runtime shm engines-plain:1 sh -c "$SHOW_SHM")
expect_eq "unrelated image under the shim keeps Docker's 64m" "$(shm_kb "$out")" "$KB_64M"

out=$(drun --runtime runc "$SELENIUM" sh -c "$SHOW_SHM")
expect_eq "Selenium image under plain runc (no shim, no hook)" "$(shm_kb "$out")" "$KB_64M"

out=$(drun --runtime shm --shm-size 4g "$SELENIUM" sh -c "$SHOW_SHM")
expect_eq "--shm-size 4g is kept (grow only)" "$(shm_kb "$out")" "$KB_4G"

# --ipc=host: the policy matches, yet the host's /dev/shm keeps its size and device.
host_dev=$(dev_of /dev/shm)
out=$(drun --runtime shm --ipc=host "$SELENIUM" sh -c "$SHOW_SHM")
expect_eq "--ipc=host: the container sees the host's /dev/shm" "$(shm_kb "$out")" "$HOST_SHM_KB"
expect_eq "--ipc=host: the host's /dev/shm size is unchanged" "$(kb_of /dev/shm)" "$HOST_SHM_KB"
expect_eq "--ipc=host: the host's /dev/shm device is unchanged" "$(dev_of /dev/shm)" "$host_dev"

# --ipc=shareable: Docker's tmpfs at <data-root>/containers/<id>/mounts/shm grows in place.
share=engines-docker-share-$$
id=$(docker run -d --runtime shm --network none --ipc=shareable --name "$share" "$SELENIUM" \
        sh -c 'echo from-first >/dev/shm/marker; sleep 300')
host_shm=$D/root/containers/$id/mounts/shm
expect_eq "--ipc=shareable: the host tmpfs $host_shm" "$(kb_of "$host_shm")" "$KB_2G"
expect_eq "--ipc=shareable: that tmpfs is a mount of its own" \
        "$(findmnt -rn -o FSTYPE --mountpoint "$host_shm")" tmpfs
out=$(docker exec "$share" sh -c "$SHOW_SHM" 2>&1)
expect_eq "--ipc=shareable: inside the first container" "$(shm_kb "$out")" "$KB_2G"

bundle_config=$D/exec/containerd/daemon/io.containerd.runtime.v2.task/moby/$id/config.json
if [ -f "$bundle_config" ]; then
        expect_eq "the shim added one prestart hook to config.json" \
                "$(jq --arg h "$HOOK" '[.hooks.prestart[]? | select(.path == $h)] | length' "$bundle_config")" 1
        expect_eq "the hook entry forwards OCI_SHM_HOOK_POLICY, has env and timeout" \
                "$(jq -c --arg h "$HOOK" '.hooks.prestart[] | select(.path == $h) | [.args, (.env | length > 0), .timeout]' "$bundle_config")" \
                "[[\"oci-shm-hook\",\"--policy\",\"$POLICY\",\"prestart\"],true,10]"
else
        fail "no bundle config.json at $bundle_config"
fi

out=$(drun --runtime shm --ipc="container:$share" engines-plain:1 \
        sh -c "$SHOW_SHM; cat /dev/shm/marker")
expect_eq "--ipc=container: the second container sees the grown size" "$(shm_kb "$out")" "$KB_2G"
expect_contains "--ipc=container: the second container sees the first one's file" "$out" from-first
out=$(drun --runtime shm --ipc="container:$share" engines-sidecar:1 sh -c "$SHOW_SHM")
expect_eq "--ipc=container: a sidecar asking 512m does not shrink it" "$(shm_kb "$out")" "$KB_2G"
expect_eq "--ipc=shareable: the host tmpfs after the sidecar" "$(kb_of "$host_shm")" "$KB_2G"
docker rm -f "$share" >/dev/null

# An image symlink data -> /dev/shm and a host tmpfs bound at /data: the runtime
# mounts the host tmpfs over /dev/shm. The hook must refuse it, not resize it.
mkdir -p "$WORK/symlink-root" "$D/victim"
tar -C "$WORK/symlink-root" -xf "$WORK/rootfs.tar"
ln -s /dev/shm "$WORK/symlink-root/data"
tar -C "$WORK/symlink-root" -cf "$WORK/symlink.tar" .
docker import "$WORK/symlink.tar" "docker.io/selenium/symlinked:1" >/dev/null
mount -t tmpfs -o size=10m victim "$D/victim"
# Default --ipc=private: Docker mounts /data (the victim, onto /dev/shm) last.
if out=$(drun --runtime shm -v "$D/victim:/data" docker.io/selenium/symlinked:1 sh -c "$SHOW_SHM"); then
        fail "a host tmpfs over /dev/shm through an image symlink was accepted: $out"
else
        expect_contains "a host tmpfs over /dev/shm through a symlink is refused" "$out" \
                "is a tmpfs that config.json's /dev/shm entry did not make"
fi
expect_eq "the host tmpfs keeps its 10 MiB" "$(kb_of "$D/victim")" 10240
# --ipc=shareable: Docker's own tmpfs is bound over /dev/shm after /data, so the
# container sees that one (grown) and the victim, hidden below it, is untouched.
out=$(drun --runtime shm --ipc shareable -v "$D/victim:/data" docker.io/selenium/symlinked:1 sh -c "$SHOW_SHM")
expect_eq "--ipc=shareable: Docker's own tmpfs on top is the one grown" "$(shm_kb "$out")" "$KB_2G"
expect_eq "--ipc=shareable: the host tmpfs below it keeps its 10 MiB" "$(kb_of "$D/victim")" 10240
umount "$D/victim"

# Errors of the shim reach the user and the container does not start.
if out=$(drun --runtime shmbad "$SELENIUM" true); then
        fail "a shim that cannot find the real runtime let the container start"
else
        expect_contains "the shim's error is shown by docker run" "$out" \
                "OCI runtime create failed: oci-shm-runtime: error: OCI_SHM_RUNTIME '/nonexistent/runc' is not an executable file"
fi

stop_dockerd
expect_eq "dockerd stopped" "$(kill -0 "$DOCKERD_PID" 2>/dev/null && echo running || echo stopped)" stopped
expect_eq "its containerd stopped" "$(kill -0 "$CONTAINERD_PID" 2>/dev/null && echo running || echo stopped)" stopped
expect_eq "no mount left below the test directory" "$(findmnt -rn -o TARGET | grep -cF "$D" || true)" 0
finish
