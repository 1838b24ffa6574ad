"""Carrying out a stop: plan it from fresh facts, check and signal (or run the manager's stop), then wait a
bounded time and say what happened. The TUI runs this in a thread worker; `portwatch stop` runs it inline.

Nothing here reads the OS itself: facts and signals come from collect's Signaller (``get_signaller``), the decision from
``portwatch.stop_plan``, and whether the listener is still there from a scan of a private collector (the
app's own collector belongs to its scan worker and is not thread-safe).
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable

from portwatch.collect import Collector, Signaller, get_collector, get_signaller
from portwatch.model import Listener
from portwatch.stop_facts import Handle, Sent, StopRequest
from portwatch.stop_plan import Method, Outcome, Result, StopPlan, holder_text, plan_stop, where
from portwatch.text import safe

#: Seconds to wait for the listener to go after a signal or a manager's stop.
DEFAULT_WAIT = 5.0
#: After the target ended, how long the listener may linger (closing, a last worker) before it counts as kept.
LINGER = 1.0
_SIGNALS = {Method.TERM: signal.SIGTERM, Method.KILL: signal.SIGKILL}

#: Looks the listener up now: as the scan sees it, or None when nothing listens there any more.
Lookup = Callable[[Listener], Listener | None]


class ScanLookup:
    """Finds a listener by key in a fresh scan of a collector of its own (one scan at a time)."""

    def __init__(self, collector: Collector | None = None) -> None:
        self._collector = collector
        self._lock = threading.Lock()

    def __call__(self, listener: Listener) -> Listener | None:
        with self._lock:
            if self._collector is None:
                self._collector = get_collector()
            scan = self._collector.scan()
        return next((entry for entry in scan.listeners if entry.key == listener.key), None)


def _holders_text(listener: Listener) -> str:
    if not listener.owners:
        return "a process portwatch cannot see"
    return ", ".join(f"{safe(o.name, 60) or '?'} (pid {o.pid})" for o in listener.owners[:4])


class Stopper:
    """Plans and carries out stops; ``lookup`` and the clock are injected by tests."""

    def __init__(
        self,
        lookup: Lookup | None = None,
        *,
        wait: float = DEFAULT_WAIT,
        poll: float = 0.2,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        use_pidfd: bool | None = None,
        signaller: Signaller | None = None,
    ) -> None:
        self.lookup: Lookup = lookup or ScanLookup()
        self.wait, self.poll, self._sleep, self._clock = wait, poll, sleep, clock
        self.use_pidfd = use_pidfd
        self.signaller = signaller or get_signaller()

    def request(self, listener: Listener) -> StopRequest:
        """The facts a plan is made from, read now (reads /proc: call it from a worker thread)."""
        return self.signaller.request(listener)

    def plan(self, listener: Listener, pick: int | None = None) -> StopPlan:
        """Read the holders' facts now and decide (reads /proc: call it from a worker thread)."""
        return plan_stop(self.request(listener), pick)

    def execute(self, plan: StopPlan, method: Method, dry_run: bool = False) -> Outcome:
        """Carry out one option of ``plan``. Never raises for an outcome the user should read."""
        option = plan.option(method)
        target = plan.target
        if plan.refusal is not None or option is None or target is None:
            return Outcome(Result.REFUSED, plan.refusal or f"{method.value} is not an option for this listener")
        what, who = where(plan.listener), holder_text(target)
        if dry_run:
            return Outcome(Result.DRY_RUN, f"would run `{option.command}` for {what}: {who}; nothing was done")
        handle: Handle | None = None
        if method.is_signal:
            sent = self.signaller.send(target, plan.listener, _SIGNALS[method], use_pidfd=self.use_pidfd)
            if sent.sent is Sent.GONE:
                now = self.lookup(plan.listener)
                if now is not None:
                    return Outcome(
                        Result.CHANGED,
                        f"{who} has exited and {what} changed hands: it is now held by "
                        f"{_holders_text(now)}; nothing was signalled",
                    )
                return Outcome(
                    Result.ALREADY_GONE, f"{who} had already exited and {what} is closed; nothing was signalled"
                )
            if sent.sent is Sent.CHANGED:
                return Outcome(
                    Result.CHANGED,
                    f"refused: {what} changed hands since it was chosen "
                    f"({safe(sent.reason, 200)}); nothing was signalled",
                )
            if sent.sent is Sent.DENIED:
                return Outcome(
                    Result.DENIED,
                    f"permission denied sending {method.value} to {who}: run portwatch as root or as that user",
                )
            handle = sent.handle
        else:
            code, line = self.signaller.run(option.argv)
            if code != 0:
                return Outcome(
                    Result.FAILED, f"`{option.command}` failed (exit {code})" + (f": {safe(line, 200)}" if line else "")
                )
        try:
            return self._await(plan, method, handle)
        finally:
            if handle is not None:
                handle.close()

    def _await(self, plan: StopPlan, method: Method, handle: Handle | None) -> Outcome:
        """Wait up to ``self.wait`` seconds for the listener to go."""
        what, who = where(plan.listener), holder_text(plan.target) if plan.target else "?"
        option = plan.option(method)
        how = f"`{option.command}`" if option is not None and not method.is_signal else method.value
        start = self._clock()
        deadline = start + self.wait
        ended_at: float | None = None
        delay = min(self.poll, 0.02)
        while True:
            now = self.lookup(plan.listener)
            if now is None:
                return Outcome(Result.GONE, f"{what} is gone: {who} ended after {how}")
            moment = self._clock()
            if handle is not None and ended_at is None and not handle.alive():
                ended_at = moment
            if moment >= deadline or (ended_at is not None and moment - ended_at >= LINGER):
                break
            self._sleep(delay)
            delay = min(self.poll, delay * 2)  # a quick exit is seen at once; a slow one costs few scans
        alive = handle.alive() if handle is not None else None
        if alive and method is Method.TERM:
            return Outcome(
                Result.IGNORED,
                f"{who} is still running {self.wait:g} s after SIGTERM and {what} is "
                "still open: it ignored or is still handling SIGTERM; SIGKILL ends it",
            )
        if alive:
            return Outcome(
                Result.STILL_THERE, f"{who} is still running after {how} (stuck in the kernel?); {what} is still open"
            )
        return Outcome(
            Result.STILL_THERE,
            f"{what} is still open after {how}: now held by {_holders_text(now)}"
            + (f"; {who} ended" if alive is False else ""),
        )
