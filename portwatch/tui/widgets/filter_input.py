"""The filter box: hidden until `/`, Enter keeps the filter, Esc clears it; either way the table gets focus back."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Input


class FilterInput(Input):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "clear", "Clear filter"),
    ]

    class Done(Message):
        """The user left the box with Esc, clearing it (Enter is the app's: see ViewKeys.action_keep_filter)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(
            placeholder="filter: port, address, process, user, service  (Enter keeps, Esc clears)", id=id, compact=True
        )

    def on_mount(self) -> None:
        self.display = False

    def open(self) -> None:
        """Show the box and focus it at once: the keys typed right after `/` must land here."""
        if self.has_focus:  # `/` is a priority binding, so it arrives here too: then it is just a character
            self.insert_text_at_cursor("/")
            return
        self.display = True
        self.screen.set_focus(self)  # not focus(), which waits a turn while typed keys go to the table

    def action_clear(self) -> None:
        self.value = ""
        self.display = False
        self.post_message(self.Done())

    def keep(self) -> None:
        """Enter: keep the filter; a kept filter stays in sight. Decided after the keys already queued to the box
        (text that arrived in the same read as the Enter) have reached its value."""
        self.call_later(self._show_if_kept)

    def _show_if_kept(self) -> None:
        self.display = bool(self.value)
