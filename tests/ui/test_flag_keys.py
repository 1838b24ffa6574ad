"""Flags, alerts, approve and the events view with fixed data through the collector seam (no /proc needed)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from rich.text import Text
from textual.widgets import DataTable, Static

from portwatch.model import Scan
from portwatch.text import safe
from portwatch.tui.widgets.events_screen import EventsScreen
from portwatch.tui.widgets.help_screen import HelpScreen
from tests.support import listener_key
from tests.ui.fixed_data import (
    HOSTILE_NAME,
    NOW,
    FixedCollector,
    FixedInspector,
    expected_listeners,
    listener,
    sample_listeners,
    sample_scan,
    write_baseline,
)
from tests.ui.ui_helpers import RecordingApp, wait_for

HOSTILE = listener_key("tcp", "127.0.0.1", 31337)


def later(scan: Scan, seconds: float) -> Scan:
    return replace(scan, taken_at=scan.taken_at + seconds)


def fixed_app(tmp_path: Path, *scans: Scan, baseline: bool = True, bell: bool = False) -> RecordingApp:
    path = tmp_path / "baseline.toml"
    if baseline:
        write_baseline(path, expected_listeners())
    return RecordingApp(
        collector=FixedCollector(*scans),
        interval=0.5,
        inspector=FixedInspector(),
        clock=lambda: NOW,
        baseline_path=path,
        bell=bell,
    )


def messages(app: RecordingApp) -> list[str]:
    return app.notified


async def test_hostile_newcomer_gets_the_mark_one_safe_alert_and_a_bell(tmp_path: Path) -> None:
    first = sample_scan()
    second = later(sample_scan(hostile=True), 2)
    app = fixed_app(tmp_path, first, second, bell=True)
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        await wait_for(pilot, lambda: HOSTILE in app.table.model.rows)
        assert app.table.get_cell(HOSTILE, "flags").plain == "!"
        assert app.table.get_cell(listener_key("tcp", "0.0.0.0", 22), "flags").plain == ""  # sshd is in the baseline
        await wait_for(pilot, lambda: app.alerts.raised)
        await pilot.pause(1.2)  # more refreshes of the same scan: no more alerts
        assert len(app.alerts.raised) == 1 and app.rings == 1
        [alert] = [m for m in messages(app) if ":31337" in m]
        assert safe(HOSTILE_NAME, 200) in alert and "\x1b" not in alert  # shown as typed, never as markup
        assert "not-in-baseline" in alert and "name-mismatch" in alert and "exe-in-temp" in alert
        assert app.summary.alarming_text == "! 1 unexpected"
        assert app.is_running


async def test_listeners_present_at_start_are_counted_not_announced(tmp_path: Path) -> None:
    app = fixed_app(tmp_path, sample_scan(hostile=True))
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        await wait_for(pilot, lambda: HOSTILE in app.table.model.rows)
        await pilot.pause(1.2)
        assert app.alerts.raised == []
        assert app.summary.alarming_text == "! 1 unexpected"


async def test_panel_lists_each_flag_and_says_whether_the_baseline_expects_it(tmp_path: Path) -> None:
    app = fixed_app(tmp_path, sample_scan(hostile=True))
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: HOSTILE in app.table.model.rows)
        flags = app.panel.query_one("#panel-flags", Static)
        app.table.move_cursor(row=app.table.get_row_index(listener_key("tcp", "0.0.0.0", 22)))
        await wait_for(pilot, lambda: "expected (in baseline)" in str(flags.content))
        assert "Flags: none" in str(flags.content)
        app.table.move_cursor(row=app.table.get_row_index(HOSTILE))
        await wait_for(pilot, lambda: "not in baseline" in str(flags.content))
        shown = str(flags.content)
        assert "! exe-in-temp: " in shown and "! name-mismatch: " in shown and "calls itself '[/]" in shown
        app.table.move_cursor(row=app.table.get_row_index(listener_key("udp", "0.0.0.0", 54321)))  # a client's socket
        await wait_for(pilot, lambda: "udp-client (info)" in str(flags.content))
        assert "baseline does not apply" in str(flags.content)


async def test_filter_matches_flag_codes_and_bang_alone_shows_the_unexpected(tmp_path: Path) -> None:
    app = fixed_app(tmp_path, sample_scan(hostile=True))
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: HOSTILE in app.table.model.rows)
        await pilot.press("slash", "e", "x", "e", "-", "i", "n", "-", "t", "e", "m", "p")
        await wait_for(pilot, lambda: app.table.row_count == 1)
        await pilot.press("escape", "slash", "exclamation_mark", "enter")
        await wait_for(pilot, lambda: [e.port for e in app.table.visible_listeners()] == [31337])
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.table.row_count == len(sample_listeners(hostile=True)))


async def test_sorting_by_the_flags_column_puts_the_unexpected_first(tmp_path: Path) -> None:
    app = fixed_app(tmp_path, sample_scan(hostile=True))
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: HOSTILE in app.table.model.rows)
        app.table.sort_by("flags")
        marks = [app.table.get_cell(app.table.key_at(row), "flags").plain for row in range(app.table.row_count)]
        assert marks[0] == "!" and marks == sorted(marks, key=("!", "·", "").index)


async def test_approve_refuses_without_a_baseline_file_and_for_client_sockets(tmp_path: Path) -> None:
    app = fixed_app(tmp_path, sample_scan(), baseline=False)
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        await wait_for(pilot, lambda: app.table.row_count > 0)
        await pilot.press("a")
        await wait_for(pilot, lambda: any("no baseline yet" in m for m in messages(app)))
        assert not (tmp_path / "baseline.toml").exists()  # one entry alone would flag everything else
        app.table.move_cursor(row=app.table.get_row_index(listener_key("udp", "0.0.0.0", 54321)))
        await pilot.press("a")
        await wait_for(pilot, lambda: any("nothing to approve" in m for m in messages(app)))
        assert app.is_running


async def test_events_view_lists_opens_and_closes_newest_first_and_e_closes_it(tmp_path: Path) -> None:
    base = sample_scan()
    newcomer = listener("tcp", "0.0.0.0", 8000, [(7321, "python3", "dev")])
    with_newcomer = replace(base, listeners=(*base.listeners, newcomer), taken_at=NOW + 2)
    without = later(base, 6)
    app = fixed_app(tmp_path, base, with_newcomer, without)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: len(app.history) == 2)
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, EventsScreen))
        table: DataTable[Text] = app.screen.query_one("#events-table", DataTable)
        rows = [[cell.plain for cell in table.get_row_at(i)] for i in range(table.row_count)]
        assert [row[1:5] for row in rows] == [
            ["- closed", "tcp 0.0.0.0:8000", "python3 7321", "lived 4s"],
            ["+ opened", "tcp 0.0.0.0:8000", "python3 7321", ""],
        ]
        assert "! " in rows[1][5] and "not-in-baseline" in rows[1][5]
        await pilot.press("e")  # the key that opened it closes it
        await wait_for(pilot, lambda: not isinstance(app.screen, EventsScreen))
        await pilot.press("e", "escape")  # and so does Esc
        await wait_for(pilot, lambda: not isinstance(app.screen, EventsScreen))
        await pilot.press("e", "question_mark")  # help opens over it; Esc comes back to the events
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, EventsScreen))
