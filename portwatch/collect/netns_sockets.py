"""One sock_diag socket per network namespace, opened inside it once and dumped on every refresh.

A netlink socket stays bound to the namespace it was created in, so each namespace costs one setns round
trip (collect/netns_enter.py) when it first appears and nothing more; later refreshes dump through the kept
socket exactly as in the host (~0.3 ms a namespace). The kept socket also holds a reference on its
namespace, so the kernel cannot free it and hand its inode to a new one while we hold it: an inode seen
again while its socket is open is the same namespace. (Podman does reuse inode numbers once a namespace is
freed.) A namespace that discovery no longer finds (no process in it, no bind mount) is closed at once.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import socket
import time
from dataclasses import dataclass, field

from portwatch.collect import netlink
from portwatch.collect.base import RawSocket
from portwatch.collect.ephemeral import namespace_ephemeral
from portwatch.collect.namespaces import Found, StatePaths, discover, host_inode, is_provisional, name_namespace
from portwatch.collect.netns_enter import in_namespaces
from portwatch.model import EphemeralRange, Netns, Proto

_THREAD_NETNS = "/proc/thread-self/ns/net"
_UNKNOWN: set[tuple[str, int]] = set()
#: Seconds between re-reading every process's namespace; in between only new processes are read (a process
#: that calls setns or unshare itself, rather than being forked into a namespace, is seen within this time).
FULL_RECHECK = 10.0


@dataclass(slots=True)
class OpenNamespace:
    """A namespace we hold a socket in: its name, the socket, and a file that re-enters it."""

    netns: Netns
    diag: netlink.DiagSocket
    #: An nsfs fd kept open (re-entered through /proc/self/fd/N to name interfaces).
    fd: int
    #: Its own ip_local_port_range (every namespace has one), read when it was opened; None if unreadable.
    ephemeral: EphemeralRange | None = None
    ifnames: dict[int, str] = field(default_factory=dict)

    def close(self) -> None:
        self.diag.close()
        os.close(self.fd)


def _open_here(expected: int) -> tuple[netlink.DiagSocket, int, EphemeralRange | None]:
    """Inside the target namespace (on the helper thread): check it is the one discovery saw, open a socket,
    keep an fd, read its ephemeral range (/proc/sys/net answers for the thread's namespace)."""
    here = os.open(_THREAD_NETNS, os.O_RDONLY | os.O_CLOEXEC)
    try:
        if os.fstat(here).st_ino != expected:
            raise OSError(f"namespace {expected} went away while being opened")
        return netlink.DiagSocket(), os.dup(here), namespace_ephemeral()
    finally:
        os.close(here)


def _open_by_path(expected: dict[str, int], path: str) -> tuple[netlink.DiagSocket, int, EphemeralRange | None]:
    return _open_here(expected[path])


class NamespaceSockets:
    """The non-host namespaces of this machine with a kept DiagSocket each; refresh once per scan."""

    def __init__(self, paths: StatePaths | None = None) -> None:
        self.paths = paths or StatePaths()
        self.host = host_inode(self.paths.proc)
        self.open: dict[int, OpenNamespace] = {}
        #: Namespaces found but not opened this scan, with why (e.g. setns refused).
        self.problems: list[str] = []
        self.found: dict[int, Found] = {}
        #: pid -> namespace inode, read once per process between full re-checks.
        self._pid_netns: dict[int, int] = {}
        self._checked_all = -FULL_RECHECK

    def close(self) -> None:
        for entry in self.open.values():
            entry.close()
        self.open.clear()

    def refresh(self, pids: set[int] | None = None) -> list[OpenNamespace]:
        """Discover, close the namespaces that went, open the new ones; the live ones, host excluded."""
        now = time.monotonic()
        if now - self._checked_all >= FULL_RECHECK:
            self._pid_netns.clear()
            self._checked_all = now
        self.found, _denied = discover(pids, self.paths.proc, known=self._pid_netns)
        self.problems = []
        for inode in self.open.keys() - self.found.keys():
            self.open.pop(inode).close()
        new = [found for inode, found in self.found.items() if inode != self.host and inode not in self.open]
        self._open_new(new)
        for entry in self.open.values():
            if is_provisional(entry.netns) and entry.netns.inode in self.found:
                # a container's process may appear after its namespace: name it as soon as it does
                better = name_namespace(self.found[entry.netns.inode], self.host, self.paths)
                if better != entry.netns:
                    entry.netns = better
        return sorted(self.open.values(), key=lambda entry: (entry.netns.kind.value, entry.netns.name))

    def _open_new(self, new: list[Found]) -> None:
        pending = [(found, found.paths(self.paths.proc)) for found in new]
        while pending:
            paths = [choices[0] for _found, choices in pending]
            expected = dict(zip(paths, (found.inode for found, _ in pending), strict=True))
            results = in_namespaces(paths, functools.partial(_open_by_path, expected))
            retry: list[tuple[Found, list[str]]] = []
            for (found, choices), result in zip(pending, results, strict=True):
                if isinstance(result, OSError):
                    if len(choices) > 1:
                        retry.append((found, choices[1:]))
                    elif found.mounts or found.pids:
                        self.problems.append(f"netns {found.inode}: {result.strerror or result}")
                    continue
                diag, fd, ephemeral = result
                netns = name_namespace(found, self.host, self.paths)
                self.open[found.inode] = OpenNamespace(netns, diag, fd, ephemeral)
            pending = retry

    def listeners(self, entry: OpenNamespace) -> list[RawSocket]:
        """Every listening socket of one namespace, tagged with it; UDP ones with the kernel's autobound verdict
        read in that namespace."""
        sockets: list[RawSocket] = []
        autobound: set[tuple[str, int]] | None = None
        for proto, family in netlink.QUERIES:
            found = entry.diag.listeners(proto, family, netns=entry.netns)
            if proto is Proto.UDP and found:
                if autobound is None:
                    autobound = entry.diag.autobound()
                    if autobound is None:  # refused: the verdict stays unknown (None)
                        autobound = _UNKNOWN
                if autobound is not _UNKNOWN:
                    found = [
                        dataclasses.replace(sock, autobound=(sock.address, sock.port) in autobound) for sock in found
                    ]
            sockets.extend(found)
        return sockets

    def interface_names(self, entry: OpenNamespace, indexes: set[int]) -> dict[int, str]:
        """Names of interface indexes inside ``entry`` (if_indextoname there), cached per namespace."""
        missing = sorted(indexes - entry.ifnames.keys())
        if missing:

            def names(_path: str) -> dict[int, str]:
                return {index: _if_name(index) for index in missing}

            result = in_namespaces([f"/proc/self/fd/{entry.fd}"], names)[0]
            if not isinstance(result, OSError):
                entry.ifnames.update(result)
        return {index: entry.ifnames.get(index, f"if{index}") for index in indexes}


def _if_name(index: int) -> str:
    try:
        return socket.if_indextoname(index)
    except OSError:
        return f"if{index}"


def host_interface_names(indexes: set[int]) -> dict[int, str]:
    return {index: _if_name(index) for index in indexes}
