"""The event log on real scans: a real listener opens and closes, with its lifetime and pid."""

from __future__ import annotations

from collections.abc import Callable

from portwatch.changes import ChangeFeed
from portwatch.collect import get_collector
from portwatch.events import EventKind, EventLog
from tests.support import Server, listener_key


def test_real_listener_opens_and_closes(start_server: Callable[..., Server]) -> None:
    collector = get_collector()
    log, feed = EventLog(), ChangeFeed()
    log.update(feed.update(collector.scan()))
    server = start_server("tcp", "127.0.0.1")
    key = listener_key("tcp", "127.0.0.1", server.port)
    assert [e.kind for e in log.update(feed.update(collector.scan())) if e.key == key] == [EventKind.OPENED]
    server.stop()
    [closed] = [e for e in log.update(feed.update(collector.scan())) if e.key == key]
    assert closed.kind is EventKind.CLOSED and closed.lifetime is not None and closed.lifetime >= 0
    assert closed.listener.pids == (server.pid,)
