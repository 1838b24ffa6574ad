"""The whole machine: 50 network namespaces x 10 listeners and 2,000 idle processes (root).

    python -m bench.netns [--namespaces 50] [--listeners 10] [--idle 2000] [--repeat 20] [--idle-seconds 30]

Measured in one run, against what a user types today: ``ip netns exec NS ss -tulpnH`` for every namespace
in a loop (plus ``ss -tulpnH`` for the host). portwatch's cold scan is a fresh collector's first pass (it
enters every namespace once and walks every process's fds); its warm refresh is a later pass (each namespace
dumped through the socket it keeps there, owners confirmed from the fd index). ``portwatch list`` is the
whole command in a new interpreter. The idle TUI's CPU is measured in a tmux session of our own (bench/idle.py).

Everything it creates (namespaces ``pwbench-N``, their listener processes, the ``sleep`` processes, the tmux
session) is removed at the end, pass or fail; only processes it started are signalled.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PREFIX = "pwbench-"

#: Listeners on the namespace's own loopback: TCP and UDP, v4 and v6, fixed ports (each namespace has its own).
LISTENERS = textwrap.dedent("""
    import socket, sys
    count = int(sys.argv[1])
    held = []
    for i in range(count):
        family, host = (socket.AF_INET, "127.0.0.1") if i % 2 == 0 else (socket.AF_INET6, "::1")
        kind = socket.SOCK_STREAM if i % 4 < 2 else socket.SOCK_DGRAM
        sock = socket.socket(family, kind)
        sock.bind((host, 20000 + i))
        if kind == socket.SOCK_STREAM:
            sock.listen()
        held.append(sock)
    print("ready", flush=True)
    sys.stdin.read()
""")


def _run(argv: list[str]) -> None:
    subprocess.run(argv, check=True, capture_output=True, timeout=60)


class NamespaceLoad:
    """The namespaces, their listener processes and the idle sleepers; :meth:`stop` removes all of it."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.holders: list[subprocess.Popen[str]] = []
        self.sleepers: list[subprocess.Popen[bytes]] = []

    def start(self, namespaces: int, listeners: int, idle: int) -> None:
        for index in range(namespaces):
            name = f"{PREFIX}{index}"
            _run(["ip", "netns", "add", name])
            self.names.append(name)
            _run(["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"])
        for name in self.names:
            self.holders.append(
                subprocess.Popen(
                    ["ip", "netns", "exec", name, sys.executable, "-c", LISTENERS, str(listeners)],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                )
            )
        for holder in self.holders:
            if holder.stdout is None or holder.stdout.readline().strip() != "ready":
                raise RuntimeError("a namespace's listener process did not start")
        for _ in range(idle):
            self.sleepers.append(subprocess.Popen(["sleep", "86400"], stdin=subprocess.DEVNULL))

    def stop(self) -> None:
        for sleeper in self.sleepers:
            if sleeper.poll() is None:
                sleeper.kill()
        for sleeper in self.sleepers:
            sleeper.wait()
        for holder in self.holders:
            if holder.poll() is None and holder.stdin is not None:
                holder.stdin.close()
        for holder in self.holders:
            try:
                holder.wait(timeout=10)
            except subprocess.TimeoutExpired:
                holder.kill()
                holder.wait()
        for name in self.names:
            subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=60, check=False)
        self.sleepers, self.holders, self.names = [], [], []


def _timed(action: Callable[[], object]) -> float:
    began = time.perf_counter()
    action()
    return time.perf_counter() - began


def ss_everywhere(names: list[str]) -> None:
    """What a user runs today: ss in the host, then in each namespace through `ip netns exec`."""
    subprocess.run(["ss", "-tulpnH"], capture_output=True, check=True)
    for name in names:
        subprocess.run(["ip", "netns", "exec", name, "ss", "-tulpnH"], capture_output=True, check=True)


def measure(load: NamespaceLoad, repeat: int) -> dict[str, float]:
    from portwatch.collect.linux import LinuxCollector

    expected = len(load.names)
    cold: list[float] = []
    warm: list[float] = []
    warm_cpu: list[float] = []
    for _ in range(3):
        collector = LinuxCollector(netns="all")
        began = time.perf_counter()
        scan = collector.scan()
        cold.append(time.perf_counter() - began)
        inside = sum(1 for entry in scan.listeners if entry.netns.name.startswith(PREFIX))
        if inside < expected:
            raise RuntimeError(f"portwatch saw {inside} listeners in the bench namespaces, expected more")
        for _ in range(repeat):
            cpu = time.process_time()
            warm.append(_timed(collector.scan))
            warm_cpu.append(time.process_time() - cpu)
        collector.close()
    host = LinuxCollector(netns="host")
    host.scan()
    host_cpu = []
    for _ in range(repeat):
        cpu = time.process_time()
        host.scan()
        host_cpu.append(time.process_time() - cpu)
    host.close()
    ss = [_timed(lambda: ss_everywhere(load.names)) for _ in range(3)]
    command = [
        _timed(
            lambda: subprocess.run(
                [sys.executable, "-m", "portwatch", "list"], capture_output=True, check=True, cwd=REPO
            )
        )
        for _ in range(3)
    ]
    return {
        "ss loop": statistics.median(ss),
        "cold": statistics.median(cold),
        "warm": statistics.median(warm),
        "list": statistics.median(command),
        "warm cpu": statistics.median(warm_cpu),
        "host cpu": statistics.median(host_cpu),
    }


def idle_cpu(seconds: float, options: str = "") -> float:
    """The TUI's CPU (% of one core) at this load, in a tmux session of our own, after it settled."""
    from bench.idle import _cpu_seconds, _end, _start

    if shutil.which("tmux") is None:
        return float("nan")
    command = f"cd {shlex.quote(str(REPO))} && exec {shlex.quote(sys.executable)} -m portwatch {options}"
    proc = None
    try:
        proc = _start("pwbench-netns", command)
        time.sleep(8.0)
        before, began = _cpu_seconds(proc), time.monotonic()
        time.sleep(seconds)
        return 100 * (_cpu_seconds(proc) - before) / (time.monotonic() - began)
    finally:
        _end("pwbench-netns", proc)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.netns", description=__doc__.splitlines()[0])
    parser.add_argument("--namespaces", type=int, default=50)
    parser.add_argument("--listeners", type=int, default=10)
    parser.add_argument("--idle", type=int, default=2000, help="idle sleep processes")
    parser.add_argument("--repeat", type=int, default=20, help="warm refreshes per cold scan")
    parser.add_argument("--idle-seconds", type=float, default=30.0, help="how long the idle TUI is measured")
    args = parser.parse_args(argv)
    if os.geteuid() != 0 or shutil.which("ip") is None or shutil.which("ss") is None:
        print("bench.netns needs root and iproute2 (ip, ss)", file=sys.stderr)
        return 2
    load = NamespaceLoad()
    try:
        began = time.monotonic()
        load.start(args.namespaces, args.listeners, args.idle)
        print(
            f"load: {args.namespaces} namespaces x {args.listeners} listeners, {args.idle} idle processes "
            f"({time.monotonic() - began:.1f} s to set up)",
            file=sys.stderr,
        )
        times = measure(load, args.repeat)
        cpu = idle_cpu(args.idle_seconds)
        host_cpu = idle_cpu(args.idle_seconds, "--netns host")
        others = subprocess.run(["ss", "-tulnH"], capture_output=True, text=True, check=False).stdout.count("\n")
    finally:
        load.stop()
    peer = times["ss loop"]
    rows = [
        ("`ip netns exec NS ss -tulpnH` for every namespace (+ host `ss`)", peer, "1.00x", "-"),
        ("portwatch cold scan (fresh collector, in-process)", times["cold"], f"{times['cold'] / peer:.3f}x", "≤ 0.5x"),
        ("portwatch warm refresh (median)", times["warm"], f"{times['warm'] / peer:.3f}x", "≤ 0.05x"),
        ("`portwatch list` (new interpreter, all namespaces)", times["list"], f"{times['list'] / peer:.3f}x", "-"),
    ]
    print(
        f"{args.namespaces} namespaces x {args.listeners} listeners + {args.idle} idle processes, "
        f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}"
    )
    print("| what | time (ms) | vs the ss loop | target |")
    print("|---|---:|---:|---|")
    for what, seconds, ratio, target in rows:
        print(f"| {what} | {seconds * 1000:.1f} | {ratio} | {target} |")
    print(f"| idle TUI at this load, % of one core over {args.idle_seconds:g} s | {cpu:.2f} % | - | ≤ 2 % |")
    print(f"| the same TUI with `--netns host` (what it costs without namespaces) | {host_cpu:.2f} % | - | - |")
    print(
        f"\nCPU a warm refresh: {times['warm cpu'] * 1000:.1f} ms all namespaces, {times['host cpu'] * 1000:.1f} ms "
        f"host only; {others} listeners in the host's own tables during the run"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
