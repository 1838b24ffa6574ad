"""Painting the listener table's lines: cells to segments at the column widths, in the colours the .tcss gives
the table's component classes (never Python literals)."""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.cache import LRUCache
from textual.strip import Strip
from textual.widget import Widget

from portwatch.model import ListenerKey
from portwatch.tui.table.rows import COLUMNS, Cell
from portwatch.tui.table.table_model import PAD, TableModel

#: Painted lines kept, by row key: scrolling back over rows that did not change costs no painting.
STRIP_CACHE = 1024

#: Component classes the .tcss styles for rows; cells take their colours from these.
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
#: Each cell's segments carry their column: equal styles in neighbouring cells would otherwise merge into one
#: run, and an SVG export (screenshots, snapshots) draws a long run of spaces less faithfully than one per cell.
COLUMN_META = tuple(Style.from_meta({"column": index}) for index in range(len(COLUMNS)))
VANISHES = tuple(column.vanishes for column in COLUMNS)


def row_strip(
    cells: tuple[Cell, ...],
    widths: list[int],
    width: int,
    base: Style,
    over: Style | None,
    hidden: frozenset[int] = frozenset(),
) -> Strip:
    """One line of cells padded to the column widths; ``over`` (the cursor) is laid over every cell; columns
    in ``hidden`` are left out."""
    segments: list[Segment] = []
    row_style = base + cells[1].style  # the state cell carries the row's style alone
    if over is not None:
        row_style += over
    for index, (cell, column_width, meta, vanishes) in enumerate(
        zip(cells, widths, COLUMN_META, VANISHES, strict=True)
    ):
        if index in hidden or (vanishes and not column_width):
            continue  # hidden by the config, or a vanishing column nothing fills: it takes no room at all
        pad_style = row_style + meta
        if cell.plain:
            style = base + cell.style + meta
            if over is not None:
                style += over
            segments += [
                Segment(" " * PAD, pad_style),
                Segment(cell.plain, style),
                Segment(" " * (column_width - cell.cell_len + PAD), pad_style),
            ]
        else:
            segments.append(Segment(" " * (column_width + 2 * PAD), pad_style))
    return Strip(segments, width)


class ComponentPalette:
    """A widget's component-class styles, resolved against the theme once each (call :meth:`reset` when the
    CSS changes). Calling it with a class name gives only what that class declares, so a row's range colour
    and a "new" tint add up; ``base()`` is the widget's own colour and background."""

    def __init__(self, widget: Widget) -> None:
        self._widget = widget
        self._styles: dict[str, Style] = {}

    def __call__(self, name: str) -> Style:
        style = self._styles.get(name)
        if style is None:
            full = self._widget.get_component_rich_style(name)
            own = self._widget.get_component_rich_style(name, partial=True)
            style = (
                Style(color=full.color if own.color else None, bgcolor=full.bgcolor if own.bgcolor else None)
                + own.without_color
            )
            self._styles[name] = style
        return style

    def base(self) -> Style:
        style = self._styles.get("")
        if style is None:
            style = self._styles[""] = self._widget.rich_style
        return style

    def forget(self, name: str) -> None:
        self._styles.pop(name, None)

    def reset(self) -> dict[str, Style]:
        """Forget every style; return what was known, to tell whether the new theme changed any."""
        known, self._styles = self._styles, {}
        return known


class LinePainter:
    """The table's lines as strips: the header and every row but the cursor's are cached until they change."""

    def __init__(self, model: TableModel, palette: ComponentPalette) -> None:
        self.model, self.palette = model, palette
        self._strips: LRUCache[ListenerKey, Strip] = LRUCache(STRIP_CACHE)
        self._header: Strip | None = None

    def forget(self, *keys: ListenerKey) -> None:
        for key in keys:
            self._strips.discard(key)

    def clear(self) -> None:
        """Columns or colours changed: every line is painted again."""
        self._header = None
        self._strips.clear()

    def _strip(self, cells: tuple[Cell, ...], base: Style, over: Style | None) -> Strip:
        return row_strip(cells, self.model.widths, self.model.width, base, over, self.model.hidden)

    def line(self, y: int, index: int, is_cursor: bool, scroll_x: int, width: int) -> Strip:
        """Screen line ``y`` (0: the header), showing row ``index``, cropped to the visible columns."""
        base = self.palette.base()
        if y == 0:
            if self._header is None:
                header = base + self.palette("listeners--header")
                self._header = self._strip(self.model.header_cells(), header, None)
            return self._header.crop_extend(scroll_x, scroll_x + width, base)
        if index >= self.model.row_count:
            return Strip.blank(width, base)
        key = self.model.order[index]
        if is_cursor:
            cursor = self.palette("listeners--cursor")
            strip = self._strip(self.model.rows[key].cells, base, cursor)
            return strip.crop_extend(scroll_x, scroll_x + width, base + cursor)
        cached = self._strips.get(key)
        if cached is None:
            cached = self._strips[key] = self._strip(self.model.rows[key].cells, base, None)
        return cached.crop_extend(scroll_x, scroll_x + width, base)
