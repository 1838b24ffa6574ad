"""The Linux collector: sockets from netlink sock_diag (or /proc/net), owners from an incremental fd index.

Unlike psutil it reads only listening sockets, names every process of a shared socket, and keeps the
socket's uid, so the user is known even when the process is not ours to see.
"""

from __future__ import annotations

from collections.abc import Collection

from portwatch.collect import netlink, procfs, procnet
from portwatch.collect.attribution import Attribution
from portwatch.collect.autobound import autobound_udp
from portwatch.collect.base import RawSocket, build_scan
from portwatch.collect.ephemeral import os_ephemeral_range
from portwatch.collect.exeinfo import ExeInspector
from portwatch.collect.inodes import SocketOwners
from portwatch.collect.owners import OwnerResolver
from portwatch.collect.rpcbind import RpcbindReader, portmapper_listens
from portwatch.model import Owner, Proto, Scan

#: What tells the process read before from the one there now: (start ticks, comm, exe path).
_Identity = tuple[bytes, bytes, str | None]


class LinuxOwnerResolver(OwnerResolver):
    """Owners read from /proc (collect/procfs.py), cached by pid and checked once per pid per scan with one
    /proc/PID/stat read and one readlink of /proc/PID/exe: the start ticks tell a reused pid from the process
    we read before, the comm and the exe a process that renamed itself or exec'd another program on the same
    pid (keeping its sockets), whose name, exe and cmdline are then read again."""

    def __init__(self, proc: str = procfs.PROC) -> None:
        super().__init__()
        self._proc = proc
        self._boot: float | None = None
        self._checked: dict[int, tuple[_Identity, Owner | None]] = {}
        self._this_scan: dict[int, Owner | None] = {}

    def new_scan(self) -> None:
        self._this_scan.clear()

    def owner(self, pid: int) -> Owner | None:
        if pid in self._this_scan:
            return self._this_scan[pid]
        identity = self._identity(pid)
        checked = self._checked.get(pid)
        if identity is not None and checked is not None and checked[0] == identity:
            found = checked[1]
        else:
            found = self._read(pid) if identity is not None else None
            if identity is None or found is None:
                self._checked.pop(pid, None)
            else:
                self._checked[pid] = (identity, found)
        self._this_scan[pid] = found
        return found

    def _identity(self, pid: int) -> _Identity | None:
        stat = procfs.read_stat(pid, self._proc)
        if stat is None:
            return None
        try:
            path = procfs.exe(pid, self._proc)
        except OSError:  # exited between the two reads
            return None
        return stat.start_ticks, stat.name, path

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

    def __init__(self, use_netlink: bool = True, socket_owners: SocketOwners | None = None, *,
                 packages: bool = False, package_budget: int | None = None,
                 attribution: Attribution | None = None) -> None:
        """``packages``: also name each owner's package and check its executable against it (dpkg/rpm);
        ``package_budget``: bytes checksummed per scan at most (None: all at once)."""
        self.use_netlink = use_netlink
        #: What the last scan read: "netlink", "procfs", or "netlink+procfs" when some tables fell back.
        self.source = "netlink" if use_netlink else "procfs"
        self.socket_owners = socket_owners or SocketOwners()
        self._resolver = LinuxOwnerResolver()
        self.exe_inspector = ExeInspector()
        self.attribution = attribution or Attribution(packages=packages, package_budget=package_budget)
        self._diag: netlink.DiagSocket | None = None
        self.rpcbind = RpcbindReader()
        #: Whether the last full scan saw a portmapper on TCP 111 (a partial scan cannot tell).
        self._portmapper_seen = False

    @property
    def full_walks(self) -> int:
        """How many scans had to readlink every fd of every process (the expensive path)."""
        return self.socket_owners.full_walks

    def close(self) -> None:
        if self._diag is not None:
            self._diag.close()
            self._diag = None

    def raw_sockets(self, only: Collection[int] | None = None) -> tuple[list[RawSocket], str, tuple[str, ...]]:
        """Listening sockets without owners, the source that gave them, and why netlink was not used.
        ``only``: the sockets of these inodes (netlink decodes no other; /proc/net is filtered after)."""
        sockets: list[RawSocket] = []
        sources: set[str] = set()
        problems: list[str] = []
        for proto, family in netlink.QUERIES:
            if self.use_netlink:
                try:
                    if self._diag is None:
                        self._diag = netlink.DiagSocket()
                    sockets.extend(self._diag.listeners(proto, family, only))
                    sources.add("netlink")
                    continue
                except OSError as error:
                    problems.append(f"{proto.value}/{family.value}: {error.strerror or error}")
                    self.close()  # a half-read dump leaves replies behind: start afresh
            try:
                sockets.extend(sock for sock in procnet.listeners(proto, family)
                               if only is None or sock.inode in only)
            except OSError as error:  # neither source: the scan fails, saying why each one did
                refused = f"netlink sock_diag refused ({'; '.join(problems)}), and " if problems else ""
                raise OSError(error.errno, f"{refused}{error.filename or 'procfs'}: {error.strerror or error}"
                              ) from error
            sources.add("procfs")
        source = "+".join(sorted(sources))
        if not problems:
            return sockets, source, ()
        why = "; ".join(problems)
        return sockets, source, (f"netlink sock_diag refused ({why}): read /proc/net instead",)

    def fingerprint(self) -> frozenset[tuple[str, int]]:
        """(proto, inode) of every listening socket, nothing decoded: a socket's address is fixed once it
        listens, so a new listener, a closed one and one replaced behind the same address all move this set.
        Four netlink dumps (~0.3 ms at 250 listeners); /proc/net where netlink is refused."""
        if self.use_netlink:
            try:
                if self._diag is None:
                    self._diag = netlink.DiagSocket()
                return frozenset((proto.value, inode) for proto, family in netlink.QUERIES
                                 for inode in self._diag.inodes(proto, family))
            except OSError:
                self.close()
        sockets, _source, _warnings = self.raw_sockets()
        return frozenset((sock.proto.value, sock.inode or 0) for sock in sockets)

    def scan_inodes(self, inodes: Collection[int]) -> Scan:
        """A scan of only the sockets with these inodes (the sentinel's news: a few new sockets among 5,000),
        their owners found as a refresh finds them, the caches of every other socket left as they are."""
        wanted = set(inodes)
        sockets = self.raw_sockets(wanted)[0]
        self._resolver.new_scan()
        holders = self.socket_owners.resolve_some({sock.inode for sock in sockets if sock.inode})
        owned = [RawSocket(sock.proto, sock.family, sock.address, sock.port, holders[sock.inode], sock.uid,
                           sock.inode, sock.v6only) if sock.inode in holders else sock for sock in sockets]
        autobound = autobound_udp() if any(sock.proto is Proto.UDP for sock in sockets) else set()
        rpc = self.rpcbind.programs(self._portmapper_seen) if autobound != set() else {}  # cached: 5 s
        return build_scan(owned, self._resolver, os_ephemeral_range(), self.source, (),
                          exe_inspector=self.exe_inspector, autobound=autobound, attribution=self.attribution,
                          partial=True, rpc_programs=rpc)

    def scan(self) -> Scan:
        sockets, self.source, warnings = self.raw_sockets()
        self._resolver.new_scan()
        holders = self.socket_owners.resolve({sock.inode for sock in sockets if sock.inode})
        # built directly: dataclasses.replace costs 4x as much, and a scan does this for every socket
        owned = [RawSocket(sock.proto, sock.family, sock.address, sock.port, holders[sock.inode], sock.uid,
                           sock.inode, sock.v6only) if sock.inode in holders else sock for sock in sockets]
        # The kernel marks the UDP sockets it bound for a client: a fact to deliver, not a guess to make later.
        autobound = autobound_udp() if any(sock.proto is Proto.UDP for sock in sockets) else set()
        # ...and rpcbind knows which of them serve: RPC services bind port 0 and register what they got.
        self._portmapper_seen = portmapper_listens((sock.proto, sock.address, sock.port) for sock in sockets)
        rpc = self.rpcbind.programs(autobound != set() and self._portmapper_seen)
        if self.rpcbind.problem:
            warnings = (*warnings, self.rpcbind.problem)
        return build_scan(owned, self._resolver, os_ephemeral_range(), self.source, warnings,
                          exe_inspector=self.exe_inspector, autobound=autobound, attribution=self.attribution,
                          rpc_programs=rpc)
