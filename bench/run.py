"""Benchmark portwatch's Linux collector against `ss -ltnup` and psutil, in one run, on loopback load.

    python bench/run.py            # C = 0, 5000, 20000 connections x P = 0, 500 idle processes
    python bench/run.py --quick    # a smaller, faster pass

Every number is wall time; each cell is min / median of repeated runs and the median as a multiple of
`ss -ltnup`'s median in the same configuration. Every helper process is stopped before exit.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run from a clean checkout without installing

import psutil  # noqa: E402

from bench.load import NEW_LISTENER, Load  # noqa: E402
from portwatch.collect.linux import LinuxCollector  # noqa: E402


@dataclass
class Timing:
    name: str
    seconds: list[float]
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def timed(action: Callable[[], object], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return samples


def run_quietly(command: Sequence[str]) -> Callable[[], object]:
    def run() -> object:
        # cwd: `python -m portwatch` finds the checkout's package without installing it
        return subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, cwd=REPO)
    return run


def cold_scan() -> None:
    collector = LinuxCollector()
    collector.scan()
    collector.close()


def new_listener_scans(load: Load, repeat: int) -> Timing:
    """A fresh server process appears; time the next refresh and check it named the server, cheaply."""
    collector = LinuxCollector()
    collector.scan()
    samples: list[float] = []
    named = 0
    walks_before = collector.full_walks
    walked_before = collector.socket_owners.processes_walked
    for _ in range(repeat):
        port = int(load.start(NEW_LISTENER))
        pid = load.processes[-1].pid
        start = time.perf_counter()
        scan = collector.scan()
        samples.append(time.perf_counter() - start)
        named += any(entry.port == port and entry.pids == (pid,) for entry in scan.listeners)
    full = collector.full_walks - walks_before
    walked = collector.socket_owners.processes_walked - walked_before
    collector.close()
    return Timing("new listener, next refresh", samples,
                  f"named {named}/{repeat}, full walks {full}, {walked / repeat:.0f} processes walked per refresh")


def measure(load: Load, repeat: int, warm_repeat: int) -> list[Timing]:
    ss = shutil.which("ss")
    timings = [Timing("`ss -ltnup`", timed(run_quietly([ss, "-ltnup"]), repeat))] if ss else []
    timings.append(Timing("psutil.net_connections('inet')",
                          timed(lambda: psutil.net_connections("inet"), repeat)))
    timings.append(Timing("LinuxCollector cold (first scan)", timed(cold_scan, repeat)))
    warm = LinuxCollector()
    warm.scan()
    walks = warm.full_walks
    timings.append(Timing("LinuxCollector warm (refresh)", timed(warm.scan, warm_repeat),
                          f"full walks {warm.full_walks - walks}"))
    warm.close()
    timings.append(new_listener_scans(load, repeat))
    listing = [sys.executable, "-m", "portwatch", "list"]
    if subprocess.run(listing, capture_output=True, cwd=REPO).returncode == 0:
        timings.append(Timing("`portwatch list` (whole process)", timed(run_quietly(listing), repeat)))
    else:
        timings.append(Timing("`portwatch list` (whole process)", [], "skipped: `python -m portwatch list` failed"))
    return timings


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}" if seconds < 0.01 else f"{seconds * 1000:.1f}"


def ratio(timing: Timing, reference: Timing | None) -> str:
    if reference is None or not timing.seconds:
        return "-"
    return f"{timing.median / reference.median:.3f}x"


def detail_table(timings: list[Timing]) -> list[str]:
    reference = timings[0] if timings and timings[0].name.startswith("`ss") else None
    lines = ["| measurement | min ms | median ms | x ss | note |", "|---|---:|---:|---:|---|"]
    for timing in timings:
        if timing.seconds:
            lines.append(f"| {timing.name} | {ms(min(timing.seconds))} | {ms(timing.median)} | "
                         f"{ratio(timing, reference)} | {timing.note} |")
        else:
            lines.append(f"| {timing.name} | - | - | - | {timing.note} |")
    return lines


SUMMARY_COLUMNS = ("ss", "psutil", "cold", "warm", "new listener", "portwatch list")


def summary_row(connections: int, idle: int, timings: list[Timing]) -> str:
    reference = timings[0] if timings[0].name.startswith("`ss") else None
    cells = []
    for timing in timings:
        if not timing.seconds:
            cells.append("skipped")
        elif timing is reference:
            cells.append(f"{ms(timing.median)} ms")
        else:
            cells.append(f"{ms(timing.median)} ms ({ratio(timing, reference)})")
    return f"| {connections} | {idle} | " + " | ".join(cells) + " |"


def parse_counts(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="C = 0, 2000; P = 0, 100; 3 repeats")
    parser.add_argument("--connections", type=parse_counts, default=None, help="e.g. 0,5000,20000")
    parser.add_argument("--idle", type=parse_counts, default=None, help="idle processes, e.g. 0,500")
    parser.add_argument("--listeners", type=int, default=50, help="listening sockets (80%% TCP, 20%% UDP)")
    parser.add_argument("--repeat", type=int, default=None, help="runs per measurement (warm: 4x)")
    args = parser.parse_args(argv)
    if not sys.platform.startswith("linux"):
        parser.error("the benchmark measures the Linux collector; run it on Linux")
    connections = args.connections or ([0, 2000] if args.quick else [0, 5000, 20000])
    idle_counts = args.idle or ([0, 100] if args.quick else [0, 500])
    repeat = args.repeat or (3 if args.quick else 7)
    cpus = os.cpu_count()
    print(f"# portwatch benchmark: {cpus} CPUs, Linux {os.uname().release}, Python {sys.version.split()[0]}, "
          f"{args.listeners} listeners, {repeat} runs each (warm {repeat * 4}), euid {os.geteuid()}\n")
    summary = ["| connections | idle procs | " + " | ".join(SUMMARY_COLUMNS) + " |",
               "|---:|---:|" + "---:|" * len(SUMMARY_COLUMNS)]
    for connection_count in connections:
        for idle in idle_counts:
            load = Load()
            try:
                started = time.perf_counter()
                load.build(args.listeners, connection_count, idle)
                built = time.perf_counter() - started
                timings = measure(load, repeat, repeat * 4)
            finally:
                load.stop()
            print(f"## C = {connection_count} connections, P = {idle} idle processes "
                  f"(load built in {built:.1f} s)\n")
            print("\n".join(detail_table(timings)) + "\n", flush=True)
            summary.append(summary_row(connection_count, idle, timings))
    print("## Summary: medians, and their ratio to `ss -ltnup` in the same configuration\n")
    print("\n".join(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
