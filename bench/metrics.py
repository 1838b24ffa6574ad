"""What a Prometheus scrape of portwatch costs, next to `ss -tulpn` measured in the same run.

    python -m bench.metrics            # L listeners x C loopback connections: (0, 0) and (200, 5000)
    python -m bench.metrics --quick    # (0, 0) only, fewer rounds

Measured, each as wall time, interleaved round by round:

- `ss -tulpn` as a process (the peer every ratio is against);
- one scrape of a warm `portwatch serve` with caching off (``--min-interval 0``: every scrape scans, judges
  and renders) and on (``--min-interval 3600``: every scrape renders the cached scan);
- `portwatch metrics` as a process (what the systemd timer runs once a minute), and `portwatch list`.

Every helper (load, the two exporters) listens on loopback only and is stopped before exit. The exporters
run with an empty config dir, so no baseline is read.
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
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run from a clean checkout without installing

from bench.load import Load  # noqa: E402

URL = re.compile(rb"http://(\S+)/metrics")


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def process(argv: list[str], env: dict[str, str]) -> Callable[[], object]:
    def run() -> object:
        return subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, cwd=REPO, env=env)

    return run


def scrape(url: str) -> Callable[[], object]:
    def get() -> object:
        with urllib.request.urlopen(url, timeout=30) as response:  # 127.0.0.1 only
            return response.read()

    return get


@contextmanager
def exporter(min_interval: str, env: dict[str, str]) -> Iterator[str]:
    """A `portwatch serve` on 127.0.0.1 (a free port), warmed by three scrapes; stopped on exit."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "portwatch", "serve", "--metrics", "127.0.0.1:0", "--min-interval", min_interval],
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        assert proc.stderr is not None
        found = URL.search(proc.stderr.readline())
        if not found:
            raise RuntimeError(f"portwatch serve did not start (exit {proc.poll()})")
        url = f"http://{found.group(1).decode()}/metrics"
        for _ in range(3):
            scrape(url)()
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def measure(rounds: int, env: dict[str, str]) -> dict[str, list[float]]:
    ss = shutil.which("ss")
    if ss is None:
        raise SystemExit("bench.metrics: `ss` is not on PATH (apt-get install iproute2): nothing to compare with")
    python = [sys.executable, "-m", "portwatch"]
    with exporter("0", env) as uncached, exporter("3600", env) as cached:
        actions = {
            "`ss -tulpn`": process([ss, "-tulpn"], env),
            "scrape, caching off": scrape(uncached),
            "scrape, caching on": scrape(cached),
            "`portwatch metrics` process": process([*python, "metrics"], env),
            "`portwatch list` process": process([*python, "list"], env),
        }
        samples: dict[str, list[float]] = {name: [] for name in actions}
        for _ in range(rounds):
            for name, action in actions.items():
                samples[name].append(timed(action))
    return samples


def report(title: str, samples: dict[str, list[float]]) -> None:
    peer = samples["`ss -tulpn`"]
    print(f"\n{title}")
    print(f"  {'what':<30} {'min ms':>8} {'median ms':>10} {'x ss (median)':>14} {'x ss (min)':>11}")
    for name, seconds in samples.items():
        median = statistics.median(seconds)
        fastest = min(seconds)
        by_median, by_min = median / statistics.median(peer), fastest / min(peer)
        print(f"  {name:<30} {fastest * 1000:8.2f} {median * 1000:10.2f} {by_median:14.2f} {by_min:11.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="idle machine only, 5 rounds")
    parser.add_argument("--rounds", type=int, default=None, help="rounds per configuration (default 15)")
    args = parser.parse_args()
    rounds = args.rounds or (5 if args.quick else 15)
    configs = [(0, 0)] if args.quick else [(0, 0), (200, 5000)]
    with tempfile.TemporaryDirectory(prefix="portwatch-bench-") as config_home:
        env = {**os.environ, "XDG_CONFIG_HOME": config_home}
        print(
            f"bench.metrics: {rounds} rounds per configuration; ratios to `ss -tulpn` in the same run (the min is the "
            "steadier one on a busy machine)"
        )
        for listeners, connections in configs:
            load = Load()
            try:
                load.build(listeners, connections, idle=0)
                report(f"+{listeners} listeners, +{connections} loopback connections", measure(rounds, env))
            finally:
                load.stop()


if __name__ == "__main__":
    main()
