"""Fixtures of the system tests beyond tests/conftest.py's."""

from __future__ import annotations

import functools
import shutil
from collections.abc import Iterator

import pytest

from tests.support import Child
from tests.system.listeners import StartListener, start_listener
from tests.unprivileged import Unprivileged, start_unprivileged


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
