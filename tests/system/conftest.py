"""Fixtures of the system tests."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def reachable() -> Iterator[Path]:
    """A temporary folder every user may enter (pytest's own is root's 0700): the user a sudo test plays can
    reach what is inside unless the test says otherwise."""
    folder = Path(tempfile.mkdtemp(prefix="portwatch-sudo-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder)
