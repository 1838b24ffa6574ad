"""A running program's file replaced on disk is "needs restart" (informational); deleted, it is exe-deleted."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from portwatch.collect.linux import LinuxCollector
from portwatch.judge import judge
from portwatch.model import Flag
from tests.support import copy_interpreter
from tests.system.listeners import StartListener

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/PID/exe is Linux's")


def flags_on(port: int) -> dict[str, Flag]:
    collector = LinuxCollector()
    try:
        [found] = [entry for entry in judge(collector.scan()).listeners if entry.port == port]
    finally:
        collector.close()
    return {flag.code.value: flag for flag in found.flags}


def test_a_file_replaced_under_a_running_server_means_it_needs_a_restart(
    listener: StartListener, tmp_path: Path
) -> None:
    exe = copy_interpreter(tmp_path / "bin")
    child = listener(exe=exe)
    assert "needs-restart" not in flags_on(child.port)
    upgrade = exe.with_name(exe.name + ".dpkg-new")  # what dpkg does: write the new file, rename it over
    shutil.copy2(exe, upgrade)
    os.rename(upgrade, exe)
    flags = flags_on(child.port)
    assert "exe-deleted" not in flags
    restart = flags["needs-restart"]
    assert restart.informational and "needs restart" in restart.reason and str(exe) in restart.reason


def test_a_file_deleted_under_a_running_server_is_exe_deleted(listener: StartListener, tmp_path: Path) -> None:
    exe = copy_interpreter(tmp_path / "bin")
    child = listener(exe=exe)
    exe.unlink()
    flags = flags_on(child.port)
    assert "needs-restart" not in flags
    assert not flags["exe-deleted"].informational and str(exe) in flags["exe-deleted"].reason
