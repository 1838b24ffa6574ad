"""A log of listeners opening and closing, fed the change feed (portwatch.changes). Pure: no I/O, no clock.

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

from portwatch.changes import Changes
from portwatch.model import Listener, ListenerKey


class EventSource(str, enum.Enum):
    REFRESH = "refresh"
    #: portwatch.sentinel: a poll of the kernel's socket dump several times a second.
    SENTINEL = "sentinel"


class EventKind(str, enum.Enum):
    OPENED = "opened"
    CLOSED = "closed"
    #: Same address, different processes: a restart, or someone else took the port.
    OWNER_CHANGED = "owner-changed"
    #: Same address and process, another program: it exec'd another executable (keeping the socket) or
    #: renamed itself.
    PROGRAM_CHANGED = "program-changed"


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
    #: OWNER_CHANGED and PROGRAM_CHANGED: the pids before the change. An OWNER_CHANGED with none: the
    #: listener was first seen with no process (it had exited, or was not yet found) and now has one.
    previous_pids: tuple[int, ...] = ()
    #: What noticed it: the live view's refresh, or the sentinel that polls the kernel several times a second.
    seen_by: EventSource = EventSource.REFRESH
    #: CLOSED only: it lived less than the log's ``short_lived_under`` (a refresh may never have drawn it).
    short_lived: bool = False
    #: PROGRAM_CHANGED only: the process name and executable before the change.
    previous_name: str | None = None
    previous_exe: str | None = None

    @property
    def key(self) -> ListenerKey:
        return self.listener.key


@dataclass(slots=True)
class _Open:
    listener: Listener
    first_seen: float
    since_start: bool
    #: The listener as last seen with a process: a scan that found none forgets neither who held it nor
    #: which program that was.
    owned: Listener | None


class EventLog:
    """Feed it every scan with :meth:`update`; read the history from :attr:`events` (oldest first)."""

    def __init__(
        self,
        max_events: int = 1000,
        *,
        seen_by: EventSource = EventSource.REFRESH,
        short_lived_under: float | None = None,
    ) -> None:
        """``seen_by`` stamps every event; a close after less than ``short_lived_under`` seconds is marked
        ``short_lived`` (the sentinel passes the drawing interval: such a listener may never have been drawn)."""
        self._open: dict[ListenerKey, _Open] = {}
        self._events: deque[Event] = deque(maxlen=max_events)
        self.seen_by = seen_by
        self.short_lived_under = short_lived_under

    @property
    def events(self) -> tuple[Event, ...]:
        return tuple(self._events)

    def __iter__(self) -> Iterator[Event]:
        return iter(tuple(self._events))

    def __len__(self) -> int:
        return len(self._events)

    def update(self, changes: Changes) -> list[Event]:
        """Record and return what ``changes`` says happened (nothing for the first scan: it only seeds)."""
        now = changes.at
        if changes.first:
            self._open = {entry.key: _Open(entry, now, True, entry if entry.pids else None) for entry in changes.opened}
            return []
        fresh: list[Event] = []
        for entry in changes.closed:
            gone = self._open.pop(entry.key, None)
            first_seen, since_start = (gone.first_seen, gone.since_start) if gone else (now, False)
            lifetime = now - first_seen
            short = not since_start and self.short_lived_under is not None and lifetime < self.short_lived_under
            fresh.append(
                Event(EventKind.CLOSED, entry, now, lifetime, since_start, seen_by=self.seen_by, short_lived=short)
            )
        for entry in changes.opened:
            self._open[entry.key] = _Open(entry, now, False, entry if entry.pids else None)
            fresh.append(Event(EventKind.OPENED, entry, now, seen_by=self.seen_by))
        for change in changes.changed:
            before, after = change.before, change.after
            known = self._open.get(after.key)
            last = (known.owned if known is not None else None) or (before if before.pids else None)
            held = last.pids if last is not None else ()
            if after.pids and set(held).isdisjoint(after.pids):
                # Another process took it (a restart), or its first process is known at last.
                fresh.append(Event(EventKind.OWNER_CHANGED, after, now, previous_pids=held, seen_by=self.seen_by))
            elif last is not None and _program_changed(last, after):
                fresh.append(
                    Event(
                        EventKind.PROGRAM_CHANGED,
                        after,
                        now,
                        previous_pids=last.pids,
                        previous_name=last.process_name,
                        previous_exe=_exes(last),
                        seen_by=self.seen_by,
                    )
                )
            if known is not None:
                known.listener = after
                if after.pids:
                    known.owned = after
        fresh.sort(key=lambda event: (event.listener.port, event.kind.value))
        self._events.extend(fresh)
        return fresh


def _exes(listener: Listener) -> str | None:
    exes = dict.fromkeys(owner.exe for owner in listener.owners if owner.exe)
    return ",".join(exes) if exes else None


def _program_changed(before: Listener, after: Listener) -> bool:
    """A pid that held the socket before and after now runs under another name or from another executable
    (an exe known on one side only is a read that failed, not another program)."""
    was = {owner.pid: owner for owner in before.owners}
    for owner in after.owners:
        old = was.get(owner.pid)
        if old is not None and (old.name != owner.name or (old.exe and owner.exe and old.exe != owner.exe)):
            return True
    return False
