"""The event log fed by the change feed: opened/closed listeners with lifetimes, keyed by address, seeded
quietly, bounded."""

from __future__ import annotations

import dataclasses

from portwatch.changes import ChangeFeed
from portwatch.event_json import event_line
from portwatch.events import EventKind, EventLog
from portwatch.model import (
    EphemeralRange,
    Exposure,
    Family,
    Listener,
    Owner,
    OwnerStatus,
    PortRange,
    PortSpan,
    Proto,
    Scan,
)
from tests.support import listener_key


def listener(port: int, pid: int = 10) -> Listener:
    return Listener(
        Proto.TCP,
        Family.IPV4,
        "127.0.0.1",
        port,
        PortRange.REGISTERED,
        False,
        Exposure.LOOPBACK,
        owners=(Owner(pid=pid, name="app"),),
    )


def scan(at: float, *listeners: Listener) -> Scan:
    return Scan(tuple(listeners), EphemeralRange(PortSpan(32768, 60999)), True, "test", at)


def test_first_scan_seeds_without_events() -> None:
    log, feed = EventLog(), ChangeFeed()
    assert log.update(feed.update(scan(100.0, listener(22), listener(80)))) == []
    assert len(log) == 0


def test_opened_then_closed_carries_its_lifetime() -> None:
    log, feed = EventLog(), ChangeFeed()
    log.update(feed.update(scan(100.0, listener(22))))
    [opened] = log.update(feed.update(scan(102.0, listener(22), listener(4444))))
    assert (opened.kind, opened.key, opened.at, opened.lifetime) == (
        EventKind.OPENED,
        listener_key("tcp", "127.0.0.1", 4444),
        102.0,
        None,
    )
    [closed] = log.update(feed.update(scan(104.0, listener(22))))
    assert (closed.kind, closed.at, closed.lifetime, closed.since_start) == (EventKind.CLOSED, 104.0, 2.0, False)
    assert [event.kind for event in log] == [EventKind.OPENED, EventKind.CLOSED]


def test_listener_present_at_start_closes_with_a_lower_bound() -> None:
    log, feed = EventLog(), ChangeFeed()
    log.update(feed.update(scan(100.0, listener(22))))
    [closed] = log.update(feed.update(scan(160.0)))
    assert closed.since_start and closed.lifetime == 60.0


def test_restart_with_a_new_pid_is_an_owner_change_not_a_close() -> None:
    log, feed = EventLog(), ChangeFeed()
    log.update(feed.update(scan(100.0, listener(22, pid=10))))
    [changed] = log.update(feed.update(scan(102.0, listener(22, pid=11))))
    assert changed.kind is EventKind.OWNER_CHANGED and changed.previous_pids == (10,)
    assert log.update(feed.update(scan(104.0, listener(22, pid=11)))) == []


def test_memory_is_bounded() -> None:
    log, feed = EventLog(max_events=5), ChangeFeed()
    log.update(feed.update(scan(0.0)))
    for step in range(1, 20):
        log.update(feed.update(scan(float(step), listener(1000 + step))))  # one opens, the previous closes
    assert len(log) == 5
    assert log.events[-1].at == 19.0


def ownerless(port: int) -> Listener:
    return dataclasses.replace(listener(port), owners=(), owner_status=OwnerStatus.UNKNOWN)


def test_an_owner_found_after_an_ownerless_open_is_an_owner_change_from_none() -> None:
    """A listener first seen with no process (its holder not yet found) gets its owner on record."""
    log, feed = EventLog(), ChangeFeed()
    log.update(feed.update(scan(100.0)))
    [opened] = log.update(feed.update(scan(101.0, ownerless(4444))))
    assert opened.kind is EventKind.OPENED and opened.listener.pids == ()
    [found] = log.update(feed.update(scan(102.0, listener(4444, pid=10))))
    assert (found.kind, found.previous_pids, found.listener.pids) == (EventKind.OWNER_CHANGED, (), (10,))
    assert "owner found: first seen without a process" in event_line(found, has_baseline=False)


def test_a_restart_seen_through_an_ownerless_refresh_is_one_owner_change() -> None:
    log, feed = EventLog(), ChangeFeed()
    log.update(feed.update(scan(100.0, listener(22, pid=10))))
    assert log.update(feed.update(scan(101.0, ownerless(22)))) == []  # the old one exited, the new not found yet
    [changed] = log.update(feed.update(scan(102.0, listener(22, pid=11))))
    assert (changed.kind, changed.previous_pids) == (EventKind.OWNER_CHANGED, (10,))
    # The same process found again after a refresh that missed it is no change at all.
    assert log.update(feed.update(scan(103.0, ownerless(22)))) == []
    assert log.update(feed.update(scan(104.0, listener(22, pid=11)))) == []
