"""What every collector shares: the raw socket record, the Collector protocol, and turning sockets into a Scan."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from portwatch import ranges
from portwatch.collect.attribution import Attribution
from portwatch.collect.exeinfo import ExeInspector
from portwatch.collect.owners import OwnerResolver
from portwatch.collect.owners import user_name as local_user_name
from portwatch.model import (
    HOST_NETNS,
    EphemeralRange,
    Family,
    Listener,
    Netns,
    Owner,
    OwnerStatus,
    ProcessDetails,
    Proto,
    Scan,
)
from portwatch.stop_facts import Holder, SendResult, StopRequest


@dataclass(frozen=True, slots=True)
class RawSocket:
    """One socket as a platform reader found it, before owners are named and ranges derived."""

    proto: Proto
    family: Family
    address: str
    port: int
    #: Processes known to hold it; empty when the platform could not say.
    pids: tuple[int, ...] = ()
    #: The socket's owning uid where the kernel reports it (Linux).
    uid: int | None = None
    inode: int | None = None
    #: IPV6_V6ONLY as the kernel reports it (netlink); None where the reader cannot tell.
    v6only: bool | None = None
    #: The interface the socket is bound to (SO_BINDTODEVICE or an IPv6 scope), 0 for none (netlink).
    ifindex: int = 0
    #: That interface's name, where the collector resolved it; ``address`` then ends in ``%DEV``.
    device: str | None = None
    #: The network namespace the socket was read in.
    netns: Netns = HOST_NETNS
    #: The kernel auto-bound it (UDP), as read in its namespace; None: decide from build_scan's set.
    autobound: bool | None = None


class Inspector(Protocol):
    """Reads one process's details for the panel and `who`; a process that vanished is a state, not an error."""

    def inspect(self, pid: int) -> ProcessDetails: ...


class Signaller(Protocol):
    """Reads the facts a stop is planned from, and signals only the process those facts name."""

    def request(self, listener: Listener) -> StopRequest: ...

    def send(self, holder: Holder, listener: Listener, signum: int, use_pidfd: bool | None = None) -> SendResult: ...

    def run(self, argv: tuple[str, ...], timeout: float = 90.0) -> tuple[int, str]:
        """A service manager's stop command: (exit code, its last line of output)."""
        ...


class Collector(Protocol):
    """Reads every listening socket on this machine. Implementations are not thread-safe: one scan at a time."""

    source: str

    def scan(self) -> Scan: ...


#: What a cheap look at the sockets returns: equal values mean nothing opened or closed in between.
Fingerprint = frozenset[tuple[str, int]]


def fingerprint_of(collector: Collector) -> Callable[[], Fingerprint] | None:
    """The collector's cheap socket listing without owners (Linux: the bare netlink dump), or None where
    the platform has none and only a full scan can tell that something changed."""
    probe = getattr(collector, "fingerprint", None)
    return probe if callable(probe) else None


def is_privileged() -> bool:
    """Whether this process can see every other process's sockets and details."""
    geteuid = getattr(os, "geteuid", None)
    return geteuid is None or geteuid() == 0


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who read the sockets: their privilege, their uid, and how uids become names on that host."""

    privileged: bool
    uid: int | None
    user_name: Callable[[int], str]

    @classmethod
    def this_process(cls) -> Viewer:
        return cls(is_privileged(), os.geteuid() if hasattr(os, "geteuid") else None, local_user_name)


def build_scan(
    sockets: Iterable[RawSocket],
    resolver: OwnerResolver,
    ephemeral: EphemeralRange,
    source: str,
    warnings: tuple[str, ...] = (),
    *,
    exe_inspector: ExeInspector | None = None,
    autobound: set[tuple[str, int]] | None = None,
    attribution: Attribution | None = None,
    viewer: Viewer | None = None,
    partial: bool = False,
    namespaces: tuple[Netns, ...] = (),
    unseen_namespaces: int | None = None,
    holders: dict[int, tuple[int, ...]] | None = None,
    memo: ListenerMemo | None = None,
    ephemeral_by_netns: dict[int, EphemeralRange] | None = None,
    rpc_programs: dict[tuple[Proto, Family, int], str] | None = None,
) -> Scan:
    """Merge sockets sharing (proto, address, port, namespace) into one Listener each, name owners, derive
    ranges.

    ``exe_inspector`` adds each owner's executable facts for this scan; ``autobound`` is the kernel's set of
    (address, port) it bound for UDP clients, None where the OS cannot say (a socket's own ``autobound``
    wins: the collector read it in the socket's namespace). ``attribution`` names each owner's unit,
    container, pod (and package, when asked) and says why a socket has no owner we can see. ``viewer``: who
    read the sockets, when not this process (a remote host's reader, over ssh). ``partial``: these are some of
    the sockets only (caches of the owners not among them are kept, and so is the memo). ``holders``: socket
    inode -> pids, for sockets whose own ``pids`` are empty (saves copying every record to attach its owners).
    ``memo``, kept by the caller between scans, hands back last scan's Listener where what it was built from
    (sockets, owners, the owner explanation) is unchanged. ``ephemeral_by_netns``: another namespace's own
    range (by inode) for its listeners' ``os_ephemeral``. ``rpc_programs``: the (protocol, family, port) ->
    program registrations rpcbind lists (collect/rpcbind.py).
    """
    own_ranges = ephemeral_by_netns or {}
    last = memo if memo is not None else {}
    kept: ListenerMemo = {}
    found = holders or {}
    merged: dict[tuple[Proto, str, int, int], list[RawSocket]] = {}
    for sock in sockets:
        merged.setdefault((sock.proto, sock.address, sock.port, sock.netns.inode), []).append(sock)
    viewer = viewer or Viewer.this_process()
    privileged, my_uid, user_name = viewer.privileged, viewer.uid, viewer.user_name
    listeners: list[Listener] = []
    live: set[int] = set()
    for merge_key, group in merged.items():
        proto, address, port, _netns = merge_key
        pids = sorted({pid for sock in group for pid in (sock.pids or found.get(sock.inode or 0, ()))})
        owners: list[Owner] = []
        for pid in pids:
            owner = resolver.owner(pid)
            if owner is None:
                continue
            if attribution is not None:
                owner = attribution.occupy(owner)
            if exe_inspector is not None:
                owner = exe_inspector.attach(owner)
            owners.append(attribution.package(owner) if attribution is not None else owner)
        live.update(pids)
        bound = _autobound(group, autobound)
        span = own_ranges.get(group[0].netns.inode, ephemeral)
        # rpcbind registrations are the host's: a namespace's sockets are not what it lists.
        rpc = (rpc_programs or {}).get((proto, group[0].family, port)) if group[0].netns.is_host else None
        signature = (tuple(group), tuple(owners), bound, span, privileged, rpc)
        previous = last.get(merge_key)
        # Ownerless rows are rebuilt: their explanation (attribution.unowned) may change on its own.
        if previous is not None and owners and previous[0] == signature:
            kept[merge_key] = previous
            listeners.append(previous[1])
            continue
        uid = next((sock.uid for sock in group if sock.uid is not None), None)
        if owners:
            status = OwnerStatus.KNOWN
        elif not pids and not privileged and uid != my_uid:
            status = OwnerStatus.HIDDEN
        else:
            status = OwnerStatus.UNKNOWN
        listener = Listener(
            proto=proto,
            family=group[0].family,
            address=address,
            port=port,
            port_range=ranges.iana_range(port),
            os_ephemeral=port in span,
            exposure=ranges.exposure_in(address, group[0].device, group[0].netns.is_host),
            service=ranges.service_name(port, proto),
            owners=tuple(owners),
            owner_status=status,
            owner_reason=attribution.unowned(proto.value, address, port)
            if attribution is not None and status is OwnerStatus.UNKNOWN
            else None,
            socket_user=user_name(uid) if uid is not None else None,
            inodes=tuple(sorted({s.inode for s in group if s.inode is not None})),
            dual_stack=dual_stack(group),
            autobound=bound,
            rpc_program=rpc,
            netns=group[0].netns,
            device=group[0].device,
        )
        kept[merge_key] = (signature, listener)
        listeners.append(listener)
    if memo is not None and not partial:
        memo.clear()
        memo.update(kept)
    listeners.sort(key=sort_key)
    if not partial:  # a partial scan (the sentinel's news) sees only some listeners: keep the others' caches
        resolver.forget_except(live)
        if exe_inspector is not None:
            exe_inspector.forget_except(live)
        if attribution is not None:
            attribution.forget_except(live)
    return Scan(tuple(listeners), ephemeral, privileged, source, time.time(), warnings, namespaces, unseen_namespaces)


#: build_scan's memo: merge key -> (what the listener was built from, the listener).
ListenerMemo = dict[tuple[Proto, str, int, int], tuple[tuple[object, ...], Listener]]


def _autobound(group: list[RawSocket], autobound: set[tuple[str, int]] | None) -> bool | None:
    first = group[0]
    if first.proto is not Proto.UDP:
        return None
    if first.autobound is not None:
        return first.autobound
    return None if autobound is None else (first.address, first.port) in autobound


def dual_stack(group: list[RawSocket]) -> bool | None:
    """Whether an IPv6 wildcard socket also takes IPv4 connections (IPV6_V6ONLY off); None when unknown."""
    first = group[0]
    if first.family is not Family.IPV6 or first.address != "::":
        return False
    if any(sock.v6only is False for sock in group):
        return True
    return False if all(sock.v6only for sock in group) else None


def sort_key(listener: Listener) -> tuple[int, str, str, bool, str]:
    """Port order, as `ss` and `lsof` users expect; tcp before udp, IPv4 before IPv6, the host first."""
    return (
        listener.port,
        listener.proto.value,
        listener.family.value + listener.address,
        not listener.netns.is_host,
        listener.netns.label,
    )
