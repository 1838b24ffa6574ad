"""The App: receives its collector, scans in a thread worker, and routes results to the widgets.

One scan runs at a time; the next is scheduled only when the last finished, so polls never pile up. Process
details load in a second, exclusive worker group, and a result for a row that is no longer highlighted is
dropped: the latest selection wins.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any, ClassVar

from textual import work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.content import Content
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer
from textual.worker import get_current_worker

from portwatch.collect import Collector
from portwatch.messages import DetailsLoaded, ScanCompleted, ScanFailed
from portwatch.model import Listener, PortRange, Proto, Scan
from portwatch.process import ProcessInspector
from portwatch.text import safe
from portwatch.widgets.filter_input import FilterInput
from portwatch.widgets.help_screen import HelpScreen
from portwatch.widgets.listener_table import ListenerTable
from portwatch.widgets.process_panel import ProcessPanel
from portwatch.widgets.rows import COLUMN_KEYS
from portwatch.widgets.summary_bar import SummaryBar

MIN_INTERVAL = 0.5
#: A scan running longer than this (seconds) is shown as "scanning" in the header.
SLOW_SCAN = 0.75
PROTO_CYCLE: tuple[Proto | None, ...] = (None, Proto.TCP, Proto.UDP)
RANGE_CYCLE: tuple[PortRange | None, ...] = (None, *PortRange)
#: Command palette entries: (title, help, action).
PALETTE = (
    ("Filter", "Filter by port, address, process, user or service", "filter"),
    ("Sort by next column", "Cycle the sort column", "cycle_sort"),
    ("TCP / UDP", "Show both, TCP only or UDP only", "cycle_proto"),
    ("Range", "Show all ranges or one IANA range only", "cycle_range"),
    ("Pause / resume", "Stop or restart refreshing", "toggle_pause"),
    ("Refresh now", "Scan the sockets again now", "refresh_now"),
    ("Process panel", "Show or hide the process panel", "toggle_panel"),
    ("Help", "Every key and column explained", "help"),
)


class PortwatchApp(App[None]):
    """What is listening on this machine, and should it be?"""

    CSS_PATH = "portwatch.tcss"
    TITLE = "portwatch"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]  # noqa: RUF012 (App declares it without ClassVar)
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        # Priority: decided before the key is forwarded, so the keys typed right after it reach the box.
        Binding("slash", "filter", "Filter", priority=True),
        Binding("s", "cycle_sort", "Sort"),
        Binding("t", "cycle_proto", "TCP/UDP"),
        Binding("r", "cycle_range", "Range"),
        Binding("space", "toggle_pause", "Pause"),
        Binding("ctrl+r,f5", "refresh_now", "Refresh"),
        Binding("p", "toggle_panel", "Panel"),
        Binding("o", "next_owner", "Next pid"),
        Binding("question_mark", "help", "Help"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
    ]

    def __init__(self, collector: Collector, interval: float = 2.0, inspector: ProcessInspector | None = None,
                 *, new_for: float = 10.0, gone_for: float = 5.0, clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self.collector = collector
        self.interval = max(MIN_INTERVAL, interval)
        self.inspector = inspector or ProcessInspector()
        self.new_for, self.gone_for = new_for, gone_for
        #: Wall clock for ages shown in the panel; tests and screenshots fix it.
        self.clock = clock
        self.scan: Scan | None = None
        self.paused = False
        self.scanning = False
        self.failed = False
        self.owner_index = 0
        self._next_scan: Timer | None = None
        self._slow_scan: Timer | None = None
        self._highlighted: Listener | None = None
        # Kept, not queried: a query would search whichever screen is on top (help, command palette).
        self.summary = SummaryBar(id="summary")
        self.table = ListenerTable(id="listeners", new_for=new_for, gone_for=gone_for)
        self.panel = ProcessPanel(id="panel")
        self.filter_box = FilterInput(id="filter")

    def compose(self) -> ComposeResult:
        yield self.summary
        with Horizontal(id="body"):
            yield self.table
            yield self.panel
        yield self.filter_box
        yield Footer()

    def on_mount(self) -> None:
        self.table.focus()
        self._install_signal_handlers()
        self.set_interval(1.0, self._age_rows)
        self.start_scan()

    # -- scanning -----------------------------------------------------------------------------------------

    def start_scan(self) -> None:
        """Run one collector pass in a thread, unless one is already running (its result will do)."""
        if not self.is_running:
            return
        if self._next_scan is not None:
            self._next_scan.stop()
        if self.scanning:
            return
        self.scanning = True
        # Say "scanning" only when the user asked or a pass is slow: a routine pass should not repaint.
        self._slow_scan = self.set_timer(SLOW_SCAN, self._show_state)
        self._scan_worker()

    def action_refresh_now(self) -> None:
        self.start_scan()
        self.summary.show_state("scanning", self.scan, self.interval)

    @work(thread=True, group="scan", exit_on_error=False)
    def _scan_worker(self) -> None:
        try:
            scan = self.collector.scan()
        except Exception as error:  # a failed pass is shown, and polling goes on
            self.post_message(ScanFailed(f"{type(error).__name__}: {error}"))
        else:
            self.post_message(ScanCompleted(scan))

    def on_scan_completed(self, message: ScanCompleted) -> None:
        if not self.is_running:  # a worker's result landing while the app shuts down
            return
        self.scanning, self.failed, self.scan = False, False, message.scan
        self.table.show_listeners(message.scan.listeners)
        self.summary.show_scan(message.scan, self.table.row_count)
        self._after_scan()
        if self.panel.display:  # the panel refreshes while shown: CPU %, sockets, the process still alive
            self._load_details()

    def on_scan_failed(self, message: ScanFailed) -> None:
        if not self.is_running:
            return
        self.scanning, self.failed = False, True
        self.summary.show_notes([Content.assemble(("scan failed: ", "bold $text-error"),
                                                  Content(safe(message.error, 300)))])
        self._after_scan()

    def _after_scan(self) -> None:
        if self._slow_scan is not None:
            self._slow_scan.stop()
        self._show_state()
        self._show_filter_state()
        if not self.paused:
            self._next_scan = self.set_timer(self.interval, self.start_scan)

    def _show_state(self) -> None:
        state = "paused" if self.paused else "scanning" if self.scanning else "error" if self.failed else "live"
        self.summary.show_state(state, self.scan, self.interval)

    def _show_filter_state(self) -> None:
        total = len(self.scan.listeners) if self.scan else 0
        self.summary.show_filter(self.table.view_filter, self.table.row_count, total)

    def _age_rows(self) -> None:
        if self.is_running and not self.paused:
            self.table.age()

    # -- the process panel --------------------------------------------------------------------------------

    def on_listener_table_highlighted(self, message: ListenerTable.Highlighted) -> None:
        if not self.is_running:
            return
        changed = message.listener is None or self._highlighted is None \
            or message.listener.key != self._highlighted.key
        if changed:
            self.owner_index = 0
        self._highlighted = message.listener
        self.refresh_bindings()
        self._load_details()

    def _current_pid(self) -> int | None:
        listener = self._highlighted
        if listener is None or not listener.pids:
            return None
        return listener.pids[self.owner_index % len(listener.pids)]

    def _load_details(self) -> None:
        listener, pid = self._highlighted, self._current_pid()
        self.panel.show_listener(listener, pid)
        if listener is not None and pid is not None:
            self._details_worker("|".join(map(str, listener.key)), listener.pids, pid)

    @work(thread=True, group="details", exclusive=True, exit_on_error=False)
    def _details_worker(self, row_key: str, pids: tuple[int, ...], pid: int) -> None:
        details = self.inspector.inspect(pid)
        if not get_current_worker().is_cancelled:
            self.post_message(DetailsLoaded(row_key, pids, details))

    def on_details_loaded(self, message: DetailsLoaded) -> None:
        if not self.is_running:
            return
        listener = self._highlighted
        if listener is None or "|".join(map(str, listener.key)) != message.row_key \
                or message.details.pid != self._current_pid():
            return  # a stale answer for a row the user has moved away from
        self.panel.show_details(message.pids, message.details, self.clock())

    # -- actions ------------------------------------------------------------------------------------------

    def action_filter(self) -> None:
        self.filter_box.open()

    def on_input_changed(self, event: FilterInput.Changed) -> None:
        self._set_filter(text=event.value)

    def on_filter_input_done(self, message: FilterInput.Done) -> None:
        self.table.focus()

    def action_clear_filter(self) -> None:
        self.filter_box.action_clear()

    def _set_filter(self, **changes: Any) -> None:
        self.table.set_filter(replace(self.table.view_filter, **changes))
        self._show_filter_state()

    def action_cycle_proto(self) -> None:
        current = PROTO_CYCLE.index(self.table.view_filter.proto)
        self._set_filter(proto=PROTO_CYCLE[(current + 1) % len(PROTO_CYCLE)])

    def action_cycle_range(self) -> None:
        current = RANGE_CYCLE.index(self.table.view_filter.port_range)
        self._set_filter(port_range=RANGE_CYCLE[(current + 1) % len(RANGE_CYCLE)])

    def action_cycle_sort(self) -> None:
        sortable = COLUMN_KEYS
        current = sortable.index(self.table.sort_column)
        self.table.sort_by(sortable[(current + 1) % len(sortable)], reverse=False)
        self.notify(f"sorted by {self.table.sort_column}", timeout=1.5)

    def action_toggle_pause(self) -> None:
        self.paused = not self.paused
        if self.paused and self._next_scan is not None:
            self._next_scan.stop()
        elif not self.paused:
            self.start_scan()
        self._show_state()

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
        self.owner_index += 1
        self._load_details()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "next_owner":
            return self._highlighted is not None and len(self._highlighted.pids) > 1
        return True

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for title, help_text, action in PALETTE:
            yield SystemCommand(title, help_text, getattr(self, f"action_{action}"))

    # -- ending cleanly -----------------------------------------------------------------------------------

    def _install_signal_handlers(self) -> None:
        """SIGTERM/SIGHUP would end the process with the terminal still in raw, alternate-screen mode."""
        if self.is_headless or sys.platform == "win32" or threading.current_thread() is not threading.main_thread():
            return
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(signum, self.exit)

    def on_unmount(self) -> None:
        if self.is_headless or sys.platform == "win32":
            return
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGHUP):
            loop.remove_signal_handler(signum)
