"""Running the real CLI in a subprocess, as a user or a script would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
#: Long enough for a slow machine, short enough that a hang fails the test instead of the whole run.
TIMEOUT = 60


def cli_env(**changes: str | None) -> dict[str, str]:
    """This environment with ``changes`` (None removes a variable); never the user's real config dir."""
    env = dict(os.environ)
    env.pop("SUDO_UID", None)
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def run_cli(
    *args: str,
    env: dict[str, str] | None = None,
    stdout: Any = subprocess.PIPE,
    timeout: float = TIMEOUT,
    encoding: str = "utf-8",
) -> subprocess.CompletedProcess[str]:
    """``python -m portwatch ARGS``; TimeoutExpired (the child killed) when it hangs. ``stdout``: PIPE, a file
    object, or None to close the descriptor before start (`>&-`)."""
    if stdout is None:  # closed in the child just before exec: Python starts with sys.stdout None
        return subprocess.run(
            [sys.executable, "-m", "portwatch", *args],
            cwd=ROOT,
            env=env or cli_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            encoding=encoding,
            timeout=timeout,
            check=False,
            preexec_fn=lambda: os.close(1),
        )
    return subprocess.run(
        [sys.executable, "-m", "portwatch", *args],
        cwd=ROOT,
        env=env or cli_env(),
        stdout=stdout,
        stderr=subprocess.PIPE,
        encoding=encoding,
        timeout=timeout,
        check=False,
    )


def one_line(stderr: str) -> str:
    """stderr holds exactly one line, no traceback: that line."""
    lines = stderr.strip().splitlines()
    assert "Traceback" not in stderr, stderr
    assert len(lines) == 1, stderr
    return lines[0]
