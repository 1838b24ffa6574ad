"""Benchmark portwatch's Linux collector against `ss -ltnup` and psutil, in one run, on loopback load.

    python -m bench.run            # C = 0, 5000, 20000 connections x P = 0, 500 idle processes
    python -m bench.run --quick    # a smaller, faster pass

Every number is wall time. Measurements are interleaved (each round times each of them once), and each
cell is min / median over the rounds, with the median as a multiple of `ss -ltnup`'s median in the same
configuration. Loopback only; every helper process is stopped before exit.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

from bench.load import LATE_LISTENER, NEW_LISTENER, Load
from portwatch.collect.linux import LinuxCollector

REPO = Path(__file__).resolve().parents[1]


@dataclass
class Timing:
    name: str
    seconds: list[float]
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def once(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def run_quietly(command: Sequence[str]) -> Callable[[], object]:
    def run() -> object:
        # cwd: `python -m portwatch` finds the checkout's package without installing it
        return subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, cwd=REPO)

    return run


def cold_scan() -> None:
    collector = LinuxCollector()
    collector.scan()
    collector.close()


class NewListenerProbe:
    """Each call starts a fresh server process and times the next refresh of an already warm collector."""

    def __init__(self, load: Load) -> None:
        self.load = load
        self.collector = LinuxCollector()
        self.collector.scan()
        self.walks_before = self.collector.full_walks
        self.walked = 0
        self.named = 0
        self.named_cheaply = 0
        self.tries = 0

    def __call__(self) -> float:
        port = int(self.load.start(NEW_LISTENER))
        pid = self.load.processes[-1].pid
        walked = self.collector.socket_owners.processes_walked
        full_walks = self.collector.full_walks
        start = time.perf_counter()
        scan = self.collector.scan()
        elapsed = time.perf_counter() - start
        self.walked += self.collector.socket_owners.processes_walked - walked
        self.tries += 1
        named = any(entry.port == port and entry.pids == (pid,) for entry in scan.listeners)
        self.named += named
        self.named_cheaply += named and self.collector.full_walks == full_walks
        return elapsed

    def note(self) -> str:
        full = self.collector.full_walks - self.walks_before
        # a full walk can also be caused by someone else's new listener in an old process (shared machine)
        return (
            f"named {self.named}/{self.tries}, {self.named_cheaply} of them in a refresh without a full walk; "
            f"full walks {full}; {self.walked / max(1, self.tries):.0f} processes walked per refresh"
        )


class OldProcessProbe:
    """Each call has a process that was there at the last full walk, holding no listener, open one, and times
    the next refresh of a warm collector: before the prompt walk it stayed "(no process)" until a full walk."""

    def __init__(self, load: Load) -> None:
        self.load = load
        load.start(LATE_LISTENER)
        self.server = load.processes[-1]
        self.collector = LinuxCollector()
        self.collector.scan()
        self.collector.scan()  # the server is now an old process
        self.walks_before = self.collector.full_walks
        self.tries = 0
        self.named = 0

    def __call__(self) -> float:
        assert self.server.stdin is not None and self.server.stdout is not None
        self.server.stdin.write("open\n")
        self.server.stdin.flush()
        port = int(self.server.stdout.readline())
        start = time.perf_counter()
        scan = self.collector.scan()
        elapsed = time.perf_counter() - start
        self.tries += 1
        self.named += any(entry.port == port and entry.pids == (self.server.pid,) for entry in scan.listeners)
        return elapsed

    def note(self) -> str:
        prompt = getattr(self.collector.socket_owners, "prompt_walks", 0)
        return (
            f"named {self.named}/{self.tries}; full walks {self.collector.full_walks - self.walks_before}, "
            f"prompt walks {prompt}"
        )


NAMES = {
    "ss": "`ss -ltnup`",
    "psutil": "psutil.net_connections('inet')",
    "cold": "LinuxCollector cold (first scan)",
    "warm": "LinuxCollector warm (refresh)",
    "new": "new listener in a new process, next refresh",
    "old": "new listener in an old process, next refresh",
    "list": "`portwatch list` (whole process)",
}


def measure(load: Load, repeat: int, warm_per_round: int, portwatch: Sequence[str]) -> list[Timing]:
    """Interleaved rounds, one sample of everything per round, so a busy moment weighs on all alike."""
    ss = shutil.which("ss")
    listing = [*portwatch, "list"]
    has_list = subprocess.run(listing, capture_output=True, cwd=REPO).returncode == 0
    warm = LinuxCollector()
    warm.scan()
    warm_walks = warm.full_walks
    probe = NewListenerProbe(load)
    old = OldProcessProbe(load)
    samples: dict[str, list[float]] = {name: [] for name in NAMES}
    for _ in range(repeat):
        if ss:
            samples["ss"].append(once(run_quietly([ss, "-ltnup"])))
        samples["psutil"].append(once(lambda: psutil.net_connections("inet")))
        samples["cold"].append(once(cold_scan))
        warm.scan()  # absorb whatever the other measurements started, as a steady refresh would have
        samples["warm"].extend(once(warm.scan) for _ in range(warm_per_round))
        samples["new"].append(probe())
        samples["old"].append(old())
        if has_list:
            samples["list"].append(once(run_quietly(listing)))
    notes = {
        "warm": f"full walks {warm.full_walks - warm_walks}",
        "new": probe.note(),
        "old": old.note(),
        "list": "" if has_list else f"skipped: `{shlex.join(listing)}` failed",
        "ss": "" if ss else "no ss",
    }
    warm.close()
    probe.collector.close()
    old.collector.close()
    return [Timing(NAMES[key], samples[key], notes.get(key, "")) for key in NAMES if key != "ss" or ss]


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
            lines.append(
                f"| {timing.name} | {ms(min(timing.seconds))} | {ms(timing.median)} | "
                f"{ratio(timing, reference)} | {timing.note} |"
            )
        else:
            lines.append(f"| {timing.name} | - | - | - | {timing.note} |")
    return lines


SUMMARY_COLUMNS = ("ss", "psutil", "cold", "warm", "new listener", "old process, new listener", "portwatch list")


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
    parser.add_argument(
        "--repeat", type=int, default=None, help="rounds; each times everything once (warm: 4 refreshes)"
    )
    parser.add_argument(
        "--portwatch",
        default=None,
        metavar="COMMAND",
        help="the portwatch to time for `portwatch list`, e.g. .venv/bin/portwatch (default: this "
        "Python's `-m portwatch`; from an editable install that also pays for the editable "
        "finder at start-up, which a regular install does not)",
    )
    args = parser.parse_args(argv)
    portwatch = shlex.split(args.portwatch) if args.portwatch else [sys.executable, "-m", "portwatch"]
    if not sys.platform.startswith("linux"):
        parser.error("the benchmark measures the Linux collector; run it on Linux")
    connections = args.connections or ([0, 2000] if args.quick else [0, 5000, 20000])
    idle_counts = args.idle or ([0, 100] if args.quick else [0, 500])
    repeat = args.repeat or (3 if args.quick else 7)
    cpus = os.cpu_count()
    print(
        f"# portwatch benchmark: {cpus} CPUs, Linux {os.uname().release}, Python {sys.version.split()[0]}, "
        f"{args.listeners} listeners, {repeat} rounds (warm: {repeat * 4} refreshes), euid {os.geteuid()}; "
        f"`portwatch list` is `{shlex.join(portwatch)} list`\n"
    )
    summary = [
        "| connections | idle procs | " + " | ".join(SUMMARY_COLUMNS) + " |",
        "|---:|---:|" + "---:|" * len(SUMMARY_COLUMNS),
    ]
    for connection_count in connections:
        for idle in idle_counts:
            load = Load()
            try:
                started = time.perf_counter()
                load.build(args.listeners, connection_count, idle)
                built = time.perf_counter() - started
                timings = measure(load, repeat, 4, portwatch)
            finally:
                load.stop()
            print(f"## C = {connection_count} connections, P = {idle} idle processes (load built in {built:.1f} s)\n")
            print("\n".join(detail_table(timings)) + "\n", flush=True)
            summary.append(summary_row(connection_count, idle, timings))
    print("## Summary: medians, and their ratio to `ss -ltnup` in the same configuration\n")
    print("\n".join(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
