"""Which ports serve RPC programs: rpcbind's (portmapper's) own list, asked on loopback.

An RPC service (rpc.statd, rpc.mountd, NIS, NFS's lockd) binds port 0 and registers the port the kernel
picked with rpcbind. To the kernel such a socket is auto-bound, exactly like a client's reply socket; the
registration is the evidence that it serves. So when something listens on TCP port 111 here, one DUMP call
over TCP to 127.0.0.1:111 lists every (program, protocol, port) registered: rpcbind's RPCBPROC_DUMP (RFC 1833,
version 4) first, since only it lists IPv6 registrations (netids udp6, tcp6); then, from a portmapper that
knows only version 2, PMAPPROC_DUMP (IPv4 only).
Nothing leaves the machine, and the answer is cached for a few seconds: registrations change when a
service starts or stops, not between two refreshes.
"""

from __future__ import annotations

import os
import socket
import struct
import time
from collections.abc import Callable, Iterable

from portwatch.model import Family, Proto

PMAP_PORT = 111
PMAP_PROG, PMAPPROC_DUMP = 100000, 4  # RPCBPROC_DUMP is procedure 4 in versions 3 and 4 as well
RPCB_VERS, PMAP_VERS = 4, 2
PROG_MISMATCH = 2
IPPROTO_TCP, IPPROTO_UDP = 6, 17
ETC_RPC = "/etc/rpc"
#: Seconds a dump is reused.
CACHE_SECONDS = 5.0
#: The longest reply read: a few thousand registrations; a bigger one is not a portmapper's.
_MAX_REPLY = 1 << 20
_LAST_FRAGMENT = 0x80000000
#: Programs every rpcbind knows, for systems without /etc/rpc.
_KNOWN = {
    100000: "portmapper",
    100003: "nfs",
    100005: "mountd",
    100021: "nlockmgr",
    100024: "status",
    100004: "ypserv",
    100007: "ypbind",
    100227: "nfs_acl",
}

#: (protocol, family, port) -> "100024 status"
Registrations = dict[tuple[Proto, Family, int], str]
#: One registration: program number, protocol, address family, port.
Entry = tuple[int, Proto, Family, int]

_NETIDS = {
    "tcp": (Proto.TCP, Family.IPV4),
    "udp": (Proto.UDP, Family.IPV4),
    "tcp6": (Proto.TCP, Family.IPV6),
    "udp6": (Proto.UDP, Family.IPV6),
}
_PMAP_PROTOCOLS = {IPPROTO_TCP: Proto.TCP, IPPROTO_UDP: Proto.UDP}


class VersionMismatch(ValueError):
    """The portmapper does not speak the version asked (a version-2-only portmapper asked for rpcbind 4)."""


def dump_call(xid: int, version: int) -> bytes:
    """A DUMP call in ONC RPC (RFC 5531) with AUTH_NONE, framed by TCP record marking."""
    body = struct.pack(">IIIIIIIIII", xid, 0, 2, PMAP_PROG, version, PMAPPROC_DUMP, 0, 0, 0, 0)
    return struct.pack(">I", _LAST_FRAGMENT | len(body)) + body


def _xdr_string(reply: bytes, offset: int) -> tuple[str, int]:
    (length,) = struct.unpack_from(">I", reply, offset)
    start = offset + 4
    if start + length > len(reply):
        raise ValueError("short portmapper reply: string runs past the end")
    return reply[start : start + length].decode("ascii", "replace"), start + ((length + 3) & ~3)


def universal_port(address: str) -> int | None:
    """The port of an RPC universal address ("0.0.0.0.172.114", "::.194.57"): its last two dotted numbers."""
    parts = address.rsplit(".", 2)
    if len(parts) != 3 or not (parts[1].isdigit() and parts[2].isdigit()):
        return None
    return int(parts[1]) * 256 + int(parts[2])


def parse_dump_reply(reply: bytes, xid: int, version: int) -> list[Entry]:
    """The entries of a DUMP reply (record marks removed); ValueError if malformed or refused."""
    try:
        got, kind, reply_stat = struct.unpack_from(">III", reply, 0)
        if got != xid or kind != 1 or reply_stat != 0:
            raise ValueError("not an accepted reply to our call")
        _flavor, length = struct.unpack_from(">II", reply, 12)
        offset = 20 + ((length + 3) & ~3)
        (accept_stat,) = struct.unpack_from(">I", reply, offset)
        if accept_stat == PROG_MISMATCH:
            raise VersionMismatch(f"the portmapper does not speak version {version}")
        if accept_stat != 0:
            raise ValueError(f"the portmapper refused the dump (accept_stat {accept_stat})")
        offset += 4
        entries: list[Entry] = []
        while True:
            (follows,) = struct.unpack_from(">I", reply, offset)
            offset += 4
            if not follows:
                return entries
            if version == PMAP_VERS:
                program, _version, protocol, port = struct.unpack_from(">IIII", reply, offset)
                offset += 16
                if protocol in _PMAP_PROTOCOLS:
                    entries.append((program, _PMAP_PROTOCOLS[protocol], Family.IPV4, port))
                continue
            program, _version = struct.unpack_from(">II", reply, offset)
            netid, offset = _xdr_string(reply, offset + 8)
            address, offset = _xdr_string(reply, offset)
            _owner, offset = _xdr_string(reply, offset)
            where = _NETIDS.get(netid)
            found_port = universal_port(address)
            if where is not None and found_port is not None:
                entries.append((program, *where, found_port))
    except struct.error as error:
        raise ValueError(f"short portmapper reply: {error}") from error


def _read_records(sock: socket.socket) -> bytes:
    """The fragments of one RPC record, joined."""
    data = bytearray()
    while True:
        (mark,) = struct.unpack(">I", _read_exactly(sock, 4))
        size = mark & ~_LAST_FRAGMENT
        if len(data) + size > _MAX_REPLY:
            raise ValueError("portmapper reply too large")
        data += _read_exactly(sock, size)
        if mark & _LAST_FRAGMENT:
            return bytes(data)


def _read_exactly(sock: socket.socket, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ValueError("portmapper closed the connection mid-reply")
        data += chunk
    return bytes(data)


def dump(timeout: float = 0.5) -> list[Entry]:
    """Ask the portmapper on 127.0.0.1:111 for its registrations; OSError/ValueError when it cannot."""
    for version in (RPCB_VERS, PMAP_VERS):
        xid = int.from_bytes(os.urandom(4), "big")
        with socket.create_connection(("127.0.0.1", PMAP_PORT), timeout=timeout) as sock:
            sock.sendall(dump_call(xid, version))
            try:
                return parse_dump_reply(_read_records(sock), xid, version)
            except VersionMismatch:
                if version == PMAP_VERS:
                    raise
    raise AssertionError("unreachable")  # pragma: no cover


def program_names(path: str = ETC_RPC) -> dict[int, str]:
    """Program numbers to names from /etc/rpc (``name number aliases...``), over the built-in few."""
    names = dict(_KNOWN)
    try:
        with open(path, encoding="utf-8", errors="replace") as file:
            for line in file:
                fields = line.split("#", 1)[0].split()
                if len(fields) >= 2 and fields[1].isdigit():
                    names[int(fields[1])] = fields[0]
    except OSError:
        pass
    return names


def registrations(entries: Iterable[Entry], names: dict[int, str]) -> Registrations:
    """(protocol, family, port) -> "PROGRAM NAME" for each registered port (the lowest program number wins)."""
    found: Registrations = {}
    for program, proto, family, port in sorted(entries):
        if not 0 < port < 65536 or (proto, family, port) in found:
            continue
        found[proto, family, port] = f"{program} {names[program]}" if program in names else str(program)
    return found


_LOCAL_OR_ANY = frozenset({"0.0.0.0", "::", "127.0.0.1", "::1"})


def portmapper_listens(sockets: Iterable[tuple[Proto, str, int]]) -> bool:
    """Whether a TCP socket on port 111 that 127.0.0.1 reaches is among (proto, address, port)."""
    return any(
        proto is Proto.TCP and port == PMAP_PORT and address in _LOCAL_OR_ANY for proto, address, port in sockets
    )


class RpcbindReader:
    """Registrations, asked only when a portmapper listens here, and cached for CACHE_SECONDS."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._cached: tuple[float, Registrations] | None = None
        self._names: dict[int, str] | None = None
        #: Why the last dump failed, for the scan's warnings; None when it worked or was not needed.
        self.problem: str | None = None

    def programs(self, listens: bool) -> Registrations:
        """What rpcbind has registered; empty when no portmapper listens on TCP 111 or it does not answer."""
        if not listens:
            self._cached, self.problem = None, None
            return {}
        now = self._clock()
        if self._cached is not None and now - self._cached[0] < CACHE_SECONDS:
            return self._cached[1]
        if self._names is None:
            self._names = program_names()
        try:
            found = registrations(dump(), self._names)
            self.problem = None
        except (OSError, ValueError) as error:
            found = {}
            self.problem = (
                f"rpcbind on 127.0.0.1:111 did not list its programs ({error}): RPC services that "
                "bound port 0 are judged as UDP clients"
            )
        self._cached = (now, found)
        return found
