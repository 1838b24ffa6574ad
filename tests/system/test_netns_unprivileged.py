"""Without root: the host's namespace only, and one honest line about the namespaces portwatch cannot read.

The test drops to uid 65534 (nobody) with setpriv. The checkout may sit in a directory nobody may enter, so
what runs (the package and its pure-Python dependency platformdirs) is copied into a world-readable temp dir.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import platformdirs
import pytest

import portwatch
from tests.system.netns_support import named_netns, require_root

NOBODY = 65534


def _python_for_nobody(home: Path) -> str:
    for candidate in (os.path.realpath(sys.executable), "/usr/bin/python3"):
        # through env, as the test runs it (setpriv itself may exec a file the dropped user could not)
        done = subprocess.run(
            ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "env", candidate, "-c", "pass"],
            capture_output=True,
            cwd=home,
            timeout=30,
        )
        if done.returncode == 0:
            return candidate
    pytest.skip(f"no Python interpreter that uid {NOBODY} may run (tried {sys.executable}, /usr/bin/python3)")


@pytest.fixture
def runnable() -> Iterator[Path]:
    """A world-readable copy of what runs (pytest's own temp root is 0700, so not under it); removed after."""
    require_root()
    if shutil.which("setpriv") is None:
        pytest.skip("util-linux's setpriv is not installed")
    place = Path(tempfile.mkdtemp(prefix="portwatch-nobody-"))
    try:
        for package in (Path(portwatch.__file__).parent, Path(platformdirs.__file__).parent):
            shutil.copytree(package, place / package.name, ignore=shutil.ignore_patterns("__pycache__"))
        for path in (place, *place.rglob("*")):
            path.chmod(path.stat().st_mode | stat.S_IROTH | (stat.S_IXOTH if path.is_dir() else 0))
        yield place
    finally:
        shutil.rmtree(place)


def test_without_root_the_host_only_and_a_count_of_the_others(runnable: Path) -> None:
    python = _python_for_nobody(runnable)
    with named_netns(["tcp,127.0.0.1,18300"]) as (name, _child):
        done = subprocess.run(
            [
                "setpriv",
                f"--reuid={NOBODY}",
                f"--regid={NOBODY}",
                "--clear-groups",
                "env",
                f"PYTHONPATH={runnable}",
                f"HOME={runnable}",
                python,
                "-m",
                "portwatch",
                "list",
            ],
            capture_output=True,
            text=True,
            cwd=runnable,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert "18300" not in done.stdout  # the namespace's listener is not readable without root
        [line] = [line for line in done.stderr.splitlines() if line.startswith("network namespaces:")]
        assert line.startswith("network namespaces: host only (not root); ")
        count = int(line.split("; ", 1)[1].split()[0])
        assert count >= 1  # at least our /run/netns/NAME, which anyone may stat
        assert "maybe more: sudo portwatch shows their listeners" in line
        assert name not in done.stdout
