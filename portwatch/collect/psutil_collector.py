"""The portable collector: psutil's socket table, on any platform psutil supports.

On Linux psutil names only the first process of a shared socket; the Linux collector names them all.
On macOS the system-wide call needs root, so without it we ask each process for its own sockets.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import psutil

from portwatch.collect.attribution import Attribution
from portwatch.collect.base import RawSocket, build_scan
from portwatch.collect.ephemeral import os_ephemeral_range
from portwatch.collect.exeinfo import ExeInspector
from portwatch.collect.owners import OwnerResolver
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


class PsutilCollector:
    source = "psutil"

    def __init__(self, *, packages: bool = False, package_budget: int | None = None) -> None:
        self._resolver = OwnerResolver()
        self.exe_inspector = ExeInspector()
        self.attribution = Attribution(packages=packages, package_budget=package_budget)

    def raw_sockets(self) -> tuple[list[RawSocket], tuple[str, ...]]:
        try:
            # 'inet', never 'all': UNIX sockets carry a str laddr and are not ports.
            conns = psutil.net_connections("inet")
        except psutil.AccessDenied:
            note = "the system socket table needs root here: showing only your own processes' sockets"
            return list(_per_process()), (note,)
        return [_raw(conn, conn.pid) for conn in conns if _is_listener(conn)], ()

    def scan(self) -> Scan:
        sockets, warnings = self.raw_sockets()
        return build_scan(sockets, self._resolver, os_ephemeral_range(), self.source, warnings,
                          exe_inspector=self.exe_inspector, autobound=None, attribution=self.attribution)
