"""Stopping real listeners the tests start: the right process, and nothing when it is no longer that process."""

from __future__ import annotations

import dataclasses
import os
import socket
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from portwatch.collect import get_collector
from portwatch.collect.signals import start_ticks
from portwatch.model import Listener
from portwatch.stop import Stopper
from portwatch.stop_plan import Method, Result
from tests.stop_support import ended, skip_unless_linux, start_ignoring, start_plain, start_prefork
from tests.support import Child

Children = Callable[[Callable[[], Child]], Child]

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pidfd and /proc are Linux")


def find(port: int, collector_name: str = "auto", owners: int = 1, timeout: float = 10.0) -> Listener:
    """The listener on 127.0.0.1:port once the scan names ``owners`` of its processes."""
    collector = get_collector(collector_name)
    end = time.monotonic() + timeout
    while True:
        for entry in collector.scan().listeners:
            if entry.port == port and entry.address == "127.0.0.1" and len(entry.owners) >= owners:
                return entry
        if time.monotonic() > end:
            raise AssertionError(f"no listener with {owners} owner(s) on port {port}")
        time.sleep(0.05)


def test_sigterm_ends_the_child_and_its_listener_goes(stop_children: Children) -> None:
    child = stop_children(start_plain)
    stopper = Stopper()
    plan = stopper.plan(find(child.port))
    assert plan.refusal is None and plan.target is not None and plan.target.pid == child.pid
    outcome = stopper.execute(plan, Method.TERM)
    assert outcome.result is Result.GONE, outcome.message
    assert ended(child) and child.proc.returncode == -15


def test_a_child_ignoring_sigterm_is_offered_sigkill(stop_children: Children) -> None:
    child = stop_children(start_ignoring)
    stopper = Stopper(wait=1.0)
    plan = stopper.plan(find(child.port))
    outcome = stopper.execute(plan, Method.TERM)
    assert outcome.result is Result.IGNORED and outcome.offer_kill, outcome.message
    assert child.proc.poll() is None  # still running: SIGTERM was ignored
    killed = stopper.execute(plan, Method.KILL)
    assert killed.result is Result.GONE, killed.message
    assert ended(child) and child.proc.returncode == -9


def test_pre_fork_master_is_signalled_not_its_worker(stop_children: Children) -> None:
    child = stop_children(start_prefork)
    listener = find(child.port, owners=2)
    assert set(listener.pids) == {child.pid, child.forked_pid}
    stopper = Stopper()
    plan = stopper.plan(listener)
    assert plan.target is not None and plan.target.pid == child.pid
    assert any("master" in note for note in plan.notes)
    # The worker ignores SIGTERM: the listener goes only because its master got the signal and ended it.
    outcome = stopper.execute(plan, Method.TERM)
    assert outcome.result is Result.GONE, outcome.message
    assert ended(child) and child.proc.returncode == 0


def test_a_worker_picked_on_request_is_the_only_one_signalled(stop_children: Children) -> None:
    child = stop_children(start_prefork)
    assert child.forked_pid is not None
    stopper = Stopper(wait=0.5)
    plan = stopper.plan(find(child.port, owners=2), pick=child.forked_pid)
    assert plan.target is not None and plan.target.pid == child.forked_pid
    outcome = stopper.execute(plan, Method.TERM)  # the worker ignores it, and the master was not touched
    assert outcome.result is Result.IGNORED, outcome.message
    assert child.proc.poll() is None


def test_pid_reuse_race_signals_nothing_and_says_why(stop_children: Children) -> None:
    first = start_plain()
    stopper = Stopper()
    plan = stopper.plan(find(first.port))  # the dialog is open on A
    first.stop()  # A exits...
    second = stop_children(lambda: start_plain(first.port))  # ...and B takes the port before the choice
    find(second.port)
    outcome = stopper.execute(plan, Method.TERM)
    assert outcome.result is Result.CHANGED, outcome.message
    assert "changed hands" in outcome.message and "nothing was signalled" in outcome.message
    time.sleep(0.3)
    assert second.proc.poll() is None  # B was not signalled


def test_a_pid_that_names_another_process_now_is_refused(stop_children: Children) -> None:
    child = stop_children(start_plain)
    stopper = Stopper()
    plan = stopper.plan(find(child.port))
    assert plan.target is not None and isinstance(plan.target.start, int)
    # As if the pid had been reused: the process behind it started at another time than the one planned.
    other = dataclasses.replace(plan.target, start=plan.target.start + 1)
    outcome = stopper.execute(dataclasses.replace(plan, target=other), Method.TERM)
    assert outcome.result is Result.CHANGED and "another process" in outcome.message
    time.sleep(0.3)
    assert child.proc.poll() is None


def test_a_process_that_no_longer_holds_the_socket_is_refused(stop_children: Children) -> None:
    child = stop_children(start_plain)
    stopper = Stopper()
    plan = stopper.plan(find(child.port))
    assert child.proc.stdin is not None
    child.proc.stdin.close()  # it exits; unreaped, it stays a zombie with the same pid and start time
    end = time.monotonic() + 10
    while Path(f"/proc/{child.pid}/stat").read_text().split(") ")[1][0] != "Z":
        assert time.monotonic() < end, "the child did not exit"
        time.sleep(0.02)
    assert start_ticks(child.pid) == plan.target.start if plan.target else False
    outcome = stopper.execute(plan, Method.TERM)
    assert outcome.result is Result.CHANGED and "no longer holds" in outcome.message


def test_psutil_path_signals_through_the_scans_process_object(stop_children: Children) -> None:
    child = stop_children(start_plain)
    stopper = Stopper(use_pidfd=False)
    listener = find(child.port, collector_name="psutil")
    assert not listener.inodes  # the psutil collector knows no inodes: the holder is checked by address
    plan = stopper.plan(listener)
    assert plan.target is not None and plan.target.pid == child.pid
    outcome = stopper.execute(plan, Method.TERM)
    assert outcome.result is Result.GONE, outcome.message
    assert ended(child) and child.proc.returncode == -15


def test_portwatch_itself_is_never_signalled(bound: Callable[..., socket.socket]) -> None:
    port = bound("tcp", "127.0.0.1").getsockname()[1]
    plan = Stopper().plan(find(port))
    assert plan.target is not None and plan.target.pid == os.getpid()
    assert plan.refusal is not None and "portwatch itself" in plan.refusal and not plan.options
    outcome = Stopper().execute(plan, Method.TERM)
    assert outcome.result is Result.REFUSED


def test_dry_run_signals_nothing(stop_children: Children) -> None:
    child = stop_children(start_plain)
    stopper = Stopper()
    outcome = stopper.execute(stopper.plan(find(child.port)), Method.TERM, dry_run=True)
    assert outcome.result is Result.DRY_RUN and f"kill -TERM {child.pid}" in outcome.message
    time.sleep(0.3)
    assert child.proc.poll() is None


SYSTEMD_CGROUP = Path("/sys/fs/cgroup/systemd")


@pytest.fixture
def unit_cgroup() -> Iterator[Path]:
    """A real unit-shaped cgroup (system.slice/pwtest-N.service) in the name=systemd hierarchy."""
    folder = SYSTEMD_CGROUP / "system.slice" / f"pwtest-{os.getpid()}.service"
    try:
        folder.mkdir(parents=True)
    except OSError as error:
        pytest.skip(f"cannot make a unit-shaped cgroup under {SYSTEMD_CGROUP}: {error}")
    yield folder
    for pid in (folder / "cgroup.procs").read_text().split():  # our child only: move it out before removing
        (SYSTEMD_CGROUP / "cgroup.procs").write_text(pid)
    folder.rmdir()  # system.slice itself may be shared with the host: left in place


def test_a_process_in_a_systemd_unit_is_offered_systemctl_stop(stop_children: Children, unit_cgroup: Path) -> None:
    skip_unless_linux()
    child = stop_children(start_plain)
    (unit_cgroup / "cgroup.procs").write_text(str(child.pid))
    plan = Stopper().plan(find(child.port))
    option = plan.option(Method.SYSTEMCTL)
    assert plan.target is not None and plan.target.unit == unit_cgroup.name
    assert option is not None and option.argv == ("systemctl", "stop", unit_cgroup.name)
    assert plan.option(Method.TERM) is not None  # the signals stay on offer beside the manager's stop
