"""The TUI's refresh without Textual: the baseline file followed on disk, alarms on open, approve's refusals."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

from portwatch.baseline_file import save
from portwatch.collect import get_collector
from portwatch.events import EventKind
from portwatch.judge import judge_now
from portwatch.model import Listener
from portwatch.watch import Watcher
from tests.support import Server, copy_interpreter

Bound = Callable[..., socket.socket]


def ours(watcher: Watcher, port: int) -> Listener:
    polled = watcher.poll()
    return next(
        entry
        for entry in polled.scan.listeners
        if entry.port == port and entry.address == "127.0.0.1" and entry.netns.is_host
    )


def codes(listener: Listener) -> set[str]:
    return {flag.code.value for flag in listener.flags}


def test_newcomer_not_in_baseline_is_an_alarm_and_approving_it_quiets_it(bound: Bound, tmp_path: Path) -> None:
    path = tmp_path / "baseline.toml"
    save(judge_now(get_collector()).listeners, path)
    watcher = Watcher(get_collector(), path)
    first = watcher.poll()
    assert first.events == () and first.alarms == () and first.has_baseline and first.baseline_notice is None
    port = bound("tcp", "127.0.0.1").getsockname()[1]
    polled = watcher.poll()
    [alarm] = [entry for entry in polled.alarms if entry.port == port and entry.netns.is_host]
    assert "not-in-baseline" in codes(alarm)
    approval = watcher.approve(alarm)
    assert approval.ok and str(path) in approval.message
    assert "not-in-baseline" not in codes(ours(watcher, port))
    again = watcher.approve(alarm)
    assert not again.ok and "already in the baseline" in again.message


def test_baseline_edits_are_followed_and_a_bad_edit_keeps_the_last_good_one(bound: Bound, tmp_path: Path) -> None:
    port = bound("tcp", "127.0.0.1").getsockname()[1]
    path = tmp_path / "baseline.toml"
    path.write_text("version = 1\n")
    watcher = Watcher(get_collector(), path)
    assert "not-in-baseline" in codes(ours(watcher, port))
    path.write_text(f'version = 1\n[[listener]]\nproto = "tcp"\nport = {port}\n')
    assert "not-in-baseline" not in codes(ours(watcher, port))
    path.write_text('version = 1\n[[listener]]\nport = "nope"\n')
    polled = watcher.poll()
    assert polled.baseline_notice_is_error and f"{path}:3" in (polled.baseline_notice or "")
    assert "keeping the baseline read before" in (polled.baseline_notice or "")
    assert watcher.poll().baseline_notice is None  # said once
    assert "not-in-baseline" not in codes(ours(watcher, port))
    path.unlink()
    polled = watcher.poll()
    assert not polled.has_baseline and "removed" in (polled.baseline_notice or "")


def test_approve_refuses_without_a_baseline_file(bound: Bound, tmp_path: Path) -> None:
    port = bound("tcp", "127.0.0.1").getsockname()[1]
    missing = tmp_path / "baseline.toml"
    watcher = Watcher(get_collector(), missing)
    listener = ours(watcher, port)
    refused = watcher.approve(listener)
    assert not refused.ok and "baseline save" in refused.message and not missing.exists()
    assert not Watcher(get_collector(), None).approve(listener).ok


def test_a_restart_raises_nothing_and_an_alarming_program_taking_the_address_over_is_an_alarm(
    start_server: Callable[..., Server], tmp_path: Path
) -> None:
    first = start_server("tcp")
    port = first.port
    path = tmp_path / "baseline.toml"
    save(judge_now(get_collector()).listeners, path)
    watcher = Watcher(get_collector(), path)
    watcher.poll()
    first.stop()
    restarted = start_server("tcp", port=port)  # the same program, a new pid: what a service restart looks like
    polled = watcher.poll()
    assert [event.kind for event in polled.events if event.listener.port == port] == [EventKind.OWNER_CHANGED]
    assert not [entry for entry in polled.alarms if entry.port == port]
    restarted.stop()
    imposter = start_server("tcp", port=port, exe=copy_interpreter(tmp_path / "bin"))
    polled = watcher.poll()
    [alarm] = [entry for entry in polled.alarms if entry.port == port and entry.netns.is_host]
    assert alarm.pids == (imposter.pid,) and "exe-in-temp" in codes(alarm)
