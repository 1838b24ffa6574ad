"""What naming the occupant costs: the Linux collector's scan with and without attribution, and with packages.

    python -m bench.attribution                # 200 listener processes, 15 rounds
    python -m bench.attribution --servers 50 --rounds 5

Each listener is its own process (so every owner is a new /proc/PID/cgroup read and, with packages, a new
exe to look up). Cold = a new collector's first scan; warm = the median of later scans of the same
collector. Every figure is also given as a multiple of `ss -ltnup` measured in the same run. Loopback only;
every helper is stopped before exit.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.load import NEW_LISTENER, Load  # noqa: E402
from portwatch.collect.attribution import Attribution  # noqa: E402
from portwatch.collect.linux import LinuxCollector  # noqa: E402
from portwatch.model import Owner  # noqa: E402


class NoAttribution(Attribution):
    """The collector as it was before owners were attributed: every step a pass-through."""

    def occupy(self, owner: Owner) -> Owner:
        return owner

    def package(self, owner: Owner) -> Owner:
        return owner

    def unowned(self, proto: str, address: str, port: int) -> str | None:
        return None


def seconds(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def ss() -> None:
    subprocess.run(["ss", "-ltnup"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    load = Load()
    try:
        for _ in range(args.servers):
            load.start(NEW_LISTENER)
        makers: dict[str, Callable[[], LinuxCollector]] = {
            "no attribution": lambda: LinuxCollector(attribution=NoAttribution()),
            "unit/container/pod (list)": lambda: LinuxCollector(),
            "+ packages (who, check, TUI)": lambda: LinuxCollector(packages=True),
        }
        cold: dict[str, list[float]] = {name: [] for name in makers}
        warm: dict[str, list[float]] = {name: [] for name in makers}
        peer: list[float] = []
        kept = {name: make() for name, make in makers.items()}
        for collector in kept.values():
            collector.scan()
        for _ in range(args.rounds):
            peer.append(seconds(ss))
            for name, make in makers.items():
                cold[name].append(seconds(make().scan))
                warm[name].append(seconds(kept[name].scan))
        base = statistics.median(peer)
        print(f"{args.servers} listener processes, {args.rounds} rounds; `ss -ltnup` median {base * 1000:.1f} ms")
        print(f"{'collector':32} {'cold ms':>9} {'x ss':>6} {'warm ms':>9} {'x ss':>6}")
        for name in makers:
            c, w = statistics.median(cold[name]), statistics.median(warm[name])
            print(f"{name:32} {c * 1000:9.1f} {c / base:6.2f} {w * 1000:9.1f} {w / base:6.2f}")
    finally:
        load.stop()


if __name__ == "__main__":
    main()
