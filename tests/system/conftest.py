"""Fixtures of the system tests."""

from __future__ import annotations

import functools
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import Child
from tests.system.listeners import StartListener, start_listener
from tests.unprivileged import Unprivileged, start_unprivileged


@pytest.fixture
def reachable() -> Iterator[Path]:
    """A temporary folder every user may enter (pytest's own is root's 0700): the user a sudo test plays can
    reach what is inside unless the test says otherwise."""
    folder = Path(tempfile.mkdtemp(prefix="portwatch-sudo-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder)


@pytest.fixture
def listener() -> Iterator[StartListener]:
    """Start tests.system.listeners.LISTENER (renamed, uid-switched, with extra argv); stopped at teardown."""
    started: list[Child] = []
    yield functools.partial(start_listener, started)
    for child in started:
        child.stop()


@pytest.fixture(scope="session")
def nobody() -> Iterator[Unprivileged]:
    """Python as uid 65534 on a world-readable copy of portwatch (tests/unprivileged.py); skips with the reason."""
    runner, reason = start_unprivileged()
    if runner is None:
        pytest.skip(reason)
    yield runner
    shutil.rmtree(runner.tree, ignore_errors=True)
