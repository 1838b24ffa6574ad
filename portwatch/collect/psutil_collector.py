"""The portable collector: psutil's socket table, on any platform psutil supports.

psutil's system-wide table names one process per socket (on Linux the first holder it found), yet a socket
is often shared: a pre-fork server's children, a daemon and the child it handed its socket to. So each
process's own socket list (``Process.net_connections`` over ``process_iter``, which reads that process's
fds) adds every other holder, matched by protocol, family and local address. On Linux that would parse the
whole socket table once per process, so there the first holder's fd gives the socket's inode and the inode
index the Linux collector keeps (collect/inodes.py) names every holder, exactly. Windows reports one owning
pid per socket even per process, so there a scan warning says that sharers are missing.
On macOS the system-wide call needs root, so without it we ask each process for its own sockets.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import sys
from collections.abc import Iterator
from typing import Any

import psutil

from portwatch.collect.attribution import Attribution
from portwatch.collect.base import RawSocket, build_scan
from portwatch.collect.ephemeral import os_ephemeral_range
from portwatch.collect.exeinfo import ExeInspector
from portwatch.collect.inodes import SocketOwners
from portwatch.collect.owners import OwnerResolver
from portwatch.collect.rpcbind import RpcbindReader, portmapper_listens
from portwatch.model import Family, Proto, Scan


def _is_listener(conn: Any) -> bool:
    if conn.type == socket.SOCK_STREAM:
        return bool(conn.status == psutil.CONN_LISTEN)
    return conn.type == socket.SOCK_DGRAM and not conn.raddr


def _raw(conn: Any, pid: int | None) -> RawSocket:
    return RawSocket(
        proto=Proto.TCP if conn.type == socket.SOCK_STREAM else Proto.UDP,
        family=Family.IPV6 if conn.family == socket.AF_INET6 else Family.IPV4,
        address=conn.laddr.ip,
        port=conn.laddr.port,
        pids=(pid,) if pid else (),
    )


def _per_process() -> Iterator[RawSocket]:
    """Each visible process's own sockets: what an unprivileged user may see on macOS."""
    for proc in psutil.process_iter():
        try:
            conns = proc.net_connections("inet")
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
        for conn in conns:
            if _is_listener(conn):
                yield _raw(conn, proc.pid)


#: (proto, family, address, port): how a holder's own socket is matched to the system table's elsewhere.
SocketAddress = tuple[Proto, Family, str, int]
#: Where no socket list can name every holder, the scan says so.
WINDOWS_ONE_OWNER = (
    "Windows names one process per socket: processes sharing a socket (inherited or duplicated handles) are not listed"
)
_LINUX = sys.platform.startswith("linux")


def socket_inode(pid: int | None, fd: int) -> int | None:
    """The inode of the socket on fd ``fd`` of ``pid`` (Linux: its /proc/PID/fd link), None when unknown."""
    if not _LINUX or pid is None or fd < 0:
        return None
    try:
        link = os.readlink(f"/proc/{pid}/fd/{fd}")
    except OSError:
        return None
    return int(link[8:-1]) if link.startswith("socket:[") and link.endswith("]") else None


def holders() -> dict[SocketAddress, set[int]]:
    """Every process's listening sockets by address, each with all the pids that hold one (not Linux: there
    the inode index is exact and much cheaper than every process's socket list)."""
    found: dict[SocketAddress, set[int]] = {}
    for proc in psutil.process_iter():
        try:
            conns = proc.net_connections("inet")
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
        for conn in conns:
            if _is_listener(conn):
                sock = _raw(conn, proc.pid)
                found.setdefault((sock.proto, sock.family, sock.address, sock.port), set()).add(proc.pid)
    return found


def with_holders(table: list[RawSocket], held: dict[SocketAddress, set[int]]) -> list[RawSocket]:
    """The system table's sockets, each naming every holder found in the processes' own lists."""
    out: list[RawSocket] = []
    for sock in table:
        pids = held.get((sock.proto, sock.family, sock.address, sock.port))
        out.append(dataclasses.replace(sock, pids=tuple(sorted({*sock.pids, *pids}))) if pids else sock)
    return out


class PsutilCollector:
    source = "psutil"

    def __init__(self, *, packages: bool = False, package_budget: int | None = None) -> None:
        self._resolver = OwnerResolver()
        self.exe_inspector = ExeInspector()
        self.rpcbind = RpcbindReader()
        self.socket_owners = SocketOwners()
        self.attribution = Attribution(packages=packages, package_budget=package_budget)

    def raw_sockets(self) -> tuple[list[RawSocket], tuple[str, ...]]:
        try:
            # 'inet', never 'all': UNIX sockets carry a str laddr and are not ports.
            conns = psutil.net_connections("inet")
        except psutil.AccessDenied:
            note = "the system socket table needs root here: showing only your own processes' sockets"
            return list(_per_process()), (note,)
        listening = [conn for conn in conns if _is_listener(conn)]
        if _LINUX:  # the first holder's fd names the socket's inode; the inode index names every holder
            table = [
                dataclasses.replace(_raw(conn, conn.pid), inode=socket_inode(conn.pid, conn.fd)) for conn in listening
            ]
            found = self.socket_owners.resolve({sock.inode for sock in table if sock.inode})
            # The inode only found the holders: this collector reports what psutil reports (no inodes).
            return [
                dataclasses.replace(sock, inode=None, pids=tuple(sorted({*sock.pids, *found.get(sock.inode, ())})))
                if sock.inode
                else sock
                for sock in table
            ], ()
        table = [_raw(conn, conn.pid) for conn in listening]
        if sys.platform == "win32":
            return table, (WINDOWS_ONE_OWNER,)
        return with_holders(table, holders()), ()

    def scan(self) -> Scan:
        sockets, warnings = self.raw_sockets()
        rpc = self.rpcbind.programs(portmapper_listens((sock.proto, sock.address, sock.port) for sock in sockets))
        if self.rpcbind.problem:
            warnings = (*warnings, self.rpcbind.problem)
        return build_scan(
            sockets,
            self._resolver,
            os_ephemeral_range(),
            self.source,
            warnings,
            exe_inspector=self.exe_inspector,
            autobound=None,
            attribution=self.attribution,
            rpc_programs=rpc,
        )
