"""UI fixtures: a hostile child process (started and stopped here) and a fixed local time zone."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator

import pytest

from tests.support import Child, start_child
from tests.ui.ui_helpers import HOSTILE_ARGV, HOSTILE_COMM, HOSTILE_SCRIPT


@pytest.fixture
def hostile_child() -> Iterator[Child]:
    """A child that names itself with prctl and carries markup and escape sequences in argv."""
    if not sys.platform.startswith("linux"):
        pytest.skip("prctl(PR_SET_NAME) is Linux")
    child = start_child([sys.executable, "-c", HOSTILE_SCRIPT, HOSTILE_COMM, *HOSTILE_ARGV])
    yield child
    child.stop()


@pytest.fixture
def utc() -> Iterator[None]:
    """Local time is UTC for the test, so snapshots do not depend on where they run."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()
