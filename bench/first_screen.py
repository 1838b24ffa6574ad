"""Time to first screen: from launch until the table is drawn, in tmux 160x45, next to htop's and btop's.

    python -m bench.first_screen                 # pip install . into a temporary venv, 7 interleaved rounds
    python -m bench.first_screen --venv PATH     # reuse (or create) that venv
    python -m bench.first_screen --rounds 3

portwatch runs as users run it: the `portwatch` script of a regular (not editable) install. Each program
starts in a fresh session of a tmux server of our own (``tmux -L pwfirst``); the clock starts just before
``tmux new-session`` and stops at the first ``capture-pane`` that shows the program's table with a row in it
(portwatch: the column header and the "live" state, which it shows once the first scan is drawn; htop: its
"Command" header and a process row; btop: its process box's "Program:" header and a row). Polls are ~5 ms
apart, so times are ±5 ms, and include tmux's own start of the session (the same for all three).
Every session is killed by name afterwards. Nothing is asserted; the target (≤ 0.35 s) is printed.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TMUX = ("tmux", "-L", "pwfirst")
TARGET = 0.35
TIMEOUT = 10.0


def _portwatch_drawn(pane: str) -> bool:
    return "Proto" in pane and "● live" in pane


def _htop_drawn(pane: str) -> bool:
    return "Command" in pane and re.search(r"^\s*\d+ \S+\s+\d+", pane, re.MULTILINE) is not None


def _btop_drawn(pane: str) -> bool:
    return "Program:" in pane and re.search(r"│\s+\d+ \S+", pane) is not None


def install(venv: Path) -> Path:
    """A regular install of this checkout in ``venv`` (created if missing); the `portwatch` script's path."""
    script = venv / "bin" / "portwatch"
    if not script.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", str(REPO)], check=True, stderr=subprocess.DEVNULL)
    return script


def first_screen(name: str, command: str, drawn: Callable[[str], bool]) -> float | None:
    """Seconds from launch until ``drawn(pane)``; None if it never was within TIMEOUT."""
    session = f"pwfirst-{name}"
    start = time.perf_counter()
    subprocess.run([*TMUX, "new-session", "-d", "-s", session, "-x", "160", "-y", "45", command], check=True)
    try:
        while time.perf_counter() - start < TIMEOUT:
            pane = subprocess.run(
                [*TMUX, "capture-pane", "-p", "-t", session], capture_output=True, text=True, check=False
            ).stdout
            if drawn(pane):
                return time.perf_counter() - start
            time.sleep(0.005)
        return None
    finally:
        subprocess.run([*TMUX, "kill-session", "-t", session], stderr=subprocess.DEVNULL, check=False)
        time.sleep(0.3)  # let it exit before the next one starts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--venv", type=Path, default=None, help="venv for the regular install (default: a temp one)")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    if shutil.which("tmux") is None:
        parser.error("needs tmux")
    with tempfile.TemporaryDirectory(prefix="pw-first-") as scratch:
        script = install(args.venv or Path(scratch) / "venv")
        home = Path(scratch) / "home"
        home.mkdir()
        # A home of its own: no baseline file, no btop config from earlier runs; the same for all three.
        env = f"env HOME={home} XDG_CONFIG_HOME={home}/.config TERM=xterm-256color"
        programs: dict[str, tuple[str, Callable[[str], bool]]] = {
            "portwatch": (f"exec {env} {script}", _portwatch_drawn)
        }
        peers: tuple[tuple[str, Callable[[str], bool]], ...] = (("htop", _htop_drawn), ("btop", _btop_drawn))
        for peer, drawn in peers:
            if shutil.which(peer):
                programs[peer] = (f"exec {env} {peer}", drawn)
        times: dict[str, list[float]] = {name: [] for name in programs}
        missed: dict[str, int] = dict.fromkeys(programs, 0)
        try:
            first_screen("warm-up", programs["portwatch"][0], _portwatch_drawn)  # page cache, .pyc files
            for _ in range(args.rounds):
                for name, (command, drawn) in programs.items():
                    took = first_screen(name, command, drawn)
                    if took is None:
                        missed[name] += 1
                    else:
                        times[name].append(took)
        finally:
            subprocess.run([*TMUX, "kill-server"], stderr=subprocess.DEVNULL, check=False)
    print(
        f"# First screen, tmux 160x45, {args.rounds} interleaved rounds, {os.cpu_count()} CPUs, "
        f"Python {sys.version.split()[0]} (portwatch from a regular install)\n"
    )
    reference = statistics.median(times["portwatch"]) if times["portwatch"] else float("nan")
    print("| program | median s | min s | max s | × portwatch | missed |\n|---|---:|---:|---:|---:|---:|")
    for name, found in times.items():
        if not found:
            print(f"| {name} | - | - | - | - | {missed[name]} |")
            continue
        median = statistics.median(found)
        print(
            f"| {name} | {median:.3f} | {min(found):.3f} | {max(found):.3f} | {median / reference:.2f}× | "
            f"{missed[name]} |"
        )
    print(f"\nTarget: portwatch ≤ {TARGET} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
