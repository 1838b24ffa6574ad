"""The change feed on real scans: a socket opened between two scans is opened, one closed is closed, the rest
quiet, and a listener whose owner changed is changed (before and after) under the same key."""

from __future__ import annotations

from dataclasses import replace

from portwatch.changes import Changed, ChangeFeed
from portwatch.collect import get_collector
from portwatch.model import Owner
from tests.support import listener_key, open_socket


def test_real_sockets_opened_and_closed_between_scans() -> None:
    collector, feed = get_collector(), ChangeFeed()
    first = feed.update(collector.scan())
    assert first.first and first.closed == () and first.changed == ()
    with open_socket("tcp", "127.0.0.1") as sock:
        key = listener_key("tcp", "127.0.0.1", sock.getsockname()[1])
        opened = feed.update(collector.scan())
        assert key in [entry.key for entry in opened.opened]
        assert not opened.first
        again = feed.update(collector.scan())
        assert key not in [entry.key for entry in again.current]  # nothing about it moved
    closed = feed.update(collector.scan())
    assert key in [entry.key for entry in closed.closed] and key not in [entry.key for entry in closed.current]


def test_a_listener_whose_owner_changed_is_changed_under_the_same_key() -> None:
    collector, feed = get_collector(), ChangeFeed()
    with open_socket("udp", "127.0.0.1") as sock:
        scan = collector.scan()
        feed.update(scan)
        port = sock.getsockname()[1]
        mine = next(entry for entry in scan.listeners if entry.port == port and entry.proto.value == "udp")
        restarted = replace(mine, owners=(Owner(pid=mine.pids[0] + 1, name="restarted"),))
        others = tuple(entry for entry in scan.listeners if entry is not mine)
        changes = feed.update(replace(scan, listeners=(*others, restarted)))
        assert changes.changed == (Changed(mine, restarted),) and changes.opened == () and changes.closed == ()
