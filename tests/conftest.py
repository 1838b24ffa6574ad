"""Real fixtures: sockets bound on this machine, child processes the tests start and stop themselves, and
folders they remove."""

from __future__ import annotations

import shutil
import socket
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

pytest.register_assert_rewrite("tests.support", "tests.unprivileged")  # their asserts explain failures too

from tests.stop_support import stop_children  # noqa: E402, F401 (the stop tests' fixture)
from tests.support import (  # noqa: E402 (after the rewrite registration)
    CHILD_SCRIPT,
    HOSTILE_ARGS,
    HOSTILE_NAME,
    SERVER,
    Child,
    Planted,
    Server,
    copy_interpreter,
    free_dynamic_port,
    interpreter_env,
    open_socket,
    start_child,
)
from tests.unprivileged import Unprivileged, start_unprivileged  # noqa: E402


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


@pytest.fixture
def start_server() -> Iterator[Callable[..., Server]]:
    """Start SERVER under an interpreter of our choosing; stopped (only what we started) at teardown."""
    started: list[Server] = []

    def start(
        mode: str = "tcp",
        host: str = "127.0.0.1",
        port: int = 0,
        name: str = "-",
        exe: str | Path | None = None,
        args: Sequence[str] = (),
    ) -> Server:
        argv = [str(exe or sys.executable), "-c", SERVER, mode, host, str(port), name, *args]
        server = start_child(argv, env=interpreter_env() if exe else None)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def private_dir() -> Iterator[Path]:
    """A folder that is neither temporary nor world-writable (under the home directory), removed afterwards."""
    base = Path.home() / ".cache"
    base.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="portwatch-test-", dir=base))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def hostile(start_server: Callable[..., Server]) -> Server:
    """The one hostile process: a TCP server on loopback that named itself HOSTILE_NAME with prctl and carries
    HOSTILE_ARGS (escapes, markup) in its cmdline; stopped at teardown by start_server."""
    if not sys.platform.startswith("linux"):
        pytest.skip("prctl(PR_SET_NAME) is Linux's")
    return start_server("tcp", "127.0.0.1", name=HOSTILE_NAME, args=HOSTILE_ARGS)


@pytest.fixture(scope="session")
def unprivileged() -> Iterator[Unprivileged]:
    """Python as uid 65534 on a world-readable copy of portwatch and its dependencies (the checkout itself may
    sit in a folder only root can read); skips with the exact reason where that cannot be had."""
    runner, reason = start_unprivileged()
    if runner is None:
        pytest.skip(reason)
    yield runner
    shutil.rmtree(runner.tree, ignore_errors=True)


@pytest.fixture
def planted(tmp_path: Path, start_server: Callable[..., Server]) -> Planted:
    """The issue-9 listener: the same one every output must flag alike (see tests.support.Planted)."""
    if not sys.platform.startswith("linux"):
        pytest.skip("the planted listener's exe facts are read from /proc")
    exe = copy_interpreter(tmp_path / "drop")
    baseline = tmp_path / "baseline.toml"
    baseline.write_text("version = 1\n")
    for _attempt in range(3):  # the free port can be taken between the probe and the bind
        port = free_dynamic_port()
        try:
            return Planted(start_server("tcp", "0.0.0.0", port, exe=exe), exe, baseline)
        except RuntimeError:
            continue
    raise RuntimeError("could not start the planted server on a free dynamic port")
