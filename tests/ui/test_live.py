"""The real app, the real collector, real sockets: what a user sees when something starts or stops listening."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable

import psutil
from textual.widgets import Static

from portwatch.collect import get_collector
from portwatch.model import ListenerKey
from portwatch.ranges import iana_range
from portwatch.text import safe, safe_join
from portwatch.tui.app import PortwatchApp
from portwatch.tui.table.rows import RowState
from tests.support import HOSTILE_ARGS, HOSTILE_NAME, ManualClock, Server, listener_key
from tests.ui.ui_helpers import wait_for

Bound = Callable[..., socket.socket]


def live_app(clock: Callable[[], float] = time.time) -> PortwatchApp:
    return PortwatchApp(collector=get_collector(), interval=0.5, clock=clock)


def cell(app: PortwatchApp, key: ListenerKey, column: str) -> str:
    return app.table.get_cell(key, column).plain


def field(app: PortwatchApp, name: str) -> str:
    return str(app.panel.query_one(f"#field-{name}", Static).content)


async def test_listener_appears_within_one_refresh_with_its_range(bound: Bound) -> None:
    app = live_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.scan is not None)
        sock = bound("tcp", "127.0.0.1")
        port = sock.getsockname()[1]
        key = listener_key("tcp", "127.0.0.1", port)
        await wait_for(pilot, lambda: key in app.table.model.rows)
        assert iana_range(port).value in cell(app, key, "range")
        assert cell(app, key, "state") == RowState.NEW.value  # it appeared after start
        # The owner may take one more pass to resolve (a new fd in an old process); it must arrive.
        await wait_for(pilot, lambda: cell(app, key, "pids") == str(os.getpid()))


async def test_highlighting_shows_own_pid_and_cmdline(bound: Bound) -> None:
    port = bound("tcp", "127.0.0.1").getsockname()[1]
    key = listener_key("tcp", "127.0.0.1", port)
    app = live_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: key in app.table.model.rows)
        app.table.move_cursor(row=app.table.get_row_index(key))
        await wait_for(pilot, lambda: app.panel.details is not None and app.panel.details.pid == os.getpid())
        assert field(app, "pid") == str(os.getpid())
        cmdline = safe_join(tuple(psutil.Process().cmdline()), 2000)
        assert field(app, "cmdline") == cmdline
        assert f"tcp 127.0.0.1:{port}" in field(app, "listening")


async def test_row_disappears_when_socket_closes(bound: Bound) -> None:
    sock = bound("tcp", "127.0.0.1")
    key = listener_key("tcp", "127.0.0.1", sock.getsockname()[1])
    clock = ManualClock(time.time())
    app = live_app(clock)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: key in app.table.model.rows)
        app.table.move_cursor(row=app.table.get_row_index(key))
        sock.close()
        await wait_for(pilot, lambda: cell(app, key, "state") == RowState.GONE.value)  # dimmed a while
        clock.advance(app.gone_for)  # the app's clock, not a sleep: the next tick of the app drops the row
        await wait_for(pilot, lambda: key not in app.table.model.rows)
        assert app.table.highlighted_key != key  # the cursor moved to a neighbour without an error


async def test_filter_narrows_to_the_listener_and_esc_clears_it(bound: Bound) -> None:
    port = bound("udp", "127.0.0.1").getsockname()[1]
    key = listener_key("udp", "127.0.0.1", port)
    app = live_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: key in app.table.model.rows)
        everything = app.table.row_count
        await pilot.press("slash", *str(port))
        await wait_for(pilot, lambda: app.table.row_count < everything or everything == 1)
        assert key in app.table.model.rows
        assert all(
            str(port) in f"{entry.port} {entry.address}" or str(port) in str(entry.pids)
            for entry in app.table.visible_listeners()
        )
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.table.has_focus)
        assert app.table.model.view_filter.text == ""
        await wait_for(pilot, lambda: app.table.row_count >= everything - 2)


async def test_cursor_stays_on_listener_when_new_row_sorts_in_above(bound: Bound) -> None:
    mine = bound("tcp", "127.0.0.1")
    port = mine.getsockname()[1]
    key = listener_key("tcp", "127.0.0.1", port)
    app = live_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: key in app.table.model.rows)
        app.table.move_cursor(row=app.table.get_row_index(key))
        await wait_for(pilot, lambda: app.table.highlighted_key == key)
        index_before = app.table.cursor_row
        above = None
        for candidate in range(port - 1, 1024, -1):  # a free port below ours sorts in above it
            try:
                above = bound("tcp", "127.0.0.1", candidate)
                break
            except OSError:
                continue
        assert above is not None
        above_key = listener_key("tcp", "127.0.0.1", above.getsockname()[1])
        await wait_for(pilot, lambda: above_key in app.table.model.rows)
        assert app.table.highlighted_key == key
        assert app.table.cursor_row > index_before or app.table.get_row_index(above_key) > index_before


async def test_hostile_process_is_shown_literally_and_nothing_runs(hostile: Server) -> None:
    key = listener_key("tcp", "127.0.0.1", hostile.port)
    app = live_app()
    async with app.run_test(size=(160, 45), notifications=True, tooltips=True) as pilot:
        await wait_for(pilot, lambda: key in app.table.model.rows)
        assert cell(app, key, "process") == safe(HOSTILE_NAME)
        assert "\x1b" not in cell(app, key, "process")
        app.table.move_cursor(row=app.table.get_row_index(key))
        await wait_for(pilot, lambda: app.panel.details is not None and app.panel.details.pid == hostile.pid)
        shown = field(app, "cmdline")
        for arg in HOSTILE_ARGS:
            assert safe(arg) in shown  # markup shown as typed, escapes as visible \x1b
        assert "\x1b" not in shown and "\x07" not in shown
        assert field(app, "name") == safe(HOSTILE_NAME)
        # Clicking the text that holds "[@click=app.quit]" must not run it.
        await pilot.click("#field-cmdline")
        app.table.move_cursor(row=app.table.get_row_index(key))  # rows other programs opened may have moved it
        await pilot.pause()
        await pilot.click(app.table, offset=(60, app.table.cursor_row - round(app.table.scroll_y) + 1))
        await pilot.pause(0.3)
        assert app.is_running
        app.notify("still here")  # a notification renders fine alongside the hostile rows
        await pilot.pause(0.1)
        assert app.is_running


async def test_runs_at_40x10_and_survives_resizes(bound: Bound) -> None:
    bound("tcp", "127.0.0.1")
    app = live_app()
    async with app.run_test(size=(40, 10)) as pilot:
        await wait_for(pilot, lambda: app.table.row_count > 0)
        await pilot.press("down", "p", "down", "p")
        for size in ((160, 45), (80, 24), (20, 5), (40, 10), (200, 60), (40, 10)):
            await pilot.resize_terminal(*size)
            await pilot.pause(0.1)
        await pilot.press("question_mark", "escape", "slash", "1", "escape")
        await pilot.pause(0.6)
        assert app.is_running
        assert app.screen.has_class("-narrow")


async def test_q_quits_at_start_because_nothing_but_the_table_has_focus() -> None:
    app = live_app()
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.focused is app.table
        await pilot.press("q")
        await pilot.pause(0.2)
        assert not app.is_running
