"""The listener table's rows without the widget: which rows are shown, in what order, at what column widths.

The model follows a RowTracker under a ViewFilter and a sort, and says after each update what moved, so the
widget (listener_table.py) can repaint as little as possible. It does not import Textual.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.style import Style

from portwatch.model import Listener, ListenerKey
from portwatch.tui.table.rows import (
    COLUMN_KEYS,
    COLUMNS,
    Cell,
    Palette,
    RowState,
    RowTracker,
    ViewFilter,
    row_cells,
    sort_value,
)

#: A cell's padding on each side, as DataTable draws it.
PAD = 1
#: After the sorted column's label: ascending, descending.
SORT_MARKS = (" ▲", " ▼")


@dataclass(slots=True)
class ShownRow:
    """What one row of the table was drawn from."""

    listener: Listener
    state: RowState
    cells: tuple[Cell, ...]
    sort_key: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Change:
    """What one update did to the table."""

    #: A row arrived or its sort value moved: the order was sorted again.
    moved: bool
    #: Keys of rows that left (closed past their grace, or filtered out).
    removed: tuple[ListenerKey, ...]
    #: Keys of rows whose cells were rebuilt.
    changed: tuple[ListenerKey, ...]
    #: A column grew: every line must be drawn again at the new widths.
    widened: bool


class TableModel:
    """The shown rows by key, their order and the column widths; ``index_of`` is kept lazily."""

    def __init__(self, tracker: RowTracker) -> None:
        self.tracker = tracker
        self.view_filter = ViewFilter()
        self.sort_column = "port"
        self.sort_reverse = False
        self.rows: dict[ListenerKey, ShownRow] = {}
        self.order: list[ListenerKey] = []
        #: The Namespace column appears with the first row outside the host's namespace, and stays.
        self.namespaces_shown = False
        self.widths = self._label_widths()
        self._index: dict[ListenerKey, int] | None = None
        #: Column indices not drawn (the config's `columns` leaves them out); their cells are still built.
        self.hidden: frozenset[int] = frozenset()

    def hide(self, column_keys: frozenset[str]) -> None:
        self.hidden = frozenset(COLUMN_KEYS.index(key) for key in column_keys if key in COLUMN_KEYS)

    @property
    def row_count(self) -> int:
        return len(self.order)

    @property
    def width(self) -> int:
        """The table's width in cells, padding included (hidden columns take none)."""
        return sum(
            width + 2 * PAD
            for index, (width, column) in enumerate(zip(self.widths, COLUMNS, strict=True))
            if index not in self.hidden and (width or not column.vanishes)
        )

    def index_of(self, key: ListenerKey) -> int:
        if self._index is None:
            self._index = {row_key: index for index, row_key in enumerate(self.order)}
        return self._index[key]

    def column_x(self, column_key: str) -> int:
        """Where a column starts, in cells from the table's left edge."""
        at = COLUMN_KEYS.index(column_key)
        return sum(
            width + 2 * PAD
            for index, (width, column) in enumerate(zip(self.widths[:at], COLUMNS[:at], strict=True))
            if index not in self.hidden and (width or not column.vanishes)
        )

    def header_cells(self) -> tuple[Cell, ...]:
        """The column labels, the sorted one marked with its direction."""
        mark = SORT_MARKS[self.sort_reverse]
        return tuple(
            Cell.of(column.label + (mark if column.key == self.sort_column else "") if width else "", Style.null())
            for column, width in zip(COLUMNS, self.widths, strict=True)
        )

    def update(self, now: float, only: set[ListenerKey] | None, palette: Palette) -> Change:
        """Follow the tracker: rebuild rows whose listener or state changed, add and drop rows, re-sort if
        some row arrived or moved. ``only``: the keys a scan or tick touched (None: every row, as after a
        filter change). A row whose listener and state are unchanged is skipped before its cells are built."""
        matches, tracked = self.view_filter.matches, self.tracker.rows
        if only is None:
            wanted = {key: row for key, row in tracked.items() if matches(row.listener)}
            removed = [key for key in self.rows if key not in wanted]
        else:
            wanted, removed = {}, []
            for key in only:
                row = tracked.get(key)
                if row is not None and matches(row.listener):
                    wanted[key] = row
                elif key in self.rows:
                    removed.append(key)
        moved = widened = False
        if not self.namespaces_shown and any(not row.listener.netns.is_host for row in wanted.values()):
            self.namespaces_shown = widened = True
            self.recolour(palette)  # every row gains its Namespace cell ("host" for the host's)
        changed: list[ListenerKey] = []
        widths = self.widths
        for key, row in wanted.items():
            state, shown = row.state(now), self.rows.get(key)
            if shown is not None and shown.state is state and shown.listener == row.listener:
                continue
            cells = row_cells(row.listener, state, palette, self.namespaces_shown)
            sort_key = sort_value(self.sort_column, row.listener, state)
            if shown is None:
                self.order.append(key)
                moved = True
            elif shown.sort_key != sort_key:
                moved = True
            self.rows[key] = ShownRow(row.listener, state, cells, sort_key)
            changed.append(key)
            for column, cell in enumerate(cells):
                if cell.cell_len > widths[column]:
                    widths[column] = max(cell.cell_len, self._label_width(column))
                    widened = True
        for key in removed:
            del self.rows[key]
        if removed:
            gone = set(removed)
            self.order = [key for key in self.order if key not in gone]
            self._index = None
        if moved:
            self._sort()
        return Change(moved, tuple(removed), tuple(changed), widened)

    def sort_by(self, column_key: str, reverse: bool) -> None:
        self.sort_column, self.sort_reverse = column_key, reverse
        for row in self.rows.values():
            row.sort_key = sort_value(column_key, row.listener, row.state)
        self._sort()
        self.measure()  # the sort mark moved to another label

    def recolour(self, palette: Palette) -> None:
        """Rebuild every row's cells in new colours (a theme switch)."""
        for row in self.rows.values():
            row.cells = row_cells(row.listener, row.state, palette, self.namespaces_shown)
        self.measure()

    def measure(self) -> None:
        """Column widths from scratch: the labels (with the sort mark) and every shown cell."""
        widths = self._label_widths()
        for row in self.rows.values():
            for column, cell in enumerate(row.cells):
                if cell.cell_len > widths[column]:
                    widths[column] = max(cell.cell_len, self._label_width(column))
        self.widths = widths

    def _label_width(self, column: int) -> int:
        mark = len(SORT_MARKS[0]) if COLUMNS[column].key == self.sort_column else 0
        return len(COLUMNS[column].label) + mark

    def _label_widths(self) -> list[int]:
        """Each label's width (with the sort mark); a collapsing column's is 0 until a cell fills it (or it is
        the sorted column: then its label shows)."""
        return [
            0 if column.collapses and column.key != self.sort_column else self._label_width(index)
            for index, column in enumerate(COLUMNS)
        ]

    def _sort(self) -> None:
        rows = self.rows
        self.order.sort(key=lambda key: rows[key].sort_key, reverse=self.sort_reverse)
        self._index = None
