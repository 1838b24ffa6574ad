"""When `portwatch list` colours: a real pseudo-terminal and a real pipe, the environment and --color.

The rule is portwatch.colour's: --color wins; then NO_COLOR (only when not empty), FORCE_COLOR /
CLICOLOR_FORCE, TERM=dumb; then whether stdout is a terminal.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time

import pytest

from portwatch.colour import tui_environment

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pty")

SGR = b"\x1b["


def environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "CLICOLOR_FORCE")}
    return env | {"TERM": "xterm-256color"} | extra


def list_on_pty(*args: str, **env: str) -> bytes:
    """`portwatch list ARGS` with its stdout on a real pty; every byte the terminal would get."""
    leader, follower = os.openpty()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "portwatch", "list", *args],
            stdout=follower,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
            env=environment(**env),
        )
        os.close(follower)
        follower = -1
        out = b""
        end = time.monotonic() + 60
        while time.monotonic() < end:
            ready, _, _ = select.select([leader], [], [], 0.2)
            if ready:
                try:
                    data = os.read(leader, 65536)
                except OSError:  # EIO: the child closed its side
                    break
                if not data:
                    break
                out += data
            elif proc.poll() is not None:
                break
        assert proc.wait(timeout=30) == 0
        return out
    finally:
        os.close(leader)
        if follower >= 0:
            os.close(follower)


def list_on_pipe(*args: str, **env: str) -> bytes:
    result = subprocess.run(
        [sys.executable, "-m", "portwatch", "list", *args], capture_output=True, env=environment(**env), timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize(
    ("args", "env", "coloured"),
    [
        ((), {}, True),
        ((), {"NO_COLOR": ""}, True),  # no-color.org: an empty NO_COLOR is as if unset
        ((), {"NO_COLOR": "1"}, False),
        ((), {"TERM": "dumb"}, False),
        (("--color", "never"), {}, False),
        (("--color", "always"), {"NO_COLOR": "1"}, True),  # the command line wins over the environment
    ],
    ids=["tty", "empty-NO_COLOR", "NO_COLOR", "TERM-dumb", "never", "always-beats-NO_COLOR"],
)
def test_colour_on_a_terminal(args: tuple[str, ...], env: dict[str, str], coloured: bool) -> None:
    assert (SGR in list_on_pty(*args, **env)) is coloured


@pytest.mark.parametrize(
    ("args", "env", "coloured"),
    [
        ((), {}, False),
        ((), {"FORCE_COLOR": "1"}, True),
        ((), {"FORCE_COLOR": ""}, False),
        ((), {"CLICOLOR_FORCE": "1"}, True),
        ((), {"CLICOLOR_FORCE": "0"}, False),
        ((), {"FORCE_COLOR": "1", "TERM": "dumb"}, True),  # forcing is forcing
        ((), {"FORCE_COLOR": "1", "NO_COLOR": "1"}, False),  # NO_COLOR wins over FORCE_COLOR
        (("--color", "always"), {}, True),
        (("--color", "never"), {"FORCE_COLOR": "1"}, False),
    ],
    ids=[
        "pipe",
        "FORCE_COLOR",
        "empty-FORCE_COLOR",
        "CLICOLOR_FORCE",
        "CLICOLOR_FORCE-0",
        "force-beats-dumb",
        "NO_COLOR-beats-force",
        "always",
        "never-beats-force",
    ],
)
def test_colour_into_a_pipe(args: tuple[str, ...], env: dict[str, str], coloured: bool) -> None:
    assert (SGR in list_on_pipe(*args, **env)) is coloured


def test_color_option_means_the_same_before_the_command() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "portwatch", "--color", "always", "list"],
        capture_output=True,
        env=environment(),
        timeout=60,
    )
    assert out.returncode == 0 and SGR in out.stdout


def test_the_live_view_gets_the_same_decision_as_textuals_no_color() -> None:
    env = {"NO_COLOR": ""}  # Textual would go monochrome on a NO_COLOR that is merely present
    tui_environment(True, env)
    assert "NO_COLOR" not in env
    tui_environment(False, env)
    assert env["NO_COLOR"] == "1"
