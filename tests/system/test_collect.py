"""Every collector finds real listeners with the right owner, and nothing that is not listening."""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Callable

import pytest

from portwatch.collect import Collector, get_collector
from portwatch.model import Exposure, Family, Listener, OwnerStatus, PortRange, Proto
from tests.support import Child, needs_ipv6

COLLECTORS = ["psutil", "linux"] if sys.platform.startswith("linux") else ["psutil"]


@pytest.fixture(params=COLLECTORS)
def collector(request: pytest.FixtureRequest) -> Collector:
    return get_collector(request.param)


def find(collector: Collector, proto: str, port: int, address: str | None = None) -> list[Listener]:
    return [
        entry
        for entry in collector.scan().listeners
        if entry.proto.value == proto and entry.port == port and address in (None, entry.address)
    ]


@pytest.mark.parametrize("proto", ["tcp", "udp"])
@pytest.mark.parametrize(
    ("host", "family", "exposure"),
    [
        ("127.0.0.1", Family.IPV4, Exposure.LOOPBACK),
        ("0.0.0.0", Family.IPV4, Exposure.ALL),
        pytest.param("::1", Family.IPV6, Exposure.LOOPBACK, marks=needs_ipv6),
        pytest.param("::", Family.IPV6, Exposure.ALL, marks=needs_ipv6),
    ],
)
def test_own_listener_appears_with_our_pid_family_and_exposure(
    collector: Collector, bound: Callable[..., socket.socket], proto: str, host: str, family: Family, exposure: Exposure
) -> None:
    port = bound(proto, host).getsockname()[1]
    [listener] = find(collector, proto, port, host)
    assert listener.family is family
    assert listener.exposure is exposure
    assert listener.pids == (os.getpid(),)
    assert listener.owner_status is OwnerStatus.KNOWN
    assert listener.owners[0].exe is not None and listener.owners[0].user is not None


def test_child_listener_names_the_child_process(collector: Collector, spawn: Callable[..., Child]) -> None:
    child = spawn("tcp", "127.0.0.1")
    [listener] = find(collector, "tcp", child.port)
    assert listener.pids == (child.pid,)
    assert listener.owners[0].cmdline[:2] == (sys.executable, "-c")
    assert listener.port_range is PortRange.DYNAMIC or listener.port_range is PortRange.REGISTERED


def test_fixed_ports_get_their_iana_range_and_service(
    collector: Collector, bound: Callable[..., socket.socket]
) -> None:
    for port, port_range in ((49151, PortRange.REGISTERED), (49152, PortRange.DYNAMIC)):
        try:
            bound("tcp", "127.0.0.1", port)
        except OSError:
            pytest.skip(f"port {port} is taken on this machine")
        [listener] = find(collector, "tcp", port)
        assert listener.port_range is port_range


def test_socket_shared_by_a_forked_child_lists_both_pids(spawn: Callable[..., Child]) -> None:
    child = spawn("tcp", "127.0.0.1", fork=True)
    [listener] = find(get_collector(), "tcp", child.port)
    assert set(listener.pids) == {child.pid, child.forked_pid}


def test_udp_socket_shared_by_a_forked_child_lists_both_pids(spawn: Callable[..., Child]) -> None:
    child = spawn("udp", "127.0.0.1", fork=True)
    [listener] = find(get_collector(), "udp", child.port)
    assert set(listener.pids) == {child.pid, child.forked_pid}


def test_established_tcp_connection_is_not_a_listener(
    collector: Collector, bound: Callable[..., socket.socket]
) -> None:
    server = bound("tcp", "127.0.0.1")
    client = socket.create_connection(server.getsockname())
    accepted, _ = server.accept()
    try:
        client_port = client.getsockname()[1]
        assert find(collector, "tcp", client_port) == []
        assert len(find(collector, "tcp", server.getsockname()[1])) == 1
    finally:
        client.close()
        accepted.close()


def test_connected_udp_socket_is_not_a_listener(collector: Collector, bound: Callable[..., socket.socket]) -> None:
    target = bound("udp", "127.0.0.1")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as connected:
        connected.connect(target.getsockname())
        assert find(collector, "udp", connected.getsockname()[1]) == []
        assert len(find(collector, "udp", target.getsockname()[1])) == 1


def test_row_disappears_when_socket_closes(collector: Collector, bound: Callable[..., socket.socket]) -> None:
    sock = bound("tcp", "127.0.0.1")
    port = sock.getsockname()[1]
    assert len(find(collector, "tcp", port)) == 1
    sock.close()
    assert find(collector, "tcp", port) == []


def test_stopped_child_is_gone_and_a_reused_pid_is_not_trusted(
    collector: Collector, spawn: Callable[..., Child]
) -> None:
    child = spawn("tcp", "127.0.0.1")
    assert len(find(collector, "tcp", child.port)) == 1
    assert child.proc.stdin is not None
    child.proc.stdin.close()
    child.proc.wait(timeout=5)
    assert find(collector, "tcp", child.port) == []


def test_scan_reports_the_os_ephemeral_range_and_marks_listeners_in_it(
    collector: Collector, bound: Callable[..., socket.socket]
) -> None:
    port = bound("tcp", "127.0.0.1").getsockname()[1]  # an OS-chosen port is inside the OS range
    scan = collector.scan()
    [listener] = [entry for entry in scan.listeners if entry.port == port and entry.proto is Proto.TCP]
    assert port in scan.ephemeral
    assert listener.os_ephemeral
