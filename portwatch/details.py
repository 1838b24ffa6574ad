"""What the process panel and `portwatch who` show about one process: its state, parent chain and details.

Re-exported by :mod:`portwatch.model` (import them from there); a module of their own keeps model.py short.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class ProcessState(str, enum.Enum):
    """What we could learn about a process: these are states to show, not errors."""

    OK = "ok"
    EXITED = "exited"
    DENIED = "denied"


@dataclass(frozen=True, slots=True)
class ProcessLink:
    """One step of a parent chain."""

    pid: int
    name: str


@dataclass(frozen=True, slots=True)
class ProcessDetails:
    """Everything the process panel and `portwatch who` show about one process.

    Fields that could not be read (permission) are None; ``denied`` names them so the UI can say so.
    """

    pid: int
    state: ProcessState
    name: str = ""
    exe: str | None = None
    #: The executable file was deleted or replaced after the process started ("(deleted)" on Linux).
    exe_deleted: bool = False
    cmdline: tuple[str, ...] = ()
    cwd: str | None = None
    #: The working directory was removed (Linux marks the cwd link " (deleted)"): ``cwd`` is where it was.
    cwd_deleted: bool = False
    #: The effective user, as ps shows it.
    user: str | None = None
    #: The real user, only where it differs from ``user``.
    real_user: str | None = None
    #: Parent, grandparent, … up to pid 1, nearest first.
    parents: tuple[ProcessLink, ...] = ()
    create_time: float | None = None
    status: str | None = None
    #: None on the first sample: psutil's first cpu_percent() is meaningless.
    cpu_percent: float | None = None
    memory_rss: int | None = None
    memory_percent: float | None = None
    threads: int | None = None
    open_fds: int | None = None
    #: This process's listening sockets as "tcp 0.0.0.0:22".
    listening: tuple[str, ...] = ()
    #: Its other inet sockets counted by state, e.g. (("ESTABLISHED", 3), ("TIME_WAIT", 1)).
    connection_states: tuple[tuple[str, int], ...] = ()
    denied: tuple[str, ...] = ()
    #: SHA-256 (hex) of the running executable; None when not computed (see ``sha256_note``).
    sha256: str | None = None
    #: Why there is no digest (too large, unreadable), e.g. "not hashed: 300.0 MiB is over the 128 MiB cap".
    sha256_note: str | None = None
