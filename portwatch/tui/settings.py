"""The config files in the live view: the theme at start, problems as one notification, the palette's theme
choice written back to the user's file (in a thread: it is file I/O), saved filters as palette commands."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path

from textual.app import App, SystemCommand

from portwatch.config import Settings, save_theme
from portwatch.text import safe


class ThemeKeeper:
    """Applies the configured theme once mounted, then saves each theme the user picks."""

    def __init__(self, app: App[None], settings: Settings) -> None:
        self.app, self.settings = app, settings
        self._saved = settings.config.theme

    def start(self) -> None:
        app, theme = self.app, self.settings.config.theme
        problems = list(self.settings.problems)
        if theme is not None:
            if theme in app.available_themes:
                app.theme = theme
            else:
                problems.append(f"theme {theme!r} is not one of: {', '.join(sorted(app.available_themes))}")
        if problems:
            app.notify(
                "\n".join(safe(problem, 300) for problem in problems),
                title="config: running on defaults for these",
                severity="warning",
                timeout=12,
                markup=False,
            )
        app.theme_changed_signal.subscribe(app, self._changed)

    def _changed(self, theme: object) -> None:
        name = self.app.theme
        if self.settings.path is None or name == self._saved:
            return
        self._saved = name
        self.app.run_worker(
            partial(self._save, self.settings.path, name), thread=True, group="config", exit_on_error=False
        )

    def _save(self, path: Path, name: str) -> None:
        try:
            save_theme(path, name)
        except (OSError, ValueError) as error:
            message = safe(str(error), 300)
            self.app.call_from_thread(
                self.app.notify, message, title="theme not saved", severity="warning", markup=False
            )


def filter_commands(filters: dict[str, str] | None, apply: Callable[[str], None]) -> Iterable[SystemCommand]:
    """One palette command per saved filter."""
    for name, text in (filters or {}).items():
        yield SystemCommand(
            f"Filter: {safe(name, 40)}", f"Saved filter (config): {safe(text, 80)}", partial(apply, text)
        )
