"""Benchmark the sentinel: what it catches, how soon the stream says so, and what it costs.

    python -m bench.capture            # 100 listeners each of 250 ms, 500 ms, 1 s; 20 s of cost at 250 listeners
    python -m bench.capture --quick    # 30 of each, 8 s of cost

Capture: `portwatch events --jsonl` runs as users run it (this Python, -m portwatch, PYTHONUNBUFFERED unset)
while fresh processes each open one TCP listener on 127.0.0.1 for a set time, started at random phases
against the sentinel's polls. A listener counts as captured when the stream wrote its "opened" with that
process's pid as the owner. Latency: from the child's listen() (its own clock) to the moment this bench read
the stream's line. Cost: the Sentinel in this process at its default interval with 250 real listeners held
by a child and nothing changing, as the CPU its thread used per second, next to `ss -ltn` run at the same rate
(what polling with ss would cost) in the same run. Nothing is asserted; the targets are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import textwrap
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.load import Load  # noqa: E402
from bench.synthetic import HOLDER  # noqa: E402
from portwatch.collect import get_collector  # noqa: E402
from portwatch.sentinel import DEFAULT_CAPTURE_INTERVAL, Sentinel  # noqa: E402

LIFETIMES = (0.25, 0.5, 1.0)

#: Listens on 127.0.0.1, prints "port epoch-of-listen", holds it argv[1] seconds, exits.
BRIEF = textwrap.dedent("""
    import socket, sys, time
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    print(sock.getsockname()[1], repr(time.time()), flush=True)
    time.sleep(float(sys.argv[1]))
    sock.close()
""")


@dataclass
class Reader:
    """Reads the stream's stdout in a thread, stamping each object with when it was read."""

    proc: subprocess.Popen[bytes]
    seen: list[tuple[float, dict[str, object]]] = field(default_factory=list)

    def start(self) -> None:
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.seen.append((time.time(), json.loads(line)))


@dataclass(frozen=True)
class Opened:
    lifetime: float
    pid: int
    port: int
    at: float


def open_briefly(lifetime: float) -> tuple[subprocess.Popen[str], Opened]:
    proc = subprocess.Popen([sys.executable, "-c", BRIEF, str(lifetime)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    port, at = proc.stdout.readline().split()
    proc.stdout.close()
    return proc, Opened(lifetime, proc.pid, int(port), float(at))


def capture(per_lifetime: int, seed: int = 14) -> tuple[dict[float, tuple[int, int]], list[float]]:
    """{lifetime: (captured with the right owner, opened)}, and the stream latencies of those captured (s)."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONUNBUFFERED"}
    stream = subprocess.Popen(
        [sys.executable, "-m", "portwatch", "events", "--jsonl"], cwd=REPO, env=env, stdout=subprocess.PIPE
    )
    reader = Reader(stream)
    reader.start()
    children: list[subprocess.Popen[str]] = []
    opened: list[Opened] = []
    order = [lifetime for lifetime in LIFETIMES for _ in range(per_lifetime)]
    rng = random.Random(seed)
    rng.shuffle(order)
    try:
        time.sleep(2.0)  # imports and the seeding scan
        for lifetime in order:
            proc, brief = open_briefly(lifetime)
            children.append(proc)
            opened.append(brief)
            time.sleep(rng.uniform(0.02, 0.12))  # random phase against the polls
        for proc in children:
            proc.wait(timeout=30)
        time.sleep(1.5)  # the last closes reach the stream
    finally:
        stream.terminate()
        stream.wait(timeout=10)
    by_port: dict[int, list[tuple[float, dict[str, object]]]] = {}
    for read_at, document in reader.seen:
        listener = document.get("listener")
        if document.get("kind") == "opened" and isinstance(listener, dict):
            by_port.setdefault(int(listener["port"]), []).append((read_at, document))
    counts: dict[float, tuple[int, int]] = {}
    latencies: list[float] = []
    for lifetime in LIFETIMES:
        mine = [brief for brief in opened if brief.lifetime == lifetime]
        hits = 0
        for brief in mine:
            found = [
                read_at
                for read_at, document in by_port.get(brief.port, [])
                if brief.pid in cast(dict[str, list[int]], document["listener"])["pids"]
            ]
            if found:
                hits += 1
                latencies.append(found[0] - brief.at)
        counts[lifetime] = (hits, len(mine))
    return counts, latencies


@dataclass(frozen=True)
class Cost:
    busy: float  # sentinel CPU, % of one core
    scan_busy: float  # ...of which full scans
    ss_rate: float  # `ss -ltn` once per interval, % of one core
    poll_ms: float  # CPU per poll that found nothing (the fingerprint)
    scan_ms: float  # CPU per full scan
    polls: int
    scans: int


def cost(listeners: int, seconds: float) -> Cost:
    """The sentinel's CPU with ``listeners`` held by a child, next to `ss -ltn` run at the same rate."""
    load = Load()
    try:
        load.start(HOLDER, listeners)
        sentinel = Sentinel(get_collector())
        stop = threading.Event()
        thread = threading.Thread(target=sentinel.run, args=(stop, lambda captured: None), daemon=True)
        thread.start()
        time.sleep(2.5)  # seeded, and the first rescan is past
        stats = sentinel.stats
        busy, scan_busy, polls, scans = stats.busy, stats.scan_busy, stats.polls, stats.scans + stats.partial_scans
        began = time.monotonic()
        time.sleep(seconds)
        wall = time.monotonic() - began
        busy, scan_busy = stats.busy - busy, stats.scan_busy - scan_busy
        polls, scans = stats.polls - polls, stats.scans + stats.partial_scans - scans
        stop.set()
        thread.join(5)
        runs = 20
        ss_began = os.times()
        for _ in range(runs):
            subprocess.run(["ss", "-ltn"], stdout=subprocess.DEVNULL, check=True)
        ss_ended = os.times()
        ss_cpu = (
            ss_ended.children_user + ss_ended.children_system - ss_began.children_user - ss_began.children_system
        ) / runs
        return Cost(
            100 * busy / wall,
            100 * scan_busy / wall,
            100 * ss_cpu / DEFAULT_CAPTURE_INTERVAL,
            1000 * (busy - scan_busy) / max(1, polls),
            1000 * scan_busy / max(1, scans),
            polls,
            scans,
        )
    finally:
        load.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--per-lifetime", type=int, default=None)
    parser.add_argument("--listeners", type=int, default=250)
    parser.add_argument("--seconds", type=float, default=None)
    args = parser.parse_args(argv)
    if not sys.platform.startswith("linux"):
        parser.error("the sentinel's fingerprint is Linux's netlink dump")
    per = args.per_lifetime or (30 if args.quick else 100)
    seconds = args.seconds or (8.0 if args.quick else 20.0)
    print(
        f"# portwatch capture benchmark: {os.cpu_count()} CPUs, Linux {os.uname().release}, "
        f"Python {sys.version.split()[0]}, capture interval {DEFAULT_CAPTURE_INTERVAL} s, euid {os.geteuid()}\n",
        flush=True,
    )
    counts, latencies = capture(per)
    print("## Captured by `portwatch events --jsonl` with the right owner (fresh processes, random phase)\n")
    print("| lifetime | captured | of | fraction | target |\n|---:|---:|---:|---:|---|")
    for lifetime, (hits, total) in counts.items():
        target = "≥ 99%" if lifetime == 0.25 else ""
        print(f"| {lifetime * 1000:.0f} ms | {hits} | {total} | {100 * hits / max(1, total):.1f}% | {target} |")
    if latencies:
        ordered = sorted(latencies)
        p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
        print(
            f"\nStream latency, listen() to line read: median {1000 * statistics.median(latencies):.0f} ms, "
            f"p95 {1000 * p95:.0f} ms, max {1000 * max(latencies):.0f} ms (target: ≤ 500 ms)\n",
            flush=True,
        )
    found = cost(args.listeners, seconds)
    print(
        f"## Sentinel cost, {args.listeners} real listeners held still, {seconds:.0f} s (other programs on this "
        "machine may open sockets meanwhile: each costs a scan of its new sockets)\n"
    )
    print("| what | CPU % of one core | × sentinel |\n|---|---:|---:|")
    print(
        f"| sentinel at {DEFAULT_CAPTURE_INTERVAL} s: {found.polls} polls at {found.poll_ms:.2f} ms, "
        f"{found.scans} scans (full, or of new sockets) at {found.scan_ms:.1f} ms ({found.scan_busy:.3f}%) "
        f"| {found.busy:.3f} | 1.00× |"
    )
    print(
        f"| `ss -ltn` run every {DEFAULT_CAPTURE_INTERVAL} s | {found.ss_rate:.2f} | "
        f"{found.ss_rate / max(found.busy, 1e-9):.1f}× |"
    )
    print(
        f"\nPolls alone (the cost when nothing opens or closes): {found.busy - found.scan_busy:.3f}% of one core. "
        "Target: sentinel ≤ 0.5% of one core."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
