"""Real fixtures: sockets bound on this machine and child processes the tests start and stop themselves."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Callable, Iterator

import pytest

from tests.support import CHILD_SCRIPT, Child, open_socket


@pytest.fixture
def bound() -> Iterator[Callable[..., socket.socket]]:
    """Factory of sockets in this test process, closed at teardown."""
    opened: list[socket.socket] = []

    def make(proto: str = "tcp", host: str = "127.0.0.1", port: int = 0) -> socket.socket:
        sock = open_socket(proto, host, port)
        opened.append(sock)
        return sock

    yield make
    for sock in opened:
        sock.close()


@pytest.fixture
def spawn() -> Iterator[Callable[..., Child]]:
    """Factory of child processes that bind a socket (and optionally fork a co-owner), stopped at teardown."""
    children: list[Child] = []

    def make(proto: str = "tcp", host: str = "127.0.0.1", port: int = 0, fork: bool = False) -> Child:
        args = [sys.executable, "-c", CHILD_SCRIPT, proto, host, str(port), "fork" if fork else "-"]
        proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = proc.stdout.readline() if proc.stdout else ""
        if not line:
            proc.kill()
            proc.wait()
            raise RuntimeError("child failed to bind")
        fields = line.split()
        child = Child(proc, int(fields[0]), int(fields[1]) if fork else None)
        children.append(child)
        return child

    yield make
    for child in children:
        if child.proc.stdin:
            child.proc.stdin.close()
        try:
            child.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            child.proc.kill()
            child.proc.wait()
