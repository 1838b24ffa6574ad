"""The App's keys: every binding in one list (Footer order), the command palette, and the actions that only
change what the table shows (filter, protocol, range, sort) or open the help. PortwatchApp subclasses this;
the actions that touch scanning, the panel, the baseline and the events view live with it in app.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any, ClassVar

from textual.actions import SkipAction
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from portwatch.model import PortRange, Proto, Scan
from portwatch.tui.settings import filter_commands
from portwatch.tui.table.listener_table import ListenerTable
from portwatch.tui.table.rows import COLUMN_KEYS, HOST_ONLY
from portwatch.tui.widgets.filter_input import FilterInput
from portwatch.tui.widgets.help_screen import HelpScreen
from portwatch.tui.widgets.summary_bar import SummaryBar

PROTO_CYCLE: tuple[Proto | None, ...] = (None, Proto.TCP, Proto.UDP)
RANGE_CYCLE: tuple[PortRange | None, ...] = (None, *PortRange)
#: Command palette entries: (title, help, action).
PALETTE = (
    ("Filter", "Filter by port, address, process, user, service or flag (! alone: unexpected only)", "filter"),
    ("Sort by next column", "Cycle the sort column", "cycle_sort"),
    ("TCP / UDP", "Show both, TCP only or UDP only", "cycle_proto"),
    ("Range", "Show all ranges or one IANA range only", "cycle_range"),
    ("Namespace", "Show every network namespace, the host's only, or one namespace at a time", "cycle_netns"),
    ("Approve", "Add the highlighted listener to the baseline (no confirmation; edit the file to undo)", "approve"),
    (
        "Stop the listener's process",
        "Open the stop dialog: names the target and every choice; Cancel is the default",
        "stop",
    ),
    ("Copy row", "Copy the highlighted row as text (OSC 52 clipboard)", "copy_row"),
    ("Copy command line", "Copy the highlighted owner's full command line (OSC 52 clipboard)", "copy_cmdline"),
    ("Export view", "Save the listeners shown (filter and sort applied) as CSV or JSON", "export"),
    ("Events", "Listeners opened and closed since start, with how long each lived", "events"),
    ("Pause / resume", "Stop or restart refreshing", "toggle_pause"),
    ("Refresh now", "Scan the sockets again now", "refresh_now"),
    ("Process panel", "Show or hide the process panel", "toggle_panel"),
    ("Help", "Every key and column explained", "help"),
)


class ViewKeys(App[None]):
    """Bindings and the view actions; the widgets it drives are created by the subclass."""

    BINDINGS: ClassVar[list[BindingType]] = [
        # Footer order: what fits at 80 columns comes first, and `?` leads to everything else.
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help"),
        # Priority: decided before the key is forwarded, so the keys typed right after it reach the box.
        Binding("slash", "filter", "Filter", priority=True),
        Binding("enter", "keep_filter", show=False, priority=True),
        Binding("a", "approve", "Approve"),
        Binding("k,f9", "stop", "Stop"),
        Binding("x", "export", "Export"),
        Binding("c", "copy_row", "Copy", show=False),
        Binding("C", "copy_cmdline", "Copy cmdline", show=False),
        Binding("e", "events", "Events"),
        Binding("s", "cycle_sort", "Sort"),
        Binding("t", "cycle_proto", "TCP/UDP"),
        Binding("r", "cycle_range", "Range"),
        Binding("n", "cycle_netns", "Netns"),
        Binding("space", "toggle_pause", "Pause"),
        Binding("ctrl+r,f5", "refresh_now", "Refresh"),
        Binding("p", "toggle_panel", "Panel"),
        Binding("o", "next_owner", "Next pid"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
    ]

    table: ListenerTable
    summary: SummaryBar
    #: The config's saved filters (name -> filter text), offered in the command palette.
    saved_filters: dict[str, str]
    filter_box: FilterInput
    scan: Scan | None

    def action_filter(self) -> None:
        self.filter_box.open()

    def on_input_changed(self, event: FilterInput.Changed) -> None:
        if event.input is not self.filter_box:  # the command palette's own input bubbles here too
            return
        self._set_filter(text=event.value)

    def action_keep_filter(self) -> None:
        """Enter in the filter box, handled here in key order: a `q` typed right after it must reach the
        table and quit. Had the box handled it, that `q` would already be queued to the box.

        Asks the screen, not ``has_focus``: when `/`, text and Enter arrive in one read (a paste, ssh, fast
        typing) the box's Focus event is still queued behind them, and ``has_focus`` is still False."""
        if self.screen.focused is not self.filter_box:
            raise SkipAction()
        self.filter_box.keep()
        self.screen.set_focus(self.table)

    def on_filter_input_done(self, message: FilterInput.Done) -> None:
        self.screen.set_focus(self.table)

    def apply_saved_filter(self, text: str) -> None:
        """A saved filter from the palette: the box shows it, as if typed and kept."""
        with self.filter_box.prevent(FilterInput.Changed):  # applied right here, not once more later
            self.filter_box.value = text
        self.filter_box.display = True
        self._set_filter(text=text)

    def action_clear_filter(self) -> None:
        self.filter_box.action_clear()

    def _set_filter(self, **changes: Any) -> None:
        self.table.set_filter(replace(self.table.model.view_filter, **changes))
        self._show_filter_state()

    def _show_filter_state(self) -> None:
        total = len(self.scan.listeners) if self.scan else 0
        self.summary.show_filter(self.table.model.view_filter, self.table.row_count, total)

    def action_cycle_proto(self) -> None:
        current = PROTO_CYCLE.index(self.table.model.view_filter.proto)
        self._set_filter(proto=PROTO_CYCLE[(current + 1) % len(PROTO_CYCLE)])

    def action_cycle_range(self) -> None:
        current = RANGE_CYCLE.index(self.table.model.view_filter.port_range)
        self._set_filter(port_range=RANGE_CYCLE[(current + 1) % len(RANGE_CYCLE)])

    def action_cycle_netns(self) -> None:
        """All namespaces -> the host's only -> each other namespace in turn -> all again."""
        others = sorted(
            (netns for netns in (self.scan.namespaces if self.scan else ()) if not netns.is_host),
            key=lambda netns: (netns.kind.value, netns.label),
        )
        cycle: list[tuple[int | None, str]] = [
            (None, ""),
            (HOST_ONLY, "host"),
            *((netns.inode, netns.label) for netns in others),
        ]
        now = self.table.model.view_filter.netns
        at = next((index for index, (inode, _label) in enumerate(cycle) if inode == now), 0)
        inode, label = cycle[(at + 1) % len(cycle)]
        self._set_filter(netns=inode, netns_label=label)

    def action_cycle_sort(self) -> None:
        sortable = COLUMN_KEYS
        current = sortable.index(self.table.model.sort_column)
        self.table.sort_by(sortable[(current + 1) % len(sortable)], reverse=False)
        self.notify(f"sorted by {self.table.model.sort_column}", timeout=1.5)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for title, help_text, action in PALETTE:
            yield SystemCommand(title, help_text, getattr(self, f"action_{action}"))
        yield from filter_commands(self.saved_filters, self.apply_saved_filter)
