"""Fixtures for the flag, baseline and check tests; loaded with ``pytest_plugins``, never imported."""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support import start_child
from tests.unit.flag_support import SERVER, Server, interpreter_env


@pytest.fixture
def start_server() -> Iterator[Callable[..., Server]]:
    """Start SERVER under an interpreter of our choosing; stopped (only what we started) at teardown."""
    started: list[Server] = []

    def start(mode: str = "tcp", host: str = "127.0.0.1", port: int = 0, name: str = "-",
              exe: str | Path | None = None) -> Server:
        argv = [str(exe or sys.executable), "-c", SERVER, mode, host, str(port), name]
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
