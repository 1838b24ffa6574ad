"""Messages that carry results from worker threads to the UI: the only things that cross threads."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from portwatch.model import ProcessDetails, Scan


@dataclass
class ScanCompleted(Message):
    """A collector pass finished; an older copy still in the queue is superseded by a newer one."""

    scan: Scan

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ScanCompleted)


@dataclass
class ScanFailed(Message):
    """A collector pass raised; the app shows why and keeps polling."""

    error: str


@dataclass
class DetailsLoaded(Message):
    """Process details for the row ``row_key`` (which may no longer be highlighted: the receiver checks)."""

    row_key: str
    pids: tuple[int, ...]
    details: ProcessDetails
