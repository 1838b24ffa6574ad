"""The widgets of the portwatch TUI, one a module."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static


def show(widget: Static, content: Content) -> None:
    """Update a Static only when its text or styling changed: an unchanged refresh then costs no repaint.

    A change that provably keeps the widget's size (one line, as wide as before, fitting its width: a clock,
    a CPU figure) repaints the widget alone; anything else asks for a layout pass of the screen as well.
    """
    current = widget.content
    if not isinstance(current, Content):
        widget.update(content)
        return
    if current.plain == content.plain and current.spans == content.spans:
        return
    same_size = (
        content.cell_length == current.cell_length <= widget.content_size.width
        and "\n" not in content.plain
        and "\n" not in current.plain
    )
    widget.update(content, layout=not same_size)
