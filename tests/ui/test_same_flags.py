"""Issue 9's "done when", the TUI's side: the planted listener's row, the listener the table holds and the
panel's Flags section carry exactly the flags `portwatch list --json` gives it (tests/system/test_same_flags.py
shows `who` and `check` agree with `list`)."""

from __future__ import annotations

from textual.widgets import Static

from portwatch.collect import get_collector
from portwatch.tui.app import PortwatchApp
from tests.support import Planted, listed_flags
from tests.ui.ui_helpers import wait_for


async def test_the_tui_gives_the_planted_listener_the_flags_the_cli_gives_it(planted: Planted) -> None:
    app = PortwatchApp(collector=get_collector(), interval=0.5, baseline_path=planted.baseline)
    key = planted.key
    async with app.run_test(size=(160, 45)) as pilot:
        table = app.table
        await wait_for(
            pilot, lambda: key in table.model.rows and table.get_cell(key, "pids").plain == str(planted.server.pid)
        )
        table.move_cursor(row=table.get_row_index(key))
        await wait_for(pilot, lambda: table.highlighted_key == key)
        listener = table.highlighted_listener
        assert listener is not None and listener.pids == (planted.server.pid,)
        assert table.get_cell(key, "flags").plain == "!"  # the row's mark: something alarming

        cli = listed_flags(planted)  # `portwatch list --json`, collected and judged in another process
        shown = [
            {"code": flag.code.value, "reason": flag.reason, "informational": flag.informational}
            for flag in listener.flags
        ]
        assert shown == cli and {flag["code"] for flag in shown} == Planted.CODES

        panel = app.panel.query_one("#panel-flags", Static)
        lines = [f"! {flag['code']}: {flag['reason']}" for flag in cli]
        await wait_for(pilot, lambda: all(line in str(panel.content).splitlines() for line in lines))
        assert "not in baseline" in str(panel.content)
