"""The shipped man page renders with the real formatters, without a single warning."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parents[2] / "man" / "portwatch.1"


def test_groff_renders_the_man_page_without_warnings() -> None:
    if shutil.which("groff") is None:
        pytest.skip("groff is not installed (Debian package groff-base)")
    result = subprocess.run(
        ["groff", "-man", "-Tutf8", "-ww", "-z", str(PAGE)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and result.stderr == "", result.stderr


def test_man_l_renders_the_man_page_without_warnings() -> None:
    if shutil.which("man") is None:
        pytest.skip("man is not installed (Debian package man-db)")
    env = dict(os.environ, MANWIDTH="80", MAN_KEEP_FORMATTING="0", MANPAGER="cat", PAGER="cat")
    result = subprocess.run(["man", "--warnings", "-l", str(PAGE)], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "", result.stderr
    shown = re.sub(".\x08", "", result.stdout)  # overstrike bold and underline, as a pager would show them
    assert "portwatch check" in shown and "EXIT STATUS" in shown
