"""Helpers for UI tests: waiting on the running app, row keys, the hostile child's name and argv."""

from __future__ import annotations

import textwrap
import time
from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot

#: How long any UI wait may take before the test fails: generous, never a timing assertion.
DEADLINE = 15.0


async def wait_for(pilot: Pilot[Any], predicate: Callable[[], object], timeout: float = DEADLINE) -> None:
    """Let the app run until ``predicate()`` is true; fail with a clear message past the deadline."""
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError(f"condition not met within {timeout}s: {predicate}")
        await pilot.pause(0.05)


HOSTILE_COMM = "[/]\x1b]52;c;x\x07"  # 11 bytes: the kernel keeps 15
HOSTILE_ARGV = ("[/]", "[@click=app.quit]", "[bold red]x", "\x1b]52;c;aGVsbG8=\x07", "\x1b[2J", "[b]")

HOSTILE_SCRIPT = textwrap.dedent("""
    import ctypes, socket, sys
    libc = ctypes.CDLL(None, use_errno=True)
    PR_SET_NAME = 15
    if libc.prctl(PR_SET_NAME, ctypes.c_char_p(sys.argv[1].encode()), 0, 0, 0) != 0:
        sys.exit("prctl failed")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    print(sock.getsockname()[1], flush=True)
    sys.stdin.read()
""")



