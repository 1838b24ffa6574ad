"""`portwatch --host` in a real terminal (tmux) against a throwaway sshd: the planted listener and the mode."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import Child
from tests.system.sshd_support import Sshd, make_sshd

#: A tmux server of this test's own (-L): its sizes are ours, and kill-server ends only it.
TMUX = ("tmux", "-L", "portwatch-remote-test", "-f", "/dev/null")

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="sshd and /proc: Linux only")


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[Sshd]:
    server = make_sshd(tmp_path / "sshd")
    yield server
    server.stop()


def capture_until(session: str, wanted: tuple[str, ...], timeout: float = 30) -> str:
    screen = ""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        screen = subprocess.run(
            [*TMUX, "capture-pane", "-p", "-t", session], capture_output=True, text=True, check=False
        ).stdout
        if all(word in screen for word in wanted):
            break
        time.sleep(0.2)
    return screen


@pytest.mark.parametrize(
    ("mode", "header"), [("portwatch", "judged there by portwatch"), ("fallback", "fallback mode: ss + /proc over ssh")]
)
def test_live_view_of_a_remote_host_shows_the_planted_listener_and_the_mode(
    sshd: Sshd, spawn: object, tmp_path: Path, mode: str, header: str
) -> None:
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed (apt-get install tmux)")
    assert callable(spawn)
    child: Child = spawn()
    xdg = tmp_path / "xdg"
    xdg.mkdir()
    argv = [
        sys.executable,
        "-m",
        "portwatch",
        *sshd.ssh_args(),
        "--remote-mode",
        mode,
        "--interval",
        "1",
        "--remote-portwatch",
        sshd.remote_portwatch(xdg),
    ]
    session = f"pw-remote-{mode}-{child.port}"
    command = f"env -u PYTHONUNBUFFERED -u COLUMNS -u LINES {shlex.join(argv)}; sleep 60"
    started = subprocess.run(
        [*TMUX, "new-session", "-d", "-s", session, "-x", "160", "-y", "45", command],
        capture_output=True,
        text=True,
        check=False,
    )
    if started.returncode != 0:
        pytest.skip(f"tmux cannot start a session: {started.stderr.strip()}")
    try:
        screen = capture_until(session, ("portwatch @ pwtest", header))
        assert "portwatch @ pwtest" in screen, screen
        assert header in screen, screen
        # Other programs' listeners may fill the screen: filter to the planted port, as a user would.
        subprocess.run([*TMUX, "send-keys", "-t", session, "/", str(child.port), "Enter"], check=False)
        screen = capture_until(session, (f" {child.port} ", "python"))
        row = next((line for line in screen.splitlines() if f" {child.port} " in line and "python" in line), "")
        assert str(child.pid) in row, screen
        assert "Traceback" not in screen
        subprocess.run([*TMUX, "send-keys", "-t", session, "q"], check=False)
    finally:
        subprocess.run([*TMUX, "kill-server"], capture_output=True, check=False)  # our private server only


def test_live_view_shows_stale_data_while_the_host_is_down_and_recovers(sshd: Sshd, tmp_path: Path) -> None:
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed (apt-get install tmux)")
    xdg = tmp_path / "xdg"
    xdg.mkdir()
    argv = [
        sys.executable,
        "-m",
        "portwatch",
        *sshd.ssh_args(),
        "--interval",
        "0.5",
        "--remote-portwatch",
        sshd.remote_portwatch(xdg),
    ]
    command = f"env -u PYTHONUNBUFFERED -u COLUMNS -u LINES {shlex.join(argv)}; sleep 60"
    started = subprocess.run(
        [*TMUX, "new-session", "-d", "-s", "pw-outage", "-x", "160", "-y", "45", command],
        capture_output=True,
        text=True,
        check=False,
    )
    if started.returncode != 0:
        pytest.skip(f"tmux cannot start a session: {started.stderr.strip()}")
    try:
        screen = capture_until("pw-outage", ("● live",))
        assert "● live" in screen, screen
        sshd.go_down()
        screen = capture_until("pw-outage", ("⚠ stale", "reconnecting"))
        assert "⚠ stale" in screen and "showing data" in screen, screen
        sshd.start()
        screen = capture_until("pw-outage", ("● live",), timeout=45)  # the next retry comes within 30 s
        assert "● live" in screen and "reconnecting" not in screen, screen
        subprocess.run([*TMUX, "send-keys", "-t", "pw-outage", "q"], check=False)
    finally:
        subprocess.run([*TMUX, "kill-server"], capture_output=True, check=False)  # our private server only
