"""An IPv6 wildcard socket that also serves IPv4 says so: it shows only in the IPv6 table."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest

from portwatch.collect.linux import LinuxCollector
from portwatch.model import Listener
from tests.json_contract import parse_json
from tests.support import needs_ipv6

pytestmark = [needs_ipv6, pytest.mark.skipif(not sys.platform.startswith("linux"), reason="netlink is Linux's")]


@pytest.fixture
def v6_wildcards() -> Iterator[tuple[int, int]]:
    """Two TCP listeners on [::]: one with IPV6_V6ONLY off (takes IPv4 too), one with it on."""
    both = socket.socket(socket.AF_INET6)
    both.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    only = socket.socket(socket.AF_INET6)
    only.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    for sock in (both, only):
        sock.bind(("::", 0))
        sock.listen()
    yield both.getsockname()[1], only.getsockname()[1]
    both.close()
    only.close()


def by_port(listeners: tuple[Listener, ...], port: int, address: str = "::") -> Listener:
    """Our TCP listener on ``address``:``port`` (another program may hold the same port on another address:
    an IPV6_V6ONLY socket on [::] leaves 0.0.0.0 free)."""
    [found] = [
        entry for entry in listeners if entry.port == port and entry.address == address and entry.proto.value == "tcp"
    ]
    return found


def test_netlink_tells_dual_stack_from_ipv6_only(v6_wildcards: tuple[int, int]) -> None:
    collector = LinuxCollector(use_netlink=True)
    listeners = collector.scan().listeners
    collector.close()
    assert by_port(listeners, v6_wildcards[0]).dual_stack is True
    assert by_port(listeners, v6_wildcards[1]).dual_stack is False


def test_procfs_cannot_tell_and_says_unknown(v6_wildcards: tuple[int, int]) -> None:
    listeners = LinuxCollector(use_netlink=False).scan().listeners
    assert by_port(listeners, v6_wildcards[0]).dual_stack is None


def test_ipv4_and_specific_ipv6_sockets_are_not_dual_stack() -> None:
    with socket.socket(socket.AF_INET6) as loop6, socket.socket() as any4:
        loop6.bind(("::1", 0))
        any4.bind(("0.0.0.0", 0))
        loop6.listen()
        any4.listen()
        listeners = LinuxCollector().scan().listeners
        assert by_port(listeners, loop6.getsockname()[1], "::1").dual_stack is False
        assert by_port(listeners, any4.getsockname()[1], "0.0.0.0").dual_stack is False


def test_list_shows_and_exports_dual_stack(v6_wildcards: tuple[int, int]) -> None:
    run = [sys.executable, "-m", "portwatch", "list"]
    listed = subprocess.run([*run, "--json"], capture_output=True, text=True, check=True).stdout
    records = parse_json(listed, "list")["listeners"]
    [record] = [r for r in records if (r["proto"], r["address"], r["port"]) == ("tcp", "::", v6_wildcards[0])]
    assert record["dual_stack"] is True
    table = subprocess.run(run, capture_output=True, text=True, check=True).stdout
    [row] = [line for line in table.splitlines() if line.split()[:3] == ["tcp", "[::]", str(v6_wildcards[0])]]
    assert row.endswith("all (IPv4 too)")
