"""systemd ``.socket`` units: which ports systemd itself holds for socket activation (read from the unit files,
not from pid 1, whose fds may be unreadable even to root)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

#: Where unit files live, highest precedence first (a unit in /etc overrides the packaged one).
UNIT_DIRS = (
    Path("/etc/systemd/system"),
    Path("/run/systemd/system"),
    Path("/usr/lib/systemd/system"),
    Path("/lib/systemd/system"),
)
_PORT = re.compile(r"(?:.*:)?(\d{1,5})")


@dataclass(frozen=True, slots=True)
class SocketUnit:
    name: str
    #: (proto, port) pairs it listens on.
    listens: tuple[tuple[str, int], ...]
    #: The service it starts.
    service: str


def parse_socket_unit(name: str, text: str) -> SocketUnit:
    """``ListenStream=22``, ``ListenStream=0.0.0.0:111``, ``ListenDatagram=[::]:111``; ``Service=``,
    ``Accept=yes`` (one ``NAME@.service`` instance per connection). Paths (UNIX sockets) are skipped."""
    listens: list[tuple[str, int]] = []
    service: str | None = None
    accept = False
    section = ""
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        key, equals, value = line.partition("=")
        if not equals or section != "Socket":
            continue
        key, value = key.strip(), value.strip()
        if key in ("ListenStream", "ListenDatagram", "ListenSequentialPacket"):
            found = _PORT.fullmatch(value)
            if found is not None and not value.startswith(("/", "@")):
                listens.append(("tcp" if key != "ListenDatagram" else "udp", int(found[1])))
        elif key == "Service":
            service = value
        elif key == "Accept":
            accept = value.lower() in ("yes", "true", "1", "on")
    stem = name.removesuffix(".socket")
    return SocketUnit(name, tuple(listens), service or (f"{stem}@.service" if accept else f"{stem}.service"))


def load(unit_dirs: tuple[Path, ...] = UNIT_DIRS) -> list[SocketUnit]:
    """Every ``.socket`` unit in ``unit_dirs``, the first directory's copy winning."""
    units: dict[str, SocketUnit] = {}
    for directory in unit_dirs:
        try:
            names = sorted(os.listdir(directory))
        except OSError:
            continue
        for name in names:
            if not name.endswith(".socket") or name in units:
                continue
            try:
                text = (directory / name).read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            units[name] = parse_socket_unit(name, text)
    return list(units.values())


def matching(units: list[SocketUnit], proto: str, port: int) -> SocketUnit | None:
    return next((unit for unit in units if (proto, port) in unit.listens), None)
