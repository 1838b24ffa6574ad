"""Alerts: each refresh's news turned into notifications (and a terminal bell with --bell).

A listener that opens with an alarming flag raises one notification, once per session for the same address
and program; so does an address another, alarming program took over between two refreshes. A service that
restarts keeps its address and its program, and raises nothing; one that flaps open and shut is not
announced every refresh. Listeners already there at start raise nothing;
the header counts them. More than a few at once (a port scan of our own machine, a new baseline file) become
one notification naming the first few. Every open and close stays in the events view either way.
"""

from __future__ import annotations

from textual.app import App

from portwatch.flags import alarming
from portwatch.model import Listener, ListenerKey
from portwatch.text import describe
from portwatch.watch import Polled

#: At most this many listeners get a notification each; beyond, one notification sums them up.
MAX_SEPARATE = 3
#: Seconds an alert stays on screen: long enough to be seen by someone glancing back.
ALERT_TIMEOUT = 20.0


class Alerts:
    def __init__(self, app: App[None], bell: bool = False) -> None:
        self.app = app
        self.bell = bell
        self._announced: set[tuple[ListenerKey, str]] = set()
        #: Every alert raised, newest last (what the notifications said), for the curious and for tests.
        self.raised: list[str] = []

    def on_refresh(self, polled: Polled) -> None:
        if polled.baseline_notice:
            self.app.notify(polled.baseline_notice, title="Baseline", markup=False,
                            severity="error" if polled.baseline_notice_is_error else "information",
                            timeout=ALERT_TIMEOUT if polled.baseline_notice_is_error else 5)
        self.announce(polled.alarms)

    def announce(self, alarms: tuple[Listener, ...]) -> None:
        """Raise what is new among ``alarms`` (from a refresh, or from the sentinel between refreshes)."""
        fresh: list[Listener] = []
        for listener in alarms:
            identity = (listener.key, listener.process_name or "")
            if identity not in self._announced:
                self._announced.add(identity)
                fresh.append(listener)
        if not fresh:
            return
        if len(fresh) <= MAX_SEPARATE:
            for listener in fresh:
                codes = ", ".join(flag.code.value for flag in alarming(listener))
                self._raise(f"{describe(listener)}\n! {codes}\na approves it · e lists events",
                            "Unexpected listener")
        else:
            named = "\n".join(describe(listener) for listener in fresh[:MAX_SEPARATE])
            self._raise(f"{named}\n… and {len(fresh) - MAX_SEPARATE} more: sort by ! or filter with !",
                        f"{len(fresh)} unexpected listeners")
        if self.bell:
            self.app.bell()

    def _raise(self, message: str, title: str) -> None:
        self.raised.append(message)
        # markup=False: the message quotes process names, which are untrusted (a name may be "[/]").
        self.app.notify(message, title=title, severity="warning", timeout=ALERT_TIMEOUT, markup=False)
