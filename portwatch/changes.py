"""The one comparison of two consecutive scans: what opened, what changed (before and after), what closed.

Computed once per refresh where the scan ran (a worker thread), then consumed by the event log and the
live table alike, so they can never disagree about what happened. The live table has 5,000 rows on a busy
host and a refresh usually changes a handful: handing it only those lets the event loop pay for what
changed instead of walking every listener.
"""

from __future__ import annotations

from dataclasses import dataclass

from portwatch.model import Listener, ListenerKey, Scan


@dataclass(frozen=True, slots=True)
class Changed:
    """One listener that is still there but differs in some field (owners, flags, user, …)."""

    before: Listener
    after: Listener


@dataclass(frozen=True, slots=True)
class Changes:
    """One scan against the one before it. On the first scan every listener is in ``opened``."""

    opened: tuple[Listener, ...]
    changed: tuple[Changed, ...]
    #: The listeners as last seen before they vanished.
    closed: tuple[Listener, ...]
    #: True for the first scan: nothing before it to compare with (what was there is not news).
    first: bool = False
    #: When the scan was taken (seconds since the epoch).
    at: float = 0.0

    @property
    def current(self) -> tuple[Listener, ...]:
        """Listeners new or different this scan: what a view holding the last scan must redraw."""
        return (*self.opened, *(change.after for change in self.changed))

    def __bool__(self) -> bool:
        return bool(self.opened or self.changed or self.closed)


class ChangeFeed:
    """Remembers the last scan's listeners by key; :meth:`update` each new scan against it. One caller at a time."""

    def __init__(self) -> None:
        self._last: dict[ListenerKey, Listener] | None = None

    def update(self, scan: Scan) -> Changes:
        current = {entry.key: entry for entry in scan.listeners}
        last, self._last = self._last, current
        if last is None:
            return Changes(scan.listeners, (), (), first=True, at=scan.taken_at)
        opened: list[Listener] = []
        changed: list[Changed] = []
        for key, entry in current.items():
            before = last.get(key)
            if before is None:
                opened.append(entry)
            elif before != entry:
                changed.append(Changed(before, entry))
        closed = tuple(entry for key, entry in last.items() if key not in current)
        return Changes(tuple(opened), tuple(changed), closed, at=scan.taken_at)
