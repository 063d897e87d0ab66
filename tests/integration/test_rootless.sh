#!/bin/bash
# Rootless Podman gets the node policy (issue 11). A user made here runs
# podman with their own storage; the hook, its hooks.d JSON and the node
# policy are installed root-owned as the package installs them. All of it
# runs in a private mount namespace whose /dev/shm stands for the host's and
# whose /dev/log is a listener (the machine's /dev is not touched).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/engines/private-ns.sh"
# shellcheck disable=SC2034 # read by lib.sh
ID_PREFIX=integ
source "$HERE/lib.sh"
source "$HERE/engines/common.sh"
need_root
need podman catatonit runc busybox jq findmnt newuidmap newgidmap setpriv useradd userdel python3

# The user's processes must be able to reach everything below.
chmod 0755 "$WORK"
LOG=$WORK/syslog.txt
private_dev_log "$LOG"
host_dev=$(dev_of /dev/shm)

# --- installed the way the package installs it, root-owned -----------------
NODE=$WORK/node
install -d -m 0755 "$NODE/libexec" "$NODE/etc" "$NODE/hooks.d"
install -m 0755 "$HOOK" "$NODE/libexec/oci-shm-hook"
NODE_HOOK=$NODE/libexec/oci-shm-hook
NODE_POLICY=$NODE/etc/policy.conf
cat >"$NODE_POLICY" <<'EOF'
image=selenium/*                     shm=2g
image=*/ipc-bridge:*                 shm=host
annotation:example.com/shm-pct=yes   shm=10%
annotation:oci-shm-hook/size=*       shm=request  max=4g
EOF
chmod 0644 "$NODE_POLICY"
# shipped_json POLICY: config/oci-shm-hook.json naming the installed hook and POLICY.
shipped_json() {
        jq --arg hook "$NODE_HOOK" --arg policy "$1" \
                '.hook.path = $hook | .hook.args = [.hook.args[0], "--policy", $policy] + .hook.args[1:]' \
                "$SRC_TOP/config/oci-shm-hook.json"
}
shipped_json "$NODE_POLICY" >"$NODE/hooks.d/oci-shm-hook.json"
chmod 0644 "$NODE/hooks.d/oci-shm-hook.json"

# A tmpfs of the initial namespace that the user can bind (mounted before
# the user's namespaces are made, so they see it).
ROOT_TMPFS=$WORK/root-tmpfs
mkdir -p "$ROOT_TMPFS"
mount -t tmpfs -o size=1m,mode=1777 rl-root "$ROOT_TMPFS"

# --- the user --------------------------------------------------------------
cp /etc/subuid "$WORK/subuid.orig"
cp /etc/subgid "$WORK/subgid.orig"
make_rootless_user "ocishm-rl$$"
if ! as_rootless_user unshare --user --map-root-user true 2>/dev/null; then
        [ "${CI:-}" != true ] || { echo "FAIL: users cannot make user namespaces here" >&2; exit 1; }
        skip "users cannot make user namespaces here (kernel.unprivileged_userns_clone, user.max_user_namespaces)"
fi
CONF_DIR=$RL_HOME/.config/containers
# write_user_conf [HOOKS_DIR...]: the user's containers.conf. The VM cannot
# set Podman's default rlimits: default_ulimits covers pods' infra containers.
write_user_conf() {
        local dirs
        dirs=$(printf '"%s", ' "$@")
        as_rootless_user mkdir -p "$CONF_DIR"
        {
                printf '[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\n'
                [ $# -eq 0 ] || printf '[engine]\nhooks_dir = [%s]\n' "${dirs%, }"
        } | as_rootless_user sh -c "cat >'$CONF_DIR/containers.conf'"
}
write_user_conf
PU=(as_rootless_user podman --runtime=runc --cgroup-manager=cgroupfs --events-backend=file)
ULIMITS=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
cleanup_user_podman() {
        "${PU[@]}" pod rm -af -t 0 >/dev/null 2>&1 || true
        "${PU[@]}" rm -af -t 0 >/dev/null 2>&1 || true
        "${PU[@]}" system reset -f >/dev/null 2>&1 || true
}
add_cleanup cleanup_user_podman
add_cleanup "umount_below '$WORK'"

expect_eq "podman runs rootless as $RL_USER" \
        "$("${PU[@]}" info --format '{{.Host.Security.Rootless}}' 2>/dev/null)" true

SELENIUM_FULL=docker.io/$SELENIUM
PLAIN=localhost/rootless-plain:1
BRIDGE=docker.io/example/ipc-bridge:1
engines_image_tar "$WORK/rootfs.tar"
chmod 0644 "$WORK/rootfs.tar"
for image in "$SELENIUM_FULL" "$PLAIN" "$BRIDGE"; do
        "${PU[@]}" import -q "$WORK/rootfs.tar" "$image" >/dev/null
done

# node_run ARGS...: a rootless container with the node's hooks.d, as the package installs it.
# A container that fails to start prints EXIT=STATUS.
node_run() {
        "${PU[@]}" --hooks-dir "$NODE/hooks.d" run --rm --network=none "${ULIMITS[@]}" "$@" 2>&1 ||
                echo "EXIT=$?"
}
# expect_shm WHAT OUTPUT KB: the container printed SHM_KB=KB (else show all it printed).
expect_shm() {
        if [ "$(shm_kb "$2")" = "$3" ]; then
                pass "$1 ($3)"
        else
                fail "$1: expected SHM_KB=$3 in: $2"
        fi
}
# log_for ID: the lines logged about container ID (after a short wait for delivery).
log_for() {
        sleep 0.3
        grep -F "container=$1" "$LOG" || true
}
DECISION="userns=rootless uid=$RL_UID"

# The trust rule, as the hook sees it in the user's namespace and in the initial one.
expect_eq "in the user's namespace root's policy shows as the overflow uid" \
        "$("${PU[@]}" unshare stat -c %u "$NODE_POLICY" 2>&1)" 65534
out=$("${PU[@]}" unshare "$NODE_HOOK" check --policy "$NODE_POLICY" 2>&1) || true
expect_eq "in the user's namespace, root's policy (shown as the overflow uid) is accepted" \
        "$out" "policy OK: 4 rules in 1 file"

# --- the node policy -------------------------------------------------------
out=$(node_run "$SELENIUM_FULL" sh -c "$SHOW_SHM")
expect_shm "Selenium image, rootless: /dev/shm" "$out" "$KB_2G"
out=$(node_run "$PLAIN" sh -c "$SHOW_SHM")
expect_shm "unmatched image, rootless: Podman's 64000k" "$out" 64000
out=$(node_run --ipc=none "$SELENIUM_FULL" sh -c "$SHOW_SHM")
expect_shm "--ipc=none (no /dev/shm): a fresh tmpfs of the policy size" "$out" "$KB_2G"

# The decision line says the container is rootless, and whose.
cid=$("${PU[@]}" --hooks-dir "$NODE/hooks.d" run -d --network=none "${ULIMITS[@]}" \
        "$SELENIUM_FULL" sleep 300)
line=$(log_for "$cid")
expect_contains "decision line: the image" "$line" "image=$SELENIUM_FULL "
expect_contains "decision line: the rule" "$line" "rule=$NODE_POLICY:1 "
expect_contains "decision line: grown in place" "$line" "result=grown"
expect_contains "decision line: $DECISION" "$line" "$DECISION"
"${PU[@]}" rm -f -t 0 "$cid" >/dev/null

# shm=N%: no memory limit rootless on cgroup v1, so of the host's memory.
total=$(($(getconf _PHYS_PAGES) * $(getconf PAGESIZE)))
# shellcheck disable=SC2017 # the hook's own arithmetic, which cannot overflow
pct=$((total / 100 * 10 + total % 100 * 10 / 100))
out=$(node_run --annotation example.com/shm-pct=yes "$PLAIN" sh -c "$SHOW_SHM")
expect_shm "shm=10% rootless: of the host's memory" "$out" $(((pct & ~4095) / 1024))
# With --memory: Podman applies no limit rootless on cgroup v1 (it says so), so still of
# the host's memory there; of the limit where it applies one.
out=$(node_run --memory 1g --annotation example.com/shm-pct=yes "$PLAIN" sh -c "$SHOW_SHM")
if [ "$("${PU[@]}" info --format '{{.Host.CgroupsVersion}}' 2>/dev/null)" = v1 ]; then
        expect_shm "shm=10% with --memory 1g, rootless cgroup v1 (no limit): of the host's memory" \
                "$out" $(((pct & ~4095) / 1024))
else
        expect_shm "shm=10% with --memory 1g: of the limit" "$out" $((((1073741824 / 10) & ~4095) / 1024))
fi

# shm=request: the annotation asks; an invalid value refuses the container, saying why.
out=$(node_run --annotation oci-shm-hook/size=1536m "$PLAIN" sh -c "$SHOW_SHM")
expect_shm "shm=request rootless: 1536m" "$out" 1572864
out=$(node_run --annotation oci-shm-hook/size=8g "$PLAIN" sh -c "$SHOW_SHM")
expect_shm "shm=request rootless: clamped to max=4g" "$out" "$KB_4G"
out=$(node_run --annotation oci-shm-hook/size=lots "$PLAIN" sh -c "$SHOW_SHM")
expect_contains "shm=request with an invalid value: the container is refused" "$out" "EXIT="
expect_contains "the refusal names the annotation" "$out" "annotation 'oci-shm-hook/size'"
expect_contains "the refusal's decision line says $DECISION" "$out" "$DECISION"

# shm=host: the user can bind the host's /dev/shm anyway; the hook never resizes it.
marker=oci-shm-rootless-$$-$RANDOM
out=$(node_run "$BRIDGE" sh -c "echo from-rootless >/dev/shm/$marker; $SHOW_SHM")
expect_shm "shm=host rootless: the container sees the host's /dev/shm" "$out" "$HOST_SHM_KB"
expect_eq "shm=host rootless: the container's file is on the host" \
        "$(cat "/dev/shm/$marker" 2>/dev/null)" from-rootless
expect_eq "shm=host rootless: the file belongs to the user" "$(stat -c %u "/dev/shm/$marker" 2>/dev/null)" "$RL_UID"
rm -f "/dev/shm/$marker"
expect_eq "shm=host rootless: the host's /dev/shm size is unchanged" "$(kb_of /dev/shm)" "$HOST_SHM_KB"
expect_eq "shm=host rootless: the host's /dev/shm device is unchanged" "$(dev_of /dev/shm)" "$host_dev"

# A node policy the user cannot read (0600): what cannot work rootless fails as a
# broken policy does, the container starts as Podman made it, and the log says why.
chmod 0600 "$NODE_POLICY"
out=$(node_run "$SELENIUM_FULL" sh -c "$SHOW_SHM")
expect_shm "a node policy the user cannot read: the container starts unchanged" "$out" 64000
expect_contains "an unreadable node policy: the log names the file and the reason" \
        "$(sleep 0.3; grep -F "$NODE_POLICY" "$LOG" || true)" "policy $NODE_POLICY:0: cannot open: Permission denied"
chmod 0644 "$NODE_POLICY"

# A pod: both containers bind the infra container's tmpfs, grown in place.
pod=rootless-pod-$$
"${PU[@]}" --hooks-dir "$NODE/hooks.d" pod create --name "$pod" --network=none >/dev/null
"${PU[@]}" --hooks-dir "$NODE/hooks.d" run -d --pod "$pod" --name "$pod-browser" "${ULIMITS[@]}" \
        "$SELENIUM_FULL" sh -c 'stat -c %d /dev/shm >/dev/shm/dev-a; echo from-browser >/dev/shm/marker; sleep 300' >/dev/null
for _ in $(seq 50); do
        "${PU[@]}" exec "$pod-browser" sh -c '[ -s /dev/shm/marker ]' 2>/dev/null && break
        sleep 0.1
done
out=$(node_run --pod "$pod" "$PLAIN" sh -c "$SHOW_SHM; echo DEV=\$(stat -c %d /dev/shm); echo DEVA=\$(cat /dev/shm/dev-a); cat /dev/shm/marker")
expect_shm "pod rootless: the second container sees the grown size" "$out" "$KB_2G"
expect_contains "pod rootless: the second container reads the browser's file" "$out" from-browser
dev_b=$(sed -n 's/^DEV=//p' <<<"$out")
expect_eq "pod rootless: both containers have the same /dev/shm device" \
        "$(sed -n 's/^DEVA=//p' <<<"$out")" "${dev_b:-none}"
"${PU[@]}" pod rm -f -t 0 "$pod" >/dev/null

# --- a policy the user owns, through their own containers.conf -------------
USER_HOOKS=$RL_HOME/hooks.d
USER_POLICY=$RL_HOME/shm-policy.conf
printf 'shm=3g\n' | as_rootless_user sh -c "umask 022; cat >'$USER_POLICY'"
shipped_json "$USER_POLICY" | as_rootless_user sh -c "umask 022; mkdir -p '$USER_HOOKS'; cat >'$USER_HOOKS/oci-shm-hook.json'"
# The same file name in a later directory replaces the node's entry, as in hooks.d.
write_user_conf "$NODE/hooks.d" "$USER_HOOKS"
user_run() {
        "${PU[@]}" run --rm --network=none "${ULIMITS[@]}" "$@" 2>&1 || echo "EXIT=$?"
}
out=$(user_run "$PLAIN" sh -c "$SHOW_SHM")
expect_shm "the user's own policy is honoured for their container" "$out" $((3 * 1024 * 1024))
out=$(user_run -v /dev/shm:/dev/shm "$PLAIN" sh -c "$SHOW_SHM")
expect_shm "user's policy, -v /dev/shm:/dev/shm: the container starts with the host's" "$out" "$HOST_SHM_KB"
out=$(user_run --ipc=host "$PLAIN" sh -c "$SHOW_SHM")
expect_shm "user's policy, --ipc=host: the container starts with the host's" "$out" "$HOST_SHM_KB"
expect_eq "user's policy: the host's /dev/shm size is unchanged" "$(kb_of /dev/shm)" "$HOST_SHM_KB"
out=$(user_run -v "$ROOT_TMPFS:/dev/shm" "$PLAIN" sh -c "$SHOW_SHM")
expect_shm "user's policy, a root-made tmpfs at /dev/shm: the container starts with it" "$out" 1024
expect_eq "user's policy: the root-made tmpfs is unchanged" "$(kb_of "$ROOT_TMPFS")" 1024
# The fallback mount path (mount(2) on /proc/thread-self/fd/N) works rootless too.
shipped_json "$USER_POLICY" | jq '.hook.args = .hook.args[:-1] + ["--mount-api", "legacy"] + .hook.args[-1:]' |
        as_rootless_user sh -c "cat >'$USER_HOOKS/oci-shm-hook.json'"
out=$(user_run "$PLAIN" sh -c "$SHOW_SHM")
expect_shm "user's policy, --mount-api legacy: grown" "$out" $((3 * 1024 * 1024))
out=$(user_run --ipc=none "$PLAIN" sh -c "$SHOW_SHM")
expect_shm "user's policy, --mount-api legacy, --ipc=none: a fresh tmpfs" "$out" $((3 * 1024 * 1024))
shipped_json "$USER_POLICY" | as_rootless_user sh -c "cat >'$USER_HOOKS/oci-shm-hook.json'"
# Root's containers never read it.
RP=(podman --root "$WORK/rootful/storage" --runroot "$WORK/rootful/run" --tmpdir "$WORK/rootful/tmp"
        --runtime=runc --cgroup-manager=cgroupfs --events-backend=file --hooks-dir "$NODE/hooks.d")
add_cleanup "${RP[*]} rm -af -t 0; ${RP[*]} rmi -af"
"${RP[@]}" import -q "$WORK/rootfs.tar" "$PLAIN" >/dev/null
out=$("${RP[@]}" run --rm --network=none "${ULIMITS[@]}" "$PLAIN" sh -c "$SHOW_SHM" 2>&1 || echo "EXIT=$?")
expect_shm "root's container with the node hooks.d: the user's policy does not apply" "$out" 64000
out=$("$NODE_HOOK" check --policy "$USER_POLICY" 2>&1) || true
expect_contains "in the initial namespace the user's policy is refused" "$out" "not owned by root"

# Group-writable: refused in the user's namespace too; the container starts unchanged.
chmod 0664 "$USER_POLICY"
out=$("${PU[@]}" unshare "$NODE_HOOK" check --policy "$USER_POLICY" 2>&1) || true
expect_contains "a group-writable policy is refused rootless" "$out" "refusing it: group or others can write it"
out=$(user_run "$PLAIN" sh -c "$SHOW_SHM")
expect_shm "a group-writable policy: the container starts as Podman made it" "$out" 64000
expect_contains "the refusal is logged, naming the file" "$(sleep 0.3; grep -F "$USER_POLICY" "$LOG" || true)" \
        "refusing it: group or others can write it"
as_rootless_user mkdir -m 0775 "$RL_HOME/policy.d"
out=$("${PU[@]}" unshare "$NODE_HOOK" check --policy "$RL_HOME/policy.d" 2>&1) || true
expect_contains "a group-writable policy directory is refused rootless" "$out" \
        "$RL_HOME/policy.d: refusing it: group or others can write it"

# --- nothing left behind ---------------------------------------------------
cleanup_user_podman
kill_rootless_user_processes
expect_eq "no process of the user is left" "$(rootless_user_pids | wc -l)" 0
remove_rootless_user
expect_eq "the user's home is gone" "$(ls -d "$RL_HOME" 2>/dev/null || true)" ""
expect_eq "the user is gone" "$(getent passwd "$RL_USER" || true)" ""
expect_eq "/etc/subuid is as it was" "$(cmp -s /etc/subuid "$WORK/subuid.orig" && echo same)" same
expect_eq "/etc/subgid is as it was" "$(cmp -s /etc/subgid "$WORK/subgid.orig" && echo same)" same
expect_eq "the host's /dev/shm size at the end" "$(kb_of /dev/shm)" "$HOST_SHM_KB"
expect_eq "nothing left in the host's /dev/shm but Podman's lock" \
        "$(find /dev/shm -mindepth 1 ! -name 'libpod_*lock*' | wc -l)" 0
finish
