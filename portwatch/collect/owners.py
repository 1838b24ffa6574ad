"""Naming the processes behind sockets, cached per (pid, create time) because pids are reused."""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from typing import Any

from portwatch.model import Owner

_OWNER_ATTRS = ["name", "uids", "username", "exe", "cmdline", "create_time"]
#: The psutil.Process objects the scans named owners from, by (pid, create time), newest last: a stop signals
#: through the object the scan made (its signal methods check that the pid still is that process), never
#: through a Process(pid) built at the moment of killing.
_HANDLES: OrderedDict[tuple[int, float], Any] = OrderedDict()
_HANDLES_LOCK = threading.Lock()
_KEEP_HANDLES = 4096


def _remember(proc: Any, started: float | None) -> None:
    if started is None:
        return
    with _HANDLES_LOCK:
        _HANDLES[(proc.pid, started)] = proc
        _HANDLES.move_to_end((proc.pid, started))
        while len(_HANDLES) > _KEEP_HANDLES:
            _HANDLES.popitem(last=False)


def scan_process(pid: int, started: float | None) -> Any | None:
    """The psutil.Process a scan made for this owner, or None (another collector, or long forgotten)."""
    if started is None:
        return None
    with _HANDLES_LOCK:
        return _HANDLES.get((pid, started))


@functools.lru_cache(maxsize=1024)
def user_name(uid: int) -> str:
    """The account name for a uid, or the number itself when the system has no name for it."""
    try:
        import pwd
    except ImportError:  # Windows
        return str(uid)
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def read_owner(pid: int) -> Owner | None:
    """Gather one process's identity in a single oneshot pass; None when it has exited.

    Fields we may not read (AccessDenied) are left empty rather than failing the whole owner.
    """
    if pid <= 0:  # psutil.Process(0) is the swapper on Linux, and Process(None) would be ourselves
        return None
    import psutil  # here, not at the top: `portwatch list` on Linux never needs it (collect/procfs.py)

    try:
        proc = psutil.Process(pid)
        with proc.oneshot():
            info = proc.as_dict(_OWNER_ATTRS, ad_value=None)
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return None
    except psutil.AccessDenied:
        return Owner(pid=pid, name="")
    real, effective = users(info["uids"], info["username"])
    _remember(proc, info["create_time"])
    return Owner(
        pid=pid,
        name=info["name"] or "",
        user=effective,
        real_user=real,
        exe=info["exe"] or None,
        cmdline=tuple(info["cmdline"] or ()),
        create_time=info["create_time"],
    )


def users(ids: Any, username: str | None) -> tuple[str | None, str | None]:
    """(real user where it differs, effective user) from psutil's uids() and username().

    psutil's username() is the real uid's name on POSIX; ps and lsof show the effective uid. Where uids() is
    not available (Windows) the username is all there is.
    """
    if ids is None:
        return None, username
    effective = user_name(ids.effective)
    return (user_name(ids.real) if ids.real != ids.effective else None), effective


def create_time(pid: int) -> float | None:
    """A process's start time (cheap: one stat read), None when it is gone or hidden."""
    import psutil

    try:
        return float(psutil.Process(pid).create_time())
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return None


class OwnerResolver:
    """Owner records cached by pid and validated by create time, so a reused pid is read afresh."""

    def __init__(self) -> None:
        self._owners: dict[int, Owner] = {}

    def owner(self, pid: int) -> Owner | None:
        cached = self._owners.get(pid)
        if cached is not None and cached.create_time is not None and create_time(pid) == cached.create_time:
            return cached
        fresh = read_owner(pid)
        if fresh is None:
            self._owners.pop(pid, None)
        else:
            self._owners[pid] = fresh
        return fresh

    def forget_except(self, live_pids: set[int]) -> None:
        """Drop cached owners of processes that no longer hold a listener."""
        for pid in self._owners.keys() - live_pids:
            del self._owners[pid]
