#!/bin/bash
# Phase: the Kubernetes rollout. Validates every manifest in packaging/kubernetes
# against the Kubernetes schema (npm kubernetes-models, strict about unknown
# fields), and runs packaging/kubernetes/install-node.sh under dash against a
# fake node root: install, idempotent re-install, CRI-O and containerd
# registration, the policy update path (valid copied, invalid refused and the
# old one kept), the watch loop, and an uninstall that leaves the node as it was.
# Env: BUILD = the build directory (for the binaries). Run from the repo top.
set -euo pipefail
TOP=$(pwd)
BUILD=$(realpath -m "${BUILD:-$TOP/build}") # absolute: hooks and phases run elsewhere
export OCI_SHM_HOOK_BIN=$BUILD/oci-shm-hook
# shellcheck source=../integration/lib.sh
source "$TOP/tests/integration/lib.sh"

# Tools this phase needs beyond tests/packages.txt (CI may run on a fresh machine).
missing=
for tool in shellcheck:shellcheck node:nodejs npm:npm dash:dash python3:python3 jq:jq; do
        command -v "${tool%%:*}" >/dev/null 2>&1 || missing="$missing ${tool#*:}"
done
if [ -n "$missing" ] && [ "$(id -u)" = 0 ]; then
        echo "installing:$missing"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        # shellcheck disable=SC2086
        apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
need node npm jq dash python3 shellcheck
K8S=$TOP/packaging/kubernetes
INSTALLER=$K8S/install-node.sh

# ---- manifests against the schema ----
echo "--- manifests"
cp "$TOP/tests/packaging/package.json" "$TOP/tests/packaging/package-lock.json" \
        "$TOP/tests/packaging/validate-manifests.mjs" "$WORK/"
(cd "$WORK" && npm ci --no-audit --no-fund --loglevel=error >npm.log 2>&1) || {
        cat "$WORK/npm.log"
        fail "npm ci (kubernetes-models, yaml)"
        finish
}
mapfile -t manifests < <(find "$K8S" -name '*.yaml' | sort)
[ "${#manifests[@]}" -ge 4 ] || fail "expected at least 4 manifests, found ${#manifests[@]}"
if out=$(cd "$WORK" && node validate-manifests.mjs --self-test 2>&1); then
        pass "validator self-test: bad manifests are refused"
else
        fail "validator self-test: $out"
fi
echo "$out"
if out=$(cd "$WORK" && node validate-manifests.mjs "${manifests[@]}" 2>&1); then
        pass "all ${#manifests[@]} manifests valid against the Kubernetes schema"
else
        fail "manifests: $out"
fi
echo "$out"

# The ConfigMap's policy is one the hook accepts.
(cd "$WORK" && node -e '
        const YAML = require("yaml"); const fs = require("fs");
        const cm = YAML.parse(fs.readFileSync(process.argv[1], "utf8"));
        process.stdout.write(cm.data["policy.conf"]);' "$K8S/configmap.yaml") >"$WORK/cm-policy.conf"
if out=$("$HOOK" check --policy "$WORK/cm-policy.conf" 2>&1); then
        pass "the ConfigMap's policy passes oci-shm-hook check ($out)"
else
        fail "the ConfigMap's policy: $out"
fi

# ---- the installer ----
echo "--- install-node.sh"
if shellcheck -s sh "$INSTALLER"; then pass "install-node.sh is clean POSIX sh (shellcheck -s sh)"; else fail "shellcheck"; fi

# The image's layout, from this build.
PAYLOAD=$WORK/payload
mkdir -p "$PAYLOAD/bin" "$PAYLOAD/containerd"
cp "$BUILD/oci-shm-hook" "$BUILD/oci-shm-runtime" "$PAYLOAD/bin/"
cp "$TOP/config/oci-shm-hook.json" "$PAYLOAD/"
cp "$TOP/config/containerd/base-runtime-spec.json" "$PAYLOAD/containerd/"

# A fake node with things of its own that must survive.
NODE=$WORK/node
mkdir -p "$NODE/etc/containerd" "$NODE/usr/share/containers/oci/hooks.d" "$NODE/run/crio" \
        "$NODE/run/containerd" "$NODE/usr/libexec"
echo node-1 >"$NODE/etc/hostname"
printf 'version = 2\n[plugins."io.containerd.grpc.v1.cri"]\n  sandbox_image = "pause:3.9"\n' \
        >"$NODE/etc/containerd/config.toml"
echo '{"version":"1.0.0","hook":{"path":"/bin/true"},"when":{"always":true},"stages":["prestart"]}' \
        >"$NODE/usr/share/containers/oci/hooks.d/other-vendor.json"
# Engines are detected by their sockets.
python3 -c 'import socket, sys
for p in sys.argv[1:]:
    socket.socket(socket.AF_UNIX).bind(p)' "$NODE/run/crio/crio.sock" "$NODE/run/containerd/containerd.sock"

snapshot() { # the whole tree: type, mode, path and content hash
        (cd "$NODE" && find . -printf '%y %m %p\n' | sort && find . -type f -print0 | sort -z |
                xargs -0 sha256sum)
}
snapshot >"$WORK/node-before"

# The ConfigMap volume: files are symlinks through ..data, swapped on update.
CM=$WORK/configmap
cm_set() { configmap_publish "$CM" "$1"; } # as the kubelet publishes a new version
mkdir -p "$CM"
cm_set "image=selenium/* shm=2g"

RESTARTED=$WORK/containerd-restarted
run_installer() { # run_installer ARGS...: dash, with the fake node; output in $out, status in $rc
        rc=0
        out=$(env NODE_ROOT="$NODE" PAYLOAD="$PAYLOAD" POLICY_SOURCE="$CM/policy.conf" \
                STATUS_DIR="$WORK/status" CONTAINERD_RESTART_COMMAND="touch $RESTARTED" \
                "${EXTRA_ENV[@]}" dash "$INSTALLER" "$@" 2>&1) || rc=$?
}
mkdir -p "$WORK/status"
EXTRA_ENV=(ENGINE=auto)

HOOKDIR=/usr/libexec/oci/hooks.d
SPEC=/etc/containerd/oci-shm-base-runtime-spec.json
CRIO_JSON=/usr/share/containers/oci/hooks.d/oci-shm-hook.json

# 1. A fresh install.
run_installer install
expect_eq "install exits 0" "$rc" 0
echo "$out"
for prog in oci-shm-hook oci-shm-runtime; do
        if cmp -s "$BUILD/$prog" "$NODE$HOOKDIR/$prog" && [ -x "$NODE$HOOKDIR/$prog" ]; then
                pass "$prog copied to $HOOKDIR, executable"
        else
                fail "$prog not copied to $HOOKDIR"
        fi
done
expect_eq "binaries are mode 755" "$(stat -c %a "$NODE$HOOKDIR/oci-shm-hook")" 755
expect_eq "the policy is the ConfigMap's" "$(cat "$NODE/etc/oci-shm-hook/policy.conf")" "image=selenium/* shm=2g"
expect_eq "policy.conf is mode 644" "$(stat -c %a "$NODE/etc/oci-shm-hook/policy.conf")" 644
[ -d "$NODE/etc/oci-shm-hook/policy.d" ] && pass "policy.d/ created" || fail "policy.d/ missing"
# CRI-O: hooks.d JSON naming the installed hook.
expect_eq "CRI-O hooks.d JSON: hook path" "$(jq -r .hook.path "$NODE$CRIO_JSON")" "$HOOKDIR/oci-shm-hook"
expect_eq "CRI-O hooks.d JSON: version, stage, args" \
        "$(jq -c '[.version, .stages, .hook.args, .when.always, (.hook.timeout > 0), (.hook.env | length > 0)]' "$NODE$CRIO_JSON")" \
        '["1.0.0",["prestart"],["oci-shm-hook","prestart"],true,true,true]'
# containerd: a complete base spec with the createRuntime hook, and a plain notice.
expect_eq "containerd base spec: createRuntime hook" \
        "$(jq -c '.hooks.createRuntime[0] | [.path, .args]' "$NODE$SPEC")" \
        "[\"$HOOKDIR/oci-shm-hook\",[\"oci-shm-hook\",\"createRuntime\"]]"
expect_eq "containerd base spec: still a whole spec (process, mounts, /dev/shm)" \
        "$(jq -c '[(.process.capabilities.bounding | length > 0), ([.mounts[].destination] | index("/dev/shm") != null), .root.path]' "$NODE$SPEC")" \
        '[true,true,"rootfs"]'
expect_contains "containerd: says it is not in use yet" "$out" "containerd does not use the hook yet"
expect_contains "containerd: gives the config.toml line" "$out" "base_runtime_spec = \"$SPEC\""
expect_contains "containerd: says a restart is needed" "$out" "RESTART containerd"
[ ! -e "$RESTARTED" ] && pass "containerd not restarted without RESTART_CONTAINERD=1" || fail "containerd restarted"
expect_eq "config.toml untouched" "$(grep -c base_runtime_spec "$NODE/etc/containerd/config.toml" || true)" 0
expect_eq "the other vendor's hook untouched" "$(jq -r .hook.path "$NODE/usr/share/containers/oci/hooks.d/other-vendor.json")" /bin/true
# The installed hook works from the node's copy and accepts the node's policy.
expect_contains "the node's hook checks the node's policy" \
        "$("$NODE$HOOKDIR/oci-shm-hook" check --policy "$NODE/etc/oci-shm-hook/policy.conf")" "policy OK: 1 rule"

# 2. Re-install: idempotent.
snapshot >"$WORK/node-installed"
run_installer install
expect_eq "re-install exits 0" "$rc" 0
if diff -u "$WORK/node-installed" <(snapshot) >/dev/null; then
        pass "re-install changes nothing on the node"
else
        fail "re-install changed the node: $(diff -u "$WORK/node-installed" <(snapshot))"
fi
expect_eq "re-install reports nothing changed" "$(grep -c ' changed' <<<"$out" || true)" 0
expect_eq "no duplicate manifest lines" "$(sort "$NODE/etc/oci-shm-hook/.installed-by-daemonset" | uniq -d | wc -l)" 0

# 3. containerd in use: restart only when asked.
printf '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]\n  base_runtime_spec = "%s"\n' "$SPEC" \
        >>"$NODE/etc/containerd/config.toml"
run_installer install
expect_contains "containerd configured, spec unchanged: nothing to restart" "$out" "nothing to restart"
echo '{}' >"$NODE$SPEC" # an older spec on the node
run_installer install
expect_contains "containerd spec changed: says containerd must be restarted" "$out" "containerd must be RESTARTED"
[ ! -e "$RESTARTED" ] && pass "...and does not restart it" || fail "restarted containerd without being asked"
expect_eq "the spec was rewritten" "$(jq -r '.hooks.createRuntime[0].path' "$NODE$SPEC")" "$HOOKDIR/oci-shm-hook"
echo '{}' >"$NODE$SPEC"
EXTRA_ENV=(ENGINE=auto RESTART_CONTAINERD=1)
run_installer install
[ -e "$RESTARTED" ] && pass "RESTART_CONTAINERD=1 restarts containerd when the spec changed" || fail "no restart: $out"
EXTRA_ENV=(ENGINE=auto)

# 4. Policy updates.
cm_set "image=selenium/* shm=4g
image=pytorch/* shm=50% max=8g"
run_installer sync
expect_eq "sync of a valid new policy exits 0" "$rc" 0
expect_eq "the new policy is on the node" "$(cat "$NODE/etc/oci-shm-hook/policy.conf")" \
        "$(printf 'image=selenium/* shm=4g\nimage=pytorch/* shm=50%% max=8g')"
good=$(cat "$NODE/etc/oci-shm-hook/policy.conf")
cm_set "image=selenium/* shm=4g
image=pytorch/* shm=lots"
run_installer sync
expect_eq "sync of an invalid policy exits 1" "$rc" 1
expect_eq "the node keeps its policy" "$(cat "$NODE/etc/oci-shm-hook/policy.conf")" "$good"
expect_contains "the refusal names the line" "$out" "policy.conf (ConfigMap):2:"
expect_contains "the refusal says the old policy stays" "$out" "keeps its current policy"
[ -e "$WORK/status/policy-rejected" ] && pass "rejected policy marked for the readiness probe" || fail "no status file"
expect_eq "no temporary files left on the node" "$(find "$NODE" -name '*oci-shm-tmp*' | wc -l)" 0
run_installer sync
expect_eq "the same invalid policy again: still refused" "$rc" 1
expect_eq "...without repeating the warning" "$out" ""
run_installer install
expect_eq "install with an invalid ConfigMap policy fails" "$rc" 1
expect_eq "...and keeps the node's policy" "$(cat "$NODE/etc/oci-shm-hook/policy.conf")" "$good"

# The watch loop picks up a ConfigMap swap.
cm_set "image=selenium/* shm=3g"
env NODE_ROOT="$NODE" PAYLOAD="$PAYLOAD" POLICY_SOURCE="$CM/policy.conf" STATUS_DIR="$WORK/status" \
        SYNC_INTERVAL=1 dash "$INSTALLER" watch >"$WORK/watch.log" 2>&1 &
watch_pid=$!
add_cleanup "kill $watch_pid"
for _ in $(seq 50); do
        [ "$(cat "$NODE/etc/oci-shm-hook/policy.conf")" = "image=selenium/* shm=3g" ] && break
        sleep 0.2
done
expect_eq "watch installs the ConfigMap's new policy" "$(cat "$NODE/etc/oci-shm-hook/policy.conf")" "image=selenium/* shm=3g"
[ ! -e "$WORK/status/policy-rejected" ] && pass "watch clears the rejected mark once valid" || fail "status file left"
cm_set "shm=nonsense"
sleep 2.5
expect_eq "watch refuses an invalid policy" "$(cat "$NODE/etc/oci-shm-hook/policy.conf")" "image=selenium/* shm=3g"
kill "$watch_pid" 2>/dev/null || true
wait "$watch_pid" 2>/dev/null || true
expect_eq "watch warned once about it" "$(grep -c 'keeps its current policy' "$WORK/watch.log")" 1
cm_set "image=selenium/* shm=2g"

# 5. An admin's drop-in survives uninstall, with its directory.
echo "image=postgres shm=1g" >"$NODE/etc/oci-shm-hook/policy.d/50-admin.conf"

# 6. Uninstall: refused while containerd still names the spec.
snapshot >"$WORK/node-pre-uninstall"
run_installer uninstall
expect_eq "uninstall refused while config.toml names the base spec" "$rc" 1
expect_contains "...saying why" "$out" "restart containerd"
if diff -u "$WORK/node-pre-uninstall" <(snapshot) >/dev/null; then
        pass "...and removes nothing"
else
        fail "refused uninstall changed the node"
fi
sed -i '/runtimes.runc\]/d; /base_runtime_spec/d' "$NODE/etc/containerd/config.toml"
run_installer uninstall
expect_eq "uninstall exits 0" "$rc" 0
echo "$out"
expect_eq "the admin's drop-in is kept" "$(cat "$NODE/etc/oci-shm-hook/policy.d/50-admin.conf")" "image=postgres shm=1g"
rm "$NODE/etc/oci-shm-hook/policy.d/50-admin.conf"
rmdir "$NODE/etc/oci-shm-hook/policy.d" "$NODE/etc/oci-shm-hook" 2>/dev/null || true
if diff -u "$WORK/node-before" <(snapshot); then
        pass "after uninstall the node is exactly as before install"
else
        fail "uninstall left the node different (diff above)"
fi
run_installer uninstall
expect_eq "uninstall again: nothing to do, exit 0" "$rc" 0

# 7. Never overwrite what is not ours: a hook from a package is there.
mkdir -p "$NODE$HOOKDIR"
echo "#!/bin/sh" >"$NODE$HOOKDIR/oci-shm-hook"
snapshot >"$WORK/node-foreign"
run_installer install
expect_eq "install refuses a node with someone else's oci-shm-hook" "$rc" 1
expect_contains "...saying so" "$out" "was not installed by this DaemonSet"
diff -q "$WORK/node-foreign" <(snapshot) >/dev/null && pass "...and writes nothing" || fail "refused install wrote files"
rm -r "$NODE/usr/libexec/oci"

# 8. Read-only /usr: the hook under /opt, CRI-O only.
EXTRA_ENV=(ENGINE=crio HOOK_DIR=/opt/oci-shm-hook/bin CRIO_HOOKS_DIR=/etc/containers/oci/hooks.d)
run_installer install
expect_eq "install to /opt exits 0" "$rc" 0
expect_eq "CRI-O JSON under /etc names the hook in /opt" \
        "$(jq -r .hook.path "$NODE/etc/containers/oci/hooks.d/oci-shm-hook.json")" /opt/oci-shm-hook/bin/oci-shm-hook
[ ! -e "$NODE$SPEC" ] && pass "ENGINE=crio writes no containerd spec" || fail "containerd spec written for ENGINE=crio"
run_installer uninstall
expect_eq "uninstall of the /opt layout exits 0" "$rc" 0
diff -u "$WORK/node-before" <(snapshot) >/dev/null && pass "node as before again" || fail "node differs: $(diff -u "$WORK/node-before" <(snapshot))"

# 9. Bad settings are refused before anything is written.
EXTRA_ENV=(ENGINE=docker)
run_installer install
expect_eq "ENGINE=docker refused" "$rc" 1
EXTRA_ENV=(ENGINE=crio HOOK_DIR=relative/dir)
run_installer install
expect_eq "a relative HOOK_DIR refused" "$rc" 1
EXTRA_ENV=(ENGINE=auto)
run_installer frobnicate
expect_eq "an unknown command is a usage error" "$rc" 2
diff -u "$WORK/node-before" <(snapshot) >/dev/null && pass "refusals wrote nothing" || fail "a refusal wrote files"

finish
