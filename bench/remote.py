"""The cost of one remote refresh in each `--host` mode, next to `ssh HOST ss -tulpn`, in one run.

    python -m bench.remote              # 50 planted listeners, 9 interleaved rounds
    python -m bench.remote --rounds 21 --listeners 500

A throwaway sshd on 127.0.0.1 (the tests' own, tests/system/sshd_support.py; needs root, openssh-server and
pytest from the test extras) stands in for the remote host. Every measurement goes over one control
connection opened beforehand, so none pays for a handshake:

- `ssh HOST ss -tulpn`: the peer: the cheapest look at a remote host's listeners; `ssh HOST true` shows
  how much of any command is the round trip and the remote login shell (a .bashrc runs for ssh commands).
- fallback refresh: the ss + /proc script, its parse and judging here (what each TUI refresh costs).
- portwatch one-shot: `portwatch stream --jsonl --count 1` there (a Python start-up and a cold scan), decoded
  here: what `portwatch list --host` costs.
- portwatch stream refresh: in the live view one session stays open and the remote portwatch sends a line
  each interval; the cost per refresh is its warm collect + judge there (the record's "elapsed") plus
  decoding the line here. No ssh round trip is waited for: the line is pushed.

Medians (and min) in ms, and each median as a multiple of the ssh + ss median. Every helper is stopped.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.load import Load  # noqa: E402
from portwatch.collect import SshTarget, SshTransport  # noqa: E402
from portwatch.remote import wire  # noqa: E402
from portwatch.remote.host import RemoteHost, RemoteMode, RemoteOptions  # noqa: E402


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def stream_refreshes(transport: SshTransport, host: RemoteHost, lines: int) -> tuple[list[float], bytes]:
    """What each warm refresh cost there (collect + judge, the record's "elapsed"), and the last line."""
    proc = transport.start(host.stream_command(interval=0.5))
    assert proc.stdout is not None
    costs: list[float] = []
    line = b""
    try:
        for index in range(lines + 1):
            line = proc.stdout.readline()
            if index:  # the first scan is cold
                costs.append(float(json.loads(line)["elapsed"]))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return costs, line


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--listeners", type=int, default=50)
    args = parser.parse_args()
    import pytest

    from tests.system.sshd_support import make_sshd

    load = Load()
    folder = Path(tempfile.mkdtemp(prefix="portwatch-bench-remote-"))
    try:
        sshd = make_sshd(folder / "sshd")
    except pytest.skip.Exception as why:
        print(f"bench.remote: cannot run: {why}", file=sys.stderr)
        return 2
    try:
        load.build(args.listeners, 0, 0)
        target = SshTarget("pwtest", config_file=str(sshd.client_config))
        transport = SshTransport(target)
        xdg = folder / "xdg"
        xdg.mkdir()
        remote = RemoteOptions(RemoteMode.PORTWATCH, command=sshd.remote_portwatch(xdg))
        portwatch = RemoteHost(transport, remote)
        fallback = RemoteHost(transport, RemoteOptions(RemoteMode.FALLBACK))
        transport.run("true")  # the control master: every measurement below reuses it
        peers: dict[str, Callable[[], object]] = {
            "ssh HOST ss -tulpn": lambda: transport.run("ss -tulpn"),
            "ssh HOST true (round trip + login shell)": lambda: transport.run("true"),
            "fallback refresh (ss + /proc, judged here)": fallback.fetch,
            "portwatch one-shot (list --host)": portwatch.fetch,
        }
        for action in peers.values():  # warm caches once
            action()
        times: dict[str, list[float]] = {name: [] for name in peers}
        for _ in range(args.rounds):
            for name, action in peers.items():
                times[name].append(timed(action))
        there, line = stream_refreshes(transport, portwatch, args.rounds)
        decoding = [timed(lambda: wire.decode(line)) for _ in range(args.rounds)]
        times["portwatch stream refresh (live view)"] = [a + b for a, b in zip(there, decoding, strict=True)]
        times["  of which collect + judge there"] = there
        times["  of which decoding the line here"] = decoding
        listeners = len(wire.decode(line).scan.listeners)
        base = statistics.median(times["ssh HOST ss -tulpn"])
        print(
            f"remote refresh over one ssh control connection to 127.0.0.1; {listeners} listeners there; "
            f"{args.rounds} rounds"
        )
        print(f"{'':44} {'median':>9} {'min':>9} {'x ssh+ss':>9}")
        for name, values in times.items():
            median = statistics.median(values)
            print(f"{name:44} {median * 1000:8.1f}ms {min(values) * 1000:8.1f}ms {median / base:8.2f}x")
        transport.close()
    finally:
        load.stop()
        sshd.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
