"""The listener table's cursor: how it moves (keys, clicks), stays in view, and survives a refresh.

A mixin ListenerTable inherits (its bindings name these actions); separate from listener_table.py, which
holds the diff and the painting.
"""

from __future__ import annotations

from textual import events
from textual.scroll_view import ScrollView

from portwatch.model import ListenerKey
from portwatch.tui.table.row_paint import ComponentPalette
from portwatch.tui.table.rows import COLUMN_KEYS
from portwatch.tui.table.table_model import TableModel


class TableCursor(ScrollView):
    """The cursor row and its movement; ``model`` and ``palette`` are set up by ListenerTable."""

    model: TableModel
    palette: ComponentPalette
    cursor_row: int

    def sort_by(self, column_key: str, reverse: bool | None = None) -> None:  # ListenerTable's
        raise NotImplementedError

    def _refresh_row(self, index: int) -> None:  # ListenerTable's
        raise NotImplementedError

    def _report(self) -> None:  # ListenerTable's
        raise NotImplementedError

    @property
    def row_count(self) -> int:
        return self.model.row_count

    @property
    def _page(self) -> int:
        """Rows that fit under the header."""
        return max(1, self.scrollable_content_region.height - 1)

    def move_cursor(self, *, row: int, animate: bool = False, scroll: bool = True) -> None:
        """Put the cursor on row ``row`` (clamped), scroll it into view, and say what is highlighted."""
        del animate  # the cursor jumps, as in htop
        target = max(0, min(row, self.row_count - 1))
        if target != self.cursor_row:
            self._refresh_row(self.cursor_row)
            self.cursor_row = target
            self._refresh_row(target)
        if scroll:
            self._scroll_to_cursor()
        self._report()

    def _restore_cursor(self, key: ListenerKey | None, index: int, follow: bool = True) -> None:
        """Put the cursor back on ``key``; if that row went, on its neighbour at the same position.

        ``follow``: scroll to keep the cursor on screen. A refresh passes whether the cursor was on screen
        before it, so a user who wheeled the view away from the cursor is not pulled back every refresh.
        """
        if self.row_count == 0:
            self.cursor_row = 0
            return
        target = self.model.index_of(key) if key is not None and key in self.model.rows else index
        self.cursor_row = max(0, min(target, self.row_count - 1))
        if follow:
            self._scroll_to_cursor()

    def _cursor_on_screen(self) -> bool:
        top = round(self.scroll_y)
        return top <= self.cursor_row < top + self._page

    def _scroll_to_cursor(self) -> None:
        top, page = round(self.scroll_y), self._page
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False, immediate=True)
        elif self.cursor_row >= top + page:
            self.scroll_to(y=self.cursor_row - page + 1, animate=False, immediate=True)

    def action_cursor_up(self) -> None:
        self.move_cursor(row=self.cursor_row - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor(row=self.cursor_row + 1)

    def action_cursor_page(self, direction: int) -> None:
        self.move_cursor(row=self.cursor_row + direction * self._page)

    def action_cursor_to(self, row: int) -> None:
        self.move_cursor(row=row if row >= 0 else self.row_count - 1)

    def on_click(self, event: events.Click) -> None:
        """A click on a row moves the cursor there; on a header, sorts by that column."""
        offset = event.get_content_offset(self)
        if offset is None:
            return
        if offset.y == 0:
            x = offset.x + round(self.scroll_x)
            for index, key in reversed(list(enumerate(COLUMN_KEYS))):
                if index not in self.model.hidden and x >= self.model.column_x(key):
                    if x < self.virtual_size.width:
                        self.sort_by(key)
                    return
            return
        row = round(self.scroll_y) + offset.y - 1
        if row < self.row_count:
            self.move_cursor(row=row, scroll=False)

    def on_focus(self, event: events.Focus) -> None:
        self.palette.forget("listeners--cursor")  # the cursor is brighter while the table has focus
        self._refresh_row(self.cursor_row)

    def on_blur(self, event: events.Blur) -> None:
        self.palette.forget("listeners--cursor")
        self._refresh_row(self.cursor_row)
