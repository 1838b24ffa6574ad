"""Reading who a process is from its cgroup path and the runtimes' state files: pure functions on text.

Nothing here opens a file; collect/cgroups.py reads /proc/PID/cgroup and the state files and hands their text
to these functions, so each rule is tested on real-format strings.

What the paths look like (``/proc/PID/cgroup`` is ``ID:CONTROLLERS:PATH`` a line):

- systemd, cgroup v1 ``N:name=systemd:PATH`` (hybrid hosts) or v2 ``0::PATH``:
  ``/system.slice/nginx.service``, ``/system.slice/system-getty.slice/getty@tty1.service``,
  user units under their manager ``/user.slice/user-1000.slice/user@1000.service/app.slice/pipewire.service``,
  logins ``/user.slice/user-1000.slice/session-3.scope`` (a login session, not a service).
- Docker: ``/system.slice/docker-<64 hex>.scope`` (systemd driver) or ``/docker/<64 hex>`` (cgroupfs).
- Podman: ``/machine.slice/libpod-<64 hex>.scope`` (systemd) or ``/libpod_parent/libpod-<64 hex>`` (cgroupfs).
- containerd and CRI-O under Kubernetes: ``cri-containerd-<64 hex>.scope``, ``crio-<64 hex>.scope`` inside
  ``/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod<uid, _ for ->.slice/`` (systemd driver)
  or ``/kubepods/besteffort/pod<uid>/<64 hex>`` (cgroupfs driver); the kubelet keeps
  ``/var/log/pods/<namespace>_<pod>_<uid>`` for each pod.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from portwatch.model import PodRef, UnitRef

_UNIT_TYPES = ("service", "scope", "socket", "mount", "swap")
_HEX64 = r"[0-9a-f]{64}"
# Patterns as text: `re` compiles (and caches) them at first use, so a host whose processes all sit in "/"
# never pays for compiling them (`portwatch list` imports this module on every run).
#: (pattern of one path component, runtime); the id is group 1.
_CONTAINER_COMPONENTS = (
    (rf"docker-({_HEX64})\.scope", "docker"),
    (rf"libpod-({_HEX64})(?:\.scope)?", "podman"),
    (rf"cri-containerd-({_HEX64})\.scope", "containerd"),
    (rf"crio-({_HEX64})\.scope", "cri-o"),
)
_BARE_ID = _HEX64
_USER_MANAGER = r"user@(\d+)\.service"
_SESSION = r"session-[^/]+\.scope"
_POD_SYSTEMD = r"kubepods(?:-(?:besteffort|burstable|guaranteed))?-pod([0-9a-f_]{36})\.slice"
_POD_CGROUPFS = r"pod([0-9a-f-]{36})"


@dataclass(frozen=True, slots=True)
class Placement:
    """What one process's cgroup paths say about it, before names are looked up."""

    unit: UnitRef | None = None
    #: (runtime, 64-hex id)
    container: tuple[str, str] | None = None
    #: The pod uid with dashes, as the kubelet names its directories.
    pod_uid: str | None = None


def _split(text: str) -> tuple[list[str], list[str], list[str]]:
    """(name=systemd paths, cgroup2 paths, every other controller's) of a /proc/PID/cgroup file."""
    systemd: list[str] = []
    unified: list[str] = []
    others: list[str] = []
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        hierarchy, controllers, path = parts
        if controllers == "name=systemd":
            systemd.append(path)
        elif hierarchy == "0" and controllers == "":
            unified.append(path)
        else:
            others.append(path)
    return systemd, unified, others


def cgroup_paths(text: str) -> tuple[str, ...]:
    """The paths of a /proc/PID/cgroup file, systemd's first: the v1 ``name=systemd`` line, then the v2 ``0::``
    line, then every other controller's (a cgroupfs-driven container shows its id in all of them)."""
    systemd, unified, others = _split(text)
    return tuple(dict.fromkeys(systemd + unified + others))


def unit_of(path: str) -> UnitRef | None:
    """The systemd unit a cgroup path is in: its deepest unit component (a service's own sub-cgroups belong to
    it). A user manager's ``init.scope`` is the manager, ``user@UID.service``; ``session-N.scope`` is a login."""
    components = [part for part in path.split("/") if part]
    user_uid: int | None = None
    found: tuple[int, str] | None = None
    for index, part in enumerate(components):
        manager = re.fullmatch(_USER_MANAGER, part)
        if manager is not None:
            user_uid = int(manager[1])
        stem, dot, kind = part.rpartition(".")
        if dot and stem and kind in _UNIT_TYPES:
            found = (index, part)
    if found is None:
        return None
    index, name = found
    if re.fullmatch(_SESSION, name):
        return UnitRef(name, "session")
    if re.fullmatch(_USER_MANAGER, name):
        return UnitRef(name, "service")  # the user's manager is a system unit
    if name == "init.scope" and index > 0 and re.fullmatch(_USER_MANAGER, components[index - 1]):
        return UnitRef(components[index - 1], "service")
    inside_manager = user_uid is not None and any(re.fullmatch(_USER_MANAGER, p) for p in components[:index])
    return UnitRef(name, name.rpartition(".")[2], user_uid if inside_manager else None)


def container_of(path: str) -> tuple[str, str] | None:
    """(runtime, id) of the container a cgroup path is in; None on the host. Conmon's and shims' own scopes
    (``libpod-conmon-<id>.scope``, ``crio-conmon-<id>.scope``) are not the container."""
    components = [part for part in path.split("/") if part]
    for index, part in enumerate(components):
        for pattern, runtime in _CONTAINER_COMPONENTS:
            found = re.fullmatch(pattern, part)
            if found is not None:
                return runtime, found[1]
        if re.fullmatch(_BARE_ID, part) and index > 0:
            parent = components[index - 1]
            if parent == "docker":
                return "docker", part
            if re.fullmatch(_POD_CGROUPFS, parent) or re.fullmatch(_POD_SYSTEMD, parent):
                return "kubernetes", part  # cgroupfs kubelet: the path does not name the runtime
    return None


def pod_of(path: str) -> str | None:
    """The Kubernetes pod uid (with dashes) a cgroup path is in; None outside kubepods."""
    components = [part for part in path.split("/") if part]
    if not any(part.startswith("kubepods") for part in components):
        return None
    for part in components:
        found = re.fullmatch(_POD_SYSTEMD, part)
        if found is not None:
            return found[1].replace("_", "-")
        found = re.fullmatch(_POD_CGROUPFS, part)
        if found is not None:
            return found[1]
    return None


#: Words one of which is in every container's cgroup path (cheap to test before any pattern).
_CONTAINER_WORDS = ("docker", "libpod", "containerd", "crio", "kubepods")
_NOWHERE = Placement()


def placement(text: str) -> Placement:
    """Unit, container and pod from a whole /proc/PID/cgroup file: the first path that names each. The unit
    comes from systemd's hierarchies only (name=systemd, cgroup2), where they exist."""
    systemd, unified, others = _split(text)
    paths = tuple(dict.fromkeys(systemd + unified + others))
    if all(path == "/" for path in paths):  # most processes off systemd machines: nothing to parse
        return _NOWHERE
    unit_paths = (systemd + unified) or others
    unit = next((found for found in map(unit_of, unit_paths) if found is not None), None)
    container: tuple[str, str] | None = None
    pod: str | None = None
    if any(word in path for path in paths for word in _CONTAINER_WORDS):
        container = next((found for found in map(container_of, paths) if found is not None), None)
        pod = next((found for found in map(pod_of, paths) if found is not None), None)
    return Placement(unit, container, pod)


def conmon_container(name: str, argv: tuple[str, ...]) -> tuple[str, str] | None:
    """("podman", id) for Podman's conmon, from its ``-c <64 hex>`` (``--cid``) argument; None otherwise."""
    if name != "conmon":
        return None
    for flag, value in itertools.pairwise(argv):
        if flag in ("-c", "--cid") and re.fullmatch(_HEX64, value):
            return "podman", value
    return None


def pod_from_dir(entry: str) -> PodRef | None:
    """A kubelet pod directory name ``<namespace>_<pod>_<uid>`` (names are DNS labels: no ``_`` in them)."""
    parts = entry.split("_")
    if len(parts) != 3 or not all(parts):
        return None
    namespace, name, uid = parts
    return PodRef(uid, namespace, name)


def podman_containers(text: str) -> dict[str, tuple[str | None, str | None]]:
    """id -> (name, image) from Podman's ``overlay-containers/containers.json``. ``image`` is empty for
    ``--rootfs`` containers; the metadata string's ``image-name`` is used when ``image`` is an image id."""
    import json  # here: only a host with containers parses state files

    try:
        document = json.loads(text)
    except ValueError:
        return {}
    found: dict[str, tuple[str | None, str | None]] = {}
    if not isinstance(document, list):
        return found
    for item in document:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            continue
        names = item.get("names")
        name = names[0] if isinstance(names, list) and names and isinstance(names[0], str) else None
        image: str | None = None
        metadata = item.get("metadata")
        if isinstance(metadata, str):
            try:
                meta = json.loads(metadata)
            except ValueError:
                meta = {}
            if isinstance(meta, dict):
                image = meta.get("image-name") if isinstance(meta.get("image-name"), str) else None
                if name is None and isinstance(meta.get("name"), str):
                    name = meta["name"]
        if not image and isinstance(item.get("image"), str):
            image = item["image"]
        found[item["id"]] = (name, image or None)
    return found


def docker_container(text: str) -> tuple[str | None, str | None]:
    """(name, image) from Docker's ``containers/<id>/config.v2.json`` (``Name`` is ``/web-1``)."""
    import json

    try:
        document = json.loads(text)
    except ValueError:
        return None, None
    if not isinstance(document, dict):
        return None, None
    raw_name = document.get("Name")
    name = raw_name.lstrip("/") if isinstance(raw_name, str) and raw_name.strip("/") else None
    config = document.get("Config")
    image = config.get("Image") if isinstance(config, dict) and isinstance(config.get("Image"), str) else None
    return name, image or None
