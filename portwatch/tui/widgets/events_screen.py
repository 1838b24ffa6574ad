"""The `e` screen: every listener that opened, closed or changed owner while portwatch ran, newest first.

So a listener that lived for two seconds between two glances is not lost. With the sentinel on (the
default), one that lived less than a refresh is there too, marked SHORT_MARK: no refresh may have drawn it.
Rows are added as refreshes (or the sentinel) bring events (the screen stays live while open); closing it
(Esc or `e`) keeps nothing but the app's own log.
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

from portwatch.events import Event, EventKind, EventSource
from portwatch.flags import alarming
from portwatch.model import OwnerStatus
from portwatch.text import age, duration, safe
from portwatch.tui.table.rows import SortableText

KIND_WORDS = {
    EventKind.OPENED: "+ opened",
    EventKind.CLOSED: "- closed",
    EventKind.OWNER_CHANGED: "~ new owner",
    EventKind.PROGRAM_CHANGED: "~ new program",
}
#: Marks a close that came sooner than one refresh: the sentinel caught a listener the table may never show.
SHORT_MARK = "⚡"
COLUMNS = (
    ("time", "Time"),
    ("kind", "Event"),
    ("listener", "Listener"),
    ("process", "Process"),
    ("lived", "Lived"),
    ("flags", "Flags"),
)


REFRESH_HINT = "Times are when a refresh noticed the change: lifetimes are ± one refresh. Esc or e closes."


def capture_hint(interval: float) -> str:
    return (
        f"Captured every {interval:g} s between refreshes: times and lifetimes are ± {interval:g} s; "
        f"{SHORT_MARK} lived less than one refresh. Esc or e closes."
    )


def listener_text(event: Event) -> str:
    entry = event.listener
    return safe(entry.key.text, 80)


def process_text(event: Event) -> str:
    entry = event.listener
    if not entry.owners:
        return "(hidden)" if entry.owner_status is OwnerStatus.HIDDEN else "(no process)"
    more = f" +{len(entry.pids) - 1}" if len(entry.pids) > 1 else ""
    return f"{safe(entry.process_name, 24)} {entry.pids[0]}{more}"


def lived_text(event: Event) -> str:
    if event.kind is EventKind.CLOSED and event.lifetime is not None:
        # The sentinel's times are good to a fifth of a second; a refresh's only to its interval.
        lived = duration(event.lifetime) if event.seen_by is EventSource.SENTINEL else age(event.lifetime)
        if event.since_start:
            return f"lived ≥ {lived} (open at start)"
        return f"{SHORT_MARK} lived {lived}, between refreshes" if event.short_lived else f"lived {lived}"
    if event.kind is EventKind.OWNER_CHANGED:
        before = ", ".join(map(str, event.previous_pids[:3]))
        return f"was pid {before}" if before else "first seen without a process"
    if event.kind is EventKind.PROGRAM_CHANGED:
        return f"was {safe(event.previous_name or '?', 24)} ({safe(event.previous_exe or 'exe unknown', 48)})"
    return ""


def flags_text(event: Event) -> str:
    codes = [flag.code.value for flag in alarming(event.listener)]
    return "! " + ", ".join(codes) if codes else ""


def event_cells(event: Event, order: int) -> tuple[Text, ...]:
    """One row; every piece of process text made safe, and each cell a Text (never parsed as markup)."""
    values = (
        time.strftime("%H:%M:%S", time.localtime(event.at)),
        KIND_WORDS[event.kind],
        listener_text(event),
        process_text(event),
        lived_text(event),
        flags_text(event),
    )
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

    def __init__(self, history: tuple[Event, ...], hint: str = REFRESH_HINT) -> None:
        super().__init__()
        self._history = history
        self._hint = hint
        #: Events shown, oldest first, with their row keys (holding them keeps their ids unique).
        self._rows: list[tuple[Event, str]] = []
        self._next = 0

    def compose(self) -> ComposeResult:
        with Vertical(id="events-box"):
            yield Static(Content(""), id="events-title")
            yield DataTable[Text](id="events-table", cursor_type="row", zebra_stripes=True)
            yield Static(Content(self._hint), id="events-hint")

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
        title.update(
            Content.assemble(("Events", "bold"), f"  {len(self._rows)} since start, newest first")
            if self._rows
            else Content("No listener has opened or closed since portwatch started.")
        )

    def action_close(self) -> None:
        self.dismiss(None)
