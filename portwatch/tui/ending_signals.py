"""Ending cleanly on SIGTERM/SIGHUP/SIGQUIT: the App exits through its own exit, so the terminal is restored.

Separate from app.py: the one place the TUI touches process signals.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import threading

from textual.app import App

#: Signals that end the app through its own exit, so the terminal is restored (kill, a lost ssh session, kill -QUIT).
ENDING_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)


def catch_ending_signals(app: App[None]) -> None:
    """SIGTERM/SIGHUP/SIGQUIT would end the process with the terminal still in raw, alternate-screen mode
    (SIGQUIT's default also dumps core: `kill -QUIT` is a way to end a program, not to debug this one)."""
    if app.is_headless or sys.platform == "win32" or threading.current_thread() is not threading.main_thread():
        return
    loop = asyncio.get_running_loop()
    for signum in ENDING_SIGNALS:
        loop.add_signal_handler(signum, app.exit)


def release_ending_signals(app: App[None]) -> None:
    """Give the signals back their default handling (the app is unmounting)."""
    if app.is_headless or sys.platform == "win32":
        return
    loop = asyncio.get_running_loop()
    for signum in ENDING_SIGNALS:
        loop.remove_signal_handler(signum)
