"""Keys, sorting, filters, pausing and the panel's states, with fixed data through the collector seam."""

from __future__ import annotations

from rich.style import Style
from textual.widgets import Static

from portwatch.model import ListenerKey, PortRange, Proto
from portwatch.tui.app import PortwatchApp
from portwatch.tui.widgets.help_screen import HelpScreen
from tests.support import ManualClock, listener_key
from tests.ui.fixed_data import NOW, FixedCollector, FixedInspector, listener, sample_listeners, sample_scan
from tests.ui.ui_helpers import wait_for


def fixed_app(collector: FixedCollector | None = None, interval: float = 0.5) -> PortwatchApp:
    return PortwatchApp(
        collector=collector or FixedCollector(), interval=interval, inspector=FixedInspector(), clock=lambda: NOW
    )


def header_x(app: PortwatchApp, column_key: str) -> int:
    """Where a column's header starts, for a click."""
    return app.table.column_x(column_key) + 1


def notice(app: PortwatchApp) -> str:
    return str(app.panel.query_one("#panel-notice", Static).content)


async def test_sort_key_and_header_click_keep_the_cursor_on_its_row() -> None:
    app = fixed_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.table.row_count > 0)
        target = listener_key("tcp", "127.0.0.1", 8080)
        app.table.move_cursor(row=app.table.get_row_index(target))
        await pilot.press("s")  # next column after port: process
        assert app.table.model.sort_column == "process"
        assert app.table.highlighted_key == target
        x = header_x(app, "range")
        await pilot.click(app.table, offset=(x, 0))
        await pilot.pause(0.1)
        assert app.table.model.sort_column == "range"
        assert app.table.highlighted_key == target
        await pilot.click(app.table, offset=(x, 0))  # again: reversed
        await pilot.pause(0.1)
        assert (app.table.model.sort_column, app.table.model.sort_reverse) == ("range", True)
        assert app.table.highlighted_key == target


async def test_t_and_r_cycle_protocol_and_range_filters() -> None:
    app = fixed_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.table.row_count > 0)
        await pilot.press("t")
        assert {entry.proto for entry in app.table.visible_listeners()} == {Proto.TCP}
        await pilot.press("t")
        assert {entry.proto for entry in app.table.visible_listeners()} == {Proto.UDP}
        await pilot.press("t", "r")
        assert {entry.port_range for entry in app.table.visible_listeners()} == {PortRange.WELL_KNOWN}
        await pilot.press("r", "r")
        assert {entry.port_range for entry in app.table.visible_listeners()} == {PortRange.DYNAMIC}
        await pilot.press("r")
        assert app.table.row_count == len(sample_listeners())


async def test_filter_enter_keeps_it_and_q_then_quits() -> None:
    app = fixed_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.table.row_count > 0)
        await pilot.press("slash", *"nginx", "enter")
        assert [entry.port for entry in app.table.visible_listeners()] == [80]
        assert app.focused is app.table
        await pilot.press("q")
        await pilot.pause(0.1)
        assert not app.is_running


async def test_space_pauses_and_resumes_and_ctrl_r_refreshes_now() -> None:
    collector = FixedCollector()
    app = fixed_app(collector, interval=0.5)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: collector.calls >= 1)
        await pilot.press("space")
        await pilot.pause(0.3)  # let an in-flight scan land
        paused_at = collector.calls
        await pilot.pause(1.2)
        assert collector.calls == paused_at
        assert "paused" in str(app.summary.query_one("#summary-state", Static).content)
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: collector.calls == paused_at + 1)
        await pilot.press("space")
        await wait_for(pilot, lambda: collector.calls >= paused_at + 3)


async def test_new_rows_are_marked_and_closed_rows_linger_dimmed() -> None:
    first = sample_scan()
    extra = listener("tcp", "127.0.0.1", 7000, [(7000, "newcomer", "dev")])
    second = sample_scan(listeners=tuple(entry for entry in (*first.listeners, extra) if entry.port != 22))
    clock = ManualClock(NOW)
    app = PortwatchApp(
        collector=FixedCollector(first, second),
        interval=0.5,
        inspector=FixedInspector(),
        new_for=10.0,
        gone_for=3.0,
        clock=clock,
    )
    newcomer, closed = listener_key("tcp", "127.0.0.1", 7000), listener_key("tcp", "0.0.0.0", 22)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: newcomer in app.table.model.rows)
        assert app.table.get_cell(newcomer, "state").plain == "new"
        assert app.table.get_cell(closed, "state").plain == "gone"
        clock.advance(3.0)  # the app's clock, not a sleep: the next tick of the app ages the rows
        await wait_for(pilot, lambda: closed not in app.table.model.rows)
        assert app.table.get_cell(newcomer, "state").plain == "new"  # 3 of its 10 seconds gone
        clock.advance(7.0)
        await wait_for(pilot, lambda: app.table.get_cell(newcomer, "state").plain == "")


async def test_panel_states_exited_denied_hidden_and_several_owners() -> None:
    app = fixed_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.table.row_count > 0)

        async def select(key: ListenerKey) -> None:
            app.table.move_cursor(row=app.table.get_row_index(key))
            await pilot.pause(0.2)

        await select(listener_key("tcp", "0.0.0.0", 3000))
        await wait_for(pilot, lambda: "has exited" in notice(app))
        await select(listener_key("tcp", "127.0.0.1", 5432))
        await wait_for(pilot, lambda: "Access denied" in notice(app) and "sudo" in notice(app))
        await select(listener_key("udp", "0.0.0.0", 5353))
        await wait_for(pilot, lambda: "hidden" in notice(app) and "sudo" in notice(app))
        await select(listener_key("tcp", "::", 80))
        await wait_for(pilot, lambda: app.panel.details is not None and app.panel.details.pid == 1201)
        await pilot.press("o")
        await wait_for(pilot, lambda: app.panel.details is not None and app.panel.details.pid == 1202)


async def test_help_opens_with_question_mark_and_esc_closes_it() -> None:
    collector = FixedCollector()
    app = fixed_app(collector)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        scans = collector.calls
        await wait_for(pilot, lambda: collector.calls >= scans + 2)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        assert app.is_running


async def test_p_swaps_table_and_panel_on_a_narrow_terminal() -> None:
    app = fixed_app()
    async with app.run_test(size=(80, 30)) as pilot:
        await wait_for(pilot, lambda: app.table.row_count > 0)
        assert not app.panel.display or app.panel.region.width == 0
        await pilot.press("p")
        await pilot.pause(0.1)
        assert app.panel.region.width > 0 and app.table.region.width == 0
        await pilot.press("p")
        assert app.focused is app.table and app.table.region.width > 0
        await pilot.press("down", "p")  # the panel follows the row chosen in the table
        await wait_for(pilot, lambda: app.panel.listener is not None and app.panel.listener.port == 53)
        assert app.panel.region.width > 0


async def test_row_colours_come_from_the_tcss_and_follow_the_theme() -> None:
    app = fixed_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.table.row_count > 0)
        app.table.move_cursor(row=app.table.get_row_index(listener_key("tcp", "::", 80)))
        before = app.table.get_cell(listener_key("tcp", "::", 80), "port").style
        assert isinstance(before, Style) and before.color is not None
        app.theme = "textual-light"
        await wait_for(pilot, lambda: app.table.get_cell(listener_key("tcp", "::", 80), "port").style != before)
        assert app.table.highlighted_key == listener_key("tcp", "::", 80)  # recoloured in place: the cursor stayed


async def test_command_palette_offers_every_action() -> None:
    app = fixed_app()
    async with app.run_test(size=(160, 45)):
        titles = {command.title for command in app.get_system_commands(app.screen)}
        assert {"Filter", "Refresh now", "Pause / resume", "TCP / UDP", "Range", "Help"} <= titles
