"""Messages that carry results from worker threads to the UI: the only things that cross threads."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from portwatch.model import ListenerKey, ProcessDetails, Scan
from portwatch.sentinel import Captured
from portwatch.stop_plan import StopRequest
from portwatch.watch import Approval, Polled


@dataclass
class ScanCompleted(Message):
    """A refresh finished (collected, flagged, logged). A newer copy in the queue supersedes an older one,
    unless the older one brought events: those carry alerts, which must not be lost."""

    polled: Polled

    @property
    def scan(self) -> Scan:
        return self.polled.scan

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ScanCompleted) and not self.polled.events


@dataclass
class ScanFailed(Message):
    """A collector pass raised; the app shows why and keeps polling."""

    error: str


@dataclass
class DetailsLoaded(Message):
    """Process details for the row ``row_key`` (which may no longer be highlighted: the receiver checks)."""

    row_key: ListenerKey
    pids: tuple[int, ...]
    details: ProcessDetails


@dataclass
class Approved(Message):
    """The approve key's write finished (or was refused): say so, and refresh so the flag goes."""

    approval: Approval


@dataclass
class StopPlanned(Message):
    """The facts for a stop were read (the stop key's worker): open the dialog on them."""

    request: StopRequest


@dataclass
class CaptureLogged(Message):
    """The sentinel logged events between refreshes (opened, closed, taken over): never replaced, each
    may carry an alert."""

    captured: Captured


@dataclass
class CaptureFailed(Message):
    """A sentinel poll raised; shown once in the header, and capture goes on."""

    error: str
