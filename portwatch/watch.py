"""One refresh of the live view, without Textual: collect, judge against the baseline, compare, log.

collect -> judge (portwatch.judge) -> change feed (portwatch.changes) -> event log: the same judged pipeline
every command uses, run here once per refresh in the TUI's scan worker.

The TUI calls :meth:`Watcher.poll` in its scan worker thread (one at a time) and :meth:`Watcher.approve` in
another worker thread; both touch the baseline only under a lock. The baseline file is re-read whenever it
changes on disk (one ``stat`` per refresh), so an entry the user edits or deletes takes effect at the next
refresh. A malformed file never stops anything: at start portwatch runs without a baseline, later it keeps
the last good one; either way the one-line error (file:line) is handed back once to be shown.
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

from portwatch.baseline import Baseline, BaselineError, Match, load
from portwatch.baseline_file import approve, default_path, invoking_user
from portwatch.changes import ChangeFeed, Changes
from portwatch.collect import Collector
from portwatch.events import Event, EventKind, EventLog
from portwatch.flags import alarming
from portwatch.judge import Judge, JudgedScan
from portwatch.model import FlagCode, Listener, NetnsKind, PortRange, Scan
from portwatch.text import describe, safe

#: The shortest refresh interval the live view accepts (seconds): the CLI and the App both hold to it.
MIN_INTERVAL = 0.5

#: Events that can raise an alert: a listener that opened, and one another program took over (a restart of
#: the same service keeps its flags, so it raises nothing unless it was alarming before), and one whose process
#: became another program (exec, rename): the alert's identity is the address and the program's name.
ALARM_KINDS = (EventKind.OPENED, EventKind.OWNER_CHANGED, EventKind.PROGRAM_CHANGED)

#: What identifies one version of the file on disk: (inode, size, mtime in ns); None when there is no file.
Stamp = tuple[int, int, int] | None


@dataclass(frozen=True, slots=True)
class Polled:
    """What one refresh produced."""

    judged: JudgedScan
    #: This scan against the last one: the event log has consumed it, the table consumes it next.
    changes: Changes
    #: Events this refresh added (none on the first).
    events: tuple[Event, ...]
    #: The whole log, oldest first (a copy made in the worker: the UI thread never reads the live log).
    history: tuple[Event, ...]
    #: Listeners that opened, or changed owner, this refresh with an alarming flag.
    alarms: tuple[Listener, ...]
    #: Whether flags were judged against a baseline.
    has_baseline: bool
    #: How many listeners carry an alarming flag now (counted here, off the event loop).
    alarming_count: int
    #: A one-line message about the baseline file to show once (malformed, removed, reloaded).
    baseline_notice: str | None = None
    baseline_notice_is_error: bool = False
    #: Listeners per IANA range, and owners hidden for lack of privilege: the header's counts.
    range_counts: dict[PortRange, int] = field(default_factory=dict)
    hidden_owners: int = 0
    #: Listeners per network namespace kind (the header's namespace counts).
    netns_counts: dict[NetnsKind, int] = field(default_factory=dict)

    @property
    def scan(self) -> Scan:
        return self.judged.scan


@dataclass(frozen=True, slots=True)
class Approval:
    """The outcome of the approve key, in one line for a notification."""

    ok: bool
    message: str


def _stamp(path: Path) -> Stamp:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_ino, info.st_size, info.st_mtime_ns)


class Watcher:
    """Holds what must live as long as the app: the judge's caches, the change feed, the event log, the baseline."""

    def __init__(
        self,
        collector: Collector,
        baseline_path: Path | None = None,
        *,
        max_events: int = 1000,
        judge: Judge | None = None,
        log_events: bool = True,
    ) -> None:
        """``judge``: how each scan is judged (default: a fresh Judge; a remote host's arrive judged).
        ``log_events=False``: the refresh only draws; events come from elsewhere (portwatch.sentinel),
        so a listener the sentinel logged is not logged again when a refresh first draws it."""
        self.collector = collector
        self.log_events = log_events
        self.judge = judge or Judge()
        self.log = EventLog(max_events=max_events)
        self.feed = ChangeFeed()
        self.baseline_path = baseline_path
        #: The user's default file is approved into with sudo protections (see baseline_file._target).
        self._explicit = baseline_path is not None and baseline_path != default_path()
        self.baseline: Baseline | None = None
        self._stamp: Stamp = None
        self._started = False
        self._lock = threading.Lock()

    # -- the baseline file ---------------------------------------------------------------------------------

    def _reload(self) -> tuple[str | None, bool]:
        """Re-read the file if it changed since last time: (notice, is_error)."""
        path = self.baseline_path
        if path is None:
            return None, False
        with self._lock:
            first, self._started = not self._started, True
            stamp = _stamp(path)
            if stamp == self._stamp and not first:
                return None, False
            self._stamp = stamp
            if stamp is None:
                had = self.baseline is not None
                self.baseline = None
                return (
                    (f"baseline {safe(path)} was removed: flags no longer say what is expected", False)
                    if had
                    else (None, False)
                )
            try:
                self.baseline = load(path, None if self._explicit else invoking_user())
            except BaselineError as error:
                keep = "" if first or self.baseline is None else " (keeping the baseline read before)"
                return f"{safe(str(error), 400)}{keep}", True
            return (None if first else f"baseline reloaded: {len(self.baseline.entries)} entries"), False

    # -- one refresh ---------------------------------------------------------------------------------------

    def poll(self) -> Polled:
        """Collect, flag and log once. Exceptions from the collector propagate (the caller shows them)."""
        notice, is_error = self._reload()
        baseline = self.baseline
        judged = self.judge.judge(self.collector.scan(), baseline)
        changes = self.feed.update(judged.scan)
        events = tuple(self.log.update(changes)) if self.log_events else ()
        alarms = tuple(e.listener for e in events if e.kind in ALARM_KINDS and alarming(e.listener))
        listeners = judged.listeners
        return Polled(
            judged,
            changes,
            events,
            self.log.events if self.log_events else (),
            alarms,
            baseline is not None,
            len(judged.unexpected),
            notice,
            is_error,
            dict(Counter(e.port_range for e in listeners)),
            judged.hidden_owners,
            dict(Counter(e.netns.kind for e in listeners)),
        )

    # -- the approve key -----------------------------------------------------------------------------------

    def approve(self, listener: Listener) -> Approval:
        """Add an entry expecting ``listener`` to the baseline file. Never raises: the outcome is a message."""
        what = describe(listener)
        path = self.baseline_path
        if any(flag.code is FlagCode.UDP_CLIENT for flag in listener.flags):
            return Approval(
                False, f"{what} is a client's auto-bound UDP socket: its port is random, so there is nothing to approve"
            )
        if path is None:
            return Approval(
                False, "no baseline file: start portwatch with --baseline PATH, or run `portwatch baseline save` first"
            )
        if not path.exists():
            return Approval(
                False,
                f"no baseline yet at {safe(path)}: `portwatch baseline save` records "
                "what listens now; approving one listener alone would flag all the others",
            )
        with self._lock:
            before = self.baseline
            if before is not None and before.match(listener) is Match.FULL:
                rest = ", ".join(flag.code.value for flag in alarming(listener))
                tail = f"; its other flags ({rest}) are about the program and stay" if rest else ""
                return Approval(False, f"{what} is already in the baseline{tail}")
            try:
                self.baseline = approve(listener, path if self._explicit else None)
            except BaselineError as error:
                return Approval(False, safe(str(error), 400))
            self._stamp = _stamp(path)
        hidden = "" if listener.owners else " (owner not visible: the entry matches port, user and exposure)"
        return Approval(True, f"approved {what} into {safe(path)}{hidden}")


def poll_in_background(watcher: Watcher) -> Future[Polled]:
    """The first refresh started in a daemon thread now, so it overlaps what comes before the first screen
    (the TUI's imports): the app draws the table with its first paint instead of an empty one first."""
    future: Future[Polled] = Future()

    def run() -> None:
        try:
            future.set_result(watcher.poll())
        except Exception as error:  # the app reports it as a failed scan
            future.set_exception(error)

    threading.Thread(target=run, name="portwatch-first-scan", daemon=True).start()
    return future
