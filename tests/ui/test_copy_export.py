"""`c`, `C` and `x` with fixed data: copies carry safe text, the export is the view and never clobbers a file."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from textual.widgets import Input, Static

from portwatch.model import ListenerKey
from portwatch.tui.app import PortwatchApp
from portwatch.tui.widgets.export_dialog import ExportDialog
from tests.ui.fixed_data import NOW, FixedCollector, FixedInspector, sample_scan
from tests.ui.ui_helpers import wait_for

CONTROL = {chr(c) for c in (*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0))}
HOSTILE_KEY = ListenerKey("tcp", "127.0.0.1", 31337)


def fixed_app() -> PortwatchApp:
    return PortwatchApp(
        collector=FixedCollector(sample_scan(hostile=True)), interval=0.5, inspector=FixedInspector(), clock=lambda: NOW
    )


async def test_copy_row_and_cmdline_of_a_hostile_process_are_safe_text() -> None:
    app = fixed_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: HOSTILE_KEY in app.table.model.rows)
        app.table.move_cursor(row=app.table.get_row_index(HOSTILE_KEY))
        await pilot.press("c")
        row = app.clipboard
        assert row.startswith("tcp 127.0.0.1:31337") and "pid 6666" in row and "mallory" in row
        assert "[/]\\x1b]52;c;aGk=\\x07" in row and not (set(row) & CONTROL)
        await pilot.press("C")
        # The fixed scan's owner has no cmdline: its (hostile) name is copied, made safe.
        assert app.clipboard == "[/]\\x1b]52;c;aGk=\\x07"


async def export_through_the_dialog(app: PortwatchApp, pilot: object, path: Path) -> ExportDialog:
    await pilot.press("x")  # type: ignore[attr-defined]
    await wait_for(pilot, lambda: isinstance(app.screen, ExportDialog))  # type: ignore[arg-type]
    dialog = app.screen
    assert isinstance(dialog, ExportDialog)
    dialog.query_one("#export-path", Input).value = str(path)
    await pilot.press("enter")  # type: ignore[attr-defined]
    return dialog


async def test_export_writes_the_filtered_sorted_view_as_csv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    app = fixed_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.table.row_count > 0)
        await pilot.press("slash", *"127.0.0.1", "enter")
        await pilot.press("s")  # sort by process
        await wait_for(pilot, lambda: app.table.model.sort_column == "process")
        expected = [row.listener.port for key in app.table.model.order if (row := app.table.model.rows[key])]
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, ExportDialog))
        field = app.screen.query_one("#export-path", Input)
        assert Path(field.value).parent == tmp_path and Path(field.value).name.startswith("portwatch-")
        assert field.value.endswith(".csv")
        field.value = "view.csv"  # relative: in the working directory
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, ExportDialog))
    with open(tmp_path / "view.csv", newline="", encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    assert [int(row["port"]) for row in rows] == expected and all(row["address"] == "127.0.0.1" for row in rows)
    hostile = next(row for row in rows if row["port"] == "31337")
    assert hostile["process"] == "[/]\\x1b]52;c;aGk=\\x07"


async def test_export_never_overwrites_without_asking(tmp_path: Path) -> None:
    path = tmp_path / "mine.json"
    path.write_text("precious")
    app = fixed_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.table.row_count > 0)
        dialog = await export_through_the_dialog(app, pilot, path)
        overwrite = dialog.query_one("#export-overwrite")
        await wait_for(pilot, lambda: bool(overwrite.display))
        assert "exists" in str(dialog.query_one("#export-status", Static).content)
        assert path.read_text() == "precious"
        await pilot.pause()
        assert await pilot.click("#export-overwrite")
        await wait_for(pilot, lambda: not isinstance(app.screen, ExportDialog))
    data = json.loads(path.read_text())
    assert {entry["port"] for entry in data} >= {22, 31337}
    assert next(e for e in data if e["port"] == 31337)["owners"][0]["name"] == "[/]\x1b]52;c;aGk=\x07"  # raw


async def test_export_refuses_a_name_that_is_not_csv_or_json(tmp_path: Path) -> None:
    app = fixed_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.table.row_count > 0)
        dialog = await export_through_the_dialog(app, pilot, tmp_path / "x.txt")
        status = dialog.query_one("#export-status", Static)
        await wait_for(pilot, lambda: "must end in" in str(status.content))
    assert not (tmp_path / "x.txt").exists()


async def test_stop_on_a_hidden_owner_gives_the_reason_and_no_choice() -> None:
    from portwatch.tui.widgets.stop_dialog import StopDialog

    app = fixed_app()
    key = ListenerKey("udp", "0.0.0.0", 5353)  # the fixed scan's hidden owner: no pid to signal
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: key in app.table.model.rows)
        app.table.move_cursor(row=app.table.get_row_index(key))
        await pilot.press("f9")
        await wait_for(pilot, lambda: isinstance(app.screen, StopDialog))
        dialog = app.screen
        assert isinstance(dialog, StopDialog)
        assert "hidden" in str(dialog.query_one("#stop-plan", Static).content)
        assert not [button for button in ("#stop-term", "#stop-kill") if dialog.query_one(button).display]
        assert app.focused is not None and app.focused.id == "stop-cancel"
