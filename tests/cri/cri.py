#!/usr/bin/python3
"""A small CRI client (runtime.v1) that runs pods the way the kubelet does.

Messages come from cri.proto, compiled with protoc at import time. Needs
Debian's python3-grpcio, python3-protobuf and protobuf-compiler, so run it
with /usr/bin/python3.

As a command, for shell tests:
    cri.py --address SOCK version
    cri.py --address SOCK run POD IMAGE [--namespace NS]   prints "POD_ID CONTAINER_ID"
    cri.py --address SOCK exec CONTAINER_ID CMD...          prints stdout, exits with CMD's status
    cri.py --address SOCK rmpod POD_ID                      stop and remove a pod
    cri.py --address SOCK rmall                             stop and remove every pod
    cri.py --address SOCK pods                              list the pods: "ID NAMESPACE/NAME"
"""
import argparse
import importlib
import os
import subprocess
import sys
import tempfile
import uuid

import grpc

_HERE = os.path.dirname(os.path.abspath(__file__))


def _load_messages():
    gen = tempfile.mkdtemp(prefix="oci-shm-cri-pb.")
    try:
        subprocess.run(["protoc", "-I", _HERE, "--python_out=" + gen,
                        os.path.join(_HERE, "cri.proto")], check=True)
        sys.path.insert(0, gen)
        return importlib.import_module("cri_pb2")
    finally:
        sys.path.remove(gen) if gen in sys.path else None
        for name in os.listdir(gen):
            os.unlink(os.path.join(gen, name))
        os.rmdir(gen)


pb = _load_messages()

MiB = 1024 * 1024


class CriError(Exception):
    """A CRI call failed; str() is the runtime's message."""

    def __init__(self, method, err):
        super().__init__("%s: %s" % (method, err.details()))
        self.method = method
        self.code = err.code()
        self.details = err.details()


class Cri:
    def __init__(self, address, timeout=60):
        self.channel = grpc.insecure_channel("unix://" + address)
        self.timeout = timeout
        # Pods' cgroups go to $OCI_SHM_CRI_CGROUP/pod<uid>, as the kubelet's go to
        # /kubepods/.../pod<uid>, so a test can remove them (else containerd uses /k8s.io).
        self.cgroup_base = os.environ.get("OCI_SHM_CRI_CGROUP", "")

    def call(self, service, method, request, response_type):
        rpc = self.channel.unary_unary(
            "/runtime.v1.%s/%s" % (service, method),
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=response_type.FromString)
        try:
            return rpc(request, timeout=self.timeout)
        except grpc.RpcError as err:
            raise CriError(method, err) from None

    def runtime(self, method, request):
        response = getattr(pb, method + "Response")
        return self.call("RuntimeService", method, request, response)

    def version(self):
        return self.runtime("Version", pb.VersionRequest(version="v1"))

    def image_status(self, image):
        r = self.call("ImageService", "ImageStatus",
                      pb.ImageStatusRequest(image=pb.ImageSpec(image=image)),
                      pb.ImageStatusResponse)
        return r.image

    @staticmethod
    def namespaces(host_ipc):
        # Host network (no CNI), a container PID namespace as the kubelet asks
        # for v1 pods, and IPC of the pod or of the node (hostIPC).
        return pb.NamespaceOption(network=pb.NODE, pid=pb.CONTAINER,
                                  ipc=pb.NODE if host_ipc else pb.POD)

    def run_pod(self, name, namespace="default", annotations=None, labels=None,
                host_ipc=False, attempt=0, cgroup_parent="", runtime_handler="", privileged=False,
                log_directory=""):
        """RunPodSandbox; returns (pod_id, the sandbox config to pass to CreateContainer)."""
        uid = str(uuid.uuid4())
        if not cgroup_parent and self.cgroup_base:
            cgroup_parent = "%s/pod%s" % (self.cgroup_base, uid)
        config = pb.PodSandboxConfig(
            metadata=pb.PodSandboxMetadata(name=name, uid=uid, namespace=namespace,
                                           attempt=attempt),
            # hostname stays empty, as the kubelet leaves it for host-network pods
            log_directory=log_directory,
            labels=dict(labels or {}, **{"io.kubernetes.pod.name": name}),
            annotations=annotations or {},
            linux=pb.LinuxPodSandboxConfig(
                cgroup_parent=cgroup_parent,
                security_context=pb.LinuxSandboxSecurityContext(
                    namespace_options=self.namespaces(host_ipc), privileged=privileged)))
        r = self.runtime("RunPodSandbox", pb.RunPodSandboxRequest(config=config,
                                                                  runtime_handler=runtime_handler))
        return r.pod_sandbox_id, config

    def create(self, pod_id, sandbox_config, name, image, attempt=0, annotations=None,
               mounts=(), readonly=(), memory_limit=0, host_ipc=False, command=("sleep", "100000"),
               envs=(), privileged=False, log_path=""):
        """CreateContainer; returns the container id. mounts: (container path, host
        path) pairs; readonly: the container paths mounted read-only. Like the
        kubelet, it asks for the image by the id ImageStatus gives for IMAGE."""
        host_ipc = host_ipc or sandbox_config.linux.security_context.namespace_options.ipc == pb.NODE
        found = self.image_status(image)
        if not found.id:
            raise RuntimeError("image %s is not on the node" % image)
        config = pb.ContainerConfig(
            metadata=pb.ContainerMetadata(name=name, attempt=attempt),
            image=pb.ImageSpec(image=found.id, user_specified_image=image),
            command=list(command),
            envs=[pb.KeyValue(key=k, value=v) for k, v in envs],
            annotations=annotations or {},
            log_path=log_path,
            mounts=[pb.Mount(container_path=c, host_path=h, readonly=c in readonly) for c, h in mounts],
            linux=pb.LinuxContainerConfig(
                resources=pb.LinuxContainerResources(memory_limit_in_bytes=memory_limit),
                security_context=pb.LinuxContainerSecurityContext(
                    namespace_options=self.namespaces(host_ipc), privileged=privileged)))
        r = self.runtime("CreateContainer", pb.CreateContainerRequest(
            pod_sandbox_id=pod_id, config=config, sandbox_config=sandbox_config))
        return r.container_id

    def start(self, cid):
        self.runtime("StartContainer", pb.StartContainerRequest(container_id=cid))

    def run(self, pod_id, sandbox_config, name, image, **kw):
        """CreateContainer and StartContainer, as the kubelet does."""
        cid = self.create(pod_id, sandbox_config, name, image, **kw)
        self.start(cid)
        return cid

    def exec(self, cid, *cmd, timeout=20):
        r = self.runtime("ExecSync", pb.ExecSyncRequest(container_id=cid, cmd=list(cmd),
                                                        timeout=timeout))
        return r.exit_code, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")

    def status(self, cid):
        return self.runtime("ContainerStatus", pb.ContainerStatusRequest(container_id=cid)).status

    def stop_container(self, cid, timeout=0):
        self.runtime("StopContainer", pb.StopContainerRequest(container_id=cid, timeout=timeout))

    def remove_container(self, cid):
        self.runtime("RemoveContainer", pb.RemoveContainerRequest(container_id=cid))

    def remove_pod(self, pod_id):
        self.runtime("StopPodSandbox", pb.StopPodSandboxRequest(pod_sandbox_id=pod_id))
        self.runtime("RemovePodSandbox", pb.RemovePodSandboxRequest(pod_sandbox_id=pod_id))

    def pods(self):
        return self.runtime("ListPodSandbox", pb.ListPodSandboxRequest()).items

    def remove_all(self):
        for pod in self.pods():
            self.remove_pod(pod.id)

    def shm_kib(self, cid):
        """Size of the container's /dev/shm in KiB, as df shows it inside."""
        rc, out, err = self.exec(cid, "df", "-k", "/dev/shm")
        if rc != 0:
            raise RuntimeError("df in %s: %s" % (cid[:12], err))
        return int(out.splitlines()[1].split()[1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--address", required=True)
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("version")
    p = sub.add_parser("run")
    p.add_argument("pod")
    p.add_argument("image")
    p.add_argument("--namespace", default="default")
    p = sub.add_parser("exec")
    p.add_argument("cid")
    p.add_argument("argv", nargs=argparse.REMAINDER)
    p = sub.add_parser("rmpod")
    p.add_argument("pod_id")
    sub.add_parser("rmall")
    sub.add_parser("pods")
    a = ap.parse_args()
    cri = Cri(a.address, timeout=5 if a.cmd == "version" else 60)
    try:
        if a.cmd == "version":
            v = cri.version()
            print(v.runtime_name, v.runtime_version, v.runtime_api_version)
        elif a.cmd == "run":
            pod_id, config = cri.run_pod(a.pod, namespace=a.namespace)
            print(pod_id, cri.run(pod_id, config, a.pod, a.image))
        elif a.cmd == "exec":
            rc, out, err = cri.exec(a.cid, *a.argv)
            sys.stdout.write(out)
            sys.stderr.write(err)
            return rc
        elif a.cmd == "rmpod":
            cri.remove_pod(a.pod_id)
        elif a.cmd == "rmall":
            cri.remove_all()
        elif a.cmd == "pods":
            for pod in cri.pods():
                print(pod.id, "%s/%s" % (pod.metadata.namespace, pod.metadata.name))
    except CriError as e:
        print("cri.py: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
