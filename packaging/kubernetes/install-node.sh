#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# install-node.sh: put oci-shm-hook on a Kubernetes node from the DaemonSet's
# containers, register it with the node's container engine, and keep the
# node's policy in step with the ConfigMap.
#
#   install-node.sh install     copy the binaries and the policy, register the hook
#   install-node.sh sync        install the ConfigMap's policy if it changed and is valid
#   install-node.sh watch       sync every $SYNC_INTERVAL seconds, forever
#   install-node.sh uninstall   remove what install wrote, and nothing else
#   install-node.sh idle        sleep forever (main container of the uninstall DaemonSet)
#
# The node's root file system (or the parts of it the DaemonSet mounts) is at
# $NODE_ROOT; every node path below is relative to it. Files this script
# writes are listed in $NODE_ROOT/etc/oci-shm-hook/.installed-by-daemonset:
# install never overwrites a file it did not write (a package's, an admin's),
# and uninstall removes exactly the files and directories listed there.
#
# Environment (defaults in brackets):
#   NODE_ROOT             the node's root as mounted in this container [/host]
#   PAYLOAD               the image's files: bin/, oci-shm-hook.json, containerd/ [this script's dir]
#   POLICY_SOURCE         the policy from the ConfigMap [/etc/oci-shm-hook-config/policy.conf]
#   ENGINE                crio, containerd, all, none or auto (by the engine's socket in /run) [auto]
#   HOOK_DIR              where the binaries go on the node [/usr/libexec/oci/hooks.d];
#                         use /opt/oci-shm-hook/bin on nodes whose /usr is read-only
#   CRIO_HOOKS_DIR        CRI-O's hooks.d directory [/usr/share/containers/oci/hooks.d]
#   CONTAINERD_CONFIG     [/etc/containerd/config.toml]
#   CONTAINERD_BASE_SPEC  the base runtime spec written for containerd
#                         [/etc/containerd/oci-shm-base-runtime-spec.json]
#   RESTART_CONTAINERD    1: restart containerd when its base spec changed; never otherwise [0]
#   CONTAINERD_RESTART_COMMAND  how [nsenter -t 1 -m -u -i -n -p -- systemctl restart containerd]
#                         (needs hostPID: true in the DaemonSet)
#   SYNC_INTERVAL         seconds between policy checks in watch mode [10]
#   STATUS_DIR            where watch marks a rejected policy, for the readiness probe [/tmp]
set -eu
umask 022

NODE_ROOT=${NODE_ROOT:-/host}
PAYLOAD=${PAYLOAD:-$(cd "$(dirname "$0")" && pwd)}
POLICY_SOURCE=${POLICY_SOURCE:-/etc/oci-shm-hook-config/policy.conf}
ENGINE=${ENGINE:-auto}
HOOK_DIR=${HOOK_DIR:-/usr/libexec/oci/hooks.d}
CRIO_HOOKS_DIR=${CRIO_HOOKS_DIR:-/usr/share/containers/oci/hooks.d}
CONTAINERD_CONFIG=${CONTAINERD_CONFIG:-/etc/containerd/config.toml}
CONTAINERD_BASE_SPEC=${CONTAINERD_BASE_SPEC:-/etc/containerd/oci-shm-base-runtime-spec.json}
RESTART_CONTAINERD=${RESTART_CONTAINERD:-0}
CONTAINERD_RESTART_COMMAND=${CONTAINERD_RESTART_COMMAND:-nsenter -t 1 -m -u -i -n -p -- systemctl restart containerd}
SYNC_INTERVAL=${SYNC_INTERVAL:-10}
STATUS_DIR=${STATUS_DIR:-/tmp}

CONF_DIR=/etc/oci-shm-hook
POLICY=$CONF_DIR/policy.conf
MANIFEST=$CONF_DIR/.installed-by-daemonset
SHIPPED_HOOK_PATH=/usr/libexec/oci/hooks.d/oci-shm-hook
HOOK_BIN=$PAYLOAD/bin/oci-shm-hook

log() { printf 'oci-shm-hook installer: %s\n' "$*"; }
warn() { printf 'oci-shm-hook installer: WARNING: %s\n' "$*" >&2; }
die() {
        printf 'oci-shm-hook installer: ERROR: %s\n' "$*" >&2
        exit 1
}

# ---- node paths and the manifest ----

node() { printf '%s%s' "$NODE_ROOT" "$1"; }

check_node_path() {
        case $1 in
        /*) ;;
        *) die "$2 '$1' is not an absolute path" ;;
        esac
        case $1 in
        *'"'* | *\\* | *' '* | *'|'* | *'&'* | */../* | */..) die "$2 '$1' has a character or '..' not allowed here" ;;
        esac
}

in_manifest() { # KIND PATH
        [ -f "$(node "$MANIFEST")" ] && grep -qxF "$1 $2" "$(node "$MANIFEST")"
}

add_manifest() { # KIND PATH
        in_manifest "$1" "$2" && return 0
        printf '%s %s\n' "$1" "$2" >>"$(node "$MANIFEST")"
}

# mkdir_tracked DIR: create DIR and its missing parents, remembering which we created.
# The manifest's own directory comes first, so it can hold the record.
mkdir_tracked() {
        _path=
        _rest=${1#/}
        _created=
        while [ -n "$_rest" ]; do
                _part=${_rest%%/*}
                case $_rest in
                */*) _rest=${_rest#*/} ;;
                *) _rest= ;;
                esac
                _path=$_path/$_part
                if [ ! -d "$(node "$_path")" ]; then
                        mkdir "$(node "$_path")" || die "cannot create $_path on the node"
                        _created="$_created $_path"
                fi
        done
        if [ ! -f "$(node "$MANIFEST")" ]; then
                : >"$(node "$MANIFEST")"
        fi
        for _d in $_created; do add_manifest d "$_d"; done
}

# put_file SRC DEST MODE: install SRC at node path DEST atomically. Prints
# "changed" or "unchanged". Refuses to replace a file that is not ours.
put_file() {
        _dest=$(node "$2")
        if [ -e "$_dest" ] && ! in_manifest f "$2"; then
                die "$2 exists on the node and was not installed by this DaemonSet (a package? an admin?); remove it or leave this node out"
        fi
        mkdir_tracked "${2%/*}"
        if [ -f "$_dest" ] && cmp -s "$1" "$_dest"; then
                add_manifest f "$2"
                echo unchanged
                return 0
        fi
        _tmp="$_dest.oci-shm-tmp.$$"
        if ! { cp "$1" "$_tmp" && chmod "$3" "$_tmp" && mv -f "$_tmp" "$_dest"; }; then
                rm -f "$_tmp"
                die "cannot write $2 on the node"
        fi
        add_manifest f "$2"
        echo changed
}

# ---- engines ----

detect_engines() {
        case $ENGINE in
        crio | containerd | none) echo "$ENGINE" ;;
        all) echo "crio containerd" ;;
        auto)
                _found=
                [ -S "$(node /run/crio/crio.sock)" ] && _found="$_found crio"
                [ -S "$(node /run/containerd/containerd.sock)" ] && _found="$_found containerd"
                echo "${_found# }"
                ;;
        *) die "ENGINE must be crio, containerd, all, none or auto, not '$ENGINE'" ;;
        esac
}

containerd_uses_spec() {
        _cfg=$(node "$CONTAINERD_CONFIG")
        [ -f "$_cfg" ] && grep -v '^[[:space:]]*#' "$_cfg" | grep -F 'base_runtime_spec' |
                grep -qF "\"$CONTAINERD_BASE_SPEC\""
}

containerd_notice() {
        cat <<EOF
oci-shm-hook installer: NOTICE: containerd does not use the hook yet.
  containerd has no hooks directory: it reads the hook from a base runtime spec,
  and only when it starts. Add to $CONTAINERD_CONFIG on this node
  (containerd 1.x, config version 2; for each runtime pods use, here runc):

    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      base_runtime_spec = "$CONTAINERD_BASE_SPEC"

  (containerd 2.x, config version 3: the table is
   [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc])
  then RESTART containerd: systemctl restart containerd. Running pods keep
  running; containers started afterwards get the hook. This installer never
  edits config.toml and restarts containerd only with RESTART_CONTAINERD=1.
EOF
}

register_crio() {
        _json=$CRIO_HOOKS_DIR/oci-shm-hook.json
        _tmp=$(mktemp)
        sed "s|$SHIPPED_HOOK_PATH|$HOOK_DIR/oci-shm-hook|g" "$PAYLOAD/oci-shm-hook.json" >"$_tmp"
        _r=$(put_file "$_tmp" "$_json" 644)
        rm -f "$_tmp"
        log "CRI-O: $_json $_r (CRI-O reads hooks.d changes without a restart; its hooks_dir must include $CRIO_HOOKS_DIR)"
}

register_containerd() {
        _tmp=$(mktemp)
        sed "s|$SHIPPED_HOOK_PATH|$HOOK_DIR/oci-shm-hook|g" "$PAYLOAD/containerd/base-runtime-spec.json" >"$_tmp"
        _r=$(put_file "$_tmp" "$CONTAINERD_BASE_SPEC" 644)
        rm -f "$_tmp"
        log "containerd: $CONTAINERD_BASE_SPEC $_r"
        if ! containerd_uses_spec; then
                containerd_notice
                return 0
        fi
        if [ "$_r" = unchanged ]; then
                log "containerd: $CONTAINERD_CONFIG uses $CONTAINERD_BASE_SPEC; nothing to restart"
        elif [ "$RESTART_CONTAINERD" = 1 ]; then
                log "containerd: restarting containerd (RESTART_CONTAINERD=1): $CONTAINERD_RESTART_COMMAND"
                # shellcheck disable=SC2086 # the command is split on purpose
                $CONTAINERD_RESTART_COMMAND || die "restarting containerd failed"
        else
                log "NOTICE: containerd must be RESTARTED to load the new $CONTAINERD_BASE_SPEC (systemctl restart containerd); until then it uses the previous one. Set RESTART_CONTAINERD=1 to let the installer do it."
        fi
}

# ---- policy ----

# refuse KEY MESSAGE: report why the policy was not installed, once per KEY
# (watch runs every few seconds), and mark it for the readiness probe.
refuse() {
        if [ "$(cat "$STATUS_DIR/policy-rejected" 2>/dev/null)" != "$1" ]; then
                warn "$2"
                echo "$1" >"$STATUS_DIR/policy-rejected" 2>/dev/null || true
        fi
        return 1
}

# sync_policy: install the ConfigMap's policy if it differs and passes check.
# Returns 0 when the node has the ConfigMap's policy, 1 when it was refused.
sync_policy() {
        if [ ! -r "$POLICY_SOURCE" ]; then
                refuse missing "no policy at $POLICY_SOURCE (is the ConfigMap mounted, with the key policy.conf?)"
                return 1
        fi
        _dest=$(node "$POLICY")
        if [ -f "$_dest" ] && cmp -s "$POLICY_SOURCE" "$_dest"; then
                rm -f "$STATUS_DIR/policy-rejected"
                return 0
        fi
        if [ -e "$_dest" ] && ! in_manifest f "$POLICY"; then
                refuse conflict "$POLICY exists on the node and was not installed by this DaemonSet (a package? an admin?); remove it, or move it to policy.d/, first"
                return 1
        fi
        # Check a private copy (the ConfigMap may change under us), then install that copy.
        _copy=$(mktemp) || die "cannot create a temporary file"
        cp "$POLICY_SOURCE" "$_copy" || die "cannot read $POLICY_SOURCE"
        if ! _out=$("$HOOK_BIN" check --policy "$_copy" 2>&1); then
                rm -f "$_copy"
                refuse "invalid $(cksum <"$POLICY_SOURCE")" "the ConfigMap's policy is invalid; the node keeps its current policy:
$(printf '%s\n' "$_out" | sed "s|$_copy|policy.conf (ConfigMap)|g")"
                return 1
        fi
        mkdir_tracked "$CONF_DIR"
        _tmp="$_dest.oci-shm-tmp.$$"
        cp "$_copy" "$_tmp" || {
                rm -f "$_copy" "$_tmp"
                die "cannot write $POLICY on the node"
        }
        rm -f "$_copy"
        if ! { chmod 644 "$_tmp" && mv -f "$_tmp" "$_dest"; }; then
                rm -f "$_tmp"
                die "cannot write $POLICY on the node"
        fi
        add_manifest f "$POLICY"
        rm -f "$STATUS_DIR/policy-rejected"
        log "policy installed: $POLICY ($(printf '%s' "$_out" | tail -n 1))"
        return 0
}

# ---- commands ----

do_install() {
        check_node_path "$HOOK_DIR" HOOK_DIR
        check_node_path "$CRIO_HOOKS_DIR" CRIO_HOOKS_DIR
        check_node_path "$CONTAINERD_BASE_SPEC" CONTAINERD_BASE_SPEC
        [ -d "$NODE_ROOT" ] || die "NODE_ROOT '$NODE_ROOT' is not a directory (mount the node's paths there)"
        [ -x "$HOOK_BIN" ] || die "no $HOOK_BIN in the image"
        engines=$(detect_engines)

        # Nothing is written when a target belongs to someone else...
        targets="$POLICY $HOOK_DIR/oci-shm-hook $HOOK_DIR/oci-shm-runtime"
        for engine in $engines; do
                case $engine in
                crio) targets="$targets $CRIO_HOOKS_DIR/oci-shm-hook.json" ;;
                containerd) targets="$targets $CONTAINERD_BASE_SPEC" ;;
                esac
        done
        for target in $targets; do
                if [ -e "$(node "$target")" ] && ! in_manifest f "$target"; then
                        die "$target exists on the node and was not installed by this DaemonSet (a package? an admin?); remove it or leave this node out"
                fi
        done
        # ...and the policy gates everything: an invalid ConfigMap changes nothing.
        sync_policy || die "not installing: fix the policy in the ConfigMap first"
        mkdir_tracked "$CONF_DIR/policy.d"

        for prog in oci-shm-hook oci-shm-runtime; do
                [ -x "$PAYLOAD/bin/$prog" ] || continue
                r=$(put_file "$PAYLOAD/bin/$prog" "$HOOK_DIR/$prog" 755)
                log "$HOOK_DIR/$prog $r"
        done

        [ -n "$engines" ] || warn "no container engine found (no /run/crio/crio.sock or /run/containerd/containerd.sock under $NODE_ROOT); set ENGINE=crio or ENGINE=containerd"
        for engine in $engines; do
                case $engine in
                crio) register_crio ;;
                containerd) register_containerd ;;
                none) log "ENGINE=none: the hook is installed but not registered" ;;
                esac
        done
        log "installed ($("$HOOK_BIN" --version))"
}

do_uninstall() {
        manifest=$(node "$MANIFEST")
        if [ ! -f "$manifest" ]; then
                log "nothing to uninstall: no $MANIFEST on this node"
                return 0
        fi
        if in_manifest f "$CONTAINERD_BASE_SPEC" && containerd_uses_spec; then
                die "$CONTAINERD_CONFIG still names $CONTAINERD_BASE_SPEC: containerd would fail to start without it and, until restarted, runs the hook. Remove the base_runtime_spec line, restart containerd, then uninstall again."
        fi
        entries=$(cat "$manifest")
        # Registrations first, so no engine starts a container with a hook that is gone.
        for kind_path in "f $CRIO_HOOKS_DIR/oci-shm-hook.json" "f $CONTAINERD_BASE_SPEC"; do
                if printf '%s\n' "$entries" | grep -qxF "$kind_path"; then
                        rm -f "$(node "${kind_path#f }")"
                        log "removed ${kind_path#f }"
                fi
        done
        printf '%s\n' "$entries" | while read -r kind path; do
                [ "$kind" = f ] || continue
                if [ -e "$(node "$path")" ]; then
                        rm -f "$(node "$path")"
                        log "removed $path"
                fi
        done
        rm -f "$manifest"
        # Directories we created, deepest first, only when empty.
        printf '%s\n' "$entries" | sed -n 's/^d //p' | sort -r | while read -r dir; do
                if rmdir "$(node "$dir")" 2>/dev/null; then
                        log "removed $dir/"
                fi
        done
        log "uninstalled"
}

do_watch() {
        log "keeping $POLICY in step with $POLICY_SOURCE (every ${SYNC_INTERVAL}s)"
        while :; do
                sync_policy || true
                sleep "$SYNC_INTERVAL"
        done
}

case ${1:-} in
install) do_install ;;
sync) sync_policy ;;
watch) do_watch ;;
uninstall) do_uninstall ;;
idle)
        log "done; this pod only waits to be deleted"
        while :; do sleep 3600; done
        ;;
*)
        echo "usage: $0 install|sync|watch|uninstall|idle" >&2
        exit 2
        ;;
esac
