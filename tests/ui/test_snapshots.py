"""The app drawn from fixed data at two terminal sizes (pytest --snapshot-update to accept a change)."""

from __future__ import annotations

from collections.abc import Callable

from fixed_data import NOW, FixedCollector, FixedInspector, sample_scan
from textual.pilot import Pilot
from ui_helpers import wait_for

from portwatch.app import PortwatchApp

SnapCompare = Callable[..., bool]


def fixed_app() -> PortwatchApp:
    # A long interval: one scan, then nothing moves while the snapshot is taken.
    return PortwatchApp(collector=FixedCollector(sample_scan(hostile=True)), interval=3600,
                        inspector=FixedInspector(), clock=lambda: NOW + 3600)


async def settled(pilot: Pilot[None]) -> None:
    app = pilot.app
    assert isinstance(app, PortwatchApp)
    await wait_for(pilot, lambda: app.table.row_count > 0 and app.panel.details is not None)
    await pilot.pause()


def test_wide_terminal_shows_table_and_panel(snap_compare: SnapCompare, utc: None) -> None:
    assert snap_compare(fixed_app(), terminal_size=(160, 45), run_before=settled)


def test_narrow_terminal_collapses_the_panel(snap_compare: SnapCompare, utc: None) -> None:
    assert snap_compare(fixed_app(), terminal_size=(80, 30), run_before=settled)


def test_narrow_terminal_p_shows_the_hostile_process_literally(snap_compare: SnapCompare, utc: None) -> None:
    async def to_hostile(pilot: Pilot[None]) -> None:
        await settled(pilot)
        app = pilot.app
        assert isinstance(app, PortwatchApp)
        app.table.move_cursor(row=app.table.get_row_index("tcp|127.0.0.1|31337"))
        await wait_for(pilot, lambda: app.panel.details is not None and app.panel.details.pid == 6666)
        await pilot.press("p")
        await pilot.pause()

    assert snap_compare(fixed_app(), terminal_size=(80, 30), run_before=to_hostile)
