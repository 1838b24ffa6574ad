"""Judged scans for the metrics commands: collect, judge against the baseline, time it, and cache it.

:class:`Snapshotter` is what `portwatch metrics` calls once and `portwatch serve` calls per scrape. With a
``min_interval`` it rescans at most that often however often it is asked: the scan runs in the asking
(request) thread, under a lock, so concurrent scrapes wait for one scan instead of starting several, and no
thread scans while nobody scrapes. The baseline file is re-read with each new scan, so a fixed (or broken)
file shows in the next scan's metrics without a restart.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from portwatch.baseline import Baseline, BaselineError
from portwatch.collect import Collector
from portwatch.judge import Judge, find_baseline
from portwatch.metrics import BaselineState, Snapshot
from portwatch.text import safe


class Snapshotter:
    """Produces :class:`Snapshot` records; keep one per process (the Judge's caches live here)."""

    def __init__(
        self,
        collector: Collector,
        baseline_path: Path | None = None,
        *,
        min_interval: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.collector = collector
        self.baseline_path = baseline_path
        self.min_interval = min_interval
        self._clock = clock
        self._judge = Judge()
        self._lock = threading.Lock()
        self._last: Snapshot | None = None
        self._taken = 0.0
        #: Scans actually taken (a test and the benchmark read it to see the cache work).
        self.scans = 0
        #: The latest scan failure, one line, for the exporter's log.
        self.last_error: str | None = None

    def _baseline(self) -> tuple[Baseline | None, BaselineState]:
        try:
            baseline, _note = find_baseline(self.baseline_path)
        except BaselineError as error:
            return None, BaselineState(error=safe(str(error), 400))
        if baseline is None:
            return None, BaselineState()
        return baseline, BaselineState(loaded=True, entries=len(baseline.entries))

    def _take(self) -> Snapshot:
        start = time.perf_counter()
        baseline, state = self._baseline()
        try:
            judged = self._judge.judge(self.collector.scan(), baseline)
        except Exception as error:  # a failed scan is a metric (scan_success 0), not a dead exporter
            self.last_error = safe(f"{type(error).__name__}: {error}", 400)
            previous = self._last.judged if self._last else None
            return Snapshot(previous, time.perf_counter() - start, state, success=False)
        self.scans += 1
        return Snapshot(judged, time.perf_counter() - start, state)

    def get(self) -> Snapshot:
        """The cached snapshot if younger than ``min_interval``, else a new one."""
        with self._lock:
            now = self._clock()
            if self._last is None or now - self._taken >= self.min_interval:
                self._last, self._taken = self._take(), now
            return self._last
