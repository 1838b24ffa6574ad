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
from portwatch.model import EphemeralRange, Family, Listener, Owner, OwnerStatus, ProcessDetails, Proto, Scan
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


def build_scan(sockets: Iterable[RawSocket], resolver: OwnerResolver, ephemeral: EphemeralRange,
               source: str, warnings: tuple[str, ...] = (), *, exe_inspector: ExeInspector | None = None,
               autobound: set[tuple[str, int]] | None = None, attribution: Attribution | None = None,
               viewer: Viewer | None = None, partial: bool = False,
               rpc_programs: dict[tuple[Proto, Family, int], str] | None = None) -> Scan:
    """Merge sockets sharing (proto, address, port) into one Listener each, name owners, derive ranges.

    ``exe_inspector`` adds each owner's executable facts for this scan; ``autobound`` is the kernel's set of
    (address, port) it bound for UDP clients, None where the OS cannot say. ``attribution`` names each owner's
    unit, container, pod (and package, when asked) and says why a socket has no owner we can see.
    ``viewer``: who read the sockets, when not this process (a remote host's reader, over ssh).
    ``partial``: these are some of the sockets only (caches of the owners not among them are kept).
    ``rpc_programs``: the (protocol, family, port) -> program registrations rpcbind lists (collect/rpcbind.py).
    """
    merged: dict[tuple[Proto, str, int], list[RawSocket]] = {}
    for sock in sockets:
        merged.setdefault((sock.proto, sock.address, sock.port), []).append(sock)
    viewer = viewer or Viewer.this_process()
    privileged, my_uid, user_name = viewer.privileged, viewer.uid, viewer.user_name
    listeners: list[Listener] = []
    for (proto, address, port), group in merged.items():
        pids = sorted({pid for sock in group for pid in sock.pids})
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
        uid = next((sock.uid for sock in group if sock.uid is not None), None)
        if owners:
            status = OwnerStatus.KNOWN
        elif not pids and not privileged and uid != my_uid:
            status = OwnerStatus.HIDDEN
        else:
            status = OwnerStatus.UNKNOWN
        listeners.append(Listener(
            proto=proto,
            family=group[0].family,
            address=address,
            port=port,
            port_range=ranges.iana_range(port),
            os_ephemeral=port in ephemeral,
            exposure=ranges.exposure(address),
            service=ranges.service_name(port, proto),
            owners=tuple(owners),
            owner_status=status,
            owner_reason=attribution.unowned(proto.value, address, port)
            if attribution is not None and status is OwnerStatus.UNKNOWN else None,
            socket_user=user_name(uid) if uid is not None else None,
            inodes=tuple(sorted({s.inode for s in group if s.inode is not None})),
            dual_stack=dual_stack(group),
            autobound=None if proto is not Proto.UDP or autobound is None else (address, port) in autobound,
            rpc_program=(rpc_programs or {}).get((proto, group[0].family, port)),
        ))
    listeners.sort(key=sort_key)
    if not partial:  # a partial scan (the sentinel's news) sees only some listeners: keep the others' caches
        live = {pid for entry in listeners for pid in entry.pids}
        resolver.forget_except(live)
        if exe_inspector is not None:
            exe_inspector.forget_except(live)
        if attribution is not None:
            attribution.forget_except(live)
    return Scan(tuple(listeners), ephemeral, privileged, source, time.time(), warnings)


def dual_stack(group: list[RawSocket]) -> bool | None:
    """Whether an IPv6 wildcard socket also takes IPv4 connections (IPV6_V6ONLY off); None when unknown."""
    first = group[0]
    if first.family is not Family.IPV6 or first.address != "::":
        return False
    if any(sock.v6only is False for sock in group):
        return True
    return False if all(sock.v6only for sock in group) else None


def sort_key(listener: Listener) -> tuple[int, str, str]:
    """Port order, as `ss` and `lsof` users expect; tcp before udp, IPv4 before IPv6."""
    return (listener.port, listener.proto.value, listener.family.value + listener.address)
