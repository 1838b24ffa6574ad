"""The process panel's loading: which listener and owner it shows, the details worker, and `p`/`o`.

Separate from app.py so the App holds the wiring; PortwatchApp inherits this (like bindings.py's ViewKeys).
Details load in an exclusive worker group, and a result for a row no longer highlighted is dropped.
"""

from __future__ import annotations

from collections.abc import Callable

from textual import work
from textual.worker import get_current_worker

from portwatch.collect import Inspector
from portwatch.model import Listener, ListenerKey
from portwatch.tui.bindings import ViewKeys
from portwatch.tui.messages import DetailsLoaded
from portwatch.tui.table.listener_table import ListenerTable
from portwatch.tui.widgets.process_panel import ProcessPanel


class PanelLoading(ViewKeys):
    """The panel's listener, owner cycling and details; the attributes are set up by PortwatchApp."""

    panel: ProcessPanel
    inspector: Inspector
    clock: Callable[[], float]
    owner_index: int
    _highlighted: Listener | None

    def on_listener_table_highlighted(self, message: ListenerTable.Highlighted) -> None:
        if not self.is_running:
            return
        changed = message.listener is None or self._highlighted is None or message.listener.key != self._highlighted.key
        if changed:
            self.owner_index = 0
        # No refresh_bindings here: it rebuilds the Footer, and doing that on every cursor move grew memory
        # and slowed each key over a long session. The keys stay the same whatever row is highlighted.
        self._highlighted = message.listener
        self._load_details()

    def _follow_scan(self) -> None:
        """After a refresh: the highlighted row's listener as this scan saw it (new flags, a restarted
        service's new pids), and the panel reloaded while shown (CPU %, sockets, the process still alive)."""
        current = self.table.highlighted_listener
        if current is not None and self._highlighted is not None and current.key == self._highlighted.key:
            self._highlighted = current
        if self.panel.display:
            self._load_details()

    def _current_pid(self) -> int | None:
        listener = self._highlighted
        if listener is None or not listener.pids:
            return None
        return listener.pids[self.owner_index % len(listener.pids)]

    def _load_details(self) -> None:
        if not self.panel.display:  # folded away: showing it (`p`) loads the details then
            return
        listener, pid = self._highlighted, self._current_pid()
        self.panel.show_listener(listener, pid)
        if listener is not None and pid is not None:
            self._details_worker(listener.key, listener.pids, pid)

    @work(thread=True, group="details", exclusive=True, exit_on_error=False)
    def _details_worker(self, row_key: ListenerKey, pids: tuple[int, ...], pid: int) -> None:
        details = self.inspector.inspect(pid)
        if not get_current_worker().is_cancelled:
            self.post_message(DetailsLoaded(row_key, pids, details))

    def on_details_loaded(self, message: DetailsLoaded) -> None:
        if not self.is_running:
            return
        listener = self._highlighted
        if listener is None or listener.key != message.row_key or message.details.pid != self._current_pid():
            return  # a stale answer for a row the user has moved away from
        self.panel.show_details(message.pids, message.details, self.clock())

    def action_toggle_panel(self) -> None:
        """Wide: show/hide the panel. Narrow: swap table and panel (the .tcss decides which is shown)."""
        screen = self.table.screen
        screen.toggle_class("-panel-flipped")
        if screen.has_class("-narrow") and screen.has_class("-panel-flipped"):
            self.panel.focus()  # arrows scroll the details; `p` goes back to the table
        else:
            self.table.focus()
        self.call_after_refresh(self._load_details)  # a panel just shown may hold stale details

    def action_next_owner(self) -> None:
        listener = self._highlighted
        if listener is None or len(listener.pids) < 2:
            self.notify("This listener has one owner: `o` steps through the owners of a shared socket.", timeout=3)
            return
        self.owner_index += 1
        self._load_details()
