#!/usr/bin/python3
"""Run a container of the DaemonSet the way the kubelet would, on a node whose
root is NODE: hostPath volumes come from NODE + path (made when the type is
DirectoryOrCreate), the configMap volume is CONFIGMAP_DIR; env, command and
securityContext are carried over; IMAGE replaces the image and NAME=VALUE
replaces the value of an env entry the manifest sets. A field this script does
not model fails it, so a test cannot silently run a container other than the
one the manifest describes.

    daemonset.py podman MANIFEST CONTAINER NODE CONFIGMAP_DIR IMAGE [NAME=VALUE...]
        print, NUL-separated, the `podman run` options (emptyDir: a tmpfs)
    daemonset.py cri --address SOCK MANIFEST CONTAINER NODE CONFIGMAP_DIR IMAGE [NAME=VALUE...]
        run it as a container of a new privileged host-network pod through the
        CRI, wait for it to exit, print its log, remove the pod; exit with the
        container's status (init containers only: no emptyDir)
"""
import json
import os
import sys
import tempfile
import time

import yaml

KNOWN_CONTAINER = {"name", "image", "imagePullPolicy", "command", "args", "env", "securityContext",
                   "resources", "volumeMounts", "readinessProbe", "livenessProbe"}
KNOWN_SECURITY = {"privileged", "runAsUser", "allowPrivilegeEscalation", "readOnlyRootFilesystem",
                  "capabilities"}


def die(msg):
    print("daemonset.py: " + msg, file=sys.stderr)
    sys.exit(1)


def load(manifest, name, node, configmap, overrides):
    """The container as plain data: command, env, mounts (container path,
    host path or None for a tmpfs, read-only) and security settings."""
    with open(manifest) as f:
        docs = [d for d in yaml.safe_load_all(f) if d and d.get("kind") == "DaemonSet"]
    if len(docs) != 1:
        die("%s: expected one DaemonSet, found %d" % (manifest, len(docs)))
    pod = docs[0]["spec"]["template"]["spec"]
    found = [c for c in pod.get("initContainers", []) + pod.get("containers", []) if c["name"] == name]
    if len(found) != 1:
        die("no container '%s' in %s" % (name, manifest))
    c = found[0]
    unknown = set(c) - KNOWN_CONTAINER
    if unknown:
        die("container '%s': fields this test does not model: %s" % (name, sorted(unknown)))
    env = []
    for e in c.get("env", []):
        if set(e) != {"name", "value"}:
            die("env %s: only plain values are modelled" % e)
        env.append((e["name"], overrides.pop(e["name"], e["value"])))
    if overrides:
        die("env %s: not set by the manifest" % sorted(overrides))
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    mounts = []
    for m in c.get("volumeMounts", []):
        v = volumes[m["name"]]
        ro = bool(m.get("readOnly"))
        if "hostPath" in v:
            src = node + v["hostPath"]["path"]
            kind = v["hostPath"].get("type", "")
            if kind == "DirectoryOrCreate":
                os.makedirs(src, exist_ok=True)
            elif kind == "Directory" and not os.path.isdir(src):
                die("hostPath %s (type Directory) does not exist on the node" % src)
            mounts.append((m["mountPath"], src, ro))
        elif "configMap" in v:
            mounts.append((m["mountPath"], configmap, True))
        elif "emptyDir" in v:
            mounts.append((m["mountPath"], None, ro))
        else:
            die("volume %s: kind not modelled" % m["name"])
    sc = c.get("securityContext", {})
    unknown = set(sc) - KNOWN_SECURITY
    if unknown:
        die("securityContext fields not modelled: %s" % sorted(unknown))
    return {"name": name, "argv": c["command"] + c.get("args", []), "env": env, "mounts": mounts,
            "sc": sc}


def podman_args(spec, image):
    out = ["--entrypoint", json.dumps(spec["argv"])]
    for k, v in spec["env"]:
        out += ["--env", "%s=%s" % (k, v)]
    for dest, src, ro in spec["mounts"]:
        if src is None:
            out += ["--tmpfs", dest]
        else:
            out += ["--volume", src + ":" + dest + (":ro" if ro else "")]
    sc = spec["sc"]
    if sc.get("privileged"):
        out.append("--privileged")
    if "runAsUser" in sc:
        out += ["--user", str(sc["runAsUser"])]
    if sc.get("readOnlyRootFilesystem"):
        out.append("--read-only")
    if sc.get("allowPrivilegeEscalation") is False:
        out += ["--security-opt", "no-new-privileges"]
    for cap in sc.get("capabilities", {}).get("drop", []):
        out += ["--cap-drop", cap]
    out.append(image)
    sys.stdout.write("\0".join(out) + "\0")
    return 0


def cri_run(address, spec, image):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from cri import Cri, pb  # noqa: E402

    sc = spec["sc"]
    if set(sc) - {"privileged"}:
        die("cri: only privileged init containers are modelled, not %s" % sorted(sc))
    if any(src is None for _, src, _ in spec["mounts"]):
        die("cri: emptyDir volumes are not modelled")
    cri = Cri(address)
    logs = tempfile.mkdtemp(prefix="oci-shm-ds-logs.")
    privileged = bool(sc.get("privileged"))
    pod_id, config = cri.run_pod("oci-shm-hook-ds", namespace="oci-shm-hook", privileged=privileged,
                                 log_directory=logs)
    try:
        cid = cri.create(pod_id, config, spec["name"], image, command=spec["argv"],
                         envs=spec["env"], mounts=[(d, s) for d, s, _ in spec["mounts"]],
                         readonly=[d for d, _, ro in spec["mounts"] if ro],
                         privileged=privileged, log_path=spec["name"] + "/0.log")
        cri.start(cid)
        for _ in range(300):
            st = cri.status(cid)
            if st.state == pb.CONTAINER_EXITED:
                break
            time.sleep(0.1)
        else:
            die("cri: %s did not exit within 30 s" % spec["name"])
        time.sleep(0.1)  # the shim flushes the log after the exit
        with open(os.path.join(logs, spec["name"], "0.log"), errors="replace") as f:
            for line in f:  # CRI log format: TIME STREAM TAG TEXT
                parts = line.rstrip("\n").split(" ", 3)
                print(parts[3] if len(parts) == 4 else line.rstrip("\n"))
        return st.exit_code
    finally:
        cri.remove_pod(pod_id)
        for root, dirs, files in os.walk(logs, topdown=False):
            for n in files:
                os.unlink(os.path.join(root, n))
            for n in dirs:
                os.rmdir(os.path.join(root, n))
        os.rmdir(logs)


def main():
    args = sys.argv[1:]
    if args[:1] == ["podman"] and len(args) >= 6:
        _, manifest, name, node, configmap, image, *rest = args
        return podman_args(load(manifest, name, node, configmap, dict(a.split("=", 1) for a in rest)),
                           image)
    if args[:2] == ["cri", "--address"] and len(args) >= 8:
        _, _, address, manifest, name, node, configmap, image, *rest = args
        return cri_run(address, load(manifest, name, node, configmap, dict(a.split("=", 1) for a in rest)),
                       image)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
