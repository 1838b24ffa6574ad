"""Children that hold a listener for a fraction of a second: what the sentinel must not miss."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from dataclasses import dataclass

#: Binds a TCP listener on 127.0.0.1, prints its port, holds it for argv[1] seconds, closes it and exits.
BRIEF_LISTENER = textwrap.dedent("""
    import socket, sys, time
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    print(sock.getsockname()[1], flush=True)
    time.sleep(float(sys.argv[1]))
    sock.close()
""")


@dataclass(frozen=True)
class Brief:
    pid: int
    port: int


def open_briefly(seconds: float) -> Brief:
    """A fresh process that listens for ``seconds``; returns once it listens (it exits by itself)."""
    proc = subprocess.Popen([sys.executable, "-c", BRIEF_LISTENER, str(seconds)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    port = int(proc.stdout.readline())
    proc.stdout.close()
    _started.append(proc)
    return Brief(proc.pid, port)


_started: list[subprocess.Popen[str]] = []


def reap() -> None:
    """Wait for every child open_briefly started (each ends by itself within its lifetime; kill stragglers)."""
    while _started:
        proc = _started.pop()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
