"""Which UDP sockets did the kernel bind on a client's behalf? Linux answers exactly; elsewhere we guess.

A UDP client that calls ``sendto`` without ``bind`` is auto-bound by the kernel to a free port of the OS
ephemeral range on the wildcard address, and from then on it looks exactly like a server in ``ss -lu`` and
psutil. Linux keeps the difference: ``bind()`` to a non-zero port sets ``SOCK_BINDPORT_LOCK`` in the socket's
``sk_userlocks``, autobind does not. No sock_diag attribute reports that bit, but the sock_diag bytecode
filter op ``INET_DIAG_BC_AUTO`` (what ``ss -ua autobound`` uses) tests it kernel-side, and needs no privilege.
So one filtered dump per address family lists exactly the auto-bound UDP sockets, cheaply.

Limits, documented where they matter (flags.py):

- ``bind(addr, 0)`` ("any port, please") is indistinguishable from autobind: a server that binds port 0 and
  advertises its port elsewhere (some RPC services, WebRTC/ICE media, P2P) counts as auto-bound.
- The socket table and this dump are read moments apart; a socket born in between is simply not auto-bound
  as far as this dump knows (it is classified on the next scan).
"""

from __future__ import annotations

import contextlib
import socket
import struct
import sys

NETLINK_SOCK_DIAG = 4
SOCK_DIAG_BY_FAMILY = 20
NLM_F_REQUEST, NLM_F_DUMP = 0x1, 0x300
NLMSG_ERROR, NLMSG_DONE = 2, 3
INET_DIAG_REQ_BYTECODE = 1
INET_DIAG_BC_AUTO = 6  # linux/inet_diag.h: NOP, JMP, S_GE, S_LE, D_GE, D_LE, AUTO
TCP_CLOSE = 7  # an unconnected UDP socket reports this state

_HEADER = struct.Struct("=IHHII")
_REQUEST = struct.Struct("=BBBBI48x")
#: One bytecode op {code, yes, no}: on a match jump 4 bytes (to the end: accept), else 8 (past it: reject).
_FILTER = struct.pack("=HH", 8, INET_DIAG_REQ_BYTECODE) + struct.pack("=BBH", INET_DIAG_BC_AUTO, 4, 8)
_MSG_LEN = 72


def dump_autobound(sock: socket.socket, family: int, seq: int) -> set[tuple[str, int]]:
    body = _REQUEST.pack(family, socket.IPPROTO_UDP, 0, 0, 1 << TCP_CLOSE) + _FILTER
    sock.sendall(_HEADER.pack(_HEADER.size + len(body), SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, seq, 0) + body)
    width = 4 if family == socket.AF_INET else 16
    found: set[tuple[str, int]] = set()
    while True:
        data = sock.recv(1 << 16)
        offset = 0
        while offset + _HEADER.size <= len(data):
            length, kind, _flags, got_seq, _pid = _HEADER.unpack_from(data, offset)
            if length < _HEADER.size:
                raise OSError("malformed netlink message")
            start = offset + _HEADER.size
            offset += (length + 3) & ~3
            if got_seq != seq:
                continue
            if kind == NLMSG_DONE:
                return found
            if kind == NLMSG_ERROR:
                code = -struct.unpack_from("=i", data, start)[0]
                raise OSError(code, "sock_diag refused the autobound dump")
            if kind != SOCK_DIAG_BY_FAMILY or length < _HEADER.size + _MSG_LEN:
                continue
            if data[start + 6] or data[start + 7]:
                continue  # connected: not a listener at all
            address = socket.inet_ntop(family, data[start + 8 : start + 8 + width])
            found.add((address, (data[start + 4] << 8) | data[start + 5]))


def autobound_udp() -> set[tuple[str, int]] | None:
    """(address, port) of every auto-bound, unconnected UDP socket here; None where the OS cannot say."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, NETLINK_SOCK_DIAG) as sock:
            sock.settimeout(2.0)
            found = dump_autobound(sock, socket.AF_INET, 1)
            with contextlib.suppress(OSError):  # no IPv6 in this kernel: the IPv4 answer still stands
                found |= dump_autobound(sock, socket.AF_INET6, 2)
            return found
    except OSError:
        return None
