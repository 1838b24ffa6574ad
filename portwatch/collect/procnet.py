"""The fallback when netlink is refused: /proc/net/{tcp,tcp6,udp,udp6}, filtered before anything is decoded.

These tables list every socket (40,000 lines for 20,000 loopback connections), so a line is split only as far
as its state column, and only LISTEN (0A) / unconnected UDP (07 with remote port 0) lines go further.
Addresses are 32-bit words in host byte order, decoded the way psutil does so both collectors agree.
"""

from __future__ import annotations

import socket
import sys
from pathlib import Path

from portwatch.collect.base import RawSocket
from portwatch.model import Family, Proto

PROC_NET = Path("/proc/net")
_LISTEN = "0A"
_CLOSE = "07"
_FILES = {
    (Proto.TCP, Family.IPV4): "tcp",
    (Proto.TCP, Family.IPV6): "tcp6",
    (Proto.UDP, Family.IPV4): "udp",
    (Proto.UDP, Family.IPV6): "udp6",
}


def decode_address(hex_address: str, family: Family) -> str:
    """'0100007F' -> '127.0.0.1'; tcp6's four host-order words -> inet_ntop form, e.g. '::1'."""
    raw = bytes.fromhex(hex_address)
    if sys.byteorder == "little":
        raw = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    return socket.inet_ntop(socket.AF_INET if family is Family.IPV4 else socket.AF_INET6, raw)


def parse_table(text: str, proto: Proto, family: Family) -> list[RawSocket]:
    """The listening sockets of one /proc/net table's text (header line included)."""
    found: list[RawSocket] = []
    addresses: dict[str, str] = {}
    for line in text.splitlines()[1:]:
        head = line.split(None, 4)  # sl, local, remote, state, rest
        if len(head) < 5:
            continue
        state, remote = head[3], head[2]
        if proto is Proto.TCP:
            if state != _LISTEN:
                continue
        elif state != _CLOSE or not remote.endswith(":0000"):
            continue
        fields = head[4].split()  # tx:rx, tr:when, retrnsmt, uid, timeout, inode, ...
        hex_address, _, hex_port = head[1].partition(":")
        address = addresses.get(hex_address)
        if address is None:
            address = addresses[hex_address] = decode_address(hex_address, family)
        found.append(RawSocket(proto, family, address, int(hex_port, 16), uid=int(fields[3]), inode=int(fields[5])))
    return found


def listeners(proto: Proto, family: Family, proc_net: Path = PROC_NET) -> list[RawSocket]:
    """Listening sockets from one table; none when an IPv6 table is absent (IPv6 disabled). An IPv4 table or
    /proc/net itself missing (a /proc not mounted, or hidden) is an OSError: "no sockets" would be a lie."""
    try:
        text = (proc_net / _FILES[proto, family]).read_text()
    except FileNotFoundError:
        if family is Family.IPV6 and (proc_net / _FILES[proto, Family.IPV4]).exists():
            return []
        raise
    return parse_table(text, proto, family)
