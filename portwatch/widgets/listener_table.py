"""The live listener table: a keyed diff per refresh, colours from the .tcss, the cursor kept on its listener."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from operator import attrgetter
from typing import TYPE_CHECKING, ClassVar

from rich.style import Style
from rich.text import Text
from textual.coordinate import Coordinate
from textual.geometry import Region
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import CellKey, ColumnKey, RowKey

from portwatch.model import Listener
from portwatch.widgets.rows import COLUMN_KEYS, COLUMNS, RowState, RowTracker, ViewFilter, row_cells, signature

if TYPE_CHECKING:
    from typing_extensions import Self

#: Component classes the .tcss styles; cells take their colours from these, never from Python literals.
ROW_CLASSES = {
    "listeners--well-known",
    "listeners--registered",
    "listeners--dynamic",
    "listeners--new",
    "listeners--gone",
    "listeners--muted",
    "listeners--exposed",
    "listeners--alarming",
    "listeners--flag-mark",
}


class ListenerTable(DataTable[Text]):
    """Listeners, one row each, keyed by ``proto|address|port``."""

    COMPONENT_CLASSES: ClassVar[set[str]] = DataTable.COMPONENT_CLASSES | ROW_CLASSES
    #: Inside a diff, plain refresh() calls (update_cell makes one per cell) are folded into one at the end.
    #: Class-level defaults: DataTable.__init__ already calls refresh().
    _deferring = False
    _deferred = False

    @dataclass
    class Highlighted(Message):
        """The highlighted listener changed (by cursor, sort, filter or its row going away)."""

        row_key: str | None
        listener: Listener | None

    def __init__(self, *, new_for: float = 10.0, gone_for: float = 5.0, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", cursor_background_priority="css", zebra_stripes=False)
        self.tracker = RowTracker(new_for=new_for, gone_for=gone_for)
        self.view_filter = ViewFilter()
        self.sort_column = "port"
        self.sort_reverse = False
        self._signatures: dict[str, tuple[object, ...]] = {}
        #: What each shown row was drawn from: a row whose listener and state are unchanged is not rebuilt.
        self._shown: dict[str, tuple[Listener, RowState]] = {}
        self._palette: dict[str, Style] = {}
        self._reported: str | None = ""  # "" = nothing reported yet, so the first report always goes out

    def on_mount(self) -> None:
        for column in COLUMNS:
            self.add_column(column.label, key=column.key)

    # -- what the app calls -------------------------------------------------------------------------------

    def show_listeners(self, listeners: tuple[Listener, ...], now: float | None = None) -> None:
        """Take a new scan's listeners and redraw by keyed diff."""
        now = time.time() if now is None else now
        self.tracker.update(listeners, now)
        self.refresh_rows(now)

    def age(self, now: float | None = None) -> None:
        """Let time pass: new rows lose their mark, closed rows leave. Cheap when nothing is pending."""
        now = time.time() if now is None else now
        if self.tracker.pending():
            self.tracker.expire(now)
            self.refresh_rows(now)

    def set_filter(self, view_filter: ViewFilter) -> None:
        self.view_filter = view_filter
        self.refresh_rows()

    def sort_by(self, column_key: str, reverse: bool | None = None) -> None:
        """Sort by a column; choosing the current column again flips the order."""
        if reverse is None:
            reverse = not self.sort_reverse if column_key == self.sort_column else False
        self.sort_column, self.sort_reverse = column_key, reverse
        keep = self.highlighted_key
        self._sort()
        self._restore_cursor(keep, self.cursor_row)

    @property
    def highlighted_key(self) -> str | None:
        if self.row_count == 0:  # an empty table still reports cursor_row 0
            return None
        key = self.coordinate_to_cell_key(Coordinate(self.cursor_row, 0)).row_key.value
        return key

    @property
    def highlighted_listener(self) -> Listener | None:
        key = self.highlighted_key
        row = self.tracker.rows.get(key) if key is not None else None
        return row.listener if row is not None else None

    def visible_listeners(self) -> list[Listener]:
        """The listeners shown, in table order."""
        keys = [self.coordinate_to_cell_key(Coordinate(i, 0)).row_key.value for i in range(self.row_count)]
        return [self.tracker.rows[key].listener for key in keys if key in self.tracker.rows]

    # -- the diff -----------------------------------------------------------------------------------------

    def refresh_rows(self, now: float | None = None) -> None:
        """Make the table show the tracker's rows that pass the filter: remove, update and add by key.

        The loop pays for what changed, not for what is shown: a row whose listener and state are unchanged
        is skipped before its cells are built, and the table is re-sorted only when rows arrived, left in a
        batch, or a sort value moved.
        """
        if not self.columns:
            return
        now = time.time() if now is None else now
        keep, keep_index = self.highlighted_key, self.cursor_row
        wanted = {key: row for key, row in self.tracker.rows.items() if self.view_filter.matches(row.listener)}
        removed = [key for key in self._signatures if key not in wanted]
        sort_at = COLUMN_KEYS.index(self.sort_column)
        moved = False
        with self.app.batch_update(), self._one_repaint():
            for key, row in wanted.items():
                state, shown = row.state(now), self._shown.get(key)
                if shown is not None and shown[1] is state and shown[0] == row.listener:
                    continue
                self._shown[key] = (row.listener, state)
                cells = row_cells(row.listener, state, self._style)
                new = signature(cells)
                old = self._signatures.get(key)
                if old is None:
                    self.add_row(*cells, key=key)
                    moved = True
                elif old != new:
                    moved = moved or old[sort_at] != new[sort_at]
                    for column_key, cell, before, after in zip(COLUMN_KEYS, cells, old, new, strict=True):
                        if before != after:
                            self._update_cell(key, column_key, cell)
                self._signatures[key] = new
            batch = bool(removed) and self._remove_rows(removed)
            if moved or batch:
                self._sort()
            if batch:  # as remove_row does, once renumbered: cursor and hover clamped to the rows that remain
                self.cursor_coordinate = self.cursor_coordinate
                self.hover_coordinate = self.hover_coordinate
            if moved or removed:
                self._restore_cursor(keep, keep_index)
        self._report()

    @contextmanager
    def _one_repaint(self) -> Iterator[None]:
        self._deferring, self._deferred = True, False
        try:
            yield
        finally:
            self._deferring = False
            if self._deferred:
                self.refresh()

    def refresh(self, *regions: Region, repaint: bool = True, layout: bool = False, recompose: bool = False) -> Self:
        """Widget.refresh; inside a diff, a plain repaint request only notes that one is due."""
        if self._deferring and not (regions or layout or recompose):
            self._deferred = True
            return self
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    def _update_cell(self, key: str, column_key: str, cell: Text) -> None:
        """update_cell, re-measuring the column only when the cell is wider than it: for a narrower cell,
        DataTable would measure every cell of the column again, once per updated cell. Columns only grow,
        as they do when rows are removed."""
        wider = cell.cell_len > self.columns[ColumnKey(column_key)].content_width
        self.update_cell(key, column_key, cell, update_width=wider)

    def _remove_rows(self, keys: list[str]) -> bool:
        """Remove rows; True when they were dropped in a batch and the caller's sort must renumber the rest.

        DataTable.remove_row renumbers every remaining row (O(rows) each); closed listeners leave together
        (50 a tick at 5,000 rows), so a batch is dropped from the table's stores and one sort renumbers.
        This mirrors remove_row on DataTable's private stores; tests/ui/test_table_diff.py guards it.
        """
        for key in keys:
            del self._signatures[key]
            self._shown.pop(key, None)
        if len(keys) == 1:
            self.remove_row(keys[0])
            return False
        for key in keys:
            row_key = RowKey(key)
            del self.rows[row_key]
            for column_key in self._data.pop(row_key):
                self._updated_cells.discard(CellKey(row_key, column_key))
        self._require_update_dimensions = True  # the virtual height shrinks
        self.check_idle()
        self.refresh(layout=True)
        return True

    def _sort(self) -> None:
        self.sort(self.sort_column, key=attrgetter("sort_key"), reverse=self.sort_reverse)

    def _restore_cursor(self, key: str | None, index: int) -> None:
        """Put the cursor back on ``key``; if that row went, on its neighbour at the same position."""
        if self.row_count == 0:
            return
        target = self.get_row_index(key) if key is not None and key in self._signatures else index
        target = max(0, min(target, self.row_count - 1))
        if target != self.cursor_row:
            self.move_cursor(row=target, animate=False, scroll=True)
        self._report()

    def _report(self) -> None:
        key = self.highlighted_key
        if key != self._reported:
            self._reported = key
            self.post_message(self.Highlighted(key, self.highlighted_listener))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._report()

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        self.sort_by(str(event.column_key.value))

    # -- colours from the .tcss ---------------------------------------------------------------------------

    def _style(self, name: str) -> Style:
        """The style a component class declares (only what it declares), resolved against the theme."""
        style = self._palette.get(name)
        if style is None:
            full = self.get_component_rich_style(name)
            own = self.get_component_rich_style(name, partial=True)
            style = Style(color=full.color if own.color else None,
                          bgcolor=full.bgcolor if own.bgcolor else None) + own.without_color
            self._palette[name] = style
        return style

    def notify_style_update(self) -> None:
        """CSS changed (a theme switch): recolour rows; the diff leaves rows whose styles did not move."""
        super().notify_style_update()
        if self._palette:
            self._palette.clear()
            self._shown.clear()  # every row is redrawn; the diff still updates only cells that changed
            self.call_later(self.refresh_rows)
