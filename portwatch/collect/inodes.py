"""Which processes hold which socket inodes, kept across scans so a steady refresh costs a few syscalls.

The only way to learn a socket's processes on Linux is to readlink every /proc/PID/fd/N until one says
``socket:[INODE]``; with 20,000 connections open that is 40,000 readlinks. So the walk is done
once, and then each refresh:

1. confirms every cached holder with one readlink of the fd it was found on (the link naming the inode
   proves the pid holds it, whoever the pid now is);
2. walks the fds of processes that appeared since the last refresh: forked co-owners of a shared socket
   and new servers are found here;
3. for inodes still without an owner, walks the processes that already hold a listener (a server opening
   one more port), then processes started since the last full walk;
4. only then walks everything, at most once every ``full_walk_min_interval`` seconds;
5. and when that is not yet due, walks every process for the inodes new this refresh that are still without
   an owner (a process that held no listener opens one): once, at once, rather than leave the new listener
   "(no process)" and alarming for up to ``full_walk_min_interval`` seconds. An inode this walk cannot match
   either is remembered as unmatched, so it costs one walk, not one a refresh.

Inodes no walk could match (another user's process when we are not root, another network namespace) are
remembered for ``unmatched_ttl`` seconds so they do not force a full walk every refresh, and a full walk
runs every ``rewalk_interval`` seconds anyway, to find holders that gained a socket by fd passing.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager

PROC = "/proc"
_PREFIX = "socket:["


def list_pids(proc: str = PROC) -> set[int]:
    """Every process id visible in /proc (threads are not listed there, only thread-group leaders)."""
    return {int(name) for name in os.listdir(proc) if name.isdigit()}


def socket_link(inode: int) -> str:
    """What readlink of an fd holding socket ``inode`` says."""
    return f"{_PREFIX}{inode}]"


@contextmanager
def _fd_dir(path: str) -> Iterator[int | None]:
    """An fd directory (/proc/PID/fd) opened, or None when the process is gone or not ours to read."""
    try:
        directory = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        yield None
        return
    try:
        yield directory
    finally:
        os.close(directory)


def _match_dir(path: str, links: dict[str, int]) -> tuple[int, list[tuple[int, int]]]:
    """How many fds the directory lists (-1: it cannot be read) and (fd, inode) for those in ``links``."""
    found: list[tuple[int, int]] = []
    with _fd_dir(path) as directory:
        if directory is None:
            return -1, found
        readlink = os.readlink
        try:
            names = os.listdir(directory)
            for name in names:
                try:
                    # relative to the open directory: the kernel skips the /proc/PID lookup on each link
                    inode = links.get(readlink(name, dir_fd=directory))
                except OSError:
                    continue
                if inode is not None:
                    found.append((int(name), inode))
        except OSError:
            return -1, found  # exited while we were listing
    return len(names), found


def thread_fd_dirs(pid: int, proc: str = PROC) -> list[str]:
    """The fd directories of a thread group's threads other than its leader.

    A server whose main thread exited (``pthread_exit``, ``SYS_exit``) leaves a zombie leader whose
    /proc/PID/fd lists nothing, while its live threads hold every fd: readable only under
    /proc/PID/task/TID/fd. Nothing for a single-threaded process (kernel threads among them).
    """
    try:
        tids = os.listdir(f"{proc}/{pid}/task")
    except OSError:
        return []
    own = str(pid)
    return [f"{proc}/{pid}/task/{tid}/fd" for tid in tids if tid != own]


def holder_fds(pid: int, links: dict[str, int], proc: str = PROC) -> tuple[str, list[tuple[int, int]]]:
    """The fd directory that shows ``pid``'s fds and (fd, inode) for each fd whose link is a key of ``links``.

    Nothing when the process is gone or not ours to read. Matching the link text against a dict skips
    parsing the 40,000 links of the sockets nobody asked about: a quarter of the walk's time. When the
    leader's fd directory is empty or unreadable, the threads' are read (see :func:`thread_fd_dirs`).
    """
    path = f"{proc}/{pid}/fd"
    listed, found = _match_dir(path, links)
    if listed > 0:
        return path, found
    for thread_path in thread_fd_dirs(pid, proc):
        listed, found = _match_dir(thread_path, links)
        if listed > 0:
            return thread_path, found
    return path, []


def matching_fds(pid: int, links: dict[str, int], proc: str = PROC) -> list[tuple[int, int]]:
    """(fd, inode) for each fd of ``pid`` whose link is a key of ``links`` (link -> inode); see holder_fds."""
    return holder_fds(pid, links, proc)[1]


def socket_links(pid: int, proc: str = PROC) -> frozenset[str] | None:
    """The ``socket:[inode]`` links among a process's fds; None where /proc cannot tell (not Linux, gone,
    not ours to read). Cheaply tells that a process opened or closed a socket, even one that took the fd
    number of the old (its fd count alone would not move)."""
    links: set[str] = set()
    with _fd_dir(f"{proc}/{pid}/fd") as directory:
        if directory is None:
            return None
        try:
            for name in os.listdir(directory):
                try:
                    link = os.readlink(name, dir_fd=directory)
                except OSError:
                    continue
                if link.startswith(_PREFIX):
                    links.add(link)
        except OSError:
            return None
    return frozenset(links)


class SocketOwners:
    """An inode -> {pid: fd link} index over /proc, refreshed incrementally (see the module docstring)."""

    def __init__(
        self,
        proc: str = PROC,
        *,
        full_walk_min_interval: float = 5.0,
        rewalk_interval: float = 60.0,
        unmatched_ttl: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.proc = proc
        self.full_walk_min_interval = full_walk_min_interval
        self.rewalk_interval = rewalk_interval
        self.unmatched_ttl = unmatched_ttl
        self._clock = clock
        self._holders: dict[int, dict[int, str]] = {}  # inode -> {pid: the fd link it was found on}
        self._unmatched: dict[int, float] = {}  # inode -> monotonic time it may be looked for again
        self._pids_last: set[int] = set()
        self._pids_at_full_walk: set[int] = set()
        #: pid -> when it was first listed (clock time): a partial search goes newest first.
        self._first_seen: dict[int, float] = {}
        self._last_full_walk = -math.inf  # the first resolve walks everything
        self._wanted_last: set[int] = set()
        #: How many times every process was walked; tests and the benchmark read it.
        self.full_walks = 0
        #: Processes walked in total (all kinds of walk), for the benchmark.
        self.processes_walked = 0
        #: How many times every process was walked for inodes new that refresh (step 5), for tests and bench.
        self.prompt_walks = 0

    def resolve(self, inodes: Collection[int], pids: set[int] | None = None) -> dict[int, tuple[int, ...]]:
        """The pids holding each of ``inodes`` (sorted); an inode no process could be matched to is absent.
        ``pids``: every process now, when the caller has just listed them."""
        wanted = set(inodes)
        now = self._clock()
        self._confirm(wanted)
        if pids is None:
            pids = list_pids(self.proc)
        self._note(pids, now)
        full_due = now - self._last_full_walk >= self.rewalk_interval
        if full_due:
            self._full_walk(pids, wanted, now)
        else:
            new = pids - self._pids_last
            self._walk(new, wanted)
            walked = set(new)
            missing = self._missing(wanted, now)
            if missing:  # a server that opens one more port: its process already holds a listener
                serving = {pid for holders in self._holders.values() for pid in holders} - new
                self._walk(serving, missing)
                walked |= serving
                missing = self._missing(wanted, now)
            if missing:
                started = pids - self._pids_at_full_walk - new
                self._walk(started, missing)
                walked |= started
                missing = self._missing(wanted, now)
            if missing and now - self._last_full_walk >= self.full_walk_min_interval:
                self._full_walk(pids, wanted, now)
            elif fresh := missing - self._wanted_last:
                self._prompt_walk(pids - walked, fresh, now)
        self._pids_last = pids
        self._wanted_last = wanted
        for inode in self._unmatched.keys() - wanted:
            del self._unmatched[inode]
        return {inode: tuple(sorted(self._holders[inode])) for inode in wanted if inode in self._holders}

    def resolve_some(self, inodes: Collection[int], limit: int = 64) -> dict[int, tuple[int, ...]]:
        """:meth:`resolve` for a few inodes among many (new sockets the sentinel saw): their cached holders
        confirmed, else at most ``limit`` processes walked: the most recently listed first (a new socket's
        process is usually new), then those that already listen; what is known of
        every other inode is kept. Still missing, every process is walked if the last full walk is at
        least ``full_walk_min_interval`` old (an old process opening one more socket), as :meth:`resolve` does."""
        wanted = set(inodes)
        for inode in wanted & self._holders.keys():
            self._confirm_inode(inode)
        missing = wanted - self._holders.keys()
        pids = list_pids(self.proc)
        self._note(pids, self._clock())
        if missing:
            listening = {pid for holders in self._holders.values() for pid in holders}
            seen = self._first_seen
            recent = sorted(pids, key=lambda pid: (seen[pid], pid), reverse=True)[:limit]
            links = {socket_link(inode): inode for inode in missing}
            for pid in [*recent, *sorted(listening - set(recent), reverse=True)][:limit]:
                missing -= self._walk_one(pid, links)
                if not missing:
                    break
            now = self._clock()
            missing = {inode for inode in missing if self._unmatched.get(inode, now) <= now}
            if missing and now - self._last_full_walk >= self.full_walk_min_interval:
                # An older process opened it (a running server adding a port): as a refresh would, walk
                # everything, at most once every full_walk_min_interval seconds.
                self._full_walk(pids, missing, now)
        return {inode: tuple(sorted(self._holders[inode])) for inode in wanted if inode in self._holders}

    def _note(self, pids: set[int], now: float) -> None:
        """Remember when each process was first listed (the newest are searched first for a new socket)."""
        seen = self._first_seen
        for pid in pids - seen.keys():
            seen[pid] = now
        if len(seen) > len(pids) + 1024:
            self._first_seen = {pid: at for pid, at in seen.items() if pid in pids}

    def _confirm(self, wanted: set[int]) -> None:
        """Keep a cached holder only if its fd still links to the inode: one readlink each."""
        for inode in list(self._holders):
            if inode in wanted:
                self._confirm_inode(inode)
            else:
                del self._holders[inode]

    def _confirm_inode(self, inode: int) -> None:
        """Drop each holder of ``inode`` whose fd no longer links to it, and the inode when none is left."""
        link = socket_link(inode)
        holders = self._holders[inode]
        for pid, fd_link in list(holders.items()):
            try:
                still = os.readlink(fd_link) == link
            except OSError:
                still = False
            if not still:
                del holders[pid]
        if not holders:
            del self._holders[inode]

    def _missing(self, wanted: set[int], now: float) -> set[int]:
        return {inode for inode in wanted if inode not in self._holders and self._unmatched.get(inode, now) <= now}

    def _walk(self, pids: Iterable[int], wanted: Collection[int]) -> None:
        if not wanted:
            return
        links = {socket_link(inode): inode for inode in wanted}
        for pid in pids:
            self._walk_one(pid, links)

    def _walk_one(self, pid: int, links: dict[str, int]) -> set[int]:
        """Record ``pid`` as a holder of each inode of ``links`` it holds; those inodes."""
        self.processes_walked += 1
        directory, found = holder_fds(pid, links, self.proc)
        for fd, inode in found:
            self._holders.setdefault(inode, {})[pid] = f"{directory}/{fd}"
        return {inode for _fd, inode in found}

    def _prompt_walk(self, pids: set[int], fresh: set[int], now: float) -> None:
        """Every process not walked yet this refresh, for the inodes new this refresh (step 5)."""
        self._walk(pids, fresh)
        self.prompt_walks += 1
        for inode in fresh - self._holders.keys():
            self._unmatched[inode] = now + self.unmatched_ttl

    def _full_walk(self, pids: set[int], wanted: set[int], now: float) -> None:
        self._walk(pids, wanted)
        self.full_walks += 1
        self._last_full_walk = now
        self._pids_at_full_walk = pids
        for inode in wanted - self._holders.keys():
            self._unmatched[inode] = now + self.unmatched_ttl
