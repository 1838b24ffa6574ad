"""The process panel: everything about the process behind the highlighted listener.

The widgets are built once and updated in place (the panel refreshes every scan); loading happens in the
app's thread worker, and the panel only shows what it is given.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Grid, VerticalScroll
from textual.content import Content
from textual.widgets import Label, Static

from portwatch.model import Listener, ProcessDetails, ProcessState
from portwatch.tui.widgets import process_view, show


class ProcessPanel(VerticalScroll):
    """Shows one listener's socket and its (first, or chosen) owner process."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.listener: Listener | None = None
        self.details: ProcessDetails | None = None
        #: Whether the app judged flags against a baseline (the Flags section says "expected" or "no baseline").
        self.has_baseline = False

    def compose(self) -> ComposeResult:
        yield Static(Content("No listener highlighted."), id="panel-socket")
        yield Static(Content(""), id="panel-flags")
        yield Static(Content(""), id="panel-notice")
        with Grid(id="panel-fields"):
            for key, label in process_view.FIELDS:
                yield Label(Content(label), classes="field-label")
                yield Static(Content(""), id=f"field-{key}", classes="field-value")

    def on_mount(self) -> None:
        self._show_fields(False)

    def _show_fields(self, visible: bool) -> None:
        self.query_one("#panel-fields").display = visible

    def _notice(self, content: Content | None) -> None:
        notice = self.query_one("#panel-notice", Static)
        show(notice, content or Content(""))
        notice.display = content is not None

    def show_listener(self, listener: Listener | None, pid: int | None) -> None:
        """A new row is highlighted: say what we know now; details follow from show_details()."""
        self.listener = listener
        socket = self.query_one("#panel-socket", Static)
        flags = self.query_one("#panel-flags", Static)
        flags.display = listener is not None
        if listener is None:
            show(socket, Content("No listener highlighted."))
            self._notice(None)
            self._show_fields(False)
            return
        show(socket, process_view.socket_line(listener))
        show(flags, process_view.flags_content(listener, self.has_baseline))
        notice = process_view.owner_notice(listener)
        if notice is not None:
            self.details = None
            self._notice(notice)
            self._show_fields(False)
        elif self.details is None or self.details.pid != pid:
            self.details = None
            self._notice(Content(f"Loading process {pid}…"))
            self._show_fields(False)

    def show_details(self, pids: tuple[int, ...], details: ProcessDetails, now: float) -> None:
        self.details = details
        notice = process_view.state_notice(details)
        if notice is not None:
            self._notice(notice)
            self._show_fields(False)
            return
        assert details.state is ProcessState.OK
        owners = self.listener.owners if self.listener is not None else ()
        owner = next((o for o in owners if o.pid == details.pid), None)
        values = process_view.fields(details, now, owner)
        values["pid"] = process_view.pid_line(pids, details.pid)
        for key, _label in process_view.FIELDS:
            show(self.query_one(f"#field-{key}", Static), values[key])
        self._notice(
            Content.assemble(("Needs sudo to read: ", "$text-warning"), ", ".join(details.denied))
            if details.denied
            else None
        )
        self._show_fields(True)
