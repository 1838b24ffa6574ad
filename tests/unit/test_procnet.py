"""Parsing /proc/net tables: only listening lines survive, and addresses decode the way psutil writes them."""

from __future__ import annotations

import sys

import pytest

from portwatch.collect.procnet import decode_address, parse_table
from portwatch.model import Family, Proto

pytestmark = pytest.mark.skipif(sys.byteorder != "little", reason="fixed tables written on a little-endian host")

TCP = """\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1501 1 0 100 0 0 10 0
   1: 0100007F:1F90 0100007F:C000 01 00000000:00000000 00:00000000 00000000  1000        0 1502 1 0 20 4 30 10 -1
   2: 0100007F:C000 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000        0 1503 1 0 20 4 30 10 -1
   3: 0100007F:0CEA 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 1504 1 0 100 0 0 10 0
 10000: 0100007F:9C40 0100007F:0CEA 06 00000000:00000000 03:00001495 00000000     0        0 0 3 0
"""

UDP6 = """\
  sl  local_address                         remote_address                        st ... uid  timeout inode
  10: 00000000000000000000000000000000:0035 00000000000000000000000000000000:0000 07 0:0 0:0 0  101 0 2001 2
  11: 00000000000000000000000001000000:D431 00000000000000000000000001000000:0035 01 0:0 0:0 0 1000 0 2002 2
  12: 0000000000000000FFFF00000100007F:1388 00000000000000000000000000000000:0000 07 0:0 0:0 0    0 0 2003 2
"""


def test_tcp_table_keeps_only_listen_lines() -> None:
    found = parse_table(TCP, Proto.TCP, Family.IPV4)
    assert [(s.address, s.port, s.uid, s.inode) for s in found] == [
        ("0.0.0.0", 22, 0, 1501),
        ("127.0.0.1", 3306, 1000, 1504),
    ]


def test_udp_table_keeps_only_unconnected_sockets_and_decodes_ipv6() -> None:
    found = parse_table(UDP6, Proto.UDP, Family.IPV6)
    assert [(s.address, s.port, s.uid, s.inode) for s in found] == [
        ("::", 53, 101, 2001),
        ("::ffff:127.0.0.1", 5000, 0, 2003),
    ]


@pytest.mark.parametrize(
    ("hex_address", "family", "text"),
    [
        ("0100007F", Family.IPV4, "127.0.0.1"),
        ("00000000", Family.IPV4, "0.0.0.0"),
        ("0101A8C0", Family.IPV4, "192.168.1.1"),
        ("00000000000000000000000001000000", Family.IPV6, "::1"),
        ("000080FE00000000FF005452123456FE", Family.IPV6, "fe80::5254:ff:fe56:3412"),
    ],
)
def test_addresses_decode_like_psutil(hex_address: str, family: Family, text: str) -> None:
    assert decode_address(hex_address, family) == text
