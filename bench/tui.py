"""Benchmark the TUI at scale: event-loop time per refresh, and the idle app's CPU and memory against peers.

    python -m bench.tui            # N = 250, 1000, 5000 synthetic and 5000 real; 30 refreshes; 30 s idle sample
    python -m bench.tui --quick    # 10 refreshes each, 12 s idle sample

Event loop: the real PortwatchApp runs headless (``run_test(size=(160, 45))``). The bench triggers each
refresh with ``app.start_scan()`` (what the app's own timer calls) and times, on the loop: the scan handler
(``on_scan_completed``, the keyed diff), the table's repaint (``render_lines``), and "loop CPU": the CPU time
of the event loop's thread from the scan until the app settled (``time.thread_time``: every handler, layout
and paint of that refresh; the scan itself runs in a worker thread and is not in it). A 5 ms heartbeat on the
loop gives the worst stall a user could feel, which also counts the GIL held by the worker.
Each synthetic scan closes and opens 1% of the listeners and restarts the owners of 0.5% more; the real run
does the same to 5,000 TCP listeners on 127.0.0.1 held by a child process, read by ``get_collector()``.

Idle: see bench/idle.py (`python -m bench.idle` runs it alone). Nothing here is asserted; the targets are
printed next to the numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from bench.idle import IdleResult, idle_table, measure_idle
from bench.load import Load
from bench.synthetic import HOLDER, SyntheticCollector
from portwatch.collect import Collector, get_collector
from portwatch.tui.app import PortwatchApp
from portwatch.tui.table.listener_table import ListenerTable

LOOP_TARGET = 0.050
MAX_TARGET = 0.100
HEARTBEAT = 0.005


@dataclass
class Probe:
    """What the patched handlers and the heartbeat saw, each stamped with when it ended (perf_counter)."""

    handler: list[tuple[float, float]] = field(default_factory=list)
    ages: list[tuple[float, float]] = field(default_factory=list)
    repaint: list[tuple[float, float]] = field(default_factory=list)
    beats: list[tuple[float, float]] = field(default_factory=list)
    #: Set by the scan handler, so the bench waits for a refresh without polling the loop.
    scanned: asyncio.Event = field(default_factory=asyncio.Event)

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        """Wrap the scan handler, the ageing tick and the table's repaint; put the originals back after."""
        on_scan = PortwatchApp.__dict__["on_scan_completed"]
        age = ListenerTable.__dict__["age"]
        render_lines = Widget.render_lines
        handler, ages, repaint, scanned = self.handler, self.ages, self.repaint, self.scanned

        def timed_on_scan(app: PortwatchApp, message: Any) -> None:
            start = time.perf_counter()
            on_scan(app, message)
            end = time.perf_counter()
            handler.append((end, end - start))
            scanned.set()

        def timed_age(table: ListenerTable, now: float | None = None) -> None:
            start = time.perf_counter()
            age(table, now)
            end = time.perf_counter()
            ages.append((end, end - start))

        def timed_render(table: ListenerTable, crop: Region) -> list[Strip]:
            start = time.perf_counter()
            lines: list[Strip] = render_lines(table, crop)
            end = time.perf_counter()
            repaint.append((end, end - start))
            return lines

        patches = [(PortwatchApp, "on_scan_completed", on_scan, timed_on_scan), (ListenerTable, "age", age, timed_age)]
        for cls, name, _, timed in patches:
            setattr(cls, name, timed)
        setattr(ListenerTable, "render_lines", timed_render)  # noqa: B010 (a method patched for the run)
        try:
            yield
        finally:
            for cls, name, original, _ in patches:
                setattr(cls, name, original)
            del ListenerTable.render_lines  # back to Widget.render_lines

    async def heartbeat(self) -> None:
        while True:
            start = time.perf_counter()
            await asyncio.sleep(HEARTBEAT)
            end = time.perf_counter()
            self.beats.append((end, end - start - HEARTBEAT))

    def window(self, start: float, end: float, cpu: float) -> Cost:
        """What the loop spent between start and end."""

        def total(samples: list[tuple[float, float]]) -> float:
            return sum(t for when, t in samples if start < when <= end)

        beats = [late for when, late in self.beats if start < when <= end + 2 * HEARTBEAT]
        return Cost(total(self.handler), total(self.repaint), cpu, max(beats, default=0.0))


@dataclass(frozen=True)
class Cost:
    """One refresh on the event loop, in seconds."""

    handler: float  # on_scan_completed: the keyed diff, the summary, the panel
    repaint: float  # the table's render_lines: the lines on screen that changed
    busy: float  # the loop thread's CPU time for this refresh: everything it did
    stall: float  # the longest the heartbeat waited


@dataclass
class LoopResult:
    label: str
    rows: int
    first: Cost
    refreshes: list[Cost]
    ages: list[float]
    #: One full garbage collection at the end (the app runs one every 30 s, between refreshes).
    full_gc: float = 0.0


async def refresh(app: PortwatchApp, probe: Probe, pilot: Any) -> Cost:
    """One scan applied and settled; what it cost the loop."""
    probe.scanned.clear()
    start, cpu = time.perf_counter(), time.thread_time()
    app.start_scan()
    await probe.scanned.wait()
    await pilot.pause()
    await asyncio.sleep(0.1)  # the repaint and any idle work land here
    return probe.window(start, time.perf_counter(), time.thread_time() - cpu)


async def drive(
    label: str,
    collector: Collector,
    refreshes: int,
    churn: Callable[[], None] | None = None,
    capture: Collector | None = None,
) -> LoopResult:
    probe = Probe()
    # The bench triggers scans; the app's timer stays out of it. ``capture``: the sentinel runs too.
    app = PortwatchApp(collector, interval=3600, capture=capture)
    with probe.installed():
        start, cpu = time.perf_counter(), time.thread_time()
        async with app.run_test(size=(160, 45)) as pilot:
            beating = asyncio.create_task(probe.heartbeat())
            await probe.scanned.wait()  # the first scan starts on mount
            await pilot.pause()
            await asyncio.sleep(0.2)
            first = probe.window(start, time.perf_counter(), time.thread_time() - cpu)
            ages_before = len(probe.ages)
            samples = []
            for _ in range(refreshes):
                if churn is not None:
                    churn()
                samples.append(await refresh(app, probe, pilot))
            rows = app.table.row_count
            app.heap.collect()  # what the app's 30 s timer runs between refreshes: timed on its own
            beating.cancel()
    return LoopResult(label, rows, first, samples, [t for _, t in probe.ages[ages_before:]], app.heap.worst)


def real_listeners(count: int, refreshes: int, sentinel: bool = False) -> LoopResult:
    """The app on the real collector, with ``count`` TCP listeners on 127.0.0.1 held and churned by a child."""
    load = Load()
    try:
        load.start(HOLDER, count)
        holder = load.processes[-1]

        def churn() -> None:
            assert holder.stdin is not None and holder.stdout is not None
            holder.stdin.write(f"{max(1, count // 100)}\n")
            holder.stdin.flush()
            holder.stdout.readline()

        collector = get_collector()
        try:
            label = f"real, {count} TCP on 127.0.0.1 (+ this host's own)"
            if sentinel:
                label += ", sentinel on"
            return asyncio.run(drive(label, collector, refreshes, churn, get_collector() if sentinel else None))
        finally:
            close = getattr(collector, "close", None)
            if close is not None:
                close()
    finally:
        load.stop()


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def spread(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{ms(min(values))} / {ms(statistics.median(values))} / {ms(max(values))}"


def p95(values: list[float]) -> float:
    """The 95th percentile, nearest rank (of 30 refreshes: the second worst)."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, -(-95 * len(ordered) // 100) - 1))]


def tail_table(results: list[LoopResult]) -> list[str]:
    """The tail of each configuration: what the worst refreshes cost, against the targets."""
    lines = [
        "| configuration | rows | loop CPU median ms | p95 ms | max ms | worst stall p95 / max ms "
        f"| p95 ≤ {ms(LOOP_TARGET)} ms | max ≤ {ms(MAX_TARGET)} ms | full GC every 30 s, ms |",
        "|---|---:|---:|---:|---:|---|---|---|---:|",
    ]
    for result in results:
        busy = [c.busy for c in result.refreshes]
        stalls = [c.stall for c in result.refreshes]
        lines.append(
            f"| {result.label} | {result.rows} | {ms(statistics.median(busy))} | {ms(p95(busy))} | "
            f"{ms(max(busy))} | {ms(p95(stalls))} / {ms(max(stalls))} | "
            f"{'yes' if p95(busy) <= LOOP_TARGET else 'no'} | {'yes' if max(busy) <= MAX_TARGET else 'no'} | "
            f"{ms(result.full_gc)} |"
        )
    return lines


def loop_table(results: list[LoopResult]) -> list[str]:
    lines = [
        "| configuration | rows | first fill: loop CPU ms (diff) | diff ms min / med / max "
        "| table repaint ms, med / max | loop CPU per refresh ms min / med / max | worst stall ms med / max "
        "| age tick ms med / max | loop CPU ≤ 50 ms |",
        "|---|---:|---|---|---|---|---|---|---|",
    ]
    for result in results:
        first, costs = result.first, result.refreshes
        busy, stalls, repaints = [c.busy for c in costs], [c.stall for c in costs], [c.repaint for c in costs]
        ages = f"{ms(statistics.median(result.ages))} / {ms(max(result.ages))}" if result.ages else "-"
        lines.append(
            f"| {result.label} | {result.rows} | {ms(first.busy)} ({ms(first.handler)}) | "
            f"{spread([c.handler for c in costs])} | {ms(statistics.median(repaints))} / {ms(max(repaints))} | "
            f"{spread(busy)} | {ms(statistics.median(stalls))} / {ms(max(stalls))} | {ages} | {verdict(busy)} |"
        )
    return lines


def verdict(values: list[float]) -> str:
    """Whether the median meets the target, and how many refreshes went over it."""
    over = sum(value > LOOP_TARGET for value in values)
    return f"{'yes' if statistics.median(values) <= LOOP_TARGET else 'no'} ({over}/{len(values)} over)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="10 refreshes per configuration, 12 s idle sample")
    parser.add_argument("--sizes", default="250,1000,5000", help="synthetic listener counts")
    parser.add_argument("--real", type=int, default=5000, help="real loopback listeners (0: skip)")
    parser.add_argument("--sentinel", action="store_true", help="the real run again with the sentinel on")
    parser.add_argument("--idle-listeners", type=int, default=250, help="real listeners while idle (0: skip idle)")
    parser.add_argument("--refreshes", type=int, default=None)
    parser.add_argument("--idle-seconds", type=float, default=None)
    args = parser.parse_args(argv)
    if not sys.platform.startswith("linux"):
        parser.error("the real-listener and idle parts read Linux sockets; run it on Linux")
    refreshes = args.refreshes or (10 if args.quick else 30)
    idle_seconds = args.idle_seconds or (12.0 if args.quick else 30.0)
    print(
        f"# portwatch TUI benchmark: {os.cpu_count()} CPUs, Linux {os.uname().release}, "
        f"Python {sys.version.split()[0]}, {refreshes} refreshes per configuration, euid {os.geteuid()}\n",
        flush=True,
    )
    results = [
        asyncio.run(drive(f"synthetic, {size}", SyntheticCollector(size), refreshes))
        for size in (int(part) for part in args.sizes.split(",") if part.strip())
    ]
    if args.real:
        results.append(real_listeners(args.real, refreshes))
        if args.sentinel:
            results.append(real_listeners(args.real, refreshes, sentinel=True))
    print("## Event loop per refresh (1% of listeners closed and opened, 0.5% owners restarted, per scan)\n")
    print("\n".join(loop_table(results)) + "\n", flush=True)
    print("## The tail: p95 and worst refresh (loop CPU)\n")
    print("\n".join(tail_table(results)) + "\n", flush=True)
    if args.idle_listeners:
        idle: list[IdleResult] = measure_idle(args.idle_listeners, idle_seconds)
        print(
            f"## Idle at the default 2 s interval, {args.idle_listeners} real listeners, "
            f"{idle_seconds:.0f} s sampled, in tmux 160x45 (target: portwatch ≤ 2% of one core)\n"
        )
        print("\n".join(idle_table(idle)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
