"""A log of listeners opening and closing, fed one scan at a time. Pure: no I/O, no clock, no Textual.

Listeners are keyed by ``Listener.key`` (protocol, address, port), never by pid, so a service restarted
between two scans is one listener whose owner changed, not a close and an open. Times are the scans'
``taken_at``, so they are as precise as the refresh interval: a listener first seen at scan t1 and first
missing at scan t2 opened in (t0, t1] and closed in (t_last, t2]; its lifetime is reported as t2 - t1,
which can err by up to one interval either way. A listener that lived between two scans is never seen.

The first scan seeds the log without events: what was already there is not news. Listeners present at
start that later close carry ``since_start=True``: their lifetime is "at least" the reported value.
Memory is bounded: the open set is the current listeners, and the log keeps the last ``max_events``.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

from portwatch.model import Listener, ListenerKey, Scan


class EventKind(str, enum.Enum):
    OPENED = "opened"
    CLOSED = "closed"
    #: Same address, different processes: a restart, or someone else took the port.
    OWNER_CHANGED = "owner-changed"


@dataclass(frozen=True, slots=True)
class Event:
    kind: EventKind
    #: The listener as last seen (for CLOSED: before it vanished), with its flags.
    listener: Listener
    #: When the scan that noticed it was taken (seconds since the epoch).
    at: float
    #: CLOSED only: seconds between the scan that first saw it and the scan that found it gone.
    lifetime: float | None = None
    #: CLOSED only: it was already open at the first scan, so ``lifetime`` is a lower bound.
    since_start: bool = False
    #: OWNER_CHANGED only: the pids before the change.
    previous_pids: tuple[int, ...] = ()

    @property
    def key(self) -> ListenerKey:
        return self.listener.key


@dataclass(slots=True)
class _Open:
    listener: Listener
    first_seen: float
    since_start: bool


class EventLog:
    """Feed it every scan with :meth:`update`; read the history from :attr:`events` (oldest first)."""

    def __init__(self, max_events: int = 1000) -> None:
        self._open: dict[ListenerKey, _Open] = {}
        self._events: deque[Event] = deque(maxlen=max_events)
        self._seeded = False

    @property
    def events(self) -> tuple[Event, ...]:
        return tuple(self._events)

    def __iter__(self) -> Iterator[Event]:
        return iter(tuple(self._events))

    def __len__(self) -> int:
        return len(self._events)

    def update(self, scan: Scan) -> list[Event]:
        """Compare ``scan`` with the last one; record and return what changed (nothing on the first scan)."""
        now = scan.taken_at
        current = {entry.key: entry for entry in scan.listeners}
        if not self._seeded:
            self._seeded = True
            self._open = {key: _Open(entry, now, True) for key, entry in current.items()}
            return []
        fresh: list[Event] = []
        for key in self._open.keys() - current.keys():
            gone = self._open.pop(key)
            fresh.append(Event(EventKind.CLOSED, gone.listener, now, now - gone.first_seen, gone.since_start))
        for key, entry in current.items():
            known = self._open.get(key)
            if known is None:
                self._open[key] = _Open(entry, now, False)
                fresh.append(Event(EventKind.OPENED, entry, now))
                continue
            if known.listener.pids and entry.pids and set(known.listener.pids).isdisjoint(entry.pids):
                fresh.append(Event(EventKind.OWNER_CHANGED, entry, now, previous_pids=known.listener.pids))
            known.listener = entry
        fresh.sort(key=lambda event: (event.listener.port, event.kind.value))
        self._events.extend(fresh)
        return fresh
