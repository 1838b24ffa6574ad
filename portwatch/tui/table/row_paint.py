"""Painting the listener table's lines: cells to segments at the column widths, in the colours the .tcss gives
the table's component classes (never Python literals)."""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

from portwatch.tui.table.rows import COLUMNS, Cell
from portwatch.tui.table.table_model import PAD

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


def row_strip(cells: tuple[Cell, ...], widths: list[int], width: int, base: Style, over: Style | None) -> Strip:
    """One line of cells padded to the column widths; ``over`` (the cursor) is laid over every cell."""
    segments: list[Segment] = []
    row_style = base + cells[1].style  # the state cell carries the row's style alone
    if over is not None:
        row_style += over
    for cell, column_width, meta in zip(cells, widths, COLUMN_META, strict=True):
        pad_style = row_style + meta
        if cell.plain:
            style = base + cell.style + meta
            if over is not None:
                style += over
            segments += [Segment(" " * PAD, pad_style), Segment(cell.plain, style),
                         Segment(" " * (column_width - cell.cell_len + PAD), pad_style)]
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
            style = Style(color=full.color if own.color else None,
                          bgcolor=full.bgcolor if own.bgcolor else None) + own.without_color
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
