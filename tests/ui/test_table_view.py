"""The listener table as a user drives it: keys and clicks move the cursor, which stays on screen, and the
panel follows."""

from __future__ import annotations

from fixed_data import FixedCollector, FixedInspector, sample_listeners
from ui_helpers import wait_for

from portwatch.app import PortwatchApp


def on_screen(app: PortwatchApp) -> bool:
    table = app.table
    top = round(table.scroll_y)
    return top <= table.cursor_row < top + table.size.height - 1  # one line is the header


async def test_keys_move_the_cursor_keep_it_on_screen_and_the_panel_follows() -> None:
    app = PortwatchApp(FixedCollector(), interval=3600, inspector=FixedInspector())
    rows = len(sample_listeners())
    async with app.run_test(size=(160, 12)) as pilot:  # fewer lines than rows: the table scrolls
        await wait_for(pilot, lambda: app.table.row_count == rows)
        table = app.table
        await pilot.press("down", "down")
        assert table.cursor_row == 2 and on_screen(app)
        await pilot.press("end")
        await wait_for(pilot, lambda: table.cursor_row == rows - 1)
        assert on_screen(app) and round(table.scroll_y) > 0
        await wait_for(pilot, lambda: app.panel.listener is not None
                       and app.panel.listener.port == sample_listeners()[-1].port)
        await pilot.press("home")
        assert table.cursor_row == 0 and round(table.scroll_y) == 0
        await pilot.press("pagedown")
        page = table.size.height - 1
        assert table.cursor_row == page and on_screen(app)
        await pilot.press("pageup")
        assert table.cursor_row == 0
        await pilot.press("up")  # at the top already: stays
        assert table.cursor_row == 0


async def test_a_click_on_a_row_moves_the_cursor_there() -> None:
    app = PortwatchApp(FixedCollector(), interval=3600, inspector=FixedInspector())
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.table.row_count > 0)
        await pilot.pause()  # the header's second line (hidden owners) lands: the table moves down one
        await pilot.click(app.table, offset=(10, 4))  # line 0 is the header
        assert app.table.cursor_row == 3
        await wait_for(pilot, lambda: app.panel.listener is not None
                       and app.panel.listener.port == sample_listeners()[3].port)

