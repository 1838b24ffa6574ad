"""/proc/net tables that are absent: an IPv6 table may be (IPv6 disabled); an IPv4 one means /proc is not
there to read, which must fail the scan rather than report no sockets."""

from __future__ import annotations

from pathlib import Path

import pytest

from portwatch.collect import procnet
from portwatch.model import Family, Proto

HEADER = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"


def test_an_absent_ipv6_table_is_no_sockets(tmp_path: Path) -> None:
    (tmp_path / "tcp").write_text(HEADER)
    assert procnet.listeners(Proto.TCP, Family.IPV6, tmp_path) == []


def test_an_absent_ipv4_table_or_proc_net_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        procnet.listeners(Proto.TCP, Family.IPV4, tmp_path)
    with pytest.raises(FileNotFoundError):
        procnet.listeners(Proto.UDP, Family.IPV6, tmp_path / "missing")
