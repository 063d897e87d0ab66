#!/usr/bin/python3
"""oci-shm-hook on real containerd CRI pods: sandbox plus containers, made
through the CRI calls the kubelet makes, with the hook registered from the
shipped base runtime spec. Run by tests/ci/25-cri.sh, which starts containerd,
imports the test images (make-image.sh) and captures syslog.

Prints "ok: ..." / "FAIL: ..." lines like tests/integration/lib.sh; exits 1 on
any failure."""
import argparse
import json
import os
import subprocess
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cri import Cri, CriError, MiB  # noqa: E402

GiB = 1024 * MiB
DEFAULT_KIB = 65536  # containerd's sandbox shm: size=65536k

SELENIUM = "docker.io/selenium/standalone-chrome:4.10"
POSTGRES = "docker.io/library/postgres:16"
REDIS = "docker.io/library/redis:7"
PYTORCH = "docker.io/pytorch/pytorch:2.1"
# One image, two names (a retag): containerd reports the first in sorted order.
RETAG_NAMES = ("docker.io/selenium/node-chrome:4.10", "docker.io/library/chrome-local:1")
IMAGES = [SELENIUM, POSTGRES, REDIS, PYTORCH, ",".join(RETAG_NAMES)]

failures = []
skipped = []


def ok(what):
    print("ok: " + what, flush=True)


def fail(what):
    print("FAIL: " + what, flush=True)
    failures.append(what)


def expect_eq(what, got, want):
    if got == want:
        ok("%s (%s)" % (what, got))
    else:
        fail("%s: got %r, expected %r" % (what, got, want))


def expect_in(what, text, needle):
    if needle in text:
        ok(what)
    else:
        fail("%s: %r not found in: %s" % (what, needle, text))


class Env:
    def __init__(self, a):
        self.cri = Cri(a.address)
        self.state = a.state
        self.policy = a.policy
        self.log = a.log
        self.work = a.work
        self.hook = a.hook
        self.shim = a.shim
        self.volumes = []

    def set_policy(self, text):
        tmp = self.policy + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.rename(tmp, self.policy)

    def sandbox_shm(self, pod_id):
        return os.path.join(self.state, "io.containerd.grpc.v1.cri", "sandboxes", pod_id, "shm")

    def spec_path(self, cid):
        """The container's bundle config.json, where the containerd shim keeps it."""
        return os.path.join(self.state, "io.containerd.runtime.v2.task", "k8s.io", cid, "config.json")

    def spec(self, cid):
        with open(self.spec_path(cid)) as f:
            return json.load(f)

    def log_lines(self, cid):
        """The hook's syslog lines about container CID (None: syslog not captured)."""
        if not self.log:
            return None
        time.sleep(0.2)  # datagrams are delivered asynchronously
        with open(self.log, errors="replace") as f:
            return [line for line in f if "container=" + cid in line]

    def expect_log(self, what, cid, *needles):
        lines = self.log_lines(cid)
        if lines is None:
            skipped.append("log: " + what)
            print("SKIP: %s (syslog not captured)" % what)
            return
        text = "".join(lines)
        if len(lines) == 1 and all(n in text for n in needles):
            ok("syslog: %s" % what)
        else:
            fail("syslog: %s: want one line with %s, got: %r" % (what, needles, lines))

    def expect_no_log(self, what, cid):
        lines = self.log_lines(cid)
        if lines is not None:
            expect_eq("syslog: " + what, lines, [])

    def emptydir(self, pod_config, size):
        """A tmpfs where the kubelet puts an emptyDir with medium Memory."""
        path = os.path.join(self.work, "kubelet", "pods", pod_config.metadata.uid,
                            "volumes", "kubernetes.io~empty-dir", "dshm")
        os.makedirs(path)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=1777" % size, "tmpfs", path],
                       check=True)
        self.volumes.append(path)
        return path

    def cleanup(self):
        self.cri.remove_all()
        for path in self.volumes:
            subprocess.run(["umount", path], check=False)


def statfs_bytes(path):
    st = os.statvfs(path)
    return st.f_blocks * st.f_frsize


def statfs_used(path):
    st = os.statvfs(path)
    return (st.f_blocks - st.f_bfree) * st.f_frsize


def shm_dev(env, cid):
    rc, out, err = env.cri.exec(cid, "stat", "-c", "%d", "/dev/shm")
    return out.strip() if rc == 0 else "error: " + err


def pod_with(env, name, images, namespace="default", annotations=None, host_ipc=False,
             runtime_handler="", **kw):
    """A pod whose containers (name, image) are created and started in order."""
    pod_id, config = env.cri.run_pod(name, namespace=namespace, annotations=annotations,
                                     host_ipc=host_ipc, runtime_handler=runtime_handler)
    cids = [env.cri.run(pod_id, config, cname, image, **kw) for cname, image in images]
    return pod_id, config, cids


def case_match(env):
    print("--- a matching image: both containers of a pod, one /dev/shm")
    env.set_policy("image=selenium/* shm=2g\nimage=postgres shm=1g\n")
    pod_id, config, (c1, c2) = pod_with(env, "selenium-grid-0",
                                        [("chrome", SELENIUM), ("chrome2", SELENIUM)])
    expect_eq("first container sees 2 GiB", env.cri.shm_kib(c1), 2 * GiB // 1024)
    expect_eq("second container sees 2 GiB", env.cri.shm_kib(c2), 2 * GiB // 1024)
    expect_eq("both on the same device", shm_dev(env, c1), shm_dev(env, c2))
    rc, _, err = env.cri.exec(c1, "sh", "-c", "echo written-by-chrome >/dev/shm/probe")
    expect_eq("first container writes /dev/shm/probe", (rc, err), (0, ""))
    expect_eq("second container reads it", env.cri.exec(c2, "cat", "/dev/shm/probe")[1],
              "written-by-chrome\n")
    expect_eq("the sandbox's host-side tmpfs has grown", statfs_bytes(env.sandbox_shm(pod_id)), 2 * GiB)
    env.expect_log("first container grown", c1, "image=" + SELENIUM, "action=size bytes=2147483648",
                   "before=67108864 after=2147483648 result=grown")
    env.expect_log("second container kept", c2, "result=kept")
    bundle = os.path.dirname(env.spec_path(c1))
    r = subprocess.run([env.hook, "explain", "--policy", env.policy, "--bundle", bundle],
                       capture_output=True, text=True)
    expect_eq("explain --bundle on the live container exits 0", (r.returncode, r.stderr), (0, ""))
    expect_in("explain names the image containerd gave", r.stdout, SELENIUM)
    expect_in("explain names the rule that applied", r.stdout, env.policy + ":1: image=selenium/* shm=2g")

    print("--- grow-only: a later container with a smaller rule")
    c3 = env.cri.run(pod_id, config, "db", POSTGRES)
    expect_eq("the postgres container (1g rule) sees the pod's 2 GiB", env.cri.shm_kib(c3), 2 * GiB // 1024)
    expect_eq("the host-side tmpfs is still 2 GiB", statfs_bytes(env.sandbox_shm(pod_id)), 2 * GiB)
    env.expect_log("postgres container kept", c3, "bytes=1073741824", "result=kept")
    expect_eq("the probe file is still there", env.cri.exec(c3, "cat", "/dev/shm/probe")[1],
              "written-by-chrome\n")
    env.cri.remove_pod(pod_id)


def case_no_match(env):
    print("--- no match: 64 MiB stays")
    env.set_policy("image=selenium/* shm=2g\n")
    pod_id, _, (cid,) = pod_with(env, "cache", [("redis", REDIS)])
    expect_eq("redis sees containerd's 64 MiB", env.cri.shm_kib(cid), DEFAULT_KIB)
    expect_eq("the host-side tmpfs is 64 MiB", statfs_bytes(env.sandbox_shm(pod_id)), 64 * MiB)
    env.expect_no_log("nothing logged for no match at info level", cid)
    env.cri.remove_pod(pod_id)


def case_host_ipc(env):
    print("--- hostIPC pod: the host's /dev/shm never changes")
    env.set_policy("image=selenium/* shm=2g\n")
    before = statfs_bytes("/dev/shm")  # read only: never written
    pod_id, _, (cid,) = pod_with(env, "host-ipc", [("chrome", SELENIUM)], host_ipc=True)
    expect_eq("the container is on the host's /dev/shm", shm_dev(env, cid), str(os.stat("/dev/shm").st_dev))
    expect_eq("the host's /dev/shm size is unchanged", statfs_bytes("/dev/shm"), before)
    expect_eq("the container sees the host's size", env.cri.shm_kib(cid), before // 1024)
    env.expect_log("skipped-host", cid, "result=skipped-host")
    env.cri.remove_pod(pod_id)
    expect_eq("the host's /dev/shm size is unchanged after the pod", statfs_bytes("/dev/shm"), before)


def case_emptydir(env):
    print("--- emptyDir medium Memory at /dev/shm: left alone")
    env.set_policy("image=selenium/* shm=2g\n")
    pod_id, config = env.cri.run_pod("dshm")
    vol = env.emptydir(config, "32m")
    cid = env.cri.run(pod_id, config, "chrome", SELENIUM, mounts=[("/dev/shm", vol)])
    expect_eq("the container sees the 32 MiB emptyDir", env.cri.shm_kib(cid), 32 * 1024)
    expect_eq("the emptyDir is still 32 MiB", statfs_bytes(vol), 32 * MiB)
    expect_eq("the sandbox's tmpfs is still 64 MiB", statfs_bytes(env.sandbox_shm(pod_id)), 64 * MiB)
    env.expect_log("skipped-volume", cid, "result=skipped-volume")
    env.cri.remove_pod(pod_id)


def case_request(env):
    print("--- pod_annotations request: oci-shm-hook/size")
    env.set_policy("annotation:oci-shm-hook/size=* shm=request max=4g\n")
    pod_id, _, (cid,) = pod_with(env, "asks", [("app", REDIS)],
                                 annotations={"oci-shm-hook/size": "1536m"})
    expect_eq("the pod asked for 1536m and got 1.5 GiB", env.cri.shm_kib(cid), 1536 * 1024)
    expect_eq("the host-side tmpfs is 1.5 GiB", statfs_bytes(env.sandbox_shm(pod_id)), 1536 * MiB)
    env.expect_log("request grown", cid, "bytes=1610612736", "result=grown")
    env.cri.remove_pod(pod_id)

    pod_id, _, (cid,) = pod_with(env, "asks-much", [("app", REDIS)],
                                 annotations={"oci-shm-hook/size": "64g"})
    expect_eq("the pod asked for 64g and got max=4g", env.cri.shm_kib(cid), 4 * GiB // 1024)
    env.cri.remove_pod(pod_id)

    pod_id, config = env.cri.run_pod("asks-badly", annotations={"oci-shm-hook/size": "lots"})
    err = ""
    cid = None
    try:
        cid = env.cri.create(pod_id, config, "app", REDIS)
        env.cri.start(cid)
    except CriError as e:
        err = "%s: %s" % (e.method, e.details)
    if err:
        ok("an invalid request fails the container (%s)" % err.split(":")[0])
    else:
        fail("an invalid request started the container")
    expect_in("the error names the annotation", err, "oci-shm-hook/size")
    expect_in("the error comes from the hook", err, "oci-shm-hook: error:")
    if cid:
        env.expect_log("the refusal", cid, "result=failed", "oci-shm-hook/size")
    env.cri.remove_pod(pod_id)


def case_fake_image(env):
    print("--- a pod annotation naming another image changes nothing")
    env.set_policy("image=selenium/* shm=2g\n")
    fakes = {
        "containerd's key": {"io.kubernetes.cri.image-name": SELENIUM},
        "CRI-O's keys": {"io.kubernetes.cri-o.ImageName": SELENIUM,
                         "io.kubernetes.cri-o.ContainerType": "container"},
    }
    for label, annotations in fakes.items():
        pod_id, _, (cid,) = pod_with(env, "fake-image", [("redis", REDIS)], annotations=annotations)
        spec = env.spec(cid).get("annotations", {})
        expect_eq("%s: containerd names the real image" % label,
                  spec.get("io.kubernetes.cri.image-name"), REDIS)
        for key, value in annotations.items():
            if key != "io.kubernetes.cri.image-name":
                expect_eq("%s: %s reaches the spec" % (label, key), spec.get(key), value)
        expect_eq("%s: redis faking selenium stays at 64 MiB" % label, env.cri.shm_kib(cid), DEFAULT_KIB)
        env.cri.remove_pod(pod_id)
    pod_id, _, (cid,) = pod_with(env, "fake-image", [("chrome", SELENIUM)],
                                 annotations={"io.kubernetes.cri-o.ImageName": REDIS,
                                              "io.kubernetes.cri-o.ContainerType": "container"})
    expect_eq("CRI-O's keys: selenium faking redis still gets 2 GiB", env.cri.shm_kib(cid), 2 * GiB // 1024)
    env.cri.remove_pod(pod_id)


def case_retag(env):
    print("--- one image, two names (a retag)")
    first = sorted(RETAG_NAMES)[0]
    asked_selenium, asked_local = RETAG_NAMES
    for rule, want in (("image=selenium/* shm=2g", DEFAULT_KIB),
                       ("image=chrome-local shm=1g", GiB // 1024)):
        env.set_policy(rule + "\n")
        for asked in (asked_selenium, asked_local):
            pod_id, _, (cid,) = pod_with(env, "retag", [("chrome", asked)])
            expect_eq("asked for %s: containerd names the first name in sorted order" % asked,
                      env.spec(cid)["annotations"].get("io.kubernetes.cri.image-name"), first)
            expect_eq("'%s', pod asked for %s" % (rule, asked), env.cri.shm_kib(cid), want)
            env.cri.remove_pod(pod_id)


def case_broken_policy(env):
    print("--- a broken policy on the node: pods still start, unchanged")
    env.set_policy("image=selenium/* shm=lots\n")
    start = os.path.getsize(env.log) if env.log else 0
    pod_id, _, (cid,) = pod_with(env, "broken-policy", [("chrome", SELENIUM)])
    expect_eq("the pod runs with containerd's 64 MiB", env.cri.shm_kib(cid), DEFAULT_KIB)
    lines = env.log_lines(cid)
    if lines is not None:
        expect_in("syslog: the container's line says so", "".join(lines), "the policy is invalid")
        with open(env.log, errors="replace") as f:
            f.seek(start)
            expect_in("syslog names the bad line", f.read(), env.policy + ":1:")
    env.cri.remove_pod(pod_id)


def case_memory_limit(env):
    print("--- a memory-limited container with shm=50%")
    env.set_policy("image=pytorch/* shm=50%\n")
    pod_id, _, (cid,) = pod_with(env, "train", [("torch", PYTORCH)], memory_limit=256 * MiB)
    expect_eq("256 MiB limit, shm=50%: 128 MiB", env.cri.shm_kib(cid), 128 * 1024)
    env.expect_log("50% of the limit", cid, "bytes=134217728", "result=grown")
    env.cri.remove_pod(pod_id)


def case_restart(env):
    print("--- a container recreated in the same pod (restart)")
    env.set_policy("image=selenium/* shm=2g\n")
    pod_id, config, (c0,) = pod_with(env, "restarts", [("chrome", SELENIUM)])
    expect_eq("attempt 0 sees 2 GiB", env.cri.shm_kib(c0), 2 * GiB // 1024)
    env.cri.stop_container(c0)
    c1 = env.cri.run(pod_id, config, "chrome", SELENIUM, attempt=1)
    expect_eq("attempt 1 is running", env.cri.status(c1).state, 1)
    expect_eq("attempt 1 sees 2 GiB", env.cri.shm_kib(c1), 2 * GiB // 1024)
    env.expect_log("attempt 1 kept", c1, "result=kept")
    env.cri.remove_pod(pod_id)


def case_shim(env):
    print("--- oci-shm-runtime as containerd's runc (BinaryName), alone and with the base spec")
    if not env.shim:
        skipped.append("shim runtimes")
        print("SKIP: containerd has no runtime handlers 'shm' and 'both'")
        return
    env.set_policy("image=selenium/* shm=2g\n")
    # The shim adds a prestart hook, unless config.json has one with that path
    # already (the base spec's createRuntime entry): the hook runs once.
    for handler, label, stage in (("shm", "BinaryName alone", "prestart"),
                                  ("both", "BinaryName and base_runtime_spec", "createRuntime")):
        pod_id, _, (cid,) = pod_with(env, "shim-" + handler, [("chrome", SELENIUM)], runtime_handler=handler)
        expect_eq("%s: a selenium pod gets 2 GiB" % label, env.cri.shm_kib(cid), 2 * GiB // 1024)
        hooks = env.spec(cid).get("hooks", {})
        expect_eq("%s: one hook in config.json, this build's, with the policy" % label,
                  [(st, h["path"], h["args"]) for st in sorted(hooks) for h in hooks[st]],
                  [(stage, env.hook, ["oci-shm-hook", "--policy", env.policy, stage])])
        env.expect_log("%s: the hook ran once" % label, cid, "result=grown")
        expect_eq("%s: the sandbox's tmpfs grew" % label, statfs_bytes(env.sandbox_shm(pod_id)), 2 * GiB)
        env.cri.remove_pod(pod_id)


def hook_knows(env, rule):
    path = os.path.join(env.work, "probe.conf")
    with open(path, "w") as f:
        f.write(rule + "\n")
    r = subprocess.run([env.hook, "check", "--policy", path], capture_output=True)
    return r.returncode == 0


def case_identity(env):
    print("--- rules by Kubernetes identity; pod annotations cannot fake them")
    if not hook_knows(env, "namespace=x pod=y container=z shm=1g"):
        skipped.append("identity rules")
        print("SKIP: this oci-shm-hook has no namespace=/pod=/container= conditions")
        return
    crio = {"io.kubernetes.cri-o.ContainerType": "container"}
    cases = [
        ("namespace=selenium-grid shm=2g",
         dict(namespace="selenium-grid"),
         dict(namespace="default", annotations=dict(crio, **{
             "io.kubernetes.cri.sandbox-namespace": "selenium-grid",
             "io.kubernetes.pod.namespace": "selenium-grid",
             "io.kubernetes.cri-o.Namespace": "selenium-grid",
             "io.kubernetes.cri-o.Labels": json.dumps({"io.kubernetes.pod.namespace": "selenium-grid"})}))),
        ("pod=selenium-node-* shm=2g",
         dict(name="selenium-node-1"),
         dict(name="other", annotations=dict(crio, **{
             "io.kubernetes.cri.sandbox-name": "selenium-node-1",
             "io.kubernetes.pod.name": "selenium-node-1",
             "io.kubernetes.cri-o.SandboxName": "selenium-node-1",
             "io.kubernetes.cri-o.Labels": json.dumps({"io.kubernetes.pod.name": "selenium-node-1"})}))),
        ("container=chrome shm=2g",
         dict(container="chrome"),
         dict(container="sidecar", annotations=dict(crio, **{
             "io.kubernetes.cri.container-name": "chrome",
             "io.kubernetes.container.name": "chrome",
             "io.kubernetes.cri-o.ContainerName": "chrome",
             "io.kubernetes.cri-o.Labels": json.dumps({"io.kubernetes.container.name": "chrome"})}))),
    ]
    for rule, real, fake in cases:
        env.set_policy(rule + "\n")
        for label, want, pod in (("the real one", 2 * GiB // 1024, real),
                                 ("faked by pod annotations", DEFAULT_KIB, fake)):
            pod_id, _, (cid,) = pod_with(env, pod.get("name", "ident"), [(pod.get("container", "app"), REDIS)],
                                         namespace=pod.get("namespace", "default"),
                                         annotations=pod.get("annotations"))
            expect_eq("'%s', %s" % (rule, label), env.cri.shm_kib(cid), want)
            env.cri.remove_pod(pod_id)


def measure_pod_limits(env):
    """Pods and memory limits: measured, not asserted (see the report)."""
    print("--- measured: a 256 MiB-limited container, then an unlimited sibling")
    env.set_policy("image=selenium/* shm=2g\n")
    pod_id, config, (limited,) = pod_with(env, "limits", [("limited", SELENIUM)], memory_limit=256 * MiB)
    a = env.cri.shm_kib(limited)
    sibling = env.cri.run(pod_id, config, "unlimited", SELENIUM)
    b = env.cri.shm_kib(limited)
    print("measured: limited container alone: %d KiB; after the unlimited sibling: limited sees %d KiB, "
          "sibling %d KiB, host-side tmpfs %d KiB"
          % (a, b, env.cri.shm_kib(sibling), statfs_bytes(env.sandbox_shm(pod_id)) // 1024))
    if env.log:
        for cid in (limited, sibling):
            for line in env.log_lines(cid) or []:
                print("measured: log: " + line.split("]: ", 1)[-1].strip())
    # What the limited container can put in the shared tmpfs: its pages are
    # charged to its own memory cgroup.
    rc, out, err = env.cri.exec(limited, "dd", "if=/dev/zero", "of=/dev/shm/fill", "bs=1M", "count=384",
                                timeout=60)
    used = statfs_used(env.sandbox_shm(pod_id)) // 1024
    st = env.cri.status(limited)
    print("measured: the limited container writes 384 MiB to /dev/shm: dd exit %d (%s); %d KiB used; "
          "limited container state %d reason %r" % (rc, err.strip().replace("\n", " / "), used,
                                                    st.state, st.reason))
    env.cri.remove_pod(pod_id)
    measure_pod_cgroup(env)


def measure_pod_cgroup(env):
    """A pod cgroup with a memory limit (as the kubelet makes /kubepods/.../pod<uid>,
    cgroupfs driver) and a container without one: the size is clamped to the pod's."""
    memory = "/sys/fs/cgroup/memory"
    if not os.path.isfile(os.path.join(memory, "memory.limit_in_bytes")):
        print("measured: no cgroup v1 memory hierarchy here; pod cgroup not measured")
        return
    top = env.cri.cgroup_base.strip("/") or "oci-shm-cri-%d" % os.getpid()
    parent = "/%s/pod-limited" % top
    os.makedirs(memory + parent)
    try:
        with open(memory + parent + "/memory.limit_in_bytes", "w") as f:
            f.write(str(384 * MiB))
        pod_id, config = env.cri.run_pod("pod-limit", cgroup_parent=parent)
        try:
            cid = env.cri.run(pod_id, config, "chrome", SELENIUM)
            size = env.cri.shm_kib(cid)
            # The kernel charges the pod's cgroup too: its limit bounds the size.
            expect_eq("pod cgroup limit 384 MiB, container without a limit, rule 2g: /dev/shm KiB",
                      size, 384 * 1024)
            rc, _, _ = env.cri.exec(cid, "dd", "if=/dev/zero", "of=/dev/shm/fill", "bs=1M", "count=512",
                                    timeout=60)
            # Read from the host: the pod is at its limit, an exec in it may not start.
            used = statfs_used(env.sandbox_shm(pod_id)) // 1024
            print("measured: pod cgroup limit 384 MiB, container without a limit, rule 2g: /dev/shm %d KiB; "
                  "writing 512 MiB: dd exit %d, %d KiB used, reason %r"
                  % (size, rc, used, env.cri.status(cid).reason))
        finally:
            env.cri.remove_pod(pod_id)
    finally:
        # runc made the parent in every hierarchy; remove it (the top is the caller's).
        for hierarchy in os.listdir("/sys/fs/cgroup"):
            path = os.path.join("/sys/fs/cgroup", hierarchy, parent.lstrip("/"))
            if os.path.isdir(path):
                try:
                    os.rmdir(path)
                except OSError as e:
                    fail("removing the test's cgroup %s: %s" % (path, e))
        if not env.cri.cgroup_base:
            for hierarchy in os.listdir("/sys/fs/cgroup"):
                path = os.path.join("/sys/fs/cgroup", hierarchy, top)
                if os.path.isdir(path):
                    os.rmdir(path)


CASES = [case_match, case_no_match, case_host_ipc, case_emptydir, case_request, case_fake_image,
         case_retag, case_broken_policy, case_memory_limit, case_restart, case_shim, case_identity, measure_pod_limits]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--address", required=True)
    ap.add_argument("--state", required=True, help="containerd's state directory")
    ap.add_argument("--policy", required=True, help="the policy file the base spec names")
    ap.add_argument("--work", required=True, help="a scratch directory")
    ap.add_argument("--hook", required=True)
    ap.add_argument("--log", help="the captured syslog")
    ap.add_argument("--shim", action="store_true",
                    help="containerd has the runtime handlers 'shm' and 'both' (oci-shm-runtime)")
    ap.add_argument("cases", nargs="*", help="run only these (e.g. match retag)")
    a = ap.parse_args()
    env = Env(a)
    v = env.cri.version()
    print("CRI: %s %s (%s)" % (v.runtime_name, v.runtime_version, v.runtime_api_version))
    try:
        for case in CASES:
            if a.cases and case.__name__.split("_", 1)[1] not in a.cases:
                continue
            start = time.monotonic()
            try:
                case(env)
            except Exception:  # one broken case must not hide the others
                fail("%s raised:\n%s" % (case.__name__, traceback.format_exc()))
            print("(%s: %.1f s)" % (case.__name__, time.monotonic() - start))
    finally:
        env.cleanup()
    if skipped:
        print("skipped: " + "; ".join(skipped))
    if failures:
        print("%d failure(s):\n  %s" % (len(failures), "\n  ".join(failures)))
        return 1
    print("all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
