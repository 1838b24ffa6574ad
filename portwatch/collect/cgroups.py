"""Who a process is beyond its pid: its systemd unit, container and Kubernetes pod, from /proc/PID/cgroup and
the container runtimes' own state files (no daemon API, nothing to install).

The cgroup answer is cached per (pid, start time): a process stays where it started in all but rare cases
(``systemd-run --scope`` moves itself once, before it execs). Names come from state files cached by their
mtime, so a new container is named as soon as its runtime wrote it down:

- Podman: ``/var/lib/containers/storage/overlay-containers/containers.json`` (id, names, image).
- Docker: ``/var/lib/docker/containers/<id>/config.v2.json`` (Name, Config.Image).
- Kubernetes: the kubelet's ``/var/log/pods/<namespace>_<pod>_<uid>`` directories.

Where a file cannot be read (not root, another runtime root), the id alone is shown: never a guess.

Podman's ``conmon`` (the monitor that also holds a container's published ports on the host) runs outside
the container's cgroup; its own argv names the container (``-c <id>``), so it is attributed to it.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from pathlib import Path

from portwatch.collect import cgroup_paths
from portwatch.collect.procfs import PROC
from portwatch.model import ContainerRef, Owner, PodRef, UnitRef

PODMAN_STORE = Path("/var/lib/containers/storage/overlay-containers/containers.json")
DOCKER_ROOT = Path("/var/lib/docker/containers")
PODS_DIR = Path("/var/log/pods")


class _ByMtime:
    """One file's parsed contents, re-read only when its mtime (or size, or inode) changes."""

    def __init__(self, path: Path, parse: Callable[[str], object]) -> None:
        self.path = path
        self._parse = parse
        self._stamp: tuple[int, int, int] | None = None
        self._value: object = None

    def get(self) -> object:
        try:
            info = self.path.stat()
        except OSError:
            self._stamp, self._value = None, None
            return None
        stamp = (info.st_ino, info.st_size, info.st_mtime_ns)
        if stamp != self._stamp:
            try:
                text = self.path.read_text(encoding="utf-8", errors="surrogateescape")
            except OSError:
                return None
            self._stamp, self._value = stamp, self._parse(text)
        return self._value


class RuntimeState:
    """Container names and images from the runtimes' state on disk; paths injectable for tests."""

    def __init__(self, podman_store: Path = PODMAN_STORE, docker_root: Path = DOCKER_ROOT) -> None:
        self._podman = _ByMtime(podman_store, cgroup_paths.podman_containers)
        self._docker_root = docker_root
        self._docker: dict[str, _ByMtime] = {}

    def container(self, runtime: str, container_id: str) -> ContainerRef:
        name: str | None = None
        image: str | None = None
        if runtime == "podman":
            known = self._podman.get()
            if isinstance(known, dict) and container_id in known:
                name, image = known[container_id]
        elif runtime == "docker":
            if container_id not in self._docker:
                if len(self._docker) > 256:
                    self._docker.clear()
                self._docker[container_id] = _ByMtime(
                    self._docker_root / container_id / "config.v2.json", cgroup_paths.docker_container
                )
            found = self._docker[container_id].get()
            if isinstance(found, tuple):
                name, image = found
        return ContainerRef(runtime, container_id, name, image)


class PodDirectory:
    """Pod uid -> namespace and name, from the kubelet's per-pod directories (listing cached by mtime)."""

    def __init__(self, pods_dir: Path = PODS_DIR) -> None:
        self.pods_dir = pods_dir
        self._stamp: int | None = None
        self._pods: dict[str, PodRef] = {}

    def pod(self, uid: str) -> PodRef:
        try:
            mtime = self.pods_dir.stat().st_mtime_ns
        except OSError:
            return PodRef(uid)
        if mtime != self._stamp:
            pods: dict[str, PodRef] = {}
            try:
                for entry in os.listdir(self.pods_dir):
                    found = cgroup_paths.pod_from_dir(entry)
                    if found is not None:
                        pods[found.uid] = found
            except OSError:
                return PodRef(uid)
            self._stamp, self._pods = mtime, pods
        return self._pods.get(uid, PodRef(uid))


def read_placement(pid: int, proc: str = PROC) -> cgroup_paths.Placement | None:
    """What /proc/PID/cgroup says; None when it is gone or unreadable."""
    try:
        with open(f"{proc}/{pid}/cgroup", "rb") as file:
            text = file.read().decode("utf-8", "surrogateescape")
    except OSError:
        return None
    return cgroup_paths.placement(text)


#: What a process's cgroup says of it, names looked up: (unit, container, pod).
Occupancy = tuple[UnitRef | None, ContainerRef | None, PodRef | None]


class Occupants:
    """Adds unit, container and pod to owners; one /proc/PID/cgroup read per process (pid, start time)."""

    def __init__(
        self, proc: str = PROC, runtimes: RuntimeState | None = None, pods: PodDirectory | None = None
    ) -> None:
        self._proc = proc
        self.runtimes = runtimes or RuntimeState()
        self.pods = pods or PodDirectory()
        self._seen: dict[tuple[int, object], Occupancy] = {}

    def attach(self, owner: Owner, started: object = None) -> Owner:
        """``owner`` with its unit, container and pod. ``started`` tells this process from a reused pid (the
        start ticks when the caller read them; else the owner's create time)."""
        key = (owner.pid, started if started is not None else owner.create_time)
        found = self._seen.get(key)
        if found is None:
            placed = read_placement(owner.pid, self._proc)
            if placed is None:
                return owner
            runtime_id = placed.container or cgroup_paths.conmon_container(owner.name, owner.cmdline)
            container = self.runtimes.container(*runtime_id) if runtime_id is not None else None
            pod = self.pods.pod(placed.pod_uid) if placed.pod_uid is not None else None
            found = (placed.unit, container, pod)
            if key[1] is not None:
                self._seen[key] = found
        if found == (None, None, None):
            return owner
        return dataclasses.replace(owner, unit=found[0], container=found[1], pod=found[2])

    def forget_except(self, pids: set[int]) -> None:
        for key in [key for key in self._seen if key[0] not in pids]:
            del self._seen[key]
