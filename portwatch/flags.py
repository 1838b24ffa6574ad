"""Suspicion flags: why a listener deserves a look, each with a stable code and a one-line reason.

Codes (stable; scripts and tests key on them):

- ``dynamic-exposed``: a port from IANA's dynamic range or the OS ephemeral range, reachable beyond loopback.
  Those ports are handed out to clients; a service there is ad hoc, and nobody firewalls for it.
- ``exe-deleted``: the executable was deleted after the process started, and nothing took its place: the
  program runs from memory (a program that erased itself, or an uninstall).
- ``needs-restart`` (informational): the executable was replaced on disk after the process started (the path
  exists again with a new inode: a package upgrade); the process still runs the old file until restarted.
- ``exe-missing``: the process runs from no file at all (memfd: fileless execution).
- ``exe-in-temp``: the executable lives in /tmp, /var/tmp, /dev/shm, a downloads folder or a world-writable
  directory.
- ``exe-modified``: the executable differs from the checksum its package recorded at install (dpkg's
  md5sums, rpm -V): a binary changed in place, by hand or by an intruder.
- ``name-mismatch``: the process name claims to be another program (see portwatch.masquerade).
- ``owner-hidden`` / ``owner-unknown``: who holds the socket cannot be seen, and what is known instead.
- ``not-in-baseline``: a baseline exists and no entry expects this listener.
- ``udp-client`` (informational): an unconnected UDP socket a client was auto-bound to, not a server.

UDP clients. Linux tells us exactly which UDP sockets the kernel auto-bound (see portwatch.collect.autobound); those
are clients' reply sockets (resolvers, mDNS and NTP clients, games, WebRTC). Elsewhere we guess: UDP, on the
wildcard address, on a port inside the OS ephemeral range, with no service name for the port. Either way the
socket gets ``udp-client`` instead of ``dynamic-exposed`` and is exempt from the baseline (its port is
random, so there is nothing to approve); the flags about the program itself still apply. Evidence that such a
socket serves overrides both: an RPC program registered with rpcbind on its port (``Listener.rpc_program``,
read by portwatch.collect.rpcbind) makes it a server, judged as any other. Limits: a server that binds port 0
and advertises its port elsewhere than rpcbind (WebRTC media, P2P) still looks auto-bound; where we guess, a
server that explicitly binds a wildcard ephemeral port (mosh-server binds 60001+) looks like a client.

Masquerading: see portwatch.masquerade, which decides when a process name claims to be another program.
"""

from __future__ import annotations

import dataclasses

from portwatch.baseline import Baseline, Match
from portwatch.masquerade import KERNEL_THREAD as KERNEL_THREAD
from portwatch.masquerade import MULTI_CALL as MULTI_CALL
from portwatch.masquerade import WELL_KNOWN as WELL_KNOWN
from portwatch.masquerade import claimed_program as claimed_program
from portwatch.masquerade import masquerade as masquerade
from portwatch.model import ExeFacts, Exposure, Flag, FlagCode, Listener, Owner, OwnerStatus, PortRange, Proto, Scan
from portwatch.text import safe

_QUOTE = 120  # longest piece of process-supplied text quoted in a reason


def _q(value: object) -> str:
    """Process-supplied text for a reason, escaped once here: reasons are stored safe, and quoted with ' '
    rather than !r (repr would escape safe()'s backslashes again: ``\\x1b`` instead of ``\x1b``)."""
    return safe(value, _QUOTE)


def _q_long(value: object) -> str:
    return safe(value, 400)


def name_mismatch(owner: Owner, exe: str | None) -> Flag | None:
    """A masquerade flag when the process name claims another program (see :func:`portwatch.masquerade.masquerade`)."""
    if not owner.name or not exe:
        return None  # kernel threads (no exe) and processes we may not read
    claim = masquerade(owner.name, exe)
    if claim is None:
        return None
    return Flag(
        FlagCode.NAME_MISMATCH,
        f"pid {owner.pid} calls itself '{_q(owner.name)}' but runs {_q(exe)} "
        f"({claim}): a process named after another program may be hiding; check "
        "what that file is",
    )


_UNSET = Flag(FlagCode.NAME_MISMATCH, "")


def exe_flags(owner: Owner, facts: ExeFacts, mismatch: Flag | None = _UNSET) -> list[Flag]:
    """Flags about the program file itself, from facts read this scan (``mismatch``: a cached answer)."""
    flags: list[Flag] = []
    pid = owner.pid
    if facts.fileless:
        flags.append(
            Flag(
                FlagCode.EXE_MISSING,
                f"pid {pid} runs from memory ({_q(facts.path)}), with no file on disk: "
                "fileless execution is a malware technique; inspect it before killing",
            )
        )
    elif facts.replaced:
        flags.append(
            Flag(
                FlagCode.NEEDS_RESTART,
                f"needs restart: {_q(facts.path)} was replaced on disk after pid "
                f"{pid} started (a package upgrade?), so it still runs the old "
                "file; restart it to run the current one",
                informational=True,
            )
        )
    elif facts.deleted:
        flags.append(
            Flag(
                FlagCode.EXE_DELETED,
                f"{_q(facts.path)} was deleted after pid {pid} started: a program "
                f"that erased itself, or an uninstall; inspect pid {pid}",
            )
        )
    package = owner.package
    if package is not None and package.verified is False:
        fix = (
            (
                f"`dpkg --verify {package.name}` shows what else changed; `apt-get install --reinstall "
                f"{package.name}` restores it"
            )
            if package.manager == "dpkg"
            else f"`rpm -V {package.name}` shows what else changed; reinstall the package to restore it"
        )
        flags.append(
            Flag(
                FlagCode.EXE_MODIFIED,
                f"{_q(facts.path or owner.exe)} no longer matches the checksum "
                f"package {_q(package.name)} recorded at install: someone changed "
                f"the installed program; {fix}",
            )
        )
    if facts.risky_place:
        flags.append(
            Flag(
                FlagCode.EXE_IN_TEMP,
                f"{_q(facts.path)} runs from {facts.risky_place}, where any user or "
                "download can drop files: find out who put it there",
            )
        )
    if mismatch is _UNSET:
        mismatch = name_mismatch(owner, facts.path or owner.exe)
    if mismatch:
        flags.append(mismatch)
    return flags


def looks_like_udp_client(listener: Listener, in_ephemeral: bool) -> bool:
    """The fallback guess where the kernel cannot tell (see module docstring)."""
    return (
        listener.proto is Proto.UDP
        and listener.exposure in (Exposure.ALL, Exposure.NAMESPACE)
        and in_ephemeral
        and listener.service is None
    )


def place_flags(listener: Listener, approved: bool, client: str | None) -> list[Flag]:
    """Flags about where the listener sits and who may reach it; ``approved`` makes them informational."""
    flags: list[Flag] = []
    if client:
        flags.append(Flag(FlagCode.UDP_CLIENT, client, informational=True))
    elif (
        listener.port_range is PortRange.DYNAMIC or listener.os_ephemeral
    ) and listener.exposure is not Exposure.LOOPBACK:
        where = "the OS ephemeral range" if listener.os_ephemeral else "IANA's dynamic range"
        reach = (
            "every interface"
            if listener.exposure is Exposure.ALL
            else f"every interface of network namespace {_q(listener.netns.label)}"
            if listener.exposure is Exposure.NAMESPACE
            else f"address {_q(listener.address)}"
        )
        flags.append(
            Flag(
                FlagCode.DYNAMIC_EXPOSED,
                f"port {listener.port} is in {where}, meant for clients, yet it "
                f"is open on {reach}: give the service a fixed port or bind it to "
                "127.0.0.1",
                informational=approved,
            )
        )
    quiet = approved or client is not None
    if listener.owner_status is OwnerStatus.HIDDEN:
        who = f"user {_q(listener.socket_user)}" if listener.socket_user else "another user"
        flags.append(
            Flag(
                FlagCode.OWNER_HIDDEN,
                f"the socket belongs to {who}; which process holds it is not yours to "
                "see (sudo may reveal it, unless the kernel or another network "
                "namespace holds it)",
                informational=quiet,
            )
        )
    elif listener.owner_status is OwnerStatus.UNKNOWN:
        why = (
            _q_long(listener.owner_reason)
            if listener.owner_reason
            else (
                "a kernel socket (NFS, WireGuard), one handed in from another network namespace, or a process that "
                "just exited"
            )
        )
        flags.append(
            Flag(FlagCode.OWNER_UNKNOWN, f"no process holds it that portwatch can see: {why}", informational=quiet)
        )
    return flags


class Flagger:
    """Fills ``Listener.flags`` scan by scan from the facts the collector delivered; pure but for its cache.

    Reads nothing from the OS: executable facts come on each Owner, and whether the kernel auto-bound a UDP
    socket on each Listener (None where the OS cannot say: then the address-and-port guess is used).
    """

    def __init__(self) -> None:
        #: name_mismatch answers: an Owner record is fixed per process, so its answer is too.
        self._names: dict[Owner, Flag | None] = {}

    def flag_scan(self, scan: Scan, baseline: Baseline | None = None) -> Scan:
        listeners = tuple(self._flag(entry, scan, baseline) for entry in scan.listeners)
        if len(self._names) > 4 * len(listeners) + 64:
            live = {pid for entry in listeners for pid in entry.pids}
            self._names = {owner: flag for owner, flag in self._names.items() if owner.pid in live}
        return dataclasses.replace(scan, listeners=listeners)

    def _flag(self, listener: Listener, scan: Scan, baseline: Baseline | None) -> Listener:
        client: str | None = None
        if listener.proto is Proto.UDP:
            if listener.rpc_program is not None:
                pass  # registered with rpcbind: it serves, whoever picked its port
            elif listener.autobound is not None:
                if listener.autobound:
                    client = (
                        "the kernel bound this UDP socket to a free port on a client's behalf (no explicit "
                        "bind): a reply socket of a resolver, mDNS or NTP client, not a server"
                    )
            elif looks_like_udp_client(listener, listener.port in scan.ephemeral):
                client = (
                    "looks like a UDP client's auto-bound reply socket (wildcard address, OS ephemeral "
                    "port, no service name), so it is not treated as a server"
                )
        match = baseline.match(listener) if baseline is not None and client is None else Match.NONE
        flags = place_flags(listener, match is not Match.NONE, client)
        seen: set[FlagCode] = set()
        for owner in listener.owners:
            for flag in self._exe_flags(owner, owner.exe_facts):
                if flag.code not in seen:  # co-owners of one program would repeat it
                    seen.add(flag.code)
                    flags.append(flag)
        if baseline is not None and client is None and match is Match.NONE:
            where = f" ({_q(baseline.path)})" if baseline.path else ""
            flags.append(
                Flag(
                    FlagCode.NOT_IN_BASELINE,
                    f"no baseline entry{where} expects it: approve it if it belongs, or find out what started it",
                )
            )
        return dataclasses.replace(listener, flags=tuple(flags)) if flags or listener.flags else listener

    def _exe_flags(self, owner: Owner, facts: ExeFacts) -> list[Flag]:
        if owner not in self._names:
            self._names[owner] = name_mismatch(owner, facts.path or owner.exe)
        return exe_flags(owner, facts, self._names[owner])


def alarming(listener: Listener) -> tuple[Flag, ...]:
    """The flags that should make `check` fail and the TUI raise an alert (informational ones do not)."""
    return tuple(flag for flag in listener.flags if not flag.informational)
