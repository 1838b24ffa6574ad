"""The sentinel's thread inside the live view: started once, stopped with the app, never on the event loop.

What it captures crosses back only by ``post_message`` (CaptureLogged, CaptureFailed); the app routes it to
the events view and the alerts.
"""

from __future__ import annotations

import threading

from textual.message_pump import MessagePump

from portwatch.sentinel import Captured, Sentinel
from portwatch.tui.messages import CaptureFailed, CaptureLogged


class CaptureThread:
    def __init__(self, target: MessagePump, sentinel: Sentinel) -> None:
        self.target = target
        self.sentinel = sentinel
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def started(self) -> bool:
        return self._thread is not None

    def start(self) -> None:
        if self._thread is not None:
            return

        def deliver(captured: Captured) -> None:
            if captured.events:
                self.target.post_message(CaptureLogged(captured))

        def failed(error: Exception) -> None:
            self.target.post_message(CaptureFailed(f"{type(error).__name__}: {error}"))

        self._thread = threading.Thread(
            target=self.sentinel.run, args=(self._stop, deliver, failed), name="portwatch-sentinel", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Ask it to stop; it is a daemon thread, so a look stuck in the kernel cannot hold the exit."""
        self._stop.set()
