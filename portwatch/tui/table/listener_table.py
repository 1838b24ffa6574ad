"""The live listener table: a Line API widget that draws only the lines on screen, each from cached segments.

Not DataTable: every add, update or sort there re-renders every visible cell through Rich, and each new row
is re-measured on idle; here a refresh costs the rows that changed (README, "The live view at scale").
The cursor stays on its listener (by key) through refreshes, sorts, filters and removals; when that row
goes it lands on the neighbour at the same position (table_cursor.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from rich.style import Style
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.strip import Strip

from portwatch.changes import Changes
from portwatch.model import Listener, ListenerKey
from portwatch.tui.table.row_paint import ROW_CLASSES, ComponentPalette, LinePainter
from portwatch.tui.table.rows import COLUMN_KEYS, Cell, RowTracker, ViewFilter
from portwatch.tui.table.table_cursor import TableCursor
from portwatch.tui.table.table_model import TableModel

#: Rendered rows kept: several screens' worth, so scrolling back and forth re-renders nothing.


#: What the table "reported" before its first report, so that one always goes out.
_NOTHING_REPORTED = object()


class ListenerTable(TableCursor, can_focus=True):
    """Listeners, one row each, keyed by ``Listener.key``; a header line that stays on top."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"listeners--header", "listeners--cursor"} | ROW_CLASSES
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor_up", "Up", show=False),
        Binding("down", "cursor_down", "Down", show=False),
        Binding("pageup", "cursor_page(-1)", "Page up", show=False),
        Binding("pagedown", "cursor_page(1)", "Page down", show=False),
        Binding("home", "cursor_to(0)", "First", show=False),
        Binding("end", "cursor_to(-1)", "Last", show=False),
    ]

    @dataclass
    class Highlighted(Message):
        """The highlighted listener changed (by cursor, sort, filter or its row going away)."""

        row_key: ListenerKey | None
        listener: Listener | None

    def __init__(
        self,
        *,
        new_for: float = 10.0,
        gone_for: float = 5.0,
        clock: Callable[[], float] = time.time,
        id: str | None = None,
        hidden_columns: frozenset[str] = frozenset(),
    ) -> None:
        """``clock``: the app's clock, which ages rows (tests advance it instead of sleeping).
        ``hidden_columns``: column keys not drawn (the config's `columns`)."""
        super().__init__(id=id)
        self.clock = clock
        self.model = TableModel(RowTracker(new_for=new_for, gone_for=gone_for))
        self.model.hide(hidden_columns)
        self.cursor_row = 0
        self.palette = ComponentPalette(self)
        self.painter = LinePainter(self.model, self.palette)
        self._reported: ListenerKey | object | None = _NOTHING_REPORTED  # so the first report always goes out

    # -- what the app calls -------------------------------------------------------------------------------

    def show_changes(self, changes: Changes, now: float | None = None) -> None:
        """Take what a scan changed (the change feed, worked out in the scan worker): only those rows are looked at."""
        now = self._now(now)
        self.refresh_rows(now, self.model.tracker.apply(changes, now))

    def age(self, now: float | None = None) -> None:
        """Let time pass: new rows lose their mark, closed rows leave. Costs nothing when nothing is pending."""
        now = self._now(now)
        tracker = self.model.tracker
        if tracker.pending():
            touched = tracker.expire(now)
            if touched:
                self.refresh_rows(now, touched)

    def set_filter(self, view_filter: ViewFilter) -> None:
        self.model.view_filter = view_filter
        self.refresh_rows()

    def sort_by(self, column_key: str, reverse: bool | None = None) -> None:
        """Sort by a column; choosing the current column again flips the order."""
        if reverse is None:
            reverse = not self.model.sort_reverse if column_key == self.model.sort_column else False
        keep = self.highlighted_key
        self.model.sort_by(column_key, reverse)
        self._redraw_all()
        self._restore_cursor(keep, self.cursor_row)

    @property
    def highlighted_key(self) -> ListenerKey | None:
        return self.model.order[self.cursor_row] if self.model.order else None

    @property
    def highlighted_listener(self) -> Listener | None:
        key = self.highlighted_key
        row = self.model.tracker.rows.get(key) if key is not None else None
        return row.listener if row is not None else None

    def visible_listeners(self) -> list[Listener]:
        """The listeners shown, in table order."""
        tracked = self.model.tracker.rows
        return [tracked[key].listener for key in self.model.order if key in tracked]

    def get_row_index(self, key: ListenerKey) -> int:
        return self.model.index_of(key)

    def key_at(self, index: int) -> ListenerKey:
        return self.model.order[index]

    def column_x(self, column_key: str) -> int:
        """Where a column starts, in cells from the table's left edge (before horizontal scrolling)."""
        return self.model.column_x(column_key)

    def get_row(self, key: ListenerKey) -> tuple[Cell, ...]:
        return self.model.rows[key].cells

    def get_cell(self, key: ListenerKey, column_key: str) -> Cell:
        return self.model.rows[key].cells[COLUMN_KEYS.index(column_key)]

    # -- the diff -----------------------------------------------------------------------------------------

    def refresh_rows(self, now: float | None = None, only: set[ListenerKey] | None = None) -> None:
        """Make the table show the tracker's rows that pass the filter (``only``: the keys a scan or tick
        touched; None: all). When the rows on screen stay where they were, only lines that changed are
        repainted."""
        now = self._now(now)
        keep, keep_index = self.highlighted_key, self.cursor_row
        on_screen, follow = self._on_screen(), self._cursor_on_screen()
        change = self.model.update(now, only, self.palette)
        self.painter.forget(*change.changed, *change.removed)
        if change.widened:
            self.painter.clear()
        self._resize()
        if change.moved or change.removed:
            self._restore_cursor(keep, keep_index, follow)
        if change.widened or self._on_screen() != on_screen:
            self.refresh()
        else:
            for key in change.changed:
                self._refresh_row(self.model.index_of(key))
        self._report()

    def _on_screen(self) -> tuple[int, list[ListenerKey]]:
        """The cursor's index and the keys of the rows on screen, to tell whether a diff moved any line."""
        top = round(self.scroll_y)
        return self.cursor_row, self.model.order[top : top + self._page]

    def _report(self) -> None:
        key = self.highlighted_key
        if key != self._reported:
            self._reported = key
            self.post_message(self.Highlighted(key, self.highlighted_listener))

    # -- painting -----------------------------------------------------------------------------------------

    def _refresh_row(self, index: int) -> None:
        """Repaint one row's line, if it is on screen."""
        y = index - round(self.scroll_y) + 1
        if 1 <= y < self.size.height:
            self.refresh(Region(0, y, self.size.width, 1))

    def _redraw_all(self) -> None:
        """Columns or colours changed: every line is drawn again."""
        self.painter.clear()
        self._resize()
        self.refresh()

    def _resize(self) -> None:
        size = Size(self.model.width, self.row_count + 1)
        before = self.virtual_size
        if size == before:
            return
        if size.width == before.width and self._scrolls(size.height) == self._scrolls(before.height) is not None:
            # Rows came or went but the table neither changed width nor gained or lost its scrollbar: the
            # screen's layout stands, so skip the reflow of every widget that setting virtual_size asks for.
            self.set_reactive(ListenerTable.virtual_size, size)
            self._scroll_update(size)
            return
        self.virtual_size = size  # a layout pass: the table's width is `auto`
        self.refresh(layout=True)

    def _scrolls(self, height: int) -> bool | None:
        """Whether ``height`` lines need the vertical scrollbar; None too close to the edge to say."""
        room = self.container_size.height
        if height > room + 2:
            return True
        if height < room - 2:
            return False
        return None

    def render_line(self, y: int) -> Strip:
        index = round(self.scroll_y) + y - 1
        return self.painter.line(y, index, index == self.cursor_row, round(self.scroll_x), self.size.width)

    # -- colours from the .tcss ---------------------------------------------------------------------------

    def notify_style_update(self) -> None:
        """CSS changed (a theme switch, or focus): recolour the rows if any colour they use changed."""
        super().notify_style_update()
        known = self.palette.reset()
        if known:
            self.call_later(self._recolour, known)

    def _recolour(self, known: dict[str, Style]) -> None:
        if any(self.palette(name) != style for name, style in known.items() if name):
            self.model.recolour(self.palette)
        self._redraw_all()

    def _now(self, now: float | None) -> float:
        return self.clock() if now is None else now
