"""ScanDiffer on real scans: a socket opened between two scans is changed, one closed is closed, the rest quiet."""

from __future__ import annotations

from dataclasses import replace

from portwatch.collect import get_collector
from portwatch.changes import ScanDiffer
from portwatch.model import Owner
from tests.support import open_socket


def test_real_sockets_opened_and_closed_between_scans() -> None:
    collector, differ = get_collector(), ScanDiffer()
    first = differ.diff(collector.scan())
    assert first.first and first.closed == ()
    with open_socket("tcp", "127.0.0.1") as sock:
        key = ("tcp", "127.0.0.1", sock.getsockname()[1])
        opened = differ.diff(collector.scan())
        assert key in [entry.key for entry in opened.changed]
        assert not opened.first
        again = differ.diff(collector.scan())
        assert key not in [entry.key for entry in again.changed]  # nothing about it moved
    closed = differ.diff(collector.scan())
    assert key in closed.closed and key not in [entry.key for entry in closed.changed]


def test_a_listener_whose_owner_changed_is_changed_under_the_same_key() -> None:
    collector, differ = get_collector(), ScanDiffer()
    with open_socket("udp", "127.0.0.1") as sock:
        scan = collector.scan()
        differ.diff(scan)
        port = sock.getsockname()[1]
        mine = next(entry for entry in scan.listeners if entry.port == port and entry.proto.value == "udp")
        restarted = replace(mine, owners=(Owner(pid=mine.pids[0] + 1, name="restarted"),))
        others = tuple(entry for entry in scan.listeners if entry is not mine)
        diff = differ.diff(replace(scan, listeners=(*others, restarted)))
        assert diff.changed == (restarted,) and diff.closed == ()
