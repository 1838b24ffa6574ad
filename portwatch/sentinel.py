"""The sentinel: looks at the kernel's socket list several times a second, so nothing slips between refreshes.

A listener that lives one second between two 2-second refreshes is never drawn. The sentinel polls the
collector's cheap fingerprint (Linux: the socket inodes of four netlink dumps, ~0.5 ms at 250 listeners)
every ``interval`` seconds; only when it differs from the last one (a socket inode appeared or vanished)
does it scan at once: the new sockets only where the collector can (``scan_inodes``: their owners named as a
refresh names them, the newest processes first), judged (portwatch.judge) and merged into the last scan,
which feeds the change feed and the event log. A full scan runs every ``rescan_every`` seconds, for what no
inode tells (a forked child taking over a socket, a deleted exe), and wherever there is no partial scan.

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
from portwatch.model import Listener, ListenerKey, Scan

#: 5 polls a second. A listener is caught when one poll falls inside its life and the full scan that follows
#: (a few ms) still finds it: at 0.2 s a listener that lives 0.25 s is caught even when a poll runs 50 ms
#: late, and the dumps cost ~0.1-0.3% of a core at 250 listeners. 0.25 s would catch only those that
#: happen to straddle a poll.
DEFAULT_CAPTURE_INTERVAL = 0.2
#: The fastest the sentinel polls (seconds); below that the dump's cost grows with no event to gain.
MIN_CAPTURE_INTERVAL = 0.02
#: The share of one core the sentinel may use (smoothed): below it the interval holds; a host where polls cost
#: more (thousands of listeners opening and closing all the time) is polled less often rather than harder.
DEFAULT_BUDGET = 0.03
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
    #: ...of which in scans (collect, judge, compare, log).
    scan_busy: float = 0.0
    #: Scans of the new sockets only (the collector's scan_inodes), merged into the last full scan.
    partial_scans: int = 0
    #: Polls that started later than one interval after they were due (the machine was busy).
    late: int = 0
    #: The interval run() keeps now: ``interval``, or longer when polls cost more than the budget allows.
    effective_interval: float = 0.0


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
        budget: float = DEFAULT_BUDGET,
    ) -> None:
        """``baseline`` is asked before each full scan (the live view's Watcher re-reads the file);
        ``short_lived_under``: closes sooner than this are marked short-lived (the drawing interval).
        ``budget``: the share of one core run() may use; costlier polls stretch the interval to fit."""
        self.collector = collector
        self.interval = max(MIN_CAPTURE_INTERVAL, interval)
        self.rescan_every = rescan_every
        self.budget = budget
        self.baseline = baseline
        self.log = EventLog(max_events, seen_by=EventSource.SENTINEL, short_lived_under=short_lived_under)
        self.stats = SentinelStats()
        self._judge = Judge()
        self._feed = ChangeFeed()
        self._probe = fingerprint_of(collector)
        self._last: Fingerprint | None = None
        #: The listeners as of the last scan, by key (partial scans update it).
        self._shown: dict[ListenerKey, Listener] | None = None
        self._last_scan = -float("inf")
        self._clock = clock

    def step(self) -> Captured:
        """One poll: the fingerprint, and a scan when it moved (of the new sockets only where the collector
        can, a full one where not or when a rescan is due). Collector errors propagate (run() goes on)."""
        cpu = time.thread_time()
        try:
            self.stats.polls += 1
            now = self._clock()
            rescan_due = now - self._last_scan >= self.rescan_every
            if self._probe is not None:
                current: Fingerprint | None = self._probe()
                if current == self._last and not rescan_due:
                    return Captured((), (), None)
            else:
                current = None  # no cheap look on this platform: every poll is a full scan
            scan_cpu = time.thread_time()
            scan_some: Callable[[set[int]], Scan] | None = getattr(self.collector, "scan_inodes", None)
            if rescan_due or scan_some is None or current is None or self._last is None or self._shown is None:
                judged = self._judge.judge(self.collector.scan(), self.baseline())
                self.stats.scans += 1
                self._last_scan = now
            else:
                judged = self._merge(scan_some, self._last, current, self._shown)
                self.stats.partial_scans += 1
            self._last = current
            self._shown = {entry.key: entry for entry in judged.listeners}
            events = tuple(self.log.update(self._feed.update(judged.scan)))
            self.stats.scan_busy += time.thread_time() - scan_cpu
            return Captured(events, self.log.events if events else (), judged)
        finally:
            self.stats.busy += time.thread_time() - cpu

    def _merge(
        self,
        scan_some: Callable[[set[int]], Scan],
        before: Fingerprint,
        current: Fingerprint,
        shown: dict[ListenerKey, Listener],
    ) -> JudgedScan:
        """The last scan's listeners with what changed since: only the sockets that are new, and those of
        listeners that lost one, are read and judged (at 5,000 listeners a full scan costs ~150 ms)."""
        present = {inode for _proto, inode in current}
        gone = {inode for _proto, inode in before - current}
        touched = {key for key, entry in shown.items() if gone.intersection(entry.inodes)}
        wanted = {inode for _proto, inode in current - before}
        for key in touched:  # a listener that lost one of its sockets is read again from those it kept
            wanted |= present.intersection(shown[key].inodes)
        fresh = scan_some(wanted)
        # A new socket behind a known address (an SO_REUSEPORT worker, a takeover): read it with the others.
        extra = {
            inode
            for entry in fresh.listeners
            if entry.key in shown
            for inode in present.intersection(shown[entry.key].inodes)
        } - wanted
        if extra:
            fresh = scan_some(wanted | extra)
        baseline = self.baseline()
        judged = self._judge.judge(fresh, baseline)
        listeners = {key: entry for key, entry in shown.items() if key not in touched}
        listeners.update((entry.key, entry) for entry in judged.listeners)
        # Other namespaces' listeners are not in the host's fingerprint: they are kept until the next full scan.
        merged = Scan(
            tuple(listeners.values()),
            fresh.ephemeral,
            fresh.privileged,
            fresh.source,
            fresh.taken_at,
            namespaces=fresh.namespaces,
            unseen_namespaces=fresh.unseen_namespaces,
        )
        return JudgedScan(merged, baseline)

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
        cost = 0.0  # CPU seconds a poll costs, smoothed
        while not stop.is_set():
            spent = self.stats.busy
            try:
                captured = self.step()
            except Exception as error:  # a collector error must not end the capture
                if failed is not None:
                    failed(error)
            else:
                if captured.events or (first and captured.judged is not None):
                    first = False
                    deliver(captured)
            cost = 0.8 * cost + 0.2 * (self.stats.busy - spent) if self.stats.polls > 1 else 0.0
            # Within the CPU budget: at 5,000 listeners with churn a poll can cost 20 ms; then look less often.
            self.stats.effective_interval = max(self.interval, cost / self.budget)
            due += self.stats.effective_interval
            now = time.monotonic()
            if now > due + self.interval:  # fell behind (suspended, overloaded): skip, do not burst
                self.stats.late += 1
                due = now
            stop.wait(max(0.0, due - now))
