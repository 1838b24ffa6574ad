"""The export dialog (`x`): a file name (default portwatch-YYYYmmdd-HHMMSS.csv in the working directory; .json
for JSON), written in a thread worker. An existing file is never replaced unless the user presses Overwrite
for that very path; only regular files are written, atomically (portwatch.view_export.write_new).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from portwatch import view_export
from portwatch.model import Listener
from portwatch.text import safe


class ExportDone(Message):
    """The worker's answer: written (path), exists (ask), or an error line."""

    bubble = False

    def __init__(self, path: Path, error: str | None = None, exists: bool = False) -> None:
        super().__init__()
        self.path, self.error, self.exists = path, error, exists


class ExportDialog(ModalScreen[Path | None]):
    """Dismissed with the written path, or None."""

    DEFAULT_CSS = """
    ExportDialog { align: center middle; }
    #export-box { width: 90; max-width: 100%; height: auto; border: round $accent; background: $surface;
                  padding: 0 1; }
    #export-title { text-style: bold; }
    #export-path { margin: 1 0 0 0; }
    #export-status { color: $text-warning; }
    #export-buttons { height: auto; margin: 1 0 0 0; }
    #export-box Button { width: auto; min-width: 10; margin: 0 1 0 0; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, listeners: Sequence[Listener], folder: Path, now: datetime) -> None:
        super().__init__()
        self.listeners = tuple(listeners)
        self.default = folder / view_export.default_name(now)
        #: The path the user agreed to overwrite (pressing Overwrite for it), if any.
        self.confirmed: Path | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="export-box"):
            count = len(self.listeners)
            yield Static(
                Content(
                    f"Export the {count} listener{'s' if count != 1 else ''} shown (filter and sort "
                    "applied) as CSV or JSON (by the name's ending)"
                ),
                id="export-title",
            )
            yield Input(value=str(self.default), id="export-path")
            yield Static(Content(""), id="export-status")
            with Horizontal(id="export-buttons"):
                yield Button("Export", id="export-write", variant="primary")
                yield Button("Overwrite", id="export-overwrite", variant="error")
                yield Button("Cancel", id="export-cancel")

    def on_mount(self) -> None:
        self.query_one("#export-overwrite").display = False
        self.query_one("#export-path", Input).focus()

    def _path(self) -> Path:
        text = self.query_one("#export-path", Input).value.strip()
        path = Path(text).expanduser() if text else self.default
        return path if path.is_absolute() else self.default.parent / path

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Input.Changed, "#export-path")
    def _edited(self) -> None:
        self.query_one("#export-overwrite").display = False
        self.query_one("#export-status", Static).update(Content(""))

    @on(Input.Submitted, "#export-path")
    @on(Button.Pressed, "#export-write")
    def _write(self) -> None:
        self._start(self._path(), overwrite=False)

    @on(Button.Pressed, "#export-overwrite")
    def _overwrite(self) -> None:
        path = self._path()
        self._start(path, overwrite=path == self.confirmed)

    @on(Button.Pressed, "#export-cancel")
    def _cancel(self) -> None:
        self.dismiss(None)

    def _start(self, path: Path, overwrite: bool) -> None:
        self.query_one("#export-status", Static).update(Content(f"writing {safe(path, 300)} …"))
        self._worker(path, overwrite)

    @work(thread=True, group="export", exclusive=True, exit_on_error=False)
    def _worker(self, path: Path, overwrite: bool) -> None:
        try:
            data = view_export.render(self.listeners, view_export.format_of(path))
            view_export.write_new(path, data, overwrite=overwrite)
        except view_export.ExportExists:
            self.post_message(ExportDone(path, exists=True))
        except view_export.ExportError as error:
            self.post_message(ExportDone(path, error=str(error)))
        except (OSError, UnicodeError) as error:
            self.post_message(ExportDone(path, error=safe(f"{type(error).__name__}: {error}", 300)))
        else:
            self.post_message(ExportDone(path))

    def on_export_done(self, message: ExportDone) -> None:
        status = self.query_one("#export-status", Static)
        if message.exists:
            self.confirmed = message.path
            status.update(Content(f"{safe(message.path, 300)} exists: Overwrite replaces it, or change the name"))
            self.query_one("#export-overwrite").display = True
        elif message.error is not None:
            status.update(Content(message.error))
        else:
            self.dismiss(message.path)
