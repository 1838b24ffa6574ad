"""The idle app's CPU and memory in a real terminal, against peers measured over the same seconds.

Each program runs in its own session of a tmux server of our own (``tmux -L pwbench``), 160x45; every
session is ended by name and every process checked gone afterwards. portwatch's cursor is moved to the last
row (a listener of the helper holding the listeners), so the process panel is live, as it is in use. CPU
counts the process and the children it waited for (``watch`` runs ``sh -c ss …`` every 2 s), as a
percentage of one core.

    python -m bench.idle               # 250 real listeners, 30 s sampled
    python -m bench.idle --quick       # 12 s sampled
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from bench.load import Load
from bench.synthetic import HOLDER

REPO = Path(__file__).resolve().parents[1]
TMUX = ("tmux", "-L", "pwbench")
SETTLE = 8.0


@dataclass
class IdleResult:
    name: str
    cpu_percent: float
    rss_max: int
    note: str = ""


def _cpu_seconds(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    return times.user + times.system + times.children_user + times.children_system


def _start(name: str, command: str) -> psutil.Process:
    subprocess.run([*TMUX, "new-session", "-d", "-s", name, "-x", "160", "-y", "45", command], check=True)
    pane = subprocess.run(
        [*TMUX, "display-message", "-p", "-t", name, "#{pane_pid}"], capture_output=True, text=True, check=True
    )
    return psutil.Process(int(pane.stdout))


def _end(name: str, proc: psutil.Process | None) -> None:
    subprocess.run([*TMUX, "kill-session", "-t", name], stderr=subprocess.DEVNULL, check=False)
    if proc is None:
        return
    try:
        proc.wait(timeout=5)
    except psutil.TimeoutExpired:
        proc.kill()  # is_running-safe: psutil checks the create time before signalling
    except psutil.NoSuchProcess:
        pass


def measure_idle(listeners: int, seconds: float) -> list[IdleResult]:
    """portwatch, `watch -n 2 ss -ltnup` and `top -d 2`, side by side, with ``listeners`` real listeners open."""
    if shutil.which("tmux") is None:
        return [IdleResult("portwatch", float("nan"), 0, "skipped: no tmux")]
    portwatch = f"cd {shlex.quote(str(REPO))} && exec {shlex.quote(sys.executable)} -m portwatch"
    programs = {
        "portwatch (default 2 s, sentinel at 0.2 s)": portwatch,
        "portwatch --capture-interval 0 (no sentinel)": f"{portwatch} --capture-interval 0",
        "watch -n 2 ss -ltnup": "exec watch -n 2 ss -ltnup",
        "top -d 2": "exec top -d 2",
    }
    load = Load()
    started: dict[str, psutil.Process | None] = {}
    try:
        load.start(HOLDER, listeners)
        for index, command in enumerate(programs.values()):
            session = f"pwbench-{index}"
            started[session] = None
            started[session] = _start(session, command)
        time.sleep(SETTLE / 2)
        # The cursor to the last row, a listener of the holder (ports sort ascending, the holder's fill the
        # ephemeral range): the panel then shows a live process and re-reads it every refresh, as in use.
        for session in ("pwbench-0", "pwbench-1"):
            subprocess.run([*TMUX, "send-keys", "-t", session, "End"], check=False)
        time.sleep(SETTLE / 2)
        procs = {name: proc for name, proc in zip(programs, started.values(), strict=True) if proc is not None}
        before = {name: _cpu_seconds(proc) for name, proc in procs.items()}
        rss = dict.fromkeys(procs, 0)
        began = time.monotonic()
        while time.monotonic() - began < seconds:
            time.sleep(1.0)
            for name, proc in procs.items():
                rss[name] = max(rss[name], proc.memory_info().rss)
        wall = time.monotonic() - began
        results = [
            IdleResult(name, 100 * (_cpu_seconds(proc) - before[name]) / wall, rss[name])
            for name, proc in procs.items()
        ]
    finally:
        for session, maybe in started.items():
            _end(session, maybe)
        load.stop()
    return results


def idle_table(results: list[IdleResult]) -> list[str]:
    reference = results[0].cpu_percent if results else 0.0
    lines = ["| program | CPU % of one core | x portwatch | max RSS MiB | note |", "|---|---:|---:|---:|---|"]
    for result in results:
        ratio = f"{result.cpu_percent / reference:.2f}x" if reference > 0 else "-"
        lines.append(
            f"| {result.name} | {result.cpu_percent:.2f} | {ratio} | {result.rss_max / 2**20:.1f} | {result.note} |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a 12 s sample instead of 30 s")
    parser.add_argument("--listeners", type=int, default=250, help="real loopback listeners held meanwhile")
    parser.add_argument("--seconds", type=float, default=None, help="how long to sample")
    args = parser.parse_args(argv)
    if not sys.platform.startswith("linux"):
        parser.error("the helper's listeners and the peers (ss, top) are Linux's; run it on Linux")
    seconds = args.seconds or (12.0 if args.quick else 30.0)
    print(
        f"## Idle at the default 2 s interval, {args.listeners} real listeners, {seconds:.0f} s sampled, "
        "in tmux 160x45 (target: portwatch ≤ 2% of one core)\n"
    )
    print("\n".join(idle_table(measure_idle(args.listeners, seconds))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
