"""The facts a stop is decided from, and what the signal step reports: records only, shared by collect/
(which reads and signals) and portwatch.stop_plan (which decides).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

from portwatch.model import Listener


@dataclass(frozen=True, slots=True)
class Container:
    """A container a holder runs in, as far as attribution knows it."""

    #: "podman" or "docker": the command that stops it.
    engine: str
    #: Its name, or its id where only the id is known (both commands accept either).
    name: str
    #: The holder only stands in for the container on the host (conmon, docker-proxy): signalling it would
    #: leave the port dead while the container runs on.
    placeholder: bool = False


@dataclass(frozen=True, slots=True)
class Holder:
    """One process that holds the listener's socket, read just before planning."""

    pid: int
    ppid: int | None
    name: str
    exe: str | None = None
    user: str | None = None
    #: The start time that identifies this process (Linux: clock ticks after boot, exact); None: unknown.
    start: int | float | None = None
    kernel_thread: bool = False
    #: The scan's create time for it (seconds since the epoch): finds the scan's process object off Linux.
    create_time: float | None = None
    #: The systemd unit it belongs to ("nginx.service"), None when none is known.
    unit: str | None = None
    container: Container | None = None


@dataclass(frozen=True, slots=True)
class StopRequest:
    """Everything a plan is decided from."""

    listener: Listener
    #: The scan's owners that are still the same process and still hold the socket, in the scan's order.
    holders: tuple[Holder, ...]
    #: Scan owners that exited, or whose pid now names another process or no longer holds the socket.
    changed: tuple[int, ...] = ()
    #: portwatch's own pid and its ancestors (parent first): never signalled.
    own_pid: int = 0
    ancestors: tuple[int, ...] = ()


class Sent(str, enum.Enum):
    """What the signal step did."""

    SENT = "sent"
    DENIED = "denied"
    #: The process exited before the signal.
    GONE = "gone"
    #: The pid names another process, or the process no longer holds the socket.
    CHANGED = "changed"


class Handle(Protocol):
    """Watches a signalled process: whether it still runs (a zombie has ended)."""

    def alive(self) -> bool: ...

    def close(self) -> None: ...


@dataclass
class SendResult:
    sent: Sent
    #: Why, in one line, for CHANGED and DENIED.
    reason: str = ""
    #: Watches the signalled process (SENT only); the caller closes it.
    handle: Handle | None = None
