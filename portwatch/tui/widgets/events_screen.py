"""The `e` screen: every listener that opened, closed or changed owner while portwatch ran, newest first.

So a listener that lived for two seconds between two glances is not lost. Rows are added as refreshes bring
events (the screen stays live while open); closing it (Esc or `e`) keeps nothing but the app's own log.
"""

from __future__ import annotations

import time
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from portwatch.events import Event, EventKind
from portwatch.flags import alarming
from portwatch.text import age, safe
from portwatch.tui.table.rows import SortableText

KIND_WORDS = {EventKind.OPENED: "+ opened", EventKind.CLOSED: "- closed", EventKind.OWNER_CHANGED: "~ new owner",
              EventKind.PROGRAM_CHANGED: "~ new program"}
COLUMNS = (("time", "Time"), ("kind", "Event"), ("listener", "Listener"), ("process", "Process"),
           ("lived", "Lived"), ("flags", "Flags"))


def listener_text(event: Event) -> str:
    entry = event.listener
    return safe(entry.key.text, 80)


def process_text(event: Event) -> str:
    entry = event.listener
    if not entry.owners:
        return "(hidden)" if entry.socket_user else "(no process)"
    more = f" +{len(entry.pids) - 1}" if len(entry.pids) > 1 else ""
    return f"{safe(entry.process_name, 24)} {entry.pids[0]}{more}"


def lived_text(event: Event) -> str:
    if event.kind is EventKind.CLOSED and event.lifetime is not None:
        return f"lived ≥ {age(event.lifetime)} (open at start)" if event.since_start \
            else f"lived {age(event.lifetime)}"
    if event.kind is EventKind.OWNER_CHANGED:
        before = ", ".join(map(str, event.previous_pids[:3]))
        return f"was pid {before}" if before else ""
    if event.kind is EventKind.PROGRAM_CHANGED:
        return f"was {safe(event.previous_name or '?', 24)} ({safe(event.previous_exe or 'exe unknown', 48)})"
    return ""


def flags_text(event: Event) -> str:
    codes = [flag.code.value for flag in alarming(event.listener)]
    return "! " + ", ".join(codes) if codes else ""


def event_cells(event: Event, order: int) -> tuple[Text, ...]:
    """One row; every piece of process text made safe, and each cell a Text (never parsed as markup)."""
    values = (time.strftime("%H:%M:%S", time.localtime(event.at)), KIND_WORDS[event.kind], listener_text(event),
              process_text(event), lived_text(event), flags_text(event))
    cells: list[Text] = []
    for (key, _label), value in zip(COLUMNS, values, strict=True):
        style = "bold" if key == "flags" or (key == "kind" and event.kind is EventKind.OPENED) else ""
        cell = SortableText(value, style=style, no_wrap=True, overflow="ellipsis", end="")
        cell.sort_key = (order,)
        cells.append(cell)
    return tuple(cells)


class EventsScreen(ModalScreen[None]):
    """The event log as a table over the app; `e` or Esc closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,e,q", "close", "Close events"),
        Binding("question_mark", "app.help", "Help"),  # a modal screen does not pass keys on to the app's
    ]

    def __init__(self, history: tuple[Event, ...]) -> None:
        super().__init__()
        self._history = history
        #: Events shown, oldest first, with their row keys (holding them keeps their ids unique).
        self._rows: list[tuple[Event, str]] = []
        self._next = 0

    def compose(self) -> ComposeResult:
        with Vertical(id="events-box"):
            yield Static(Content(""), id="events-title")
            yield DataTable[Text](id="events-table", cursor_type="row", zebra_stripes=True)
            yield Static(Content("Times are when a refresh noticed the change: lifetimes are ± one refresh. "
                                 "Esc or e closes."), id="events-hint")

    def on_mount(self) -> None:
        table = self.query_one("#events-table", DataTable)
        for key, label in COLUMNS:
            table.add_column(label, key=key)
        table.focus()
        self.show(self._history)

    def show(self, history: tuple[Event, ...]) -> None:
        """Add the events not shown yet and drop those the log no longer keeps; newest stays on top."""
        table: DataTable[Text] = self.query_one("#events-table", DataTable)
        alive = {id(event) for event in history}
        shown = {id(event) for event, _key in self._rows}
        for event, key in [row for row in self._rows if id(row[0]) not in alive]:
            table.remove_row(key)
            self._rows.remove((event, key))
        fresh = [event for event in history if id(event) not in shown]
        for event in fresh:
            key = str(self._next)
            table.add_row(*event_cells(event, self._next), key=key)
            self._rows.append((event, key))
            self._next += 1
        if fresh:
            table.sort(key=lambda cells: getattr(cells[0], "sort_key", ()), reverse=True)
        title = self.query_one("#events-title", Static)
        title.update(Content.assemble(("Events", "bold"), f"  {len(self._rows)} since start, newest first")
                     if self._rows else Content("No listener has opened or closed since portwatch started."))

    def action_close(self) -> None:
        self.dismiss(None)
