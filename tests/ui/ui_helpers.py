"""Helpers for UI tests: waiting on the running app, and an app that remembers what it notified."""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from portwatch.tui.app import PortwatchApp

#: How long any UI wait may take before the test fails: generous, never a timing assertion.
DEADLINE = 15.0


async def wait_for(pilot: Pilot[Any], predicate: Callable[[], object], timeout: float = DEADLINE) -> None:
    """Let the app run until ``predicate()`` is true; fail with a clear message past the deadline."""
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError(f"condition not met within {timeout}s: {predicate}")
        await pilot.pause(0.05)


class RecordingApp(PortwatchApp):
    """The app, keeping the message of every notification it raised, oldest first (Textual keeps the
    notifications on screen to itself), and counting its bells. Alerts, approvals and baseline notices all go
    through ``notify``; the alert bell through ``bell``."""

    #: Textual reads a relative CSS_PATH beside the subclass's module: point at the app's own file.
    CSS_PATH = str(Path(inspect.getfile(PortwatchApp)).with_name("portwatch.tcss"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.notified: list[str] = []
        self.rings = 0

    def notify(self, message: str, *args: Any, **kwargs: Any) -> None:
        self.notified.append(message)
        super().notify(message, *args, **kwargs)

    def bell(self) -> None:
        self.rings += 1
        super().bell()
