"""Alerts: each refresh's news turned into notifications (and a terminal bell with --bell).

A listener that opens with an alarming flag raises one notification, once per session for the same address
and program; so does an address another, alarming program took over between two refreshes. A service that
restarts keeps its address and its program, and raises nothing; one that flaps open and shut is not
announced every refresh. Listeners already there at start raise nothing;
the header counts them. More than a few at once (a port scan of our own machine, a new baseline file) become
one notification naming the first few. Every open and close stays in the events view either way.

Under heavy churn a notification per refresh would pile up over the panel: at most ``MAX_LIVE`` of ours are on
screen at once (counted by the time each was raised: Textual does not tell when one goes). News arriving while
they are all up is folded, and raised as one summary when the oldest times out (at the next refresh after, or
by a timer when no refresh comes). What was announced is remembered for the session, up to
``ANNOUNCED_LIMIT`` identities, the oldest forgotten first: churn of fresh ports must not grow it forever.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence

from textual.app import App
from textual.timer import Timer

from portwatch.flags import alarming
from portwatch.model import Listener, ListenerKey
from portwatch.text import describe
from portwatch.watch import Polled

#: At most this many listeners get a notification each; beyond, one notification sums them up.
MAX_SEPARATE = 3
#: Seconds an alert stays on screen: long enough to be seen by someone glancing back.
ALERT_TIMEOUT = 20.0
#: At most this many of our alerts on screen at once; news beyond waits, folded into one summary.
MAX_LIVE = 3
#: How many (address, program) identities are remembered as announced; the oldest are forgotten first.
ANNOUNCED_LIMIT = 10_000
#: How many alert texts ``raised`` keeps, newest last.
RAISED_KEPT = 1_000


class Alerts:
    def __init__(self, app: App[None], bell: bool = False, clock: Callable[[], float] = time.monotonic) -> None:
        self.app = app
        self.bell = bell
        #: Times the alerts on screen (tests set a clock of their own).
        self.clock = clock
        self.announced_limit = ANNOUNCED_LIMIT
        self._announced: OrderedDict[tuple[ListenerKey, str], None] = OrderedDict()
        self._live: deque[float] = deque()  # when each of our alerts on screen times out, oldest first
        self._folded: list[Listener] = []  # the first few of the news waiting for room on screen
        #: How many listeners' news is folded, waiting for room on screen.
        self.waiting = 0
        self._timer: Timer | None = None
        #: The last alerts raised, newest last (what the notifications said), for the curious and for tests.
        self.raised: list[str] = []

    def on_refresh(self, polled: Polled) -> None:
        if polled.baseline_notice:
            self.app.notify(
                polled.baseline_notice,
                title="Baseline",
                markup=False,
                severity="error" if polled.baseline_notice_is_error else "information",
                timeout=ALERT_TIMEOUT if polled.baseline_notice_is_error else 5,
            )
        self.announce(polled.alarms)

    def announce(self, alarms: tuple[Listener, ...]) -> None:
        """Raise what is new among ``alarms`` (from a refresh, or from the sentinel between refreshes)."""
        for listener in alarms:
            identity = (listener.key, listener.process_name or "")
            if identity not in self._announced:
                self._remember(identity)
                if len(self._folded) < MAX_SEPARATE + 1:  # enough to name the first few; the rest are counted
                    self._folded.append(listener)
                self.waiting += 1
        self._show_folded()

    @property
    def remembered(self) -> int:
        """How many (address, program) identities are remembered as announced (at most ``announced_limit``)."""
        return len(self._announced)

    def _remember(self, identity: tuple[ListenerKey, str]) -> None:
        self._announced[identity] = None
        while len(self._announced) > self.announced_limit:
            self._announced.popitem(last=False)

    def _show_folded(self) -> None:
        now = self.clock()
        while self._live and self._live[0] <= now:
            self._live.popleft()
        if not self._folded:
            return
        room = MAX_LIVE - len(self._live)
        if room <= 0:
            if self._timer is None:  # raise the folded news when the oldest alert goes, refreshes or not
                self._timer = self.app.set_timer(max(0.1, self._live[0] - now), self._on_timer)
            return
        fresh, count, self._folded, self.waiting = self._folded, self.waiting, [], 0
        if count <= min(MAX_SEPARATE, room):
            for listener in fresh:
                codes = ", ".join(flag.code.value for flag in alarming(listener))
                self._raise(
                    f"{describe(listener)}\n! {codes}\na approves it · e lists events", "Unexpected listener", now
                )
        else:
            self._raise(_summary(fresh, count), f"{count} unexpected listeners", now)
        if self.bell:
            self.app.bell()

    def _on_timer(self) -> None:
        self._timer = None
        self._show_folded()

    def _raise(self, message: str, title: str, now: float) -> None:
        self.raised.append(message)
        del self.raised[:-RAISED_KEPT]
        self._live.append(now + ALERT_TIMEOUT)
        # markup=False: the message quotes process names, which are untrusted (a name may be "[/]").
        self.app.notify(message, title=title, severity="warning", timeout=ALERT_TIMEOUT, markup=False)


def _summary(first: Sequence[Listener], count: int) -> str:
    named = "\n".join(describe(listener) for listener in first[:MAX_SEPARATE])
    return f"{named}\n… and {count - MAX_SEPARATE} more: sort by ! or filter with !"
