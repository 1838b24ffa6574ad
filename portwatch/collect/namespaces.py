"""Every network namespace on this machine, and the name users know it by.

A namespace is alive while a process is in it or a bind mount holds it: so the namespaces are the distinct
``/proc/PID/ns/net`` of all processes plus the nsfs files under /run/netns (`ip netns`, Podman's
``netns-<uuid>``) and Docker's /var/run/docker/netns. The host's is this process's own (/proc/1/ns/net is
unreadable on some machines, even to root). One readlink per process (``net:[INODE]``, ~1 µs) finds them;
all nsfs files share one device, so the inode alone tells them apart while they live.

Names, cheapest truth first: ``host``; a container's name from the cgroup of a process inside (Podman's
``libpod-<id>``, Docker's ``docker-<id>.scope`` or ``/docker/<id>``) and the runtime's state on disk; a
Kubernetes pod from its kubepods cgroup and the kubelet's /var/log/pods; the `ip netns` name; else the inode.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from portwatch.model import Netns, NetnsKind

PROC = "/proc"
#: Where bind mounts keep namespaces alive: `ip netns` and Podman, then Docker.
NETNS_DIRS = ("/run/netns", "/var/run/docker/netns")
PODMAN_CONTAINERS = "/var/lib/containers/storage/overlay-containers/containers.json"
DOCKER_CONTAINERS = "/var/lib/docker/containers"
KUBELET_PODS = "/var/log/pods"

_PODMAN = re.compile(r"libpod-(?:conmon-)?([0-9a-f]{64})")
_DOCKER = re.compile(r"(?:docker-|/docker/)([0-9a-f]{64})")
_KUBEPOD = re.compile(r"kubepods.*?pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})")


@dataclass(slots=True)
class Found:
    """One namespace as discovery saw it this scan: how to open it and what is in it."""

    inode: int
    #: Bind mounts naming it (/run/netns/NAME, ...), in NETNS_DIRS order.
    mounts: list[str] = field(default_factory=list)
    #: Processes in it (a few are enough to open and name it).
    pids: list[int] = field(default_factory=list)

    def paths(self, proc: str = PROC) -> list[str]:
        """Files that open it, the steadiest first (a bind mount outlives any process)."""
        return [*self.mounts, *(f"{proc}/{pid}/ns/net" for pid in self.pids[:3])]


def _inode_of(link: str) -> int | None:
    # "net:[4026531833]"
    if link.startswith("net:[") and link.endswith("]"):
        try:
            return int(link[5:-1])
        except ValueError:
            return None
    return None


def host_inode(proc: str = PROC) -> int:
    """This process's network namespace: the host's, as far as portwatch is concerned."""
    return os.stat(f"{proc}/self/ns/net").st_ino


def discover(
    pids: set[int] | None = None,
    proc: str = PROC,
    netns_dirs: tuple[str, ...] = NETNS_DIRS,
    known: dict[int, int] | None = None,
) -> tuple[dict[int, Found], int]:
    """Every namespace this user can see, by inode, and how many processes' namespaces were unreadable.

    ``known`` (pid -> inode) is read for new pids only and pruned of exited ones, so a caller that keeps it
    pays one readlink per new process instead of one per process.
    """
    found: dict[int, Found] = {}
    denied = 0
    if pids is None:
        pids = {int(name) for name in os.listdir(proc) if name.isdigit()}
    cache: dict[int, int] = {} if known is None else known
    if known is not None:
        for pid in known.keys() - pids:
            del known[pid]
    readlink = os.readlink
    for pid in pids:
        inode = cache.get(pid)
        if inode is None:
            try:
                inode = _inode_of(readlink(f"{proc}/{pid}/ns/net"))
            except PermissionError:
                denied += 1
                continue
            except OSError:
                continue  # exited, or a kernel thread
            if inode is None:
                continue
            cache[pid] = inode
        entry = found.get(inode)
        if entry is None:
            found[inode] = Found(inode, pids=[pid])
        elif len(entry.pids) < 8:
            entry.pids.append(pid)
    for directory in netns_dirs:
        try:
            names = sorted(os.listdir(directory))
        except OSError:
            continue
        for name in names:
            path = f"{directory}/{name}"
            try:
                status = os.stat(path)
            except OSError:
                continue
            if status.st_size == 0 and status.st_nlink == 1 and _is_nsfs(status.st_dev, proc):
                found.setdefault(status.st_ino, Found(status.st_ino)).mounts.append(path)
    return found, denied


_NSFS_DEV: int | None = None


def _is_nsfs(dev: int, proc: str) -> bool:
    """Whether a file lives on nsfs (an unmounted /run/netns/NAME is an empty regular file on tmpfs)."""
    global _NSFS_DEV
    if _NSFS_DEV is None:
        try:
            _NSFS_DEV = os.stat(f"{proc}/self/ns/net").st_dev
        except OSError:
            return False
    return dev == _NSFS_DEV


@dataclass(frozen=True, slots=True)
class StatePaths:
    """Where the runtimes keep their state (tests point these at fixtures)."""

    proc: str = PROC
    podman_containers: str = PODMAN_CONTAINERS
    docker_containers: str = DOCKER_CONTAINERS
    kubelet_pods: str = KUBELET_PODS


def read_cgroup(pid: int, proc: str = PROC) -> str:
    try:
        with open(f"{proc}/{pid}/cgroup", encoding="utf-8", errors="surrogateescape") as handle:
            return handle.read()
    except OSError:
        return ""


def podman_name(container_id: str, path: str = PODMAN_CONTAINERS) -> str | None:
    """A Podman container's name from its store (containers.json: a list of {id, names, ...})."""
    try:
        entries = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    for entry in entries if isinstance(entries, list) else ():
        if isinstance(entry, dict) and entry.get("id") == container_id:
            names = entry.get("names")
            if isinstance(names, list) and names and isinstance(names[0], str):
                return names[0]
    return None


def docker_name(container_id: str, root: str = DOCKER_CONTAINERS) -> str | None:
    """A Docker container's name from /var/lib/docker/containers/ID/config.v2.json ("Name": "/web-1")."""
    try:
        config = json.loads(Path(root, container_id, "config.v2.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    name = config.get("Name") if isinstance(config, dict) else None
    return name.lstrip("/") if isinstance(name, str) and name.strip("/") else None


def pod_name(uid: str, root: str = KUBELET_PODS) -> str | None:
    """``NAMESPACE/POD`` from the kubelet's /var/log/pods/NAMESPACE_POD_UID directory."""
    try:
        names = os.listdir(root)
    except OSError:
        return None
    for name in names:
        parts = name.rsplit("_", 2)
        if len(parts) == 3 and parts[2].replace("_", "-") == uid:
            return f"{parts[0]}/{parts[1]}"
    return None


def container_of(cgroup: str, paths: StatePaths) -> tuple[NetnsKind, str] | None:
    """(kind, name) for a process whose cgroup says it runs in a container or a pod; None otherwise."""
    pod = _KUBEPOD.search(cgroup)
    if pod:
        uid = pod.group(1).replace("_", "-")
        return NetnsKind.POD, pod_name(uid, paths.kubelet_pods) or uid
    podman = _PODMAN.search(cgroup)
    if podman:
        return NetnsKind.CONTAINER, podman_name(podman.group(1), paths.podman_containers) or podman.group(1)[:12]
    docker = _DOCKER.search(cgroup)
    if docker:
        return NetnsKind.CONTAINER, docker_name(docker.group(1), paths.docker_containers) or docker.group(1)[:12]
    return None


def name_namespace(found: Found, host: int, paths: StatePaths | None = None) -> Netns:
    """The Netns for a discovered namespace: host, container, pod, an `ip netns` name, or its inode."""
    paths = paths or StatePaths()
    if found.inode == host:
        return Netns(found.inode, NetnsKind.HOST, "host")
    for pid in found.pids:
        named = container_of(read_cgroup(pid, paths.proc), paths)
        if named is not None:
            return Netns(found.inode, named[0], named[1])
    for mount in found.mounts:
        base = os.path.basename(mount)
        if mount.startswith(NETNS_DIRS[0]) and not base.startswith("netns-"):  # Podman's are netns-<uuid>
            return Netns(found.inode, NetnsKind.NAMED, base)
    if found.mounts:
        return Netns(found.inode, NetnsKind.OTHER, os.path.basename(found.mounts[0]))
    return Netns(found.inode, NetnsKind.OTHER, str(found.inode))


def is_provisional(netns: Netns) -> bool:
    """A name that a later look may improve: nothing named it yet, or a container's runtime state was not
    readable (a short id or a pod uid stands in for its name)."""
    if netns.kind is NetnsKind.OTHER:
        return True
    if netns.kind is NetnsKind.CONTAINER:
        return re.fullmatch(r"[0-9a-f]{12}", netns.name) is not None
    return netns.kind is NetnsKind.POD and "/" not in netns.name


def count_unseen(host: int, proc: str = PROC, known: dict[int, int] | None = None) -> int:
    """Namespaces other than the host's that this (unprivileged) user can tell exist: bind mounts anyone may
    stat, and the processes whose /proc/PID/ns/net it may read. There may be more. ``known``: as discover's."""
    found, _denied = discover(proc=proc, known=known)
    return sum(1 for inode in found if inode != host)
