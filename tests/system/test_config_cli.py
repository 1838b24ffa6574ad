"""The config files as a user meets them from the command line: `list` honours `columns`, a malformed file
is one stderr line naming file and line while the command runs on defaults, and the user's file overrides
the system's (PORTWATCH_SYSTEM_CONFIG points at a test's own)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path


def run_list(tmp_path: Path, user: str | None = None, system: str | None = None) -> subprocess.CompletedProcess[str]:
    home = tmp_path / "xdg"
    (home / "portwatch").mkdir(parents=True, exist_ok=True)
    if user is not None:
        (home / "portwatch" / "config.toml").write_text(user)
    env = {k: v for k, v in os.environ.items() if k != "SUDO_UID"} | {
        "XDG_CONFIG_HOME": str(home),
        "PORTWATCH_SYSTEM_CONFIG": str(tmp_path / "system.toml"),
    }
    if system is not None:
        (tmp_path / "system.toml").write_text(system)
    return subprocess.run(
        [sys.executable, "-m", "portwatch", "list", "--tcp"], capture_output=True, text=True, env=env, timeout=60
    )


def test_list_shows_only_the_configured_columns(tmp_path: Path, bound: Callable[..., socket.socket]) -> None:
    bound("tcp", "127.0.0.1")
    result = run_list(tmp_path, user='columns = ["port", "process"]\n')
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].split() == ["PORT", "PROCESS"]


def test_the_users_columns_override_the_systems(tmp_path: Path, bound: Callable[..., socket.socket]) -> None:
    bound("tcp", "127.0.0.1")
    result = run_list(tmp_path, user='columns = ["port", "user"]\n', system='columns = ["proto"]\n')
    assert result.stdout.splitlines()[0].split() == ["PORT", "USER"]
    only_system = run_list(tmp_path / "second", system='columns = ["proto", "port"]\n')
    assert only_system.stdout.splitlines()[0].split() == ["PROTO", "PORT"]


def test_a_malformed_config_is_one_stderr_line_and_list_runs_on_defaults(
    tmp_path: Path, bound: Callable[..., socket.socket]
) -> None:
    bound("tcp", "127.0.0.1")
    result = run_list(tmp_path, user='columns = ["port"]\ntheme = "nord\n')
    assert result.returncode == 0
    assert result.stdout.splitlines()[0].split()[:3] == ["PROTO", "ADDRESS", "PORT"]  # defaults: every column
    [line] = [line for line in result.stderr.splitlines() if "config.toml" in line]
    assert f"{tmp_path / 'xdg' / 'portwatch' / 'config.toml'}:2: " in line


def test_an_unknown_key_is_reported_and_the_rest_applies(tmp_path: Path, bound: Callable[..., socket.socket]) -> None:
    bound("tcp", "127.0.0.1")
    result = run_list(tmp_path, system='columns = ["port"]\ncolour = "red"\n')
    assert result.stdout.splitlines()[0].split() == ["PORT"]
    assert "system.toml:2: unknown key 'colour'" in result.stderr
