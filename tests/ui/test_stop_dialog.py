"""The stop dialog on real children: what it names, that Cancel is the default, and what a choice does."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

import pytest
from textual.pilot import Pilot
from textual.widgets import Button, Static

from portwatch.collect import get_collector
from portwatch.model import ListenerKey
from portwatch.stop import Stopper
from portwatch.stop_plan import Result
from portwatch.text import safe
from portwatch.tui.app import PortwatchApp
from portwatch.tui.table.rows import RowState
from portwatch.tui.widgets.stop_dialog import StopDialog
from tests.stop_support import ended, start_ignoring, start_plain, start_prefork
from tests.support import HOSTILE_NAME, Child
from tests.ui.ui_helpers import wait_for

Children = Callable[[Callable[[], Child]], Child]

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pidfd and /proc are Linux")


def live_app(wait: float = 5.0) -> PortwatchApp:
    return PortwatchApp(collector=get_collector(), interval=0.5, gone_for=0.5, stopper=Stopper(wait=wait))


async def open_dialog(app: PortwatchApp, pilot: Pilot[None], port: int, owners: int = 1) -> StopDialog:
    key = ListenerKey("tcp", "127.0.0.1", port)
    rows = app.table.model.rows
    await wait_for(pilot, lambda: key in rows and len(rows[key].listener.owners) >= owners)
    app.table.move_cursor(row=app.table.get_row_index(key))
    await pilot.press("k")
    await wait_for(pilot, lambda: isinstance(app.screen, StopDialog))
    dialog = app.screen
    assert isinstance(dialog, StopDialog)
    return dialog


def status(dialog: StopDialog) -> str:
    return dialog.query_one("#stop-status", Static).content.__str__()


def shown(dialog: StopDialog, button_id: str) -> bool:
    return bool(dialog.query_one(f"#{button_id}").display)


async def choose(pilot: Pilot[None], dialog: StopDialog, button_id: str) -> None:
    """Click a choice once it is shown, enabled and laid out (a status line above it may just have grown)."""
    button = dialog.query_one(f"#{button_id}", Button)
    await wait_for(pilot, lambda: button.display and not button.disabled)
    await pilot.pause()
    assert await pilot.click(f"#{button_id}")


def row_went(app: PortwatchApp, port: int) -> bool:
    row = app.table.model.rows.get(ListenerKey("tcp", "127.0.0.1", port))
    return row is None or row.state is RowState.GONE


async def test_the_dialog_names_the_target_and_focuses_cancel(stop_children: Children) -> None:
    child = stop_children(start_plain)
    app = live_app()
    async with app.run_test(size=(160, 45)) as pilot:
        dialog = await open_dialog(app, pilot, child.port)
        assert app.focused is not None and app.focused.id == "stop-cancel"
        plan = str(dialog.query_one("#stop-plan", Static).content)
        assert f"tcp 127.0.0.1:{child.port}" in plan and f"pid {child.pid}" in plan and "exe " in plan
        assert f"kill -TERM {child.pid}" in plan and f"kill -KILL {child.pid}" in plan
        assert shown(dialog, "stop-term") and shown(dialog, "stop-kill") and not shown(dialog, "stop-systemctl")


async def test_enter_and_held_keys_on_the_open_dialog_do_not_kill(stop_children: Children) -> None:
    child = stop_children(start_plain)
    app = live_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await open_dialog(app, pilot, child.port)
        await pilot.press("k", "k", "space")  # a held k, then space: still on Cancel
        await pilot.press("enter", "enter", "enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, StopDialog))
        await pilot.pause(0.5)
    assert child.proc.poll() is None


async def test_sigterm_from_the_dialog_ends_the_child_and_the_row_goes(stop_children: Children) -> None:
    child = stop_children(start_plain)
    app = live_app()
    async with app.run_test(size=(160, 45)) as pilot:
        dialog = await open_dialog(app, pilot, child.port)
        await choose(pilot, dialog, "stop-term")
        await wait_for(pilot, lambda: dialog.outcome is not None)
        assert dialog.outcome is not None and dialog.outcome.result is Result.GONE, dialog.outcome
        assert "is gone" in status(dialog)
        await wait_for(pilot, lambda: row_went(app, child.port))
    assert ended(child) and child.proc.returncode == -15


async def test_a_child_ignoring_sigterm_is_offered_sigkill(stop_children: Children) -> None:
    child = stop_children(start_ignoring)
    app = live_app(wait=1.0)
    async with app.run_test(size=(160, 45)) as pilot:
        dialog = await open_dialog(app, pilot, child.port)
        await choose(pilot, dialog, "stop-term")
        await wait_for(pilot, lambda: dialog.outcome is not None)
        assert dialog.outcome is not None and dialog.outcome.result is Result.IGNORED
        assert "SIGKILL" in status(dialog) and child.proc.poll() is None
        assert shown(dialog, "stop-kill") and not shown(dialog, "stop-term")
        assert app.focused is not None and app.focused.id == "stop-cancel"  # Enter still does not kill
        await choose(pilot, dialog, "stop-kill")
        await wait_for(pilot, lambda: dialog.outcome is not None and dialog.outcome.result is Result.GONE)
    assert ended(child) and child.proc.returncode == -9


async def test_pre_fork_group_signals_the_master(stop_children: Children) -> None:
    child = stop_children(start_prefork)
    app = live_app()
    async with app.run_test(size=(160, 45)) as pilot:
        dialog = await open_dialog(app, pilot, child.port, owners=2)
        assert dialog.plan.target is not None and dialog.plan.target.pid == child.pid
        plan = str(dialog.query_one("#stop-plan", Static).content)
        assert "master" in plan and "target:   python" in plan
        assert shown(dialog, "stop-picks")  # a worker can be picked, on request only
        await choose(pilot, dialog, f"stop-pick-{child.forked_pid}")
        assert dialog.plan.target is not None and dialog.plan.target.pid == child.forked_pid
        assert dialog.query_one(f"#stop-pick-{child.forked_pid}", Button).disabled
        await choose(pilot, dialog, f"stop-pick-{child.pid}")  # back to the master
        assert dialog.plan.target is not None and dialog.plan.target.pid == child.pid
        await choose(pilot, dialog, "stop-term")
        await wait_for(pilot, lambda: dialog.outcome is not None)
        assert dialog.outcome is not None and dialog.outcome.result is Result.GONE, dialog.outcome
    assert ended(child) and child.proc.returncode == 0


async def test_pid_reuse_race_signals_nothing_and_shows_why(stop_children: Children) -> None:
    first = start_plain()
    app = live_app()
    try:
        async with app.run_test(size=(160, 45)) as pilot:
            dialog = await open_dialog(app, pilot, first.port)
            first.stop()  # A exits while the dialog is open...
            second = stop_children(lambda: start_plain(first.port))  # ...and B takes its port
            key = ListenerKey("tcp", "127.0.0.1", second.port)
            await wait_for(pilot, lambda: second.pid in app.table.model.tracker.rows[key].listener.pids)
            await choose(pilot, dialog, "stop-term")
            await wait_for(pilot, lambda: dialog.outcome is not None)
            assert dialog.outcome is not None and dialog.outcome.result is Result.CHANGED
            assert "changed hands" in status(dialog) and "nothing was signalled" in status(dialog)
            assert not shown(dialog, "stop-term")  # nothing more to do from this plan
    finally:
        first.stop()
    time.sleep(0.3)
    assert second.proc.poll() is None


async def test_hostile_names_in_the_dialog_are_shown_literally(hostile: Child) -> None:
    app = live_app()
    async with app.run_test(size=(160, 45)) as pilot:
        dialog = await open_dialog(app, pilot, hostile.port)
        plan = str(dialog.query_one("#stop-plan", Static).content)
        assert safe(HOSTILE_NAME) in plan and "\x1b" not in plan and "\x07" not in plan
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, StopDialog))
    assert hostile.proc.poll() is None


async def test_palette_offers_stop_copy_and_export() -> None:
    app = live_app()
    async with app.run_test(size=(160, 45)):
        titles = {command.title for command in app.get_system_commands(app.screen)}
    assert {"Stop the listener's process", "Copy row", "Copy command line", "Export view"} <= titles
