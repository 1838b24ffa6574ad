"""The Linux collector: sockets from netlink sock_diag (or /proc/net), owners from an incremental fd index.

Unlike psutil it reads only listening sockets, names every process of a shared socket, and keeps the
socket's uid, so the user is known even when the process is not ours to see.
"""

from __future__ import annotations

import dataclasses

from portwatch import ranges
from portwatch.collect import netlink, procfs, procnet
from portwatch.collect.base import RawSocket, build_scan
from portwatch.collect.inodes import SocketOwners
from portwatch.collect.owners import OwnerResolver
from portwatch.model import Owner, Scan


def start_ticks(pid: int) -> bytes | None:
    """The process's start time in clock ticks since boot, as /proc/PID/stat writes it; None once it exited.

    With the pid it names one process (a reused pid starts later), and it costs one small read, where
    psutil's create_time() also reads /proc/stat for the boot time on every call.
    """
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            text = stat.read()
    except OSError:
        return None
    fields = text[text.rfind(b")") + 2:].split(b" ", 20)  # fields 3.. of proc(5); starttime is field 22
    return fields[19] if len(fields) > 19 else None


class LinuxOwnerResolver(OwnerResolver):
    """Owners read from /proc (collect/procfs.py), cached by pid and checked with one /proc/PID/stat read,
    done once per pid per scan: the start ticks tell a reused pid from the process we read before."""

    def __init__(self, proc: str = procfs.PROC) -> None:
        super().__init__()
        self._proc = proc
        self._boot: float | None = None
        self._checked: dict[int, tuple[bytes, Owner | None]] = {}
        self._this_scan: dict[int, Owner | None] = {}

    def new_scan(self) -> None:
        self._this_scan.clear()

    def owner(self, pid: int) -> Owner | None:
        if pid in self._this_scan:
            return self._this_scan[pid]
        ticks = start_ticks(pid)
        checked = self._checked.get(pid)
        if ticks is not None and checked is not None and checked[0] == ticks:
            found = checked[1]
        else:
            found = self._read(pid) if ticks is not None else None
            if ticks is None or found is None:
                self._checked.pop(pid, None)
            else:
                self._checked[pid] = (ticks, found)
        self._this_scan[pid] = found
        return found

    def _read(self, pid: int) -> Owner | None:
        if self._boot is None:
            self._boot = procfs.boot_time(self._proc)
        return procfs.read_owner(pid, self._proc, self._boot)

    def forget_except(self, live_pids: set[int]) -> None:
        super().forget_except(live_pids)
        for pid in self._checked.keys() - live_pids:
            del self._checked[pid]


class LinuxCollector:
    """Reads listeners through netlink when the kernel allows it, else through /proc/net, table by table."""

    def __init__(self, use_netlink: bool = True, socket_owners: SocketOwners | None = None) -> None:
        self.use_netlink = use_netlink
        #: What the last scan read: "netlink", "procfs", or "netlink+procfs" when some tables fell back.
        self.source = "netlink" if use_netlink else "procfs"
        self.socket_owners = socket_owners or SocketOwners()
        self._resolver = LinuxOwnerResolver()
        self._diag: netlink.DiagSocket | None = None

    @property
    def full_walks(self) -> int:
        """How many scans had to readlink every fd of every process (the expensive path)."""
        return self.socket_owners.full_walks

    def close(self) -> None:
        if self._diag is not None:
            self._diag.close()
            self._diag = None

    def raw_sockets(self) -> tuple[list[RawSocket], str, tuple[str, ...]]:
        """Listening sockets without owners, the source that gave them, and why netlink was not used."""
        sockets: list[RawSocket] = []
        sources: set[str] = set()
        problems: list[str] = []
        for proto, family in netlink.QUERIES:
            if self.use_netlink:
                try:
                    if self._diag is None:
                        self._diag = netlink.DiagSocket()
                    sockets.extend(self._diag.listeners(proto, family))
                    sources.add("netlink")
                    continue
                except OSError as error:
                    problems.append(f"{proto.value}/{family.value}: {error.strerror or error}")
                    self.close()  # a half-read dump leaves replies behind: start afresh
            sockets.extend(procnet.listeners(proto, family))
            sources.add("procfs")
        source = "+".join(sorted(sources))
        if not problems:
            return sockets, source, ()
        why = "; ".join(problems)
        return sockets, source, (f"netlink sock_diag refused ({why}): read /proc/net instead",)

    def scan(self) -> Scan:
        sockets, self.source, warnings = self.raw_sockets()
        self._resolver.new_scan()
        holders = self.socket_owners.resolve({sock.inode for sock in sockets if sock.inode})
        owned = [dataclasses.replace(sock, pids=holders[sock.inode]) if sock.inode in holders else sock
                 for sock in sockets]
        return build_scan(owned, self._resolver, ranges.os_ephemeral_range(), self.source, warnings)
