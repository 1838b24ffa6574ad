"""The app under a real pseudo-terminal: what reaches the terminal, byte for byte.

Headless run_test never sees terminal output, so an escape sequence smuggled through a process name would
pass every Pilot test; here the raw bytes are read and searched.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pty")

#: The checkout: the app scripts import the fixed data as tests.ui.fixed_data from here.
REPO = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent("""
    from tests.ui.fixed_data import FixedCollector, FixedInspector, sample_scan
    from portwatch.tui.app import PortwatchApp

    # The hostile listener opens at the second scan: its alert (with --bell) quotes its name too.
    app = PortwatchApp(collector=FixedCollector(sample_scan(), sample_scan(hostile=True)), interval=0.5,
                       inspector=FixedInspector(), bell=True)
    app.run()
    print("APP-ENDED", flush=True)
""")

#: What a hostile name carries: an OSC 52 clipboard write and a clear-screen; neither may reach the tty.
FORBIDDEN = (b"\x1b]52;", b"aGk=\x07", b"\x1b[2J")


def read_until(fd: int, marker: bytes, timeout: float, *also: bytes) -> bytes:
    """Read from the pty until ``marker`` (and every one of ``also``) has shown up, the child closes it, or
    the deadline passes. A busy machine may draw the row and the alert in separate writes."""
    chunks = b""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if not ready:
            continue
        try:
            data = os.read(fd, 65536)
        except OSError:  # EIO: the child side closed
            break
        if not data:
            break
        chunks += data
        if marker and marker in chunks and all(more in chunks for more in also):
            break
    return chunks


#: A collector whose second pass never returns, as a read of a process stuck in the kernel would not.
STUCK_SCRIPT = textwrap.dedent("""
    import sys, threading
    from tests.ui.fixed_data import FixedCollector, FixedInspector, sample_scan
    from portwatch.tui.app import PortwatchApp

    class StuckCollector(FixedCollector):
        calls = 0
        def scan(self):
            self.calls += 1
            if self.calls > 1:
                open(sys.argv[1], "w").close()  # print() is captured while the app runs
                threading.Event().wait()
            return super().scan()

    app = PortwatchApp(collector=StuckCollector(sample_scan()), interval=0.5, inspector=FixedInspector())
    app.run()
    print("APP-ENDED", flush=True)
""")


def start(tmp_path: Path, script_text: str = SCRIPT, *args: str) -> tuple[subprocess.Popen[bytes], int]:
    script = tmp_path / "run_app.py"
    script.write_text(script_text)
    leader, follower = os.openpty()
    os.set_blocking(leader, True)
    env = {
        **os.environ,
        "TERM": "xterm-256color",
        "COLUMNS": "160",
        "LINES": "45",
        "TZ": "UTC",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    import fcntl
    import struct
    import termios

    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 45, 160, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, str(script), *args],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=env,
        start_new_session=True,
        close_fds=True,
    )
    os.close(follower)
    return proc, leader


def stop(proc: subprocess.Popen[bytes], leader: int) -> None:
    if proc.poll() is None:
        proc.kill()  # only the child this test started
        proc.wait(timeout=5)
    os.close(leader)


def test_hostile_escape_sequences_never_reach_the_terminal(tmp_path: Path) -> None:
    proc, leader = start(tmp_path)
    try:
        output = read_until(leader, b"Unexpected", 15, b"31337")  # its row is drawn, its alert raised
        assert b"31337" in output and b"Unexpected" in output, output[-2000:]
        # Filter to the hostile row (Enter keeps the filter) so the panel draws its name, exe and cmdline.
        os.write(leader, b"/31337")
        time.sleep(0.3)
        os.write(leader, b"\r")
        output += read_until(leader, b"[@click=app.quit]", 10, b"\\x1b]52;c;aGk=")
        assert b"[@click=app.quit]" in output  # the markup is shown as text
        assert b"\\x1b]52;c;aGk=" in output  # the escape is shown, made visible
        os.write(leader, b"q")
        output += read_until(leader, b"APP-ENDED", timeout=15)
        assert b"APP-ENDED" in output
        assert proc.wait(timeout=10) == 0
    finally:
        stop(proc, leader)
    for sequence in FORBIDDEN:
        assert sequence not in output
    assert output.rstrip().endswith(b"APP-ENDED")


@pytest.mark.parametrize(
    "signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT], ids=["SIGTERM", "SIGHUP", "SIGQUIT"]
)
def test_sigterm_and_sighup_restore_the_terminal(tmp_path: Path, signum: signal.Signals) -> None:
    """SIGTERM: `kill`, a service manager. SIGHUP: the ssh session or terminal window went away.
    SIGQUIT: `kill -QUIT` (its default would dump core and leave the terminal raw)."""
    proc, leader = start(tmp_path)
    try:
        output = read_until(leader, b"31337", timeout=15)
        assert b"\x1b[?1049h" in output  # the app switched to the alternate screen
        proc.send_signal(signum)
        output = read_until(leader, b"APP-ENDED", timeout=15)
        assert proc.wait(timeout=10) == 0
    finally:
        stop(proc, leader)
    assert b"\x1b[?1049l" in output  # and back again: the terminal is restored
    assert b"APP-ENDED" in output


def test_quit_is_not_held_up_by_a_scan_stuck_in_the_kernel(tmp_path: Path) -> None:
    stuck = tmp_path / "stuck"
    proc, leader = start(tmp_path, STUCK_SCRIPT, str(stuck))
    try:
        output = b""
        deadline = time.monotonic() + 15
        while not stuck.exists() and time.monotonic() < deadline:
            output += read_until(leader, b"", timeout=0.2)
        assert stuck.exists(), output[-2000:]
        os.write(leader, b"q")
        output += read_until(leader, b"APP-ENDED", timeout=15)
        assert proc.wait(timeout=10) == 0  # without the daemon executor, asyncio.run waits here for ever
    finally:
        stop(proc, leader)
    assert b"\x1b[?1049l" in output and b"APP-ENDED" in output


def test_filter_typed_in_one_read_keeps_the_enter(tmp_path: Path) -> None:
    """Fast typing, a paste or ssh deliver `/`, the text and Enter in one read: the Enter must still leave the
    box, so the `q` that follows quits instead of landing in the filter."""
    proc, leader = start(tmp_path)
    try:
        output = read_until(leader, b"31337", timeout=15)
        assert b"31337" in output, output[-2000:]
        os.write(leader, b"/8080\r")
        output += read_until(leader, b"8080", timeout=5)
        time.sleep(0.5)
        os.write(leader, b"q")
        output += read_until(leader, b"APP-ENDED", timeout=10)
        assert b"APP-ENDED" in output, output[-2000:]
        assert proc.wait(timeout=10) == 0
    finally:
        stop(proc, leader)
