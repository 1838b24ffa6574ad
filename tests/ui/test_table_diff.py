"""The table's diff at work: rows leaving in a batch, rows left alone when nothing about them changed."""

from __future__ import annotations

import time
from dataclasses import replace

from portwatch.changes import Changes
from portwatch.tui.app import PortwatchApp
from tests.support import changes_between, listener_key
from tests.ui.fixed_data import FixedCollector, FixedInspector, sample_listeners
from tests.ui.ui_helpers import wait_for


async def test_rows_closing_together_leave_in_one_batch_and_the_cursor_stays_on_its_row() -> None:
    app = PortwatchApp(FixedCollector(), interval=3600, inspector=FixedInspector())
    async with app.run_test(size=(160, 45)) as pilot:
        table = app.table
        await wait_for(pilot, lambda: table.row_count == len(sample_listeners()))
        everything = sample_listeners()
        table.move_cursor(row=table.get_row_index(listener_key("tcp", "127.0.0.1", 8080)))
        closing = [entry for entry in everything if entry.port in (22, 53, 80, 50051, 63342)]  # above and below
        staying = tuple(entry for entry in everything if entry not in closing)
        now = time.time()
        assert app.scan is not None
        table.show_changes(changes_between(app.scan, replace(app.scan, listeners=staying)), now)
        assert table.row_count == len(everything)  # closed rows linger, dimmed
        table.age(now + table.model.tracker.gone_for)
        await pilot.pause()
        assert table.row_count == len(staying)
        assert [entry.key for entry in table.visible_listeners()] == [entry.key for entry in staying]
        for index, entry in enumerate(staying):  # every row where the table says it is
            assert table.get_row_index(entry.key) == index
            assert table.key_at(index) == entry.key
        assert table.highlighted_key == listener_key("tcp", "127.0.0.1", 8080)
        assert table.virtual_size.height == len(staying) + 1  # the header, and one line a row


async def test_a_refresh_that_changes_nothing_rebuilds_no_cell() -> None:
    app = PortwatchApp(FixedCollector(), interval=3600, inspector=FixedInspector())
    async with app.run_test(size=(160, 45)) as pilot:
        table = app.table
        await wait_for(pilot, lambda: table.row_count > 0)
        assert app.scan is not None
        shown = app.scan.listeners  # as the app's scan worker flagged them
        before = {key: table.get_row(key) for key in (entry.key for entry in shown)}
        copies = tuple(replace(entry) for entry in shown)  # equal values, new objects
        assert not changes_between(app.scan, replace(app.scan, listeners=copies))  # the feed sees no change
        table.show_changes(Changes(copies, (), ()), time.time())  # and a view handed them anyway rebuilds none
        after = {key: table.get_row(key) for key in before}
        assert all(a is b for key in before for a, b in zip(before[key], after[key], strict=True))
