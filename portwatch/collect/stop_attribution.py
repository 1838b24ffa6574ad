"""The systemd unit or container a process belongs to, read from its cgroup, for the stop dialog's options.

Only what the cgroup path says for certain: a system unit (``…/system.slice/nginx.service``; a user unit under
``user@UID.service`` is left out, as ``systemctl stop`` without ``--user`` would not find it) and a container
id (Podman's ``libpod-<id>``/``libpod-conmon-<id>``, Docker's ``docker-<id>.scope`` or ``/docker/<id>``);
both stop commands accept the id where the name is not known. Namespace attribution (issue 11) may name
containers better; its names feed the same :class:`portwatch.stop_facts.Container`.
"""

from __future__ import annotations

import itertools
import re

from portwatch.stop_facts import Container

PROC = "/proc"
_ID = r"([0-9a-f]{64})"
_CONTAINER_PATTERNS = (
    ("podman", re.compile(rf"^libpod-(?:conmon-)?{_ID}(?:\.scope)?$")),
    ("docker", re.compile(rf"^docker-{_ID}\.scope$")),
)


def _paths(cgroup_text: str) -> list[str]:
    """The cgroup paths of /proc/PID/cgroup, the systemd hierarchies first (name=systemd, then cgroup2)."""
    named: list[str] = []
    others: list[str] = []
    for line in cgroup_text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        hierarchy, controllers, path = parts
        if controllers == "name=systemd" or (hierarchy == "0" and controllers == ""):
            named.append(path)
        else:
            others.append(path)
    return named + others


def unit_from_cgroup(cgroup_text: str) -> str | None:
    """The system service a process runs in ("nginx.service"), from the text of /proc/PID/cgroup."""
    for path in _paths(cgroup_text):
        parts = [part for part in path.split("/") if part]
        if any(part.startswith("user@") for part in parts):
            return None  # a user's unit: not something `systemctl stop` reaches
        services = [part for part in parts if part.endswith(".service")]
        if services:
            return services[-1]
    return None


def container_from_cgroup(cgroup_text: str) -> Container | None:
    """The Podman or Docker container a process runs in (by id), from the text of /proc/PID/cgroup."""
    for path in _paths(cgroup_text):
        parts = [part for part in path.split("/") if part]
        for index, part in enumerate(parts):
            for engine, pattern in _CONTAINER_PATTERNS:
                match = pattern.match(part)
                if match:
                    return Container(engine, match.group(1))
            if part == "docker" and index + 1 < len(parts) and re.fullmatch(_ID, parts[index + 1]):
                return Container("docker", parts[index + 1])
    return None


def container_from_cmdline(cmdline: tuple[str, ...]) -> Container | None:
    """The Podman container a ``conmon`` serves, from conmon's own argv (``-n NAME``, ``-c ID``).

    conmon holds a published port's host socket as a placeholder: signalling it leaves the port dead while
    the container runs on, so its container's stop is what to offer. CRI-O's conmon (no podman exit command)
    is left alone: `podman stop` does not know its containers.
    """
    if not cmdline or cmdline[0].rsplit("/", 1)[-1] != "conmon":
        return None
    values: dict[str, str] = {}
    for flag, value in itertools.pairwise(cmdline):
        if flag in ("-n", "--name", "-c", "--cid", "--exit-command") and flag not in values:
            values[flag] = value
    if not values.get("--exit-command", "").endswith("podman"):
        return None
    name = values.get("-n") or values.get("--name") or values.get("-c") or values.get("--cid")
    return Container("podman", name, placeholder=True) if name else None


def read_cgroup(pid: int, proc: str = PROC) -> str:
    """/proc/PID/cgroup's text; empty when it cannot be read (gone, not Linux)."""
    try:
        with open(f"{proc}/{pid}/cgroup", encoding="utf-8", errors="replace") as file:
            return file.read()
    except OSError:
        return ""


def attribution(pid: int, cmdline: tuple[str, ...] = (), proc: str = PROC) -> tuple[str | None, Container | None]:
    """(unit, container) of a process, each None when neither its cgroup nor (for conmon) its argv says."""
    text = read_cgroup(pid, proc)
    return unit_from_cgroup(text), container_from_cgroup(text) or container_from_cmdline(cmdline)
