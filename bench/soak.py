"""A long session: the live view under listener churn and constant cursor movement, its RSS sampled.

portwatch runs in a real terminal (a tmux server of our own, 160x45) at a 1 s interval while a helper keeps
250 loopback listeners and closes and reopens 5 of them every second, fresh server processes come and go
every 5 s, and the cursor moves up and down the table five times a second (so the panel follows it).
``htop`` runs beside it in the same tmux server over the same minutes, as the peer. RSS is sampled every
10 s; the report gives RSS after warm-up and at the end, and the growth per hour fitted over the run's
second half (least squares), for both, then the RSS every 5 minutes (the curve behind the slope).

    python -m bench.soak               # 60 minutes
    python -m bench.soak --minutes 10
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from bench.idle import TMUX, _end, _start
from bench.load import NEW_LISTENER, Load
from bench.synthetic import HOLDER

REPO = Path(__file__).resolve().parents[1]
WARM_UP = 60.0
SAMPLE_EVERY = 10.0


@dataclass
class Series:
    name: str
    samples: list[tuple[float, int]] = field(default_factory=list)

    def growth_per_hour(self) -> float:
        """MiB per hour over the second half of the run (after caches settle), by least squares."""
        half = self.samples[len(self.samples) // 2 :]
        if len(half) < 2:
            return float("nan")
        xs = [t / 3600 for t, _ in half]
        ys = [rss / 2**20 for _, rss in half]
        return statistics.linear_regression(xs, ys).slope


def _keys(session: str, step: int) -> None:
    key = "Down" if (step // 40) % 2 == 0 else "Up"
    subprocess.run([*TMUX, "send-keys", "-t", session, key], check=False)


def soak(minutes: float) -> list[Series]:
    if shutil.which("tmux") is None or shutil.which("htop") is None:
        raise SystemExit("bench.soak needs tmux and htop (apt-get install tmux htop)")
    load = Load()
    sessions: dict[str, psutil.Process | None] = {}
    churners: list[subprocess.Popen[str]] = []
    try:
        load.start(HOLDER, 250)
        holder = load.processes[0]
        command = f"cd {shlex.quote(str(REPO))} && exec {shlex.quote(sys.executable)} -m portwatch --interval 1"
        sessions["pwsoak-0"] = None
        sessions["pwsoak-0"] = _start("pwsoak-0", command)
        sessions["pwsoak-1"] = None
        sessions["pwsoak-1"] = _start("pwsoak-1", "exec htop -d 10")
        series = [Series("portwatch"), Series("htop")]
        began = time.monotonic()
        next_sample = began + WARM_UP
        step = 0
        while (now := time.monotonic()) - began < minutes * 60:
            time.sleep(0.2)
            step += 1
            _keys("pwsoak-0", step)
            if step % 5 == 0 and holder.stdin and holder.stdout:  # every second: 5 listeners close and reopen
                holder.stdin.write("5\n")
                holder.stdin.flush()
                holder.stdout.readline()
            if step % 25 == 0:  # every 5 s: a new server process; the oldest of three goes
                churners.append(
                    subprocess.Popen(
                        [sys.executable, "-c", NEW_LISTENER],
                        stdin=subprocess.PIPE,
                        stdout=subprocess.DEVNULL,
                        text=True,
                    )
                )
                if len(churners) > 3:
                    old = churners.pop(0)
                    if old.stdin:
                        old.stdin.close()
                    old.wait(timeout=5)
            if now >= next_sample:
                next_sample += SAMPLE_EVERY
                for proc, entry in zip(sessions.values(), series, strict=True):
                    if proc is not None:
                        entry.samples.append((now - began, proc.memory_info().rss))
        return series
    finally:
        for churner in churners:
            if churner.stdin:
                churner.stdin.close()
            churner.wait(timeout=5)
        for session, maybe in sessions.items():
            _end(session, maybe)
        load.stop()


def table(series: list[Series], minutes: float) -> list[str]:
    lines = [
        f"{minutes:g} minutes, RSS sampled every {SAMPLE_EVERY:g} s after a {WARM_UP:g} s warm-up:",
        "",
        "| program | RSS after warm-up | RSS at the end | max | growth, 2nd half |",
        "|---|---:|---:|---:|---:|",
    ]
    for entry in series:
        if not entry.samples:
            lines.append(f"| {entry.name} | - | - | - | - |")
            continue
        first, last = entry.samples[0][1] / 2**20, entry.samples[-1][1] / 2**20
        peak = max(rss for _, rss in entry.samples) / 2**20
        lines.append(
            f"| {entry.name} | {first:.1f} MiB | {last:.1f} MiB | {peak:.1f} MiB | "
            f"{entry.growth_per_hour():+.2f} MiB/h |"
        )
    return lines


def curve(series: list[Series], every: float = 300.0) -> list[str]:
    """RSS after warm-up, every ``every`` seconds of the run and at its end (MiB), a column a program: the
    shape behind the fitted slope. A program with no sample near a mark shows "-"."""
    ends = [entry.samples[-1][0] for entry in series if entry.samples]
    if not ends:
        return []
    marks = [WARM_UP, *(every * step for step in range(1, int(max(ends) // every) + 1) if every * step > WARM_UP)]
    if max(ends) - marks[-1] >= SAMPLE_EVERY:
        marks.append(max(ends))
    lines = ["", "| minute | " + " | ".join(entry.name for entry in series) + " |", "|---:|" + "---:|" * len(series)]
    for mark in marks:
        cells = []
        for entry in series:
            near = [rss for at, rss in entry.samples if abs(at - mark) <= SAMPLE_EVERY / 2]
            cells.append(f"{near[0] / 2**20:.1f}" if near else "-")
        lines.append(f"| {mark / 60:.0f} | " + " | ".join(cells) + " |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=60.0, help="how long to soak (default 60)")
    args = parser.parse_args(argv)
    series = soak(args.minutes)
    print("\n".join(table(series, args.minutes) + curve(series)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
