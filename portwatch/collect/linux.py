"""The Linux collector: sockets from netlink sock_diag (or /proc/net), owners from an incremental fd index.

Unlike psutil it reads only listening sockets, names every process of a shared socket, and keeps the
socket's uid, so the user is known even when the process is not ours to see.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Callable, Collection

from portwatch.collect import netlink, procnet
from portwatch.collect.attribution import Attribution
from portwatch.collect.autobound import autobound_udp
from portwatch.collect.base import ListenerMemo, RawSocket, build_scan, is_privileged
from portwatch.collect.ephemeral import os_ephemeral_range
from portwatch.collect.exeinfo import ExeInspector
from portwatch.collect.inodes import SocketOwners, list_pids
from portwatch.collect.linux_owners import LinuxOwnerResolver as LinuxOwnerResolver
from portwatch.collect.namespaces import count_unseen, host_inode
from portwatch.collect.netns_sockets import FULL_RECHECK, NamespaceSockets, OpenNamespace, host_interface_names
from portwatch.collect.published import tie_published
from portwatch.collect.rpcbind import RpcbindReader, portmapper_listens
from portwatch.model import HOST_NETNS, EphemeralRange, Netns, NetnsKind, Proto, Scan

#: --netns scopes a collector understands; a NAME or INODE is "all" narrowed afterwards (cli.py).
NETNS_SCOPES = ("auto", "all", "host")


class LinuxCollector:
    """Reads listeners through netlink when the kernel allows it, else through /proc/net, table by table."""

    def __init__(
        self,
        use_netlink: bool = True,
        socket_owners: SocketOwners | None = None,
        *,
        packages: bool = False,
        package_budget: int | None = None,
        attribution: Attribution | None = None,
        netns: str = "auto",
    ) -> None:
        """``packages``: also name each owner's package and check its executable against it (dpkg/rpm);
        ``package_budget``: bytes checksummed per scan at most (None: all at once). ``netns``: "all" reads
        every network namespace (needs root), "host" this process's only; "auto" picks by privilege."""
        if netns not in NETNS_SCOPES:
            raise ValueError(f"netns scope {netns!r} is not one of {', '.join(NETNS_SCOPES)}")
        self.netns_scope = ("all" if is_privileged() else "host") if netns == "auto" else netns
        self.namespaces: NamespaceSockets | None = None
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
        self._memo: ListenerMemo = {}
        #: What the last full scan knew of namespaces, for the partial scans in between (scan_inodes).
        self._last_namespaces: tuple[Netns, ...] = ()
        self._last_unseen: int | None = None
        self._unseen_known: dict[int, int] = {}
        self._unseen_checked = -FULL_RECHECK
        #: This process's network namespace: the host's.
        self.host_netns = HOST_NETNS

    @property
    def full_walks(self) -> int:
        """How many scans had to readlink every fd of every process (the expensive path)."""
        return self.socket_owners.full_walks

    def close(self) -> None:
        self._close_host()
        if self.namespaces is not None:
            self.namespaces.close()
            self.namespaces = None

    def _close_host(self) -> None:
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
                    sockets.extend(self._diag.listeners(proto, family, only, netns=self.host_netns))
                    sources.add("netlink")
                    continue
                except OSError as error:
                    problems.append(f"{proto.value}/{family.value}: {error.strerror or error}")
                    self._close_host()  # a half-read dump leaves replies behind: start afresh
            try:
                sockets.extend(sock for sock in procnet.listeners(proto, family) if only is None or sock.inode in only)
            except OSError as error:  # neither source: the scan fails, saying why each one did
                refused = f"netlink sock_diag refused ({'; '.join(problems)}), and " if problems else ""
                raise OSError(
                    error.errno, f"{refused}{error.filename or 'procfs'}: {error.strerror or error}"
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
                return frozenset(
                    (proto.value, inode)
                    for proto, family in netlink.QUERIES
                    for inode in self._diag.inodes(proto, family)
                )
            except OSError:
                self._close_host()
        sockets, _source, _warnings = self.raw_sockets()
        return frozenset((sock.proto.value, sock.inode or 0) for sock in sockets)

    def scan_inodes(self, inodes: Collection[int]) -> Scan:
        """A scan of only the sockets with these inodes (the sentinel's news: a few new sockets among 5,000),
        their owners found as a refresh finds them, the caches of every other socket left as they are."""
        wanted = set(inodes)
        self.host_netns = host = self._host_netns()
        sockets = self.raw_sockets(wanted)[0]  # the host's sockets only: the sentinel's fingerprint is the host's
        self._resolver.new_scan()
        holders = self.socket_owners.resolve_some({sock.inode for sock in sockets if sock.inode})
        autobound = autobound_udp() if any(sock.proto is Proto.UDP for sock in sockets) else set()
        rpc = self.rpcbind.programs(self._portmapper_seen) if autobound != set() else {}  # cached: 5 s
        sockets = _with_devices(sockets, host, host_interface_names, autobound)
        return build_scan(
            sockets,
            self._resolver,
            os_ephemeral_range(),
            self.source,
            (),
            exe_inspector=self.exe_inspector,
            autobound=autobound,
            attribution=self.attribution,
            partial=True,
            holders=holders,
            namespaces=self._last_namespaces,
            unseen_namespaces=self._last_unseen,
            rpc_programs=rpc,
        )

    def scan(self) -> Scan:
        self.host_netns = host = self._host_netns()
        sockets, self.source, warnings = self.raw_sockets()
        # The kernel marks the UDP sockets it bound for a client: a fact to deliver, not a guess to make later.
        autobound = autobound_udp() if any(sock.proto is Proto.UDP for sock in sockets) else set()
        # ...and rpcbind knows which of them serve: RPC services bind port 0 and register what they got.
        self._portmapper_seen = portmapper_listens((sock.proto, sock.address, sock.port) for sock in sockets)
        rpc = self.rpcbind.programs(autobound != set() and self._portmapper_seen)
        if self.rpcbind.problem:
            warnings = (*warnings, self.rpcbind.problem)
        sockets = _with_devices(sockets, host, host_interface_names, autobound)
        namespaces: list[Netns] = [host]
        own_ranges: dict[int, EphemeralRange] = {}
        unseen: int | None = None
        pids: set[int] | None = None
        if self.netns_scope == "all":
            pids = list_pids()
            inner, problems = self._other_namespaces(pids)
            for entry, found in inner:
                namespaces.append(entry.netns)
                if entry.ephemeral is not None:
                    own_ranges[entry.netns.inode] = entry.ephemeral
                sockets.extend(found)
            warnings = (*warnings, *problems)
        else:
            now = time.monotonic()
            if now - self._unseen_checked >= FULL_RECHECK:
                self._unseen_known.clear()
                self._unseen_checked = now
            unseen = count_unseen(host.inode, known=self._unseen_known)
        self._resolver.new_scan()
        holders = self.socket_owners.resolve({sock.inode for sock in sockets if sock.inode}, pids)
        scan = build_scan(
            sockets,
            self._resolver,
            os_ephemeral_range(),
            self.source,
            warnings,
            exe_inspector=self.exe_inspector,
            autobound=autobound,
            namespaces=tuple(namespaces),
            unseen_namespaces=unseen,
            holders=holders,
            memo=self._memo,
            ephemeral_by_netns=own_ranges,
            attribution=self.attribution,
            rpc_programs=rpc,
        )
        self._last_namespaces, self._last_unseen = scan.namespaces, scan.unseen_namespaces
        return tie_published(scan) if len(namespaces) > 1 else scan

    def _host_netns(self) -> Netns:
        if self.host_netns.inode:
            return self.host_netns
        try:
            return Netns(host_inode(), NetnsKind.HOST, "host")
        except OSError:
            return HOST_NETNS

    def _other_namespaces(self, pids: set[int]) -> tuple[list[tuple[OpenNamespace, list[RawSocket]]], list[str]]:
        if self.namespaces is None:
            self.namespaces = NamespaceSockets()
        spaces = self.namespaces
        result: list[tuple[OpenNamespace, list[RawSocket]]] = []
        problems: list[str] = []
        for entry in spaces.refresh(pids):
            try:
                found = spaces.listeners(entry)  # UDP records carry the autobound verdict read there
            except OSError as error:
                problems.append(f"netns {entry.netns.label}: {error.strerror or error}")
                continue
            if any(sock.ifindex for sock in found):
                found = _with_devices(found, entry.netns, functools.partial(spaces.interface_names, entry), None)
            result.append((entry, found))
        return result, [*problems, *spaces.problems]


def _with_devices(
    sockets: list[RawSocket],
    netns: Netns,
    names: Callable[[set[int]], dict[int, str]],
    autobound: set[tuple[str, int]] | None,
) -> list[RawSocket]:
    """Tag sockets with their namespace and autobound verdict; a device-bound one's address becomes ADDR%DEV."""
    indexes = {sock.ifindex for sock in sockets if sock.ifindex}
    devices = names(indexes) if indexes else {}
    tagged: list[RawSocket] = []
    for sock in sockets:
        changes: dict[str, object] = {}
        if sock.netns != netns:
            changes["netns"] = netns
        if sock.proto is Proto.UDP and autobound is not None:
            changes["autobound"] = (sock.address, sock.port) in autobound
        if sock.ifindex:
            device = devices[sock.ifindex]
            changes.update(address=f"{sock.address}%{device}", device=device)
        tagged.append(dataclasses.replace(sock, **changes) if changes else sock)  # type: ignore[arg-type]
    return tagged
