"""The baseline judged against real servers: a restarted service stays expected, an unknown one is not."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from portwatch.baseline import load
from portwatch.baseline_file import save
from portwatch.collect import get_collector
from portwatch.judge import Judge, judge_now
from tests.support import Server, ours


def test_save_load_and_restarted_service_stays_expected(tmp_path: Path, start_server: Callable[..., Server]) -> None:
    first = start_server("tcp", "127.0.0.1")
    collector, judge = get_collector(), Judge()
    path = tmp_path / "baseline.toml"
    result = save(ours(judge.judge(collector.scan()).listeners, first.port), path)
    assert result.added == 1 and result.backup is None
    baseline = load(path)
    first.stop()
    again = start_server("tcp", "127.0.0.1", first.port)  # the same service, restarted: a new pid
    [entry] = ours(judge.judge(collector.scan(), baseline).listeners, again.port)
    assert entry.pids == (again.pid,) != (first.pid,)
    assert entry.flags == ()


def test_unknown_listener_is_not_in_baseline(tmp_path: Path, start_server: Callable[..., Server]) -> None:
    path = tmp_path / "baseline.toml"
    path.write_text('version = 1\n[[listener]]\nproto = "udp"\n')
    server = start_server("tcp", "127.0.0.1")
    [entry] = ours(judge_now(get_collector(), load(path)).listeners, server.port)
    assert [f.code.value for f in entry.flags] == ["not-in-baseline"]
    assert str(path) in entry.flags[0].reason
