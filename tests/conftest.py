"""Real fixtures: sockets bound on this machine and child processes the tests start and stop themselves."""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable, Iterator

import pytest

from tests.stop_support import stop_children  # noqa: F401 (the stop tests' fixture)
from tests.support import CHILD_SCRIPT, Child, open_socket, start_child


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
        child = start_child([sys.executable, "-c", CHILD_SCRIPT, proto, host, str(port), "fork" if fork else "-"])
        children.append(child)
        return child

    yield make
    for child in children:
        child.stop()
