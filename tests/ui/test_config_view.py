"""The config in the live view: theme at start and kept when changed, hidden columns, saved filters in the
palette, and problems told in a notification while the app runs on defaults."""

from __future__ import annotations

import os
from pathlib import Path

from portwatch import config
from portwatch.config import Config, Settings
from portwatch.tui.table.rows import COLUMN_KEYS
from tests.ui.fixed_data import FixedCollector, FixedInspector, sample_listeners
from tests.ui.ui_helpers import RecordingApp, wait_for


def app_with(settings: Settings) -> RecordingApp:
    app = RecordingApp(FixedCollector(), interval=3600, inspector=FixedInspector(), settings=settings)
    app.notifications_enabled = True  # type: ignore[attr-defined]
    return app


def header(app: RecordingApp) -> str:
    return app.table.painter.line(0, 0, False, 0, 300).text


def test_config_column_names_are_the_tables() -> None:
    assert config.COLUMN_NAMES == COLUMN_KEYS


async def test_columns_not_listed_are_hidden() -> None:
    app = app_with(Settings(Config(columns=("port", "process", "user"))))
    async with app.run_test(size=(160, 30)) as pilot:
        await wait_for(pilot, lambda: app.table.row_count == len(sample_listeners()))
        shown = header(app)
        assert "Port" in shown and "Process" in shown and "User" in shown
        assert "Address" not in shown and "Service" not in shown and "Range" not in shown
        assert app.table.model.width < 60  # the hidden columns take no room


async def test_the_configured_theme_is_applied_at_start() -> None:
    app = app_with(Settings(Config(theme="nord")))
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        assert app.theme == "nord"


async def test_problems_and_an_unknown_theme_are_one_notification_and_defaults_apply() -> None:
    settings = Settings(Config(theme="no-such-theme"), ("config.toml:3: unknown key 'colour'",))
    app = app_with(settings)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: app.notified)
        [message] = [m for m in app.notified if "config.toml:3" in m]
        assert "no-such-theme" in message
        assert app.theme == "textual-dark"


async def test_a_theme_picked_in_the_app_is_saved_to_the_users_config(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('# mine\ninterval = 3\ntheme = "nord"\n[filters]\nssh = "22"\n')
    app = app_with(Settings(Config(theme="nord"), (), path))
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        app.theme = "dracula"  # what the command palette's theme picker does
        await wait_for(pilot, lambda: 'theme = "dracula"' in path.read_text())
    assert path.read_text() == '# mine\ninterval = 3\ntheme = "dracula"\n[filters]\nssh = "22"\n'


async def test_a_theme_is_never_written_over_a_fifo(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    os.mkfifo(path)
    app = app_with(Settings(Config(), (), path))
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        app.theme = "dracula"
        await wait_for(pilot, lambda: any("not a regular file" in m for m in app.notified))
    assert path.is_fifo()


async def test_a_saved_filter_is_a_palette_command_that_filters() -> None:
    app = app_with(Settings(Config(filters={"web [/]": "8080"})))
    async with app.run_test(size=(160, 30)) as pilot:
        await wait_for(pilot, lambda: app.table.row_count == len(sample_listeners()))
        [command] = [c for c in app.get_system_commands(app.screen) if c.title.startswith("Filter: web")]
        command.callback()
        await wait_for(pilot, lambda: app.table.row_count < len(sample_listeners()))
        assert app.table.model.view_filter.text == "8080" and app.filter_box.value == "8080"
        assert all("8080" in str(entry.port) for entry in app.table.visible_listeners())


async def test_a_saved_filter_runs_from_the_command_palette_by_typing_its_name() -> None:
    app = app_with(Settings(Config(filters={"webfilter": "8080"})))
    async with app.run_test(size=(160, 30)) as pilot:
        await wait_for(pilot, lambda: app.table.row_count == len(sample_listeners()))
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"webfilter")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.table.model.view_filter.text == "8080")
