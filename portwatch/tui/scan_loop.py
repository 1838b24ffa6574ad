"""Scan and sentinel plumbing: one refresh at a time in a thread worker, the next scheduled when it ends,
the header's state, pause, and the sentinel's messages. PortwatchApp inherits this and draws the results;
separate from app.py so that the App holds the wiring and what a finished scan changes on screen.
"""

from __future__ import annotations

from textual import work
from textual.content import Content
from textual.timer import Timer

from portwatch.collect import Collector
from portwatch.events import Event
from portwatch.flags import alarming
from portwatch.model import Scan
from portwatch.text import safe
from portwatch.tui.alerts import Alerts
from portwatch.tui.bindings import ViewKeys
from portwatch.tui.messages import CaptureFailed, CaptureLogged, ScanCompleted, ScanFailed
from portwatch.tui.widgets.events_screen import EventsScreen
from portwatch.watch import ALARM_KINDS, Watcher

#: A scan running longer than this (seconds) is shown as "scanning" in the header.
SLOW_SCAN = 0.75


class ScanLoop(ViewKeys):
    """Scheduling scans and showing their state; the attributes are set up by PortwatchApp."""

    collector: Collector
    watcher: Watcher
    interval: float
    alerts: Alerts
    history: tuple[Event, ...]
    scan: Scan | None
    paused: bool
    scanning: bool
    failed: bool
    _next_scan: Timer | None
    _slow_scan: Timer | None

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

    def on_scan_failed(self, message: ScanFailed) -> None:
        if not self.is_running:
            return
        self.scanning, self.failed = False, True
        self.summary.show_notes(
            [Content.assemble(("scan failed: ", "bold $text-error"), Content(safe(message.error, 300)))]
        )
        self._after_scan()

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

    def action_toggle_pause(self) -> None:
        self.paused = not self.paused
        if self.paused and self._next_scan is not None:
            self._next_scan.stop()
        elif not self.paused:
            self.start_scan()
        self._show_state()

    # -- the sentinel -------------------------------------------------------------------------------------

    def _show_history(self, history: tuple[Event, ...]) -> None:
        self.history = history
        for screen in self.screen_stack:
            if isinstance(screen, EventsScreen):
                screen.show(history)

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
