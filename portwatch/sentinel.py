"""The sentinel: looks at the kernel's socket list several times a second, so nothing slips between refreshes.

A listener that lives one second between two 2-second refreshes is never drawn. The sentinel polls the
collector's cheap fingerprint (Linux: the socket inodes of four netlink dumps, ~0.5 ms at 250 listeners)
every ``interval`` seconds; only when it differs from the last one (a socket inode appeared or vanished)
does it run a full scan at once, which names the owner (the collector walks the newest processes first),
judges it (portwatch.judge) and feeds the change feed and the event log. A full scan also runs every
``rescan_every`` seconds, for what no inode tells (a forked child taking over a socket, a deleted exe).

So the sentinel, not the drawing, owns the change feed of the event log: one event per real open, close or
takeover, however often or seldom anything is drawn. Its times are the scans' and are as precise as
``interval``. It reads no OS itself (the collector does) and imports nothing of the TUI; :meth:`Sentinel.run`
is meant for a thread of its own. One collector per sentinel: collectors are not thread-safe.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from portwatch.baseline import Baseline
from portwatch.changes import ChangeFeed
from portwatch.collect import Collector, Fingerprint, fingerprint_of
from portwatch.events import Event, EventLog, EventSource
from portwatch.judge import Judge, JudgedScan

#: 5 polls a second. A listener is caught when one poll falls inside its life and the full scan that follows
#: (a few ms) still finds it: at 0.2 s a listener that lives 0.25 s is caught even when a poll runs 50 ms
#: late, and the dumps cost ~0.1-0.3% of a core at 250 listeners. 0.25 s would catch only those that
#: happen to straddle a poll.
DEFAULT_CAPTURE_INTERVAL = 0.2
#: The fastest the sentinel polls (seconds); below that the dump's cost grows with no event to gain.
MIN_CAPTURE_INTERVAL = 0.02
#: A full scan at least this often (seconds), for owner and flag changes that leave the socket as it was (a
#: forked child taking a socket over from its exiting parent). A full scan costs ~30 us a listener (8 ms at
#: 250): every 10 s that is 0.1% of a core, every 2 s it alone would be 0.4%.
DEFAULT_RESCAN = 10.0


@dataclass(frozen=True, slots=True)
class Captured:
    """What one poll found: the events it logged, and (only then) the whole log, oldest first."""

    events: tuple[Event, ...]
    history: tuple[Event, ...]
    #: The judged scan the events came from; None when the poll's fingerprint was unchanged.
    judged: JudgedScan | None


@dataclass(slots=True)
class SentinelStats:
    """Counters for the benchmark and the curious (written by the sentinel's thread only)."""

    polls: int = 0
    scans: int = 0
    #: CPU seconds the sentinel's thread spent in polls and scans (time.thread_time).
    busy: float = 0.0
    #: ...of which in full scans (collect, judge, compare, log).
    scan_busy: float = 0.0
    #: Polls that started later than one interval after they were due (the machine was busy).
    late: int = 0


class Sentinel:
    """Polls ``collector`` every ``interval`` s; :meth:`step` once, or :meth:`run` until stopped."""

    def __init__(
        self,
        collector: Collector,
        *,
        interval: float = DEFAULT_CAPTURE_INTERVAL,
        rescan_every: float = DEFAULT_RESCAN,
        baseline: Callable[[], Baseline | None] = lambda: None,
        short_lived_under: float | None = None,
        max_events: int = 1000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``baseline`` is asked before each full scan (the live view's Watcher re-reads the file);
        ``short_lived_under``: closes sooner than this are marked short-lived (the drawing interval)."""
        self.collector = collector
        self.interval = max(MIN_CAPTURE_INTERVAL, interval)
        self.rescan_every = rescan_every
        self.baseline = baseline
        self.log = EventLog(max_events, seen_by=EventSource.SENTINEL, short_lived_under=short_lived_under)
        self.stats = SentinelStats()
        self._judge = Judge()
        self._feed = ChangeFeed()
        self._probe = fingerprint_of(collector)
        self._last: Fingerprint | None = None
        self._last_scan = -float("inf")
        self._clock = clock

    def step(self) -> Captured:
        """One poll: the fingerprint, and a full scan when it moved (or a rescan is due). Collector errors
        propagate (run() reports them and goes on)."""
        cpu = time.thread_time()
        try:
            self.stats.polls += 1
            now = self._clock()
            if self._probe is not None:
                current: Fingerprint | None = self._probe()
                if current == self._last and now - self._last_scan < self.rescan_every:
                    return Captured((), (), None)
            else:
                current = None  # no cheap look on this platform: every poll is a full scan
            scan_cpu = time.thread_time()
            judged = self._judge.judge(self.collector.scan(), self.baseline())
            self.stats.scans += 1
            self._last, self._last_scan = current, now
            events = tuple(self.log.update(self._feed.update(judged.scan)))
            self.stats.scan_busy += time.thread_time() - scan_cpu
            return Captured(events, self.log.events if events else (), judged)
        finally:
            self.stats.busy += time.thread_time() - cpu

    def run(
        self,
        stop: threading.Event,
        deliver: Callable[[Captured], None],
        failed: Callable[[Exception], None] | None = None,
    ) -> None:
        """Poll at a fixed rate until ``stop`` is set, handing each poll that logged something (or the first
        full scan) to ``deliver``. A failed poll goes to ``failed`` and polling goes on."""
        due = time.monotonic()
        first = True
        while not stop.is_set():
            try:
                captured = self.step()
            except Exception as error:  # a collector error must not end the capture
                if failed is not None:
                    failed(error)
            else:
                if captured.events or (first and captured.judged is not None):
                    first = False
                    deliver(captured)
            due += self.interval
            now = time.monotonic()
            if now > due + self.interval:  # fell behind (suspended, overloaded): skip, do not burst
                self.stats.late += 1
                due = now
            stop.wait(max(0.0, due - now))
