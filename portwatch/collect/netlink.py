"""Listening sockets straight from the kernel: NETLINK_SOCK_DIAG dumps, filtered by state kernel-side.

One dump per (family, protocol) asks only for TCP sockets in LISTEN and UDP sockets in CLOSE (bound but not
connected; a connected UDP socket is ESTABLISHED), so the cost follows the number of listeners, not of
connections. Written with ``socket`` + ``struct``: pyroute2 costs far more per dump
(FIELD-NOTES.md; README, Performance).
Layouts: linux/netlink.h (nlmsghdr), linux/inet_diag.h (inet_diag_req_v2, inet_diag_msg).
"""

from __future__ import annotations

import errno
import os
import socket
import struct
from collections.abc import Collection, Iterator

from portwatch.collect.base import RawSocket
from portwatch.model import HOST_NETNS, Family, Netns, Proto

NETLINK_SOCK_DIAG = 4
SOCK_DIAG_BY_FAMILY = 20
NLM_F_REQUEST = 0x1
NLM_F_DUMP = 0x300
NLMSG_ERROR = 2
NLMSG_DONE = 3

#: TCP states as inet_diag reports them, for TCP and UDP sockets alike (include/net/tcp_states.h).
TCP_ESTABLISHED = 1
TCP_CLOSE = 7
TCP_LISTEN = 10

_HEADER = struct.Struct("=IHHII")  # nlmsghdr: len, type, flags, seq, pid
#: inet_diag_req_v2: family, protocol, ext, pad, states, then a zeroed inet_diag_sockid (48 bytes).
_REQUEST = struct.Struct("=BBBBI48x")
_UID_INODE = struct.Struct("=II")  # inet_diag_msg.idiag_uid, idiag_inode
_IFINDEX = struct.Struct("=I")  # inet_diag_sockid.idiag_if (SO_BINDTODEVICE, or an IPv6 scope id), at offset 40
_INODE = struct.Struct("=I")
_MSG_LEN = 72  # sizeof(struct inet_diag_msg)
_ATTR = struct.Struct("=HH")  # rtattr: len, type; the attributes follow the message, 4-byte aligned
INET_DIAG_SKV6ONLY = 11  # u8, sent for every AF_INET6 socket
_RECV_SIZE = 1 << 16  # the kernel fills at most 32 KiB a dump message

#: What to ask for: TCP in LISTEN, UDP bound and unconnected; both address families.
QUERIES: tuple[tuple[Proto, Family], ...] = (
    (Proto.TCP, Family.IPV4),
    (Proto.TCP, Family.IPV6),
    (Proto.UDP, Family.IPV4),
    (Proto.UDP, Family.IPV6),
)
_AF = {Family.IPV4: socket.AF_INET, Family.IPV6: socket.AF_INET6}
_IPPROTO = {Proto.TCP: socket.IPPROTO_TCP, Proto.UDP: socket.IPPROTO_UDP}
_STATES = {Proto.TCP: 1 << TCP_LISTEN, Proto.UDP: 1 << TCP_CLOSE}


class DiagSocket:
    """A NETLINK_SOCK_DIAG socket; open it once and dump on every refresh. Raises OSError where refused."""

    def __init__(self) -> None:
        kind = socket.SOCK_RAW | socket.SOCK_CLOEXEC
        self._sock = socket.socket(socket.AF_NETLINK, kind, NETLINK_SOCK_DIAG)
        self._buffer = bytearray(_RECV_SIZE)
        self._seq = 0

    def close(self) -> None:
        self._sock.close()

    def listeners(
        self, proto: Proto, family: Family, only: Collection[int] | None = None, netns: Netns = HOST_NETNS
    ) -> list[RawSocket]:
        """Every listening socket of one protocol and family in this socket's network namespace (``only``: of
        those inodes only; the others are not decoded; ``netns`` names the namespace on each record)."""
        return self.dump(proto, family, _STATES[proto], only, netns)

    def inodes(self, proto: Proto, family: Family) -> list[int]:
        """The inodes of :meth:`listeners`, nothing else decoded (the sentinel's poll: ~4x cheaper)."""
        self._request(proto, family, _STATES[proto])
        found: list[int] = []
        buffer = self._buffer
        udp = proto is Proto.UDP
        for body, _length in self._messages(proto, family):
            if udp and (buffer[body + 6] or buffer[body + 7]):
                continue  # connected
            found.append(_INODE.unpack_from(buffer, body + 68)[0])
        return found

    def _request(self, proto: Proto, family: Family, states: int) -> None:
        self._seq += 1
        request = _HEADER.pack(
            _HEADER.size + _REQUEST.size, SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, self._seq, 0
        ) + _REQUEST.pack(_AF[family], _IPPROTO[proto], 0, 0, states)
        self._sock.sendall(request)

    def _messages(self, proto: Proto, family: Family) -> Iterator[tuple[int, int]]:
        """(offset of the inet_diag_msg in the buffer, message length) for each socket of the dump requested
        last; valid until the next yield (the buffer is refilled)."""
        buffer = self._buffer
        while True:
            size = self._sock.recv_into(buffer)
            offset = 0
            while offset + _HEADER.size <= size:
                length, kind, _flags, seq, _pid = _HEADER.unpack_from(buffer, offset)
                if length < _HEADER.size:
                    raise OSError(errno.EPROTO, "malformed netlink message")
                body = offset + _HEADER.size
                offset += (length + 3) & ~3
                if seq != self._seq:
                    continue  # a leftover of an earlier, interrupted dump
                if kind == NLMSG_DONE:
                    return
                if kind == NLMSG_ERROR:
                    code = -struct.unpack_from("=i", buffer, body)[0]
                    raise OSError(code, f"sock_diag {proto.value}/{family.value}: {os.strerror(code)}")
                if kind != SOCK_DIAG_BY_FAMILY or length < _HEADER.size + _MSG_LEN:
                    continue
                yield body, length

    def dump(
        self, proto: Proto, family: Family, states: int, only: Collection[int] | None = None, netns: Netns = HOST_NETNS
    ) -> list[RawSocket]:
        """Sockets whose state bit is set in ``states``; for UDP only those with no remote port."""
        self._request(proto, family, states)
        found: list[RawSocket] = []
        addresses: dict[bytes, str] = {}
        af = _AF[family]
        width = 4 if family is Family.IPV4 else 16
        buffer = self._buffer
        for body, length in self._messages(proto, family):
            remote_port = (buffer[body + 6] << 8) | buffer[body + 7]
            if proto is Proto.UDP and remote_port:
                continue  # connected: has a peer, so it is not serving anyone
            uid, inode = _UID_INODE.unpack_from(buffer, body + 64)
            if only is not None and inode not in only:
                continue
            raw = bytes(buffer[body + 8 : body + 8 + width])
            address = addresses.get(raw)
            if address is None:
                address = addresses[raw] = socket.inet_ntop(af, raw)
            v6only = _v6only(buffer, body + _MSG_LEN, body - _HEADER.size + length) if width == 16 else None
            ifindex = _IFINDEX.unpack_from(buffer, body + 40)[0]
            found.append(
                RawSocket(
                    proto,
                    family,
                    address,
                    (buffer[body + 4] << 8) | buffer[body + 5],
                    uid=uid,
                    inode=inode,
                    v6only=v6only,
                    ifindex=ifindex,
                    netns=netns,
                )
            )
        return found

    def autobound(self) -> set[tuple[str, int]] | None:
        """The auto-bound UDP sockets of this socket's namespace (see collect/autobound.py); None if refused."""
        from portwatch.collect.autobound import dump_autobound

        try:
            found = set()
            for af in (socket.AF_INET, socket.AF_INET6):
                self._seq += 1
                found |= dump_autobound(self._sock, af, self._seq)
            return found
        except OSError:
            return None


def _v6only(buffer: bytearray, start: int, end: int) -> bool | None:
    """The INET_DIAG_SKV6ONLY attribute among those between ``start`` and ``end``; None if absent."""
    while start + _ATTR.size <= end:
        length, kind = _ATTR.unpack_from(buffer, start)
        if length < _ATTR.size:
            return None
        if kind == INET_DIAG_SKV6ONLY and length > _ATTR.size:
            return bool(buffer[start + _ATTR.size])
        start += (length + 3) & ~3
    return None
