"""Process details through psutil, safe against processes that vanish, are reused, or are not ours to read."""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import psutil

from portwatch.collect import procfs
from portwatch.collect.digests import FileDigests
from portwatch.collect.inodes import socket_links
from portwatch.collect.owners import users
from portwatch.collect.procfs import strip_deleted
from portwatch.model import ProcessDetails, ProcessLink, ProcessState
from portwatch.text import host_port

_ATTRS = [
    "name",
    "exe",
    "cmdline",
    "cwd",
    "uids",
    "username",
    "create_time",
    "status",
    "memory_info",
    "memory_percent",
    "num_threads",
]
_MAX_PARENTS = 64  # a parent chain longer than this is a loop or a lie
#: Seconds a process's socket list is reused while the sockets it holds stay the same.
SOCKETS_MAX_AGE = 10.0
#: Processes kept between calls (for CPU % and the socket cache); the oldest go first beyond this.
KEEP_PROCESSES = 64
_LINUX = sys.platform.startswith("linux")


def exe_deleted(pid: int, exe: str | None) -> bool:
    """True when the process's executable file was deleted (or replaced) after it started.

    psutil strips Linux's " (deleted)" suffix, so on Linux we read the link ourselves.
    """
    return _link_deleted(pid, "exe", exe)


def cwd_deleted(pid: int, cwd: str | None) -> bool:
    """True when the process's working directory was removed: psutil strips the mark from the cwd link too."""
    return _link_deleted(pid, "cwd", cwd)


def _link_deleted(pid: int, link: str, path: str | None) -> bool:
    if sys.platform.startswith("linux"):
        try:
            target = os.readlink(f"/proc/{pid}/{link}")
        except OSError:
            return False
        return strip_deleted(target)[1]
    return bool(path) and not os.path.exists(path or "")


def parent_chain(proc: psutil.Process) -> tuple[ProcessLink, ...]:
    """Parent, grandparent, … up to pid 1 (or as far as we may look), nearest first."""
    links: list[ProcessLink] = []
    seen = {proc.pid}
    try:
        parent = proc.parent()
        while parent is not None and parent.pid not in seen and len(links) < _MAX_PARENTS:
            seen.add(parent.pid)
            try:
                name = parent.name()
            except psutil.AccessDenied:
                name = ""
            links.append(ProcessLink(parent.pid, name))
            parent = parent.parent()
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        pass
    return tuple(links)


#: A process's listening sockets ("tcp 127.0.0.1:80") and its other connections counted by state.
Sockets = tuple[tuple[str, ...], tuple[tuple[str, int], ...]]


def _sockets(proc: psutil.Process) -> Sockets:
    listening: list[str] = []
    states: Counter[str] = Counter()
    for conn in proc.net_connections("inet"):
        proto = "tcp" if conn.type == socket.SOCK_STREAM else "udp"
        if (proto == "tcp" and conn.status == psutil.CONN_LISTEN) or (proto == "udp" and not conn.raddr):
            listening.append(f"{proto} {host_port(conn.laddr.ip, conn.laddr.port)}")
        else:
            states[conn.status if proto == "tcp" else "UDP-CONNECTED"] += 1
    return tuple(sorted(set(listening))), tuple(sorted(states.items()))


class ProcessInspector:
    """Reads ProcessDetails, keeping psutil.Process objects between calls so CPU % means something.

    Safe to call from a worker thread; one call at a time is serialised by a lock.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._procs: dict[int, psutil.Process] = {}
        #: pid -> (when read, what the process held then, the sockets): psutil reads every socket of the
        #: system to find one process's, so while the process holds the same sockets (its socket links, or
        #: where those cannot be read its fd count) the list is reused, up to SOCKETS_MAX_AGE.
        self._sockets: dict[int, tuple[float, object, Sockets]] = {}
        self._clock = clock
        self._lock = threading.Lock()
        #: SHA-256 of each running executable, computed here (the panel's worker, `who`), cached per file.
        self.digests = FileDigests()

    def _process(self, pid: int) -> tuple[psutil.Process, bool]:
        """The kept Process for pid, or a new one if the pid is new or was reused; and whether it is new."""
        kept = self._procs.get(pid)
        if kept is not None and kept.is_running():  # is_running() compares create time: reuse-safe
            return kept, False
        proc = psutil.Process(pid)
        self._procs.pop(pid, None)
        self._procs[pid] = proc  # newest last: the oldest are dropped first
        self._sockets.pop(pid, None)
        for old in list(self._procs)[:-KEEP_PROCESSES]:
            del self._procs[old]
            self._sockets.pop(old, None)
        return proc, True

    def inspect(self, pid: int) -> ProcessDetails:
        if pid <= 0:  # Process(0) is the kernel's swapper, Process(None) would be portwatch itself
            return ProcessDetails(pid=pid, state=ProcessState.DENIED)
        with self._lock:
            try:
                proc, fresh = self._process(pid)
                return self._read(proc, fresh)
            except (psutil.NoSuchProcess, psutil.ZombieProcess):
                self._procs.pop(pid, None)
                self._sockets.pop(pid, None)
                return ProcessDetails(pid=pid, state=ProcessState.EXITED)
            except psutil.AccessDenied:
                return ProcessDetails(pid=pid, state=ProcessState.DENIED)

    def _sockets_of(self, proc: psutil.Process, fds: int | None, attempt: Callable[..., Any]) -> Sockets:
        """The process's sockets: re-read when it opened or closed one, or the last read is SOCKETS_MAX_AGE old.

        Connections changing state (ESTABLISHED to CLOSE_WAIT) on the same sockets show at the next re-read.
        """
        now = self._clock()
        links = socket_links(proc.pid)
        held: object = links if links is not None else fds
        cached = self._sockets.get(proc.pid)
        if cached is not None and held is not None and cached[1] == held and now - cached[0] < SOCKETS_MAX_AGE:
            return cached[2]
        sockets: Sockets | None = attempt(lambda: _sockets(proc), "sockets")
        if sockets is None:
            return (), ()
        self._sockets[proc.pid] = (now, held, sockets)
        return sockets

    def _read(self, proc: psutil.Process, fresh: bool) -> ProcessDetails:
        denied: list[str] = []

        def attempt(fn: Any, label: str) -> Any:
            try:
                return fn()
            except psutil.AccessDenied:
                denied.append(label)
                return None

        with proc.oneshot():
            info = proc.as_dict(_ATTRS, ad_value=None)
            cpu = proc.cpu_percent(None)
            count_fds = getattr(proc, "num_fds", None) or getattr(proc, "num_handles", None)  # POSIX / Windows
            fds = attempt(count_fds, "open files") if count_fds else None
        if _LINUX and info["cmdline"] is not None:
            # psutil reads /proc/PID/cmdline in text mode, where universal newlines turn a "\r" into "\n":
            # read the bytes, as the collector does, so the panel and `who` show what the process holds.
            with contextlib.suppress(OSError):
                info["cmdline"] = list(procfs.cmdline(proc.pid))
        denied += [attr for attr in ("exe", "cmdline", "cwd") if info[attr] is None]
        sockets = self._sockets_of(proc, fds, attempt)
        memory = info["memory_info"]
        real, effective = users(info["uids"], info["username"])
        sha256, sha256_note = self.digests.digest(proc.pid) if info["exe"] else (None, None)
        return ProcessDetails(
            pid=proc.pid,
            state=ProcessState.OK,
            name=info["name"] or "",
            exe=info["exe"] or None,
            exe_deleted=exe_deleted(proc.pid, info["exe"]),
            cmdline=tuple(info["cmdline"] or ()),
            cwd=info["cwd"],
            cwd_deleted=cwd_deleted(proc.pid, info["cwd"]),
            user=effective,
            real_user=real,
            parents=parent_chain(proc),
            create_time=info["create_time"],
            status=info["status"],
            cpu_percent=None if fresh else cpu,
            memory_rss=memory.rss if memory is not None else None,
            memory_percent=info["memory_percent"],
            threads=info["num_threads"],
            open_fds=fds,
            listening=sockets[0],
            connection_states=sockets[1],
            denied=tuple(denied),
            sha256=sha256,
            sha256_note=sha256_note,
        )
