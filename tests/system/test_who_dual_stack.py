"""`who` marks a dual-stack [::] listener "IPv4 too", as `list` does."""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable, Iterator

import pytest

from tests.support import needs_ipv6
from tests.system.listeners import run_portwatch

pytestmark = [needs_ipv6, pytest.mark.skipif(not sys.platform.startswith("linux"), reason="netlink is Linux's")]


@pytest.fixture
def v6_wildcard() -> Iterator[Callable[[int], socket.socket]]:
    """Factory of TCP listeners on [::] with IPV6_V6ONLY as given; closed at teardown."""
    sockets: list[socket.socket] = []

    def make(v6only: int) -> socket.socket:
        sock = socket.socket(socket.AF_INET6)
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, v6only)
        sock.bind(("::", 0))
        sock.listen()
        sockets.append(sock)
        return sock

    yield make
    for sock in sockets:
        sock.close()


def who_title(port: int) -> str:
    result = run_portwatch("who", str(port))
    assert result.returncode == 0, result.stderr
    [title] = [line for line in result.stdout.splitlines() if line.startswith(f"tcp [::]:{port}")]
    return title


def test_who_says_a_dual_stack_listener_takes_ipv4_too(v6_wildcard: Callable[[int], socket.socket]) -> None:
    both = v6_wildcard(0).getsockname()[1]
    only = v6_wildcard(1).getsockname()[1]
    assert "exposure: all (IPv4 too)" in who_title(both)
    assert "IPv4 too" not in who_title(only)
    rows = [line for line in run_portwatch("list").stdout.splitlines() if f" {both} " in line]
    assert len(rows) == 1 and rows[0].endswith("all (IPv4 too)")  # the same words as list
