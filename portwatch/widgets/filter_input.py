"""The filter box: hidden until `/`, Enter keeps the filter, Esc clears it; either way the table gets focus back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Input


class FilterInput(Input):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "clear", "Clear filter"),
    ]

    @dataclass
    class Done(Message):
        """The user left the box: with Enter (keep the filter) or Esc (cleared)."""

        cleared: bool

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(placeholder="filter: port, address, process, user, service  (Enter keeps, Esc clears)",
                         id=id, compact=True)

    def action_clear(self) -> None:
        self.value = ""
        self.post_message(self.Done(cleared=True))

    async def action_submit(self) -> None:
        self.post_message(self.Done(cleared=False))
