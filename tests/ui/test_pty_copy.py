"""Copying under a real pseudo-terminal: the OSC 52 write Textual sends carries only safe text.

A hostile process name holds an OSC 52 sequence of its own and a BEL; the copy must carry them as visible
escapes, so the terminal receives exactly one clipboard write per copy, with no control byte inside it.
"""

from __future__ import annotations

import base64
import os
import re
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.ui.test_pty import read_until, start, stop

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pty")

SCRIPT = textwrap.dedent("""
    from tests.ui.fixed_data import FixedCollector, FixedInspector, sample_scan
    from portwatch.tui.app import PortwatchApp

    app = PortwatchApp(collector=FixedCollector(sample_scan(hostile=True)), interval=0.5, inspector=FixedInspector())
    app.run()
    print("APP-ENDED", flush=True)
""")

#: Textual's clipboard write: OSC 52, clipboard "c", base64 text, BEL.
OSC52 = re.compile(rb"\x1b\]52;c;([A-Za-z0-9+/=]*)\x07")
CONTROL = {*range(0x00, 0x20), 0x7F}


def test_copied_text_of_a_hostile_name_carries_no_control_byte(tmp_path: Path) -> None:
    proc, leader = start(tmp_path, SCRIPT)
    try:
        output = read_until(leader, b"31337", 15)
        assert b"31337" in output, output[-2000:]
        os.write(leader, b"/31337")
        time.sleep(0.3)
        os.write(leader, b"\r")
        time.sleep(0.5)
        os.write(leader, b"c")
        output += read_until(leader, b"\x1b]52;c;", 10)
        os.write(leader, b"C")
        deadline = time.monotonic() + 10
        while len(OSC52.findall(output)) < 2 and time.monotonic() < deadline:
            output += read_until(leader, b"\x07", 1)
        os.write(leader, b"q")
        output += read_until(leader, b"APP-ENDED", 15)
        assert proc.wait(timeout=10) == 0
    finally:
        stop(proc, leader)
    payloads = [base64.b64decode(found) for found in OSC52.findall(output)]
    assert len(payloads) == 2, output[-3000:]
    row, name = (payload.decode("utf-8") for payload in payloads)
    assert row.startswith("tcp 127.0.0.1:31337") and "\\x1b]52;c;aGk=\\x07" in row
    assert name == "[/]\\x1b]52;c;aGk=\\x07"
    for text in (row, name):  # no C0, DEL or C1 control character
        assert not [char for char in text if ord(char) in CONTROL or 0x80 <= ord(char) <= 0x9F], text
    assert b"aGk=\x07" not in output  # the process's own OSC 52 never reached the terminal
