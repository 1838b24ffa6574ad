"""Published ports: tie a host-side placeholder or proxy to the container listener it forwards to, both ways.

What the host shows without asking a daemon:

- Podman (rootful, netavark): ``conmon`` holds the published host port (a placeholder, so nothing else takes
  it) and a nat rule forwards it. conmon's argv names the container (``-c ID -n NAME``); the port mapping is in
  the container's config, which libpod keeps as JSON inside its BoltDB file (``newPortMappings``:
  host_ip, host_port, container_port, protocol, range); the container's pid is in its ``pidfile``, and that
  pid's namespace is where the inner listener lives.
- Docker: ``docker-proxy -proto tcp -host-ip A -host-port P -container-ip C -container-port Q`` says it
  all but which namespace has address C: the container whose config.v2.json lists that IP (its State.Pid).

A mapping that cannot be read ties nothing: a row without a link is honest, a guessed one is not.
Rootless forwarders (rootlessport, pasta, slirp4netns) and DNAT-only publishing are not tied (yet).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from pathlib import Path
from typing import Any

from portwatch.model import HOST_NETNS, LinkDirection, Listener, Netns, PortLink, Scan

PROC = "/proc"
LIBPOD_DB = "/var/lib/containers/storage/libpod/bolt_state.db"
PODMAN_RUN = "/run/containers/storage/overlay-containers"
DOCKER_CONTAINERS = "/var/lib/docker/containers"

_CONFIG_START = re.compile(rb'\{"spec":\{"ociVersion"')
#: Container configs never change after creation: container id -> its port mappings.
_podman_ports: dict[str, list[dict[str, Any]]] = {}


def _argument(argv: tuple[str, ...], name: str) -> str | None:
    for index, arg in enumerate(argv[:-1]):
        if arg == name:
            return argv[index + 1]
    return None


def podman_port_mappings(container_id: str, db: str = LIBPOD_DB) -> list[dict[str, Any]]:
    """The container's ``newPortMappings`` from libpod's BoltDB (values are stored whole, as JSON)."""
    if container_id in _podman_ports:
        return _podman_ports[container_id]
    try:
        data = Path(db).read_bytes()
    except OSError:
        return []
    decoder = json.JSONDecoder()
    needle = f'"id":"{container_id}"'.encode()
    for match in _CONFIG_START.finditer(data):
        window = data[match.start() : match.start() + (1 << 20)]
        if needle not in window[:200000]:
            continue
        try:
            config, _end = decoder.raw_decode(window.decode("utf-8", "replace"))
        except ValueError:
            continue
        if isinstance(config, dict) and config.get("id") == container_id:
            mappings = [m for m in config.get("newPortMappings") or () if isinstance(m, dict)]
            _podman_ports[container_id] = mappings
            return mappings
    return []


def _netns_of_pid(pid: int, proc: str = PROC) -> int | None:
    try:
        link = os.readlink(f"{proc}/{pid}/ns/net")
    except OSError:
        return None
    return int(link[5:-1]) if link.startswith("net:[") else None


def _podman_target(listener: Listener, argv: tuple[str, ...], proc: str) -> tuple[int, int, str] | None:
    """(netns inode, container port, name) a conmon-held host port forwards to."""
    container_id, name = _argument(argv, "-c"), _argument(argv, "-n")
    if not container_id or not re.fullmatch(r"[0-9a-f]{64}", container_id):
        return None
    for mapping in podman_port_mappings(container_id):
        first, span = mapping.get("host_port"), mapping.get("range") or 1
        inner = mapping.get("container_port")
        if not isinstance(first, int) or not isinstance(inner, int) or not isinstance(span, int):
            continue
        protocols = str(mapping.get("protocol") or "tcp").split(",")
        if listener.proto.value in protocols and first <= listener.port < first + span:
            try:
                pid = int(Path(PODMAN_RUN, container_id, "userdata", "pidfile").read_text().strip())
            except (OSError, ValueError):
                return None
            inode = _netns_of_pid(pid, proc)
            return (inode, inner + listener.port - first, name or container_id[:12]) if inode else None
    return None


def _docker_target(argv: tuple[str, ...], proc: str, root: str = DOCKER_CONTAINERS) -> tuple[int, int, str] | None:
    """(netns inode, container port, name) a docker-proxy forwards to."""
    address, port = _argument(argv, "-container-ip"), _argument(argv, "-container-port")
    if not address or not port or not port.isdigit():
        return None
    try:
        ids = os.listdir(root)
    except OSError:
        return None
    for container_id in ids:
        try:
            config = json.loads(Path(root, container_id, "config.v2.json").read_text(encoding="utf-8"))
            networks = config["NetworkSettings"]["Networks"] or {}
            pid = int(config["State"]["Pid"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if any(isinstance(net, dict) and net.get("IPAddress") == address for net in networks.values()):
            inode = _netns_of_pid(pid, proc) if pid else None
            name = str(config.get("Name") or container_id[:12]).lstrip("/")
            return (inode, int(port), name) if inode else None
    return None


def tie_published(scan: Scan, proc: str = PROC, docker_root: str = DOCKER_CONTAINERS) -> Scan:
    """The scan with PortLinks on each published host row and on the inner listener it reaches."""
    by_inode: dict[int, Netns] = {netns.inode: netns for netns in scan.namespaces}
    host = next((netns for netns in scan.namespaces if netns.is_host), HOST_NETNS)
    links: dict[int, list[PortLink]] = {}
    inner: dict[tuple[int, str, int], list[int]] = {}
    for index, listener in enumerate(scan.listeners):
        if not listener.netns.is_host:
            inner.setdefault((listener.netns.inode, listener.proto.value, listener.port), []).append(index)
    for index, listener in enumerate(scan.listeners):
        if not listener.netns.is_host:
            continue
        target = None
        for owner in listener.owners:
            if owner.name == "conmon":
                target = _podman_target(listener, owner.cmdline, proc)
            elif owner.name == "docker-proxy":
                target = _docker_target(owner.cmdline, proc, docker_root)
            if target:
                break
        if target is None or target[0] not in by_inode:
            continue
        inode, port, name = target
        via = "docker-proxy" if any(o.name == "docker-proxy" for o in listener.owners) else "conmon"
        reached = inner.get((inode, listener.proto.value, port), [])
        address = scan.listeners[reached[0]].address if reached else "*"
        links.setdefault(index, []).append(
            PortLink(LinkDirection.TO_CONTAINER, by_inode[inode], address, port, via, name)
        )
        for far in reached:
            links.setdefault(far, []).append(
                PortLink(LinkDirection.FROM_HOST, host, listener.address, listener.port, via, name)
            )
    if not links:
        return scan
    listeners = tuple(
        dataclasses.replace(entry, links=(*entry.links, *links[i])) if i in links else entry
        for i, entry in enumerate(scan.listeners)
    )
    return dataclasses.replace(scan, listeners=listeners)
