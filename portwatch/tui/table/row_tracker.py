"""The listener table's row life across scans: which rows are new, which closed and linger, and when each mark
expires. Apart from rows.py because it is state over time, not how a row is filtered, sorted or drawn."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from portwatch.changes import Changes
from portwatch.model import Listener, ListenerKey


class RowState(str, enum.Enum):
    STEADY = ""
    NEW = "new"
    GONE = "gone"


@dataclass(slots=True)
class Row:
    listener: Listener
    #: Until when the row counts as new; None for rows present at start (they are not news).
    new_until: float | None = None
    #: When its socket was last seen closed; None while it is open.
    gone_since: float | None = None

    def state(self, now: float) -> RowState:
        if self.gone_since is not None:
            return RowState.GONE
        if self.new_until is not None and now < self.new_until:
            return RowState.NEW
        return RowState.STEADY


@dataclass
class RowTracker:
    """Remembers rows across scans, as TCPView does: new ones are marked a while, closed ones linger dimmed.

    Each method returns the keys of the rows it touched, so the table redraws those and no others.
    """

    new_for: float = 10.0
    gone_for: float = 5.0
    rows: dict[ListenerKey, Row] = field(default_factory=dict)
    scans: int = 0
    #: Rows that time alone will change (marked new, or closed and lingering).
    _pending: set[ListenerKey] = field(default_factory=set)

    def apply(self, changes: Changes, now: float) -> set[ListenerKey]:
        """Take what one scan changed (the change feed): new or different listeners, and those that closed."""
        first = self.scans == 0
        self.scans += 1
        touched: set[ListenerKey] = set()
        for listener in changes.current:
            key = listener.key
            row = self.rows.get(key)
            if row is None or row.gone_since is not None:
                self.rows[key] = Row(listener, new_until=None if first else now + self.new_for)
                if first:
                    self._pending.discard(key)
                else:
                    self._pending.add(key)
            else:
                row.listener = listener
            touched.add(key)
        for gone in changes.closed:
            key = gone.key
            row = self.rows.get(key)
            if row is not None and row.gone_since is None:
                row.gone_since = now
                self._pending.add(key)
                touched.add(key)
        return touched | self.expire(now)

    def expire(self, now: float) -> set[ListenerKey]:
        """Drop closed rows past their grace, and take the mark off new rows past theirs."""
        touched: set[ListenerKey] = set()
        for key in list(self._pending):
            row = self.rows[key]
            if row.gone_since is not None:
                if now - row.gone_since >= self.gone_for:
                    del self.rows[key]
                    self._pending.discard(key)
                    touched.add(key)
            elif row.new_until is not None and now >= row.new_until:
                row.new_until = None
                self._pending.discard(key)
                touched.add(key)
        return touched

    def pending(self) -> bool:
        """Whether some row still carries a mark that time alone will change (so the view needs ticks)."""
        return bool(self._pending)
