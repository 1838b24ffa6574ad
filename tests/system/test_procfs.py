"""Owners read from /proc agree with psutil, field by field, on real processes: plain, renamed to a long name
(the kernel keeps 15 bytes), with a rewritten cmdline, and running from an executable deleted under it."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from portwatch.collect import procfs
from portwatch.collect.owners import read_owner
from tests.support import Server, copy_interpreter


def same_as_psutil(pid: int) -> None:
    ours, theirs = procfs.read_owner(pid), read_owner(pid)
    assert ours is not None and theirs is not None
    assert (ours.pid, ours.name, ours.user, ours.exe, ours.cmdline) == (
        theirs.pid,
        theirs.name,
        theirs.user,
        theirs.exe,
        theirs.cmdline,
    )
    assert ours.create_time == pytest.approx(theirs.create_time, abs=0.02)


def test_this_process_and_pid_1() -> None:
    same_as_psutil(os.getpid())
    same_as_psutil(1)


def test_a_child_renamed_to_a_name_longer_than_the_kernel_keeps(start_server: Callable[..., Server]) -> None:
    child = start_server("tcp", name="portwatch-test-long-name")
    owner = procfs.read_owner(child.pid)
    assert owner is not None and owner.name == "portwatch-test-"  # 15 bytes, and argv[0] does not extend it
    same_as_psutil(child.pid)


def test_a_long_executable_name_cut_by_the_kernel_is_completed_from_argv(
    start_server: Callable[..., Server], private_dir: Path
) -> None:
    child = start_server("tcp", exe=copy_interpreter(private_dir, "pwtest-long-server-name"))
    owner = procfs.read_owner(child.pid)
    assert owner is not None and owner.name == "pwtest-long-server-name"
    same_as_psutil(child.pid)


def test_a_child_whose_executable_was_deleted(start_server: Callable[..., Server], private_dir: Path) -> None:
    exe = copy_interpreter(private_dir)
    child = start_server("tcp", exe=exe)
    exe.unlink()
    owner = procfs.read_owner(child.pid)
    assert owner is not None and owner.exe == str(exe)  # " (deleted)" dropped, as psutil does
    same_as_psutil(child.pid)


def test_an_exited_process_is_none_and_no_pid_is_never_read(start_server: Callable[..., Server]) -> None:
    child = start_server("tcp")
    child.stop()
    assert procfs.read_owner(child.pid) is None
    assert procfs.read_owner(0) is None and procfs.read_owner(-1) is None


def test_boot_time_matches_psutil() -> None:
    assert procfs.boot_time() == pytest.approx(psutil.boot_time(), abs=1)
    assert sys.platform.startswith("linux")
