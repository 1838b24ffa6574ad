"""Issue 4 in the live app: a real unexpected listener is marked, announced once, logged, and approved away."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rich.text import Text
from textual.widgets import DataTable

from portwatch.baseline_file import save
from portwatch.collect import Collector, get_collector
from portwatch.judge import judge_now
from portwatch.model import ListenerKey
from portwatch.tui.app import PortwatchApp
from portwatch.tui.widgets.events_screen import EventsScreen
from tests.support import Child, OwnListeners, listener_key
from tests.ui.ui_helpers import RecordingApp, wait_for

Spawn = Callable[..., Child]


def baseline_of_now(path: Path, collector: Collector | None = None) -> Path:
    """What `portwatch baseline save PATH` writes: every listener here now is expected."""
    save(judge_now(collector or get_collector()).listeners, path)
    return path


def live_app(baseline: Path, collector: Collector | None = None) -> RecordingApp:
    return RecordingApp(collector=collector or get_collector(), interval=0.5, baseline_path=baseline)


def mark(app: PortwatchApp, key: ListenerKey) -> str:
    return app.table.get_cell(key, "flags").plain


def header_count(app: PortwatchApp) -> str:
    return app.summary.alarming_text


def alerts_about(app: RecordingApp, port: int) -> list[str]:
    """Notifications the app raised that name this port."""
    return [message for message in app.notified if f":{port} " in message]


async def test_unexpected_listener_is_marked_announced_once_and_logged_with_its_lifetime(
    spawn: Spawn, tmp_path: Path
) -> None:
    # The app sees only this test's listeners: whether the alert names ours alone, or sums it up with others
    # that opened in the same refresh, must not depend on other programs on this machine.
    collector = OwnListeners(get_collector())
    app = live_app(baseline_of_now(tmp_path / "baseline.toml", collector), collector)
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        await wait_for(pilot, lambda: app.scan is not None)
        child = spawn("tcp", "127.0.0.1")  # not in the baseline: nobody expects it
        collector.ports.add(child.port)
        key = listener_key("tcp", "127.0.0.1", child.port)
        await wait_for(pilot, lambda: key in app.table.model.rows)
        assert mark(app, key) == "!"  # flags come with the scan: the row's first drawing carries the mark
        assert app.scan is not None
        listener = next(entry for entry in app.scan.listeners if entry.key == key)
        assert "not-in-baseline" in {flag.code.value for flag in listener.flags}
        await wait_for(pilot, lambda: alerts_about(app, child.port))
        seen_at = app.scan.taken_at  # let a few more refreshes pass: still one notification
        await wait_for(pilot, lambda: app.scan is not None and app.scan.taken_at >= seen_at + 1.5)
        assert len(alerts_about(app, child.port)) == 1
        assert header_count(app) == "! 1 unexpected"

        child.stop()
        await wait_for(
            pilot,
            lambda: any(event.kind.value == "closed" and event.listener.port == child.port for event in app.history),
        )
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, EventsScreen))
        table: DataTable[Text] = app.screen.query_one("#events-table", DataTable)
        rows = [[cell.plain for cell in table.get_row_at(i)] for i in range(table.row_count)]
        ours = [row for row in rows if f"127.0.0.1:{child.port}" in row[2]]
        assert [row[1] for row in ours] == ["- closed", "+ opened"]  # newest first
        assert ours[0][4].startswith("lived ")
        assert "not-in-baseline" in ours[1][5]
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, EventsScreen))


async def test_approve_key_writes_the_entry_and_the_flag_goes(spawn: Spawn, tmp_path: Path) -> None:
    path = baseline_of_now(tmp_path / "baseline.toml")
    child = spawn("tcp", "127.0.0.1")
    key = listener_key("tcp", "127.0.0.1", child.port)
    app = live_app(path)
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        await wait_for(
            pilot, lambda: key in app.table.model.rows and app.table.get_cell(key, "pids").plain == str(child.pid)
        )  # approve records the program, so wait until it is named
        app.table.move_cursor(row=app.table.get_row_index(key))
        await wait_for(pilot, lambda: app.table.highlighted_key == key)
        assert mark(app, key) == "!"
        await pilot.press("a")
        await wait_for(pilot, lambda: f"port = {child.port}" in path.read_text())
        await wait_for(pilot, lambda: mark(app, key) != "!")
        listener = app.table.highlighted_listener
        assert listener is not None and "not-in-baseline" not in {flag.code.value for flag in listener.flags}
        assert any(message.startswith("approved ") for message in app.notified)
        assert path.with_name("baseline.toml.bak").exists()  # the file before the approval is kept


async def test_malformed_baseline_gives_one_line_error_and_the_app_runs(tmp_path: Path) -> None:
    path = tmp_path / "baseline.toml"
    path.write_text('version = 1\n\n[[listener]]\nproto = "tcp"\nport = "eighty"\n')
    app = live_app(path)
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        await wait_for(pilot, lambda: app.table.row_count > 0)
        await wait_for(pilot, lambda: any(str(path) in message for message in app.notified))
        [message] = [message for message in app.notified if str(path) in message]
        assert "\n" not in message and f"{path}:5" in message  # file:line of the bad value
        assert app.watcher.baseline is None
        assert header_count(app).endswith(" flagged")  # no baseline: flags alone
        await pilot.press("down", "e", "escape", "question_mark", "escape")
        assert app.is_running
