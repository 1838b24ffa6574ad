"""The live view with its sentinel: a listener that lives 300 ms between two 30-second refreshes is in the
events view, once, with its owner and the short-lived mark; the table never drew it."""

from __future__ import annotations

import sys

import pytest
from textual.widgets import DataTable

from portwatch.collect import get_collector
from portwatch.events import Event, EventKind
from portwatch.tui.app import PortwatchApp
from portwatch.tui.widgets.events_screen import SHORT_MARK, EventsScreen
from tests.system.short_lived import open_briefly, reap
from tests.ui.ui_helpers import wait_for

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the sentinel's fingerprint is Linux's")


async def test_a_listener_between_refreshes_is_in_the_events_view_once_marked_short_lived() -> None:
    app = PortwatchApp(get_collector(), interval=30, baseline_path=None, capture=get_collector())
    try:
        async with app.run_test(size=(160, 45)) as pilot:
            await wait_for(pilot, lambda: app.sentinel is not None and app.sentinel.stats.scans > 0)
            brief = open_briefly(0.3)

            def mine() -> list[Event]:
                return [event for event in app.history if event.key.port == brief.port]

            await wait_for(pilot, lambda: any(e.kind is EventKind.CLOSED for e in mine()))
            assert [(e.kind, e.listener.pids) for e in mine()] == [
                (EventKind.OPENED, (brief.pid,)),
                (EventKind.CLOSED, (brief.pid,)),
            ]
            assert all(key.port != brief.port for key in app.table.model.tracker.rows)  # no refresh drew it
            await pilot.press("e")
            await wait_for(pilot, lambda: isinstance(app.screen, EventsScreen))
            table = app.screen.query_one("#events-table", DataTable)
            rows = [" ".join(str(cell) for cell in table.get_row_at(index)) for index in range(table.row_count)]
            [closed] = [row for row in rows if f":{brief.port}" in row and "closed" in row]
            assert SHORT_MARK in closed and str(brief.pid) in closed
    finally:
        reap()
