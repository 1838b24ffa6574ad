"""The keys that act on a listener: stop (`k`, F9), copy the row (`c`) or its owner's cmdline (`C`), export
the view (`x`). PortwatchApp subclasses this; the bindings themselves are in bindings.py.

Stopping reads /proc (the plan's facts) and signals in thread workers; the dialog shows the outcome, and a
listener that went away leaves the table at the refresh started here. Copies go through Textual's OSC 52
clipboard and carry only safe() text, never a raw control byte from a process.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from textual import work

from portwatch import view_export
from portwatch.model import Listener, Owner
from portwatch.stop import Stopper
from portwatch.stop_plan import StopRequest
from portwatch.text import safe
from portwatch.tui.bindings import ViewKeys
from portwatch.tui.messages import StopPlanned
from portwatch.tui.table.rows import RowState
from portwatch.tui.widgets.export_dialog import ExportDialog
from portwatch.tui.widgets.stop_dialog import StopDialog, StopFinished

#: Said with every copy: OSC 52 is the only clipboard a terminal app has, and not every terminal takes it.
CLIPBOARD_NOTE = "sent to the terminal's clipboard (OSC 52); some terminals ignore it"
TMUX_NOTE = "; in tmux it needs `set -g set-clipboard on`"


class ActKeys(ViewKeys):
    """Stop, copy and export; ``stopper`` and ``owner_index`` are set up by PortwatchApp."""

    stopper: Stopper
    owner_index: int

    def start_scan(self) -> None:  # PortwatchApp's
        raise NotImplementedError

    def _live_highlighted(self) -> Listener | None:
        """The highlighted listener if it is still open, else None with a notification saying why."""
        key, listener = self.table.highlighted_key, self.table.highlighted_listener
        row = self.table.model.tracker.rows.get(key) if key is not None else None
        if listener is None or row is None:
            self.notify("No listener highlighted.", severity="warning", timeout=3)
            return None
        if row.gone_since is not None:
            self.notify("That listener has closed already.", severity="warning", timeout=4)
            return None
        return listener

    # -- stop -----------------------------------------------------------------------------------------------

    def action_stop(self) -> None:
        if isinstance(self.screen, StopDialog):
            return
        listener = self._live_highlighted()
        if listener is not None:
            self._plan_worker(listener)

    @work(thread=True, group="stop-plan", exclusive=True, exit_on_error=False)
    def _plan_worker(self, listener: Listener) -> None:
        self.post_message(StopPlanned(self.stopper.request(listener)))

    def on_stop_planned(self, message: StopPlanned) -> None:
        if not self.is_running or isinstance(self.screen, StopDialog):
            return
        self.push_screen(StopDialog(message.request, self.stopper))

    def on_stop_finished(self, message: StopFinished) -> None:
        if self.is_running:
            self.start_scan()  # a stopped listener leaves the table now, not at the next scheduled refresh

    def open_stop_dialog(self, request: StopRequest) -> StopDialog:
        """Open the dialog for facts already gathered (tests use it to hold a plan while the world changes)."""
        dialog = StopDialog(request, self.stopper)
        self.push_screen(dialog)
        return dialog

    # -- copy -----------------------------------------------------------------------------------------------

    def _copied(self, what: str, text: str) -> None:
        self.copy_to_clipboard(text)
        tmux = TMUX_NOTE if os.environ.get("TMUX") else ""
        self.notify(
            f"Copied {what} ({len(text)} characters): {safe(text, 120)}\n{CLIPBOARD_NOTE}{tmux}",
            title="Copied",
            markup=False,
            timeout=6,
        )

    def action_copy_row(self) -> None:
        listener = self.table.highlighted_listener
        if listener is None:
            self.notify("No listener highlighted.", severity="warning", timeout=3)
            return
        self._copied("the row", view_export.row_text(listener))

    def _current_owner(self, listener: Listener) -> Owner | None:
        if not listener.owners:
            return None
        return listener.owners[self.owner_index % len(listener.owners)]

    def action_copy_cmdline(self) -> None:
        listener = self.table.highlighted_listener
        owner = self._current_owner(listener) if listener is not None else None
        if owner is None:
            self.notify("No owner process known for this row: nothing to copy.", severity="warning", timeout=4)
            return
        self._copied(f"pid {owner.pid}'s command line", view_export.cmdline_text(owner))

    # -- export ---------------------------------------------------------------------------------------------

    def action_export(self) -> None:
        if isinstance(self.screen, ExportDialog):
            return
        model = self.table.model  # the view: filter and sort applied; rows closed meanwhile left out
        shown = [
            row.listener
            for key in model.order
            if (row := model.rows.get(key)) is not None and row.state is not RowState.GONE
        ]
        try:
            folder = Path.cwd()
        except OSError:  # the working directory was removed
            folder = Path.home()
        self.push_screen(ExportDialog(shown, folder, datetime.now()), self._exported)

    def _exported(self, path: Path | None) -> None:
        if path is not None:
            self.notify(f"Exported to {safe(path, 300)}", title="Exported", markup=False, timeout=6)
