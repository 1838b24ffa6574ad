"""The remote host as a Collector for the live view: a stream kept open, reconnected with backoff.

In portwatch mode one ssh session runs `portwatch stream --jsonl` for as long as the view is open; a reader
thread keeps the latest line. In fallback mode each scan() is one round trip over the control connection.
When the connection drops, scan() goes on returning the last data with its age and the reason, and tries
again after 1, 2, 4 … 30 seconds. The Scan's warnings carry the mode and the data's age to the header.
Scans are already judged (remotely, or here for the fallback): give the Watcher :class:`Prejudged`.
"""

from __future__ import annotations

import dataclasses
import subprocess
import threading
import time
from collections.abc import Callable

from portwatch.baseline import Baseline
from portwatch.collect import Ran, SshError, classify_ssh_failure
from portwatch.judge import Judge, JudgedScan
from portwatch.model import ProcessDetails, ProcessState, Scan
from portwatch.remote import wire
from portwatch.remote.host import RemoteError, RemoteHost, RemoteMode, RemoteResult, details_from_scan, ssh_error

BACKOFF_FIRST, BACKOFF_MAX = 1.0, 30.0
#: How long the first scan() waits for the first line before saying the host is slow.
FIRST_WAIT = 30.0


class Prejudged(Judge):
    """The judge for a scan that arrives judged: it changes nothing."""

    def judge(self, scan: Scan, baseline: Baseline | None = None, notes: tuple[str, ...] = ()) -> JudgedScan:
        return JudgedScan(scan, None, notes)


class RemoteCollector:
    """Collector protocol over a RemoteHost. One scan() at a time (the Watcher's worker)."""

    def __init__(self, host: RemoteHost, interval: float = 2.0, clock: Callable[[], float] = time.time) -> None:
        self.host = host
        self.interval = interval
        self.source = f"ssh:{host.label}"
        self._clock = clock
        self._lock = threading.Condition()
        self._latest: RemoteResult | None = None
        self._received_at: float | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._problem: RemoteError | None = None
        self._lost_at: float | None = None
        self._next_attempt = 0.0
        self._backoff = BACKOFF_FIRST
        #: Streams (re)started after the first: tests and the header read it.
        self.reconnects = 0
        self._started_once = False
        self._closed = False

    # -- portwatch mode: the stream ------------------------------------------------------------------------

    def _start_stream(self) -> None:
        command = self.host.stream_command(interval=self.interval)
        proc = self.host.transport.start(command)
        if self._started_once:
            self.reconnects += 1
        self._started_once = True
        self._proc = proc
        threading.Thread(target=self._read, args=(proc,), name=f"portwatch-ssh-{self.host.label}", daemon=True).start()

    def _read(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        problem: RemoteError | None = None
        for line in proc.stdout:
            if not line.strip():
                continue
            try:
                result = self.host.judged(wire.decode(line))
            except wire.WireError as error:
                problem = (
                    RemoteError(
                        f"{self.host.label}: remote portwatch too {'new' if error.too_new else 'old'}: {error}",
                        refused=True,
                    )
                    if error.too_old or error.too_new
                    else RemoteError(f"{self.host.label}: bad record: {error}")
                )
                break
            with self._lock:
                now = self._clock()  # ages and events run on this machine's clock, not the remote one's
                scan = dataclasses.replace(result.judged.scan, taken_at=now)
                result = dataclasses.replace(result, judged=dataclasses.replace(result.judged, scan=scan))
                self._latest, self._received_at, self._problem, self._lost_at = result, now, None, None
                self._backoff = BACKOFF_FIRST
                self._lock.notify_all()
        if proc.poll() is None:
            proc.terminate()
        stderr = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
        status = proc.wait()
        if problem is None:
            problem = self._ended(Ran(status, b"", stderr))
        with self._lock:
            if self._proc is proc:
                self._proc = None
            self._problem, self._lost_at = problem, self._clock()
            self._lock.notify_all()

    def _ended(self, ran: Ran) -> RemoteError | None:
        """Why the stream ended; None when auto mode switched to the fallback instead."""
        if self._closed:
            return RemoteError(f"{self.host.label}: closed")
        if ran.status == 255:
            return ssh_error(classify_ssh_failure(self.host.label, ran.stderr))
        if self._latest is None:  # it never spoke: no portwatch, or one too old?
            try:
                self.host.read_portwatch(ran)
            except RemoteError as error:
                return error
            if self.host.mode is RemoteMode.FALLBACK:
                return None
        return RemoteError(
            f"{self.host.label}: the remote portwatch stopped (exit {ran.status}): "
            f"{(ran.stderr.strip().splitlines() or ['no message'])[-1][:200]}"
        )

    # -- the Collector protocol ----------------------------------------------------------------------------

    def scan(self) -> Scan:
        if self.host.mode is RemoteMode.FALLBACK:
            return self._scan_fallback()
        with self._lock:
            now = self._clock()
            if (
                self._proc is None
                and (self._problem is None or not self._problem.refused)
                and now >= self._next_attempt
                and not self._closed
            ):
                if self._problem is not None:
                    self._next_attempt = now + self._backoff
                    self._backoff = min(BACKOFF_MAX, self._backoff * 2)
                try:
                    self._start_stream()
                except SshError as error:
                    self._problem = ssh_error(error)
            if self._latest is None:
                self._lock.wait_for(lambda: self._latest is not None or self._proc is None, FIRST_WAIT)
            if self._fell_back():
                pass  # the stream said: no portwatch there
            elif self._latest is None:
                raise self._problem or RemoteError(f"{self.host.label}: no data yet (waited {FIRST_WAIT:g} s)")
            else:
                return self._aged(self._latest, self._received_at or now)
        return self._scan_fallback()

    def _fell_back(self) -> bool:
        return self.host.mode is RemoteMode.FALLBACK

    def _aged(self, result: RemoteResult, received_at: float) -> Scan:
        now = self._clock()
        notes = [result.mode_note]
        age = now - received_at
        if self._problem is not None:
            retry = max(0.0, self._next_attempt - now)
            again = (
                "not retrying: fix this first"
                if self._problem.refused
                else f"reconnecting{f' in {retry:.0f} s' if retry >= 1 else ''}"
            )
            notes.append(f"{self._problem}: showing data {age:.0f} s old; {again}")
        elif age > 3 * self.interval + 2:
            notes.append(f"no data from {self.host.label} for {age:.0f} s")
        scan = result.judged.scan
        return dataclasses.replace(scan, warnings=(*notes, *result.judged.notes, *scan.warnings))

    def _scan_fallback(self) -> Scan:
        now = self._clock()
        if now < self._next_attempt and self._latest is not None:
            return self._aged(self._latest, self._received_at or now)
        try:
            result = self.host.fetch()
        except RemoteError as error:
            self._problem, self._lost_at = error, now
            self._next_attempt = now + self._backoff
            self._backoff = min(BACKOFF_MAX, self._backoff * 2)
            if self._latest is None:
                raise
            return self._aged(self._latest, self._received_at or now)
        self._latest, self._received_at, self._problem, self._backoff = result, self._clock(), None, BACKOFF_FIRST
        return self._aged(result, self._received_at)

    @property
    def latest(self) -> RemoteResult | None:
        return self._latest

    @property
    def stale(self) -> bool:
        """Whether the data on show is not fresh: the connection is down, or no line came for a while."""
        if self._problem is not None and self._latest is not None:
            return True
        return self._received_at is not None and self._clock() - self._received_at > 3 * self.interval + 2

    @property
    def has_baseline(self) -> bool:
        """Whether the latest data was judged against a baseline (the remote host's)."""
        return self._latest is not None and self._latest.baseline is not None

    def close(self) -> None:
        self._closed = True
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.host.close()


class RemoteInspector:
    """The panel's process details for a remote host: what the latest scan said about the owner.

    The remote host's parents, cwd, CPU and memory are not fetched per highlight (a round trip each);
    the panel shows them as unknown.
    """

    def __init__(self, collector: RemoteCollector) -> None:
        self._collector = collector

    def inspect(self, pid: int) -> ProcessDetails:
        latest = self._collector.latest
        found = details_from_scan(latest.judged.scan, pid) if latest is not None else None
        return found or ProcessDetails(pid=pid, state=ProcessState.EXITED)
