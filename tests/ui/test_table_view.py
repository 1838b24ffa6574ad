"""The listener table as a user drives it: keys and clicks move the cursor, which stays on screen, and the
panel follows."""

from __future__ import annotations

import time
from dataclasses import replace

from portwatch.tui.app import PortwatchApp
from tests.support import changes_between
from tests.ui.fixed_data import FixedCollector, FixedInspector, listener, sample_listeners
from tests.ui.ui_helpers import wait_for


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
        await wait_for(
            pilot, lambda: app.panel.listener is not None and app.panel.listener.port == sample_listeners()[-1].port
        )
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
        await wait_for(
            pilot, lambda: app.panel.listener is not None and app.panel.listener.port == sample_listeners()[3].port
        )


async def test_a_view_wheeled_away_from_the_cursor_stays_where_the_user_put_it() -> None:
    app = PortwatchApp(FixedCollector(), interval=3600, inspector=FixedInspector())
    async with app.run_test(size=(160, 12)) as pilot:
        await wait_for(pilot, lambda: app.table.row_count == len(sample_listeners()))
        table = app.table
        await pilot.pause()
        table.scroll_to(y=3, animate=False)  # what the wheel does: the view moves, the cursor does not
        await wait_for(pilot, lambda: round(table.scroll_y) == 3)
        top = round(table.scroll_y)
        assert table.cursor_row == 0 and not on_screen(app)
        newcomer = listener("tcp", "127.0.0.1", 65000, [(4321, "late", "dev")])
        assert app.scan is not None
        grown = replace(app.scan, listeners=(*app.scan.listeners, newcomer))
        table.show_changes(changes_between(app.scan, grown), time.time())  # rows moved: a re-sort
        await pilot.pause()
        assert round(table.scroll_y) == top and table.cursor_row == 0  # not pulled back to the cursor
        await pilot.press("down")  # the next key brings the cursor into view, as in htop
        assert on_screen(app)
