#!/usr/bin/python3
"""daemonset-podman.py MANIFEST CONTAINER NODE CONFIGMAP_DIR IMAGE [NAME=VALUE...]

Print, NUL-separated, the `podman run` options that run CONTAINER (an init
container or a container) of the DaemonSet in MANIFEST the way the kubelet
would on a node whose root is NODE: hostPath volumes come from NODE + path
(made when the type is DirectoryOrCreate), the configMap volume is
CONFIGMAP_DIR, emptyDir volumes are tmpfs; env, command and securityContext
(privileged, runAsUser, readOnlyRootFilesystem, capabilities.drop,
allowPrivilegeEscalation) are carried over; IMAGE replaces the image, and
NAME=VALUE replaces the value of an env entry the manifest sets. A field
this script does not know fails it, so the test cannot silently run a
container other than the one the manifest describes."""
import json
import os
import sys

import yaml

KNOWN_CONTAINER = {"name", "image", "imagePullPolicy", "command", "args", "env", "securityContext",
                   "resources", "volumeMounts", "readinessProbe", "livenessProbe"}
KNOWN_SECURITY = {"privileged", "runAsUser", "allowPrivilegeEscalation", "readOnlyRootFilesystem",
                  "capabilities"}


def die(msg):
    print("daemonset-podman.py: " + msg, file=sys.stderr)
    sys.exit(1)


def main():
    manifest, name, node, configmap, image = sys.argv[1:6]
    overrides = dict(a.split("=", 1) for a in sys.argv[6:])
    with open(manifest) as f:
        docs = [d for d in yaml.safe_load_all(f) if d and d.get("kind") == "DaemonSet"]
    if len(docs) != 1:
        die("%s: expected one DaemonSet, found %d" % (manifest, len(docs)))
    pod = docs[0]["spec"]["template"]["spec"]
    containers = pod.get("initContainers", []) + pod.get("containers", [])
    found = [c for c in containers if c["name"] == name]
    if len(found) != 1:
        die("no container '%s' in %s" % (name, manifest))
    c = found[0]
    unknown = set(c) - KNOWN_CONTAINER
    if unknown:
        die("container '%s': fields this test does not model: %s" % (name, sorted(unknown)))
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    out = ["--entrypoint", json.dumps(c["command"] + c.get("args", []))]
    for e in c.get("env", []):
        if set(e) != {"name", "value"}:
            die("env %s: only plain values are modelled" % e)
        out += ["--env", "%s=%s" % (e["name"], overrides.pop(e["name"], e["value"]))]
    if overrides:
        die("env %s: not set by the manifest" % sorted(overrides))
    for m in c.get("volumeMounts", []):
        v = volumes[m["name"]]
        ro = ":ro" if m.get("readOnly") else ""
        if "hostPath" in v:
            src = node + v["hostPath"]["path"]
            kind = v["hostPath"].get("type", "")
            if kind == "DirectoryOrCreate":
                os.makedirs(src, exist_ok=True)
            elif kind == "Directory" and not os.path.isdir(src):
                die("hostPath %s (type Directory) does not exist on the node" % src)
            out += ["--volume", src + ":" + m["mountPath"] + ro]
        elif "configMap" in v:
            out += ["--volume", configmap + ":" + m["mountPath"] + ":ro"]
        elif "emptyDir" in v:
            out += ["--tmpfs", m["mountPath"]]
        else:
            die("volume %s: kind not modelled" % m["name"])
    sc = c.get("securityContext", {})
    unknown = set(sc) - KNOWN_SECURITY
    if unknown:
        die("securityContext fields not modelled: %s" % sorted(unknown))
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


if __name__ == "__main__":
    main()
