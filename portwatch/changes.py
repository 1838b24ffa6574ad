"""What changed between two scans, worked out where the scan ran (a worker thread), not on the event loop.

The live table has 5,000 rows on a busy host and a refresh usually changes a handful: handing it only those
lets the event loop pay for what changed instead of walking every listener each refresh.
"""

from __future__ import annotations

from dataclasses import dataclass

from portwatch.model import Listener, ListenerKey, Scan


@dataclass(frozen=True, slots=True)
class ScanDiff:
    """One scan against the one before it."""

    #: Listeners that are new, or differ in any field (owners, flags, user, …) from the last scan's.
    changed: tuple[Listener, ...]
    #: Keys of listeners the last scan had and this one does not.
    closed: tuple[ListenerKey, ...]
    #: True for the first scan: ``changed`` is every listener.
    first: bool = False


class ScanDiffer:
    """Remembers the last scan's listeners by key; :meth:`diff` each new scan against it. One caller at a time."""

    def __init__(self) -> None:
        self._last: dict[ListenerKey, Listener] | None = None

    def diff(self, scan: Scan) -> ScanDiff:
        current = {entry.key: entry for entry in scan.listeners}
        last, self._last = self._last, current
        if last is None:
            return ScanDiff(scan.listeners, (), first=True)
        changed = tuple(entry for key, entry in current.items() if last.get(key) != entry)
        closed = tuple(key for key in last if key not in current)
        return ScanDiff(changed, closed)
