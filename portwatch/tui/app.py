"""The App: receives its collector, scans in a thread worker, and routes results to the widgets.

One scan runs at a time; the next is scheduled only when the last finished, so polls never pile up. Process
details load in a second, exclusive worker group, and a result for a row that is no longer highlighted is
dropped: the latest selection wins.

Each refresh runs the :class:`portwatch.watch.Watcher` in the scan worker: collect, flag against the baseline,
compare with the last refresh. The event loop only draws the result and raises alerts (portwatch.tui.alerts).
With a capture collector, a :class:`portwatch.sentinel.Sentinel` runs in a thread of its own from the first
refresh on, looking several times a second: it alone logs events (and their alerts), so a listener that lived
between two refreshes is in the events view, and one a refresh also drew is logged once.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.timer import Timer
from textual.widgets import Footer
from textual.worker import get_current_worker

from portwatch.collect import Collector, Inspector, get_inspector
from portwatch.config import Settings
from portwatch.events import Event
from portwatch.flags import alarming
from portwatch.judge import Judge
from portwatch.model import Listener, ListenerKey, Scan
from portwatch.sentinel import DEFAULT_CAPTURE_INTERVAL, Sentinel
from portwatch.stop import Stopper
from portwatch.text import safe
from portwatch.tui.act_keys import ActKeys
from portwatch.tui.alerts import Alerts
from portwatch.tui.capture import CaptureThread
from portwatch.tui.executor import DaemonExecutor
from portwatch.tui.heap import HeapKeeper
from portwatch.tui.messages import Approved, CaptureFailed, CaptureLogged, DetailsLoaded, ScanCompleted, ScanFailed
from portwatch.tui.settings import ThemeKeeper
from portwatch.tui.table.listener_table import ListenerTable
from portwatch.tui.widgets.events_screen import REFRESH_HINT, EventsScreen, capture_hint
from portwatch.tui.widgets.filter_input import FilterInput
from portwatch.tui.widgets.process_panel import ProcessPanel
from portwatch.tui.widgets.summary_bar import SummaryBar
from portwatch.watch import ALARM_KINDS, MIN_INTERVAL, Polled, Watcher

#: A scan running longer than this (seconds) is shown as "scanning" in the header.
SLOW_SCAN = 0.75
#: Signals that end the app through its own exit, so the terminal is restored (kill, a lost ssh session, kill -QUIT).
ENDING_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)


class PortwatchApp(ActKeys):
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
        self._install_signal_handlers()
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
            polled = self.watcher.poll()  # collect, flag, log: all off the event loop
        except Exception as error:  # a failed pass is shown, and polling goes on
            self.post_message(ScanFailed(f"{type(error).__name__}: {error}"))
        else:
            self.post_message(ScanCompleted(polled))

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
        # The highlighted row's listener as this scan saw it: new flags, a restarted service's new pids.
        current = self.table.highlighted_listener
        if current is not None and self._highlighted is not None and current.key == self._highlighted.key:
            self._highlighted = current
        if self.panel.display:  # the panel refreshes while shown: CPU %, sockets, the process still alive
            self._load_details()

    def _settle_heap(self) -> None:
        self.heap.settle()
        self.set_interval(self.heap.every, self.heap.collect)

    def _show_history(self, history: tuple[Event, ...]) -> None:
        self.history = history
        for screen in self.screen_stack:
            if isinstance(screen, EventsScreen):
                screen.show(history)

    # -- the sentinel -------------------------------------------------------------------------------------

    def on_capture_logged(self, message: CaptureLogged) -> None:
        if not self.is_running:
            return
        captured = message.captured
        self._show_history(captured.history)
        self.alerts.announce(
            tuple(event.listener for event in captured.events if event.kind in ALARM_KINDS and alarming(event.listener))
        )

    def on_capture_failed(self, message: CaptureFailed) -> None:
        if self.is_running:
            self.summary.show_notes(
                [Content.assemble(("capture failed: ", "bold $text-error"), Content(safe(message.error, 300)))]
            )

    def on_scan_failed(self, message: ScanFailed) -> None:
        if not self.is_running:
            return
        self.scanning, self.failed = False, True
        self.summary.show_notes(
            [Content.assemble(("scan failed: ", "bold $text-error"), Content(safe(message.error, 300)))]
        )
        self._after_scan()

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

    def _after_scan(self) -> None:
        if self._slow_scan is not None:
            self._slow_scan.stop()
        self._show_state()
        self.call_after_refresh(self.summary.fit_labels)
        self._show_filter_state()
        if not self.paused:
            self._next_scan = self.set_timer(self.interval, self.start_scan)

    def _show_state(self) -> None:
        stale: bool = getattr(self.collector, "stale", False)  # a remote host's data, while reconnecting
        state = (
            "paused"
            if self.paused
            else "scanning"
            if self.scanning
            else "error"
            if self.failed
            else "stale"
            if stale
            else "live"
        )
        self.summary.show_state(state, self.scan, self.interval)

    def _age_rows(self) -> None:
        if self.is_running and not self.paused:
            self.table.age()

    # -- the process panel --------------------------------------------------------------------------------

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

    # -- actions ------------------------------------------------------------------------------------------

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
        listener = self._highlighted
        if listener is None or len(listener.pids) < 2:
            self.notify("This listener has one owner: `o` steps through the owners of a shared socket.", timeout=3)
            return
        self.owner_index += 1
        self._load_details()

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

    def _install_signal_handlers(self) -> None:
        """SIGTERM/SIGHUP/SIGQUIT would end the process with the terminal still in raw, alternate-screen mode
        (SIGQUIT's default also dumps core: `kill -QUIT` is a way to end a program, not to debug this one)."""
        if self.is_headless or sys.platform == "win32" or threading.current_thread() is not threading.main_thread():
            return
        loop = asyncio.get_running_loop()
        for signum in ENDING_SIGNALS:
            loop.add_signal_handler(signum, self.exit)

    def on_unmount(self) -> None:
        if self.capture is not None:
            self.capture.stop()
        self.heap.restore()
        if self.is_headless or sys.platform == "win32":
            return
        loop = asyncio.get_running_loop()
        for signum in ENDING_SIGNALS:
            loop.remove_signal_handler(signum)
