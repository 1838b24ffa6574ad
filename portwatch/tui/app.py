"""The App: receives its collector, scans in a thread worker, and routes results to the widgets.

One scan runs at a time; the next is scheduled only when the last finished, so polls never pile up. Process
details load in a second, exclusive worker group, and a result for a row that is no longer highlighted is
dropped: the latest selection wins.

Each refresh runs the :class:`portwatch.watch.Watcher` in the scan worker: collect, flag against the baseline,
compare with the last refresh. The event loop only draws the result and raises alerts (portwatch.tui.alerts).
With a capture collector, a :class:`portwatch.sentinel.Sentinel` runs in a thread of its own from the first
refresh on, looking several times a second: it alone logs events (and their alerts), so a listener that lived
between two refreshes is in the events view, and one a refresh also drew is logged once.

Mixins it inherits: scan_loop.py (scheduling scans, the sentinel's messages), panel_loading.py (the process
panel), act_keys.py and bindings.py (keys); ending_signals.py restores the terminal on SIGTERM/SIGHUP/SIGQUIT.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.timer import Timer
from textual.widgets import Footer

from portwatch.collect import Collector, Inspector, get_inspector
from portwatch.config import Settings
from portwatch.events import Event
from portwatch.judge import Judge
from portwatch.model import Listener, Scan
from portwatch.sentinel import DEFAULT_CAPTURE_INTERVAL, Sentinel
from portwatch.stop import Stopper
from portwatch.text import safe
from portwatch.tui.act_keys import ActKeys
from portwatch.tui.alerts import Alerts
from portwatch.tui.capture import CaptureThread
from portwatch.tui.ending_signals import ENDING_SIGNALS as ENDING_SIGNALS
from portwatch.tui.ending_signals import catch_ending_signals, release_ending_signals
from portwatch.tui.executor import DaemonExecutor
from portwatch.tui.heap import HeapKeeper
from portwatch.tui.messages import Approved, ScanCompleted, ScanFailed
from portwatch.tui.panel_loading import PanelLoading
from portwatch.tui.scan_loop import SLOW_SCAN as SLOW_SCAN
from portwatch.tui.scan_loop import ScanLoop
from portwatch.tui.settings import ThemeKeeper
from portwatch.tui.table.listener_table import ListenerTable
from portwatch.tui.widgets.events_screen import REFRESH_HINT, EventsScreen, capture_hint
from portwatch.tui.widgets.filter_input import FilterInput
from portwatch.tui.widgets.process_panel import ProcessPanel
from portwatch.tui.widgets.summary_bar import SummaryBar
from portwatch.watch import MIN_INTERVAL, Polled, Watcher


class PortwatchApp(PanelLoading, ScanLoop, ActKeys):
    """What is listening on this machine, and should it be?"""

    CSS_PATH = "portwatch.tcss"
    TITLE = "portwatch"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]  # noqa: RUF012 (App declares it without ClassVar)

    def __init__(
        self,
        collector: Collector,
        interval: float = 2.0,
        inspector: Inspector | None = None,
        *,
        new_for: float = 10.0,
        gone_for: float = 5.0,
        clock: Callable[[], float] = time.time,
        baseline_path: Path | None = None,
        bell: bool = False,
        judge: Judge | None = None,
        host: str | None = None,
        stopper: Stopper | None = None,
        capture: Collector | None = None,
        capture_interval: float = DEFAULT_CAPTURE_INTERVAL,
        watcher: Watcher | None = None,
        first_scan: Future[Polled] | None = None,
        netns: str | None = None,
        settings: Settings | None = None,
    ) -> None:
        """``baseline_path``: the baseline file (None: no baseline; the CLI passes the user's default).
        ``bell``: ring the terminal bell with each alert. ``clock``: ages rows and panel times (tests fix it).
        ``judge``: how scans are judged (a remote host's arrive judged); ``host``: the remote host the
        collector reads (`--host`), named in the header. ``stopper``: carries out the stop key's choices (its
        own collector checks the listener went).
        ``capture``: a second collector (they are not thread-safe) for the sentinel, which polls it every
        ``capture_interval`` s and logs every event; None: events are what the refreshes see.
        ``watcher`` and ``first_scan``: the CLI starts the first refresh before importing Textual
        (watch.poll_in_background) so the first paint already shows the table. ``netns``: --netns NAME|INODE,
        the namespace to show first (`n` moves on from it). ``settings``: the config files' theme, columns
        and saved filters (portwatch.tui.settings)."""
        super().__init__()
        self.settings = settings or Settings()
        self.saved_filters = dict(self.settings.config.filters)
        self.theme_keeper = ThemeKeeper(self, self.settings)
        self.host = host
        self._netns_choice = netns if netns not in (None, "all", "host") else None
        self.collector = collector
        self.interval = max(MIN_INTERVAL, interval)
        self.watcher = watcher or Watcher(collector, baseline_path, judge=judge, log_events=capture is None)
        self._first_scan = first_scan
        self.sentinel = (
            None
            if capture is None
            else Sentinel(
                capture,
                interval=capture_interval,
                baseline=lambda: self.watcher.baseline,
                short_lived_under=self.interval,
            )
        )
        self.capture = None if self.sentinel is None else CaptureThread(self, self.sentinel)
        self.stopper = stopper or Stopper()
        self.alerts = Alerts(self, bell)
        #: Full garbage collections between refreshes, not inside them (tui/heap.py).
        self.heap = HeapKeeper()
        #: The event log as of the last refresh (a copy: the live log belongs to the scan worker).
        self.history: tuple[Event, ...] = ()
        self.inspector = inspector or get_inspector()
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
        self.table = ListenerTable(
            id="listeners", new_for=new_for, gone_for=gone_for, clock=clock, hidden_columns=self.settings.hidden_columns
        )
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
        # thread workers run here: a /proc read stuck in the kernel must not keep `q` from quitting
        asyncio.get_running_loop().set_default_executor(DaemonExecutor())
        self.table.focus()
        if self.host is not None:
            self.summary.show_title(f"portwatch @ {safe(self.host, 60)}")
        catch_ending_signals(self)
        self.theme_keeper.start()
        self.set_interval(1.0, self._age_rows)
        first, self._first_scan = self._first_scan, None
        if first is None:
            self.start_scan()
        elif first.done():  # the usual case: it ran during the imports; the table fills before the first paint
            self.scanning = True
            self._first_scan_done(first)
        else:
            self.scanning = True
            self._slow_scan = self.set_timer(SLOW_SCAN, self._show_state)
            first.add_done_callback(lambda done: self.call_from_thread(self._first_scan_done, done))

    def _first_scan_done(self, first: Future[Polled]) -> None:
        error = first.exception()
        if error is not None:
            self.on_scan_failed(ScanFailed(f"{type(error).__name__}: {error}"))
        else:
            self.on_scan_completed(ScanCompleted(first.result()))

    # -- what a scan changes on screen (scheduling it: scan_loop.py) ---------------------------------------

    def on_scan_completed(self, message: ScanCompleted) -> None:
        if not self.is_running:  # a worker's result landing while the app shuts down
            return
        polled = message.polled
        self.scanning, self.failed, self.scan = False, False, polled.scan
        self.table.show_changes(polled.changes)
        if self._netns_choice is not None:
            self._choose_netns(self._netns_choice, polled.scan)
        self.summary.show_scan(polled.scan, polled.range_counts, polled.hidden_owners, polled.netns_counts)
        # A remote host is judged by its own baseline: its collector says whether it had one.
        judged_by: bool | None = getattr(self.collector, "has_baseline", None)
        has_baseline = polled.has_baseline if judged_by is None else judged_by
        self.summary.show_alarming(polled.alarming_count, has_baseline)
        self.panel.has_baseline = has_baseline
        self.alerts.on_refresh(polled)
        if self.sentinel is None:
            self._show_history(polled.history)
        elif self.capture is not None:  # from the first screen on: start-up is not slowed by a second scan
            self.capture.start()
        if not self.heap.active:
            self.call_after_refresh(self._settle_heap)
        self._after_scan()
        self._follow_scan()

    def _settle_heap(self) -> None:
        self.heap.settle()
        self.set_interval(self.heap.every, self.heap.collect)

    def _choose_netns(self, choice: str, scan: Scan) -> None:
        """Show only the namespace --netns named, once it is found (say so if the first scan lacks it)."""
        from portwatch.netns_scope import NetnsChoiceError, find

        self._netns_choice = None
        try:
            netns = find(choice, scan.namespaces)
        except NetnsChoiceError as error:
            self.notify(f"--netns: {safe(str(error), 200)}", severity="warning")
            return
        self._set_filter(netns=netns.inode, netns_label=netns.label)

    # -- actions (the process panel's: panel_loading.py) --------------------------------------------------

    def action_events(self) -> None:
        if not isinstance(self.screen, EventsScreen):
            hint = REFRESH_HINT if self.sentinel is None else capture_hint(self.sentinel.interval)
            self.push_screen(EventsScreen(self.history, hint))

    def action_approve(self) -> None:
        """No confirmation: approving only adds an entry (the old file is kept as .bak; delete it to undo)."""
        key, listener = self.table.highlighted_key, self.table.highlighted_listener
        row = self.table.model.tracker.rows.get(key) if key is not None else None
        if self.host is not None:
            self.notify(
                f"{safe(self.host, 60)} is judged by its own baseline: approve there "
                "(`portwatch baseline save --merge` on that host).",
                severity="warning",
                timeout=8,
                markup=False,
            )
        elif listener is None or row is None:
            self.notify("No listener highlighted.", severity="warning", timeout=3)
        elif row.gone_since is not None:
            self.notify("That listener has closed: nothing to approve.", severity="warning", timeout=4)
        else:
            self._approve_worker(listener)

    @work(thread=True, group="approve", exit_on_error=False)
    def _approve_worker(self, listener: Listener) -> None:
        self.post_message(Approved(self.watcher.approve(listener)))

    def on_approved(self, message: Approved) -> None:
        if not self.is_running:
            return
        approval = message.approval
        self.notify(
            approval.message,
            title="Approved" if approval.ok else "Not approved",
            markup=False,
            severity="information" if approval.ok else "warning",
            timeout=6 if approval.ok else 10,
        )
        if approval.ok:
            self.start_scan()  # its flag goes at this refresh, not the next scheduled one

    # -- ending cleanly -----------------------------------------------------------------------------------

    def on_unmount(self) -> None:
        if self.capture is not None:
            self.capture.stop()
        self.heap.restore()
        release_ending_signals(self)
