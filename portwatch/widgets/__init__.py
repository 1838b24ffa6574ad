"""The widgets of the portwatch TUI, one a module."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static


def show(widget: Static, content: Content) -> None:
    """Update a Static only when its text or styling changed: an unchanged refresh then costs no repaint."""
    current = widget.content
    if isinstance(current, Content) and current.plain == content.plain and current.spans == content.spans:
        return
    widget.update(content)
