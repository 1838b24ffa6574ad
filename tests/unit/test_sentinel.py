"""The sentinel's logic without the OS: a fake collector whose fingerprint and scans the test sets."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from pathlib import Path

import jsonschema

from portwatch.changes import ChangeFeed
from portwatch.event_json import dropped_json, event_json, event_line, iso_time
from portwatch.event_stream import EventQueue
from portwatch.events import Event, EventKind, EventLog, EventSource
from portwatch.model import (
    EphemeralRange,
    Exposure,
    Family,
    FlagCode,
    Listener,
    Owner,
    OwnerStatus,
    PortRange,
    PortSpan,
    Proto,
    Scan,
)
from portwatch.sentinel import Sentinel
from portwatch.watch import Watcher

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "portwatch/schemas/events.schema.json").read_text())


def listener(port: int, pid: int = 10, name: str = "app") -> Listener:
    return Listener(
        Proto.TCP,
        Family.IPV4,
        "127.0.0.1",
        port,
        PortRange.REGISTERED,
        False,
        Exposure.LOOPBACK,
        owners=(Owner(pid=pid, name=name, exe="/usr/bin/app"),),
        inodes=(port * 10,),
    )


class FakeCollector:
    """Listeners the test puts in ``live``; a scan and a fingerprint of them, counted."""

    source = "fake"

    def __init__(self) -> None:
        self.live: list[Listener] = []
        self.scans = 0
        self.now = 1000.0

    def fingerprint(self) -> frozenset[tuple[str, str, int, int | None]]:
        return frozenset((e.proto.value, e.address, e.port, e.inodes[0]) for e in self.live)

    def scan(self) -> Scan:
        self.scans += 1
        return Scan(tuple(self.live), EphemeralRange(PortSpan(32768, 60999)), True, "fake", self.now)


def sentinel_on(collector: FakeCollector, **options: float) -> tuple[Sentinel, list[float]]:
    clock = [0.0]
    return Sentinel(collector, clock=lambda: clock[0], **options), clock  # type: ignore[arg-type]


def test_an_unchanged_fingerprint_costs_no_scan() -> None:
    collector = FakeCollector()
    collector.live = [listener(22)]
    sentinel, clock = sentinel_on(collector)
    assert sentinel.step().judged is not None  # the first poll seeds with a full scan
    for tick in range(1, 6):
        clock[0] = tick * 0.2
        assert sentinel.step().events == ()
    assert (collector.scans, sentinel.stats.polls) == (1, 6)


def test_a_full_scan_runs_when_the_rescan_is_due_even_if_nothing_moved() -> None:
    collector = FakeCollector()
    sentinel, clock = sentinel_on(collector, rescan_every=2.0)
    sentinel.step()
    clock[0] = 2.5
    sentinel.step()
    assert collector.scans == 2


def test_a_listener_between_two_polls_is_logged_once_opened_once_closed_short_lived() -> None:
    collector = FakeCollector()
    sentinel, clock = sentinel_on(collector, short_lived_under=2.0)
    sentinel.step()
    collector.live, collector.now, clock[0] = [listener(4444, pid=77, name="nc")], 1000.2, 0.2
    [opened] = sentinel.step().events
    clock[0] = 0.4
    assert sentinel.step().events == ()  # still there: no second "opened"
    collector.live, collector.now, clock[0] = [], 1000.6, 0.6
    captured = sentinel.step()
    [closed] = captured.events
    assert (opened.kind, opened.listener.pids, opened.seen_by) == (EventKind.OPENED, (77,), EventSource.SENTINEL)
    assert (closed.kind, closed.short_lived, round(closed.lifetime or 0, 3)) == (EventKind.CLOSED, True, 0.4)
    assert [event.kind for event in captured.history] == [EventKind.OPENED, EventKind.CLOSED]


def test_a_new_inode_behind_the_same_address_is_a_takeover() -> None:
    collector = FakeCollector()
    collector.live = [listener(8080, pid=1)]
    sentinel, clock = sentinel_on(collector)
    sentinel.step()
    collector.live, clock[0] = [dataclasses.replace(listener(8080, pid=2, name="evil"), inodes=(999,))], 0.2
    [event] = sentinel.step().events
    assert (event.kind, event.previous_pids, event.listener.pids) == (EventKind.OWNER_CHANGED, (1,), (2,))


def test_a_watcher_that_only_draws_logs_nothing() -> None:
    collector = FakeCollector()
    watcher = Watcher(collector, log_events=False)
    watcher.poll()
    collector.live = [listener(4444)]
    polled = watcher.poll()
    assert (polled.events, polled.history, [e.key.port for e in polled.changes.opened]) == ((), (), [4444])


def test_a_close_after_a_refresh_or_more_is_not_short_lived() -> None:
    log = EventLog(short_lived_under=2.0)
    feed = ChangeFeed()
    base = FakeCollector()
    log.update(feed.update(base.scan()))
    base.live = [listener(5000)]
    log.update(feed.update(base.scan()))
    base.live, base.now = [], 1003.0
    [closed] = log.update(feed.update(base.scan()))
    assert (closed.lifetime, closed.short_lived) == (3.0, False)


def test_the_queue_drops_the_oldest_and_says_how_many() -> None:
    queue = EventQueue(limit=3)
    events = [Event(EventKind.OPENED, listener(port), 1000.0 + port) for port in range(1, 8)]
    queue.put(events)
    kept, dropped = queue.take(timeout=0)
    assert ([event.key.port for event in kept], dropped, queue.high_water) == ([5, 6, 7], 4, 3)
    assert queue.take(timeout=0) == ([], 0)


def test_event_objects_follow_the_schema_with_and_without_a_baseline() -> None:
    closed = Event(EventKind.CLOSED, listener(4444), 1796163674.25, 0.3, seen_by=EventSource.SENTINEL, short_lived=True)
    for has_baseline in (False, True):
        jsonschema.validate(event_json(closed, has_baseline), SCHEMA)
    jsonschema.validate(dropped_json(12, 1796163674.25), SCHEMA)
    document = event_json(closed, True)
    assert (document["kind"], document["lifetime"], document["expected"], document["time"]) == (
        "closed",
        0.3,
        True,
        "2026-12-01T22:21:14.250Z",
    )


def test_a_readable_line_shows_a_hostile_name_escaped() -> None:
    hostile = Event(EventKind.OPENED, listener(4444, name="\x1b[2J[/]evil"), 1796163674.0)
    line = event_line(hostile, has_baseline=False)
    assert "\x1b" not in line and "\\x1b[2J[/]evil" in line and line.startswith(iso_time(1796163674.0))


class PartialCollector(FakeCollector):
    """A FakeCollector that can also scan only some sockets, as the Linux collector does."""

    def __init__(self) -> None:
        super().__init__()
        self.partial: list[set[int]] = []

    def scan_inodes(self, inodes: set[int]) -> Scan:
        self.partial.append(set(inodes))
        chosen = tuple(
            dataclasses.replace(e, inodes=tuple(i for i in e.inodes if i in inodes))
            for e in self.live
            if set(e.inodes) & inodes
        )
        return Scan(chosen, EphemeralRange(PortSpan(32768, 60999)), True, "fake", self.now)

    def fingerprint(self) -> frozenset[tuple[str, int]]:  # type: ignore[override]
        return frozenset((e.proto.value, inode) for e in self.live for inode in e.inodes)


def test_between_rescans_only_the_new_sockets_are_read_and_merged() -> None:
    collector = PartialCollector()
    collector.live = [listener(22), listener(80)]
    sentinel, clock = sentinel_on(collector)
    sentinel.step()
    collector.live, clock[0] = [listener(22), listener(80), listener(4444, pid=9)], 0.2
    [opened] = sentinel.step().events
    collector.live, clock[0] = [listener(22), listener(80)], 0.4
    [closed] = sentinel.step().events
    assert (opened.kind, opened.listener.pids, closed.kind) == (EventKind.OPENED, (9,), EventKind.CLOSED)
    assert (collector.scans, sentinel.stats.partial_scans, collector.partial[0]) == (1, 2, {44440})


def test_a_partial_scan_tells_a_takeover_and_a_worker_joining_apart() -> None:
    collector = PartialCollector()
    collector.live = [listener(8080, pid=1), listener(9090, pid=5)]
    sentinel, clock = sentinel_on(collector)
    sentinel.step()
    taken = dataclasses.replace(listener(8080, pid=2, name="evil"), inodes=(999,))
    joined = dataclasses.replace(listener(9090, pid=5), inodes=(90900, 777), owners=(Owner(5, "app"), Owner(6, "app")))
    collector.live, clock[0] = [taken, joined], 0.2
    [event] = sentinel.step().events  # the worker joining is a change of owners, not news
    assert (event.kind, event.key.port, event.previous_pids) == (EventKind.OWNER_CHANGED, 8080, (1,))
    assert {90900, 777} <= collector.partial[-1]  # the group was read whole, not only its new socket


class CostlyCollector(FakeCollector):
    """Each look burns ~5 ms of CPU, as a dump of thousands of listeners does."""

    def fingerprint(self) -> frozenset[tuple[str, int]]:  # type: ignore[override]
        start = time.thread_time()
        while time.thread_time() - start < 0.005:
            pass
        return frozenset()


def test_looks_that_cost_more_than_the_budget_stretch_the_interval() -> None:
    sentinel = Sentinel(CostlyCollector(), interval=0.02, budget=0.01)
    stop = threading.Event()
    thread = threading.Thread(target=sentinel.run, args=(stop, lambda captured: None), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while sentinel.stats.polls < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    thread.join(5)
    # 5 ms a look within 1% of a core: a look every ~0.5 s at most, not every 0.02 s.
    assert sentinel.stats.polls >= 3 and sentinel.stats.effective_interval > 0.1


def test_the_schema_names_every_flag_code_status_and_exposure_the_model_has() -> None:
    definitions = SCHEMA["$defs"]
    listener_fields = definitions["listener"]["properties"]
    assert set(definitions["flag"]["properties"]["code"]["enum"]) == {code.value for code in FlagCode}
    assert set(listener_fields["owner_status"]["enum"]) == {status.value for status in OwnerStatus}
    assert set(listener_fields["exposure"]["enum"]) == {exposure.value for exposure in Exposure}
    assert set(definitions["event"]["properties"]["kind"]["enum"]) == {kind.value for kind in EventKind}
