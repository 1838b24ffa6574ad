"""Hostile text from real processes and paths reaches the terminal escaped: invisible characters, a carriage
return in argv, control characters in a file name."""

from __future__ import annotations

import sys
from pathlib import Path

from portwatch.collect.process import ProcessInspector
from tests.support import start_child
from tests.system.cli_run import cli_env, one_line, run_cli

LISTEN = (
    "import ctypes, socket, sys\nif sys.argv[1]: ctypes.CDLL(None).prctl(15, sys.argv[1].encode(), 0, 0, 0)\n"
    "s = socket.socket()\ns.bind(('127.0.0.1', 0))\ns.listen()\nprint(s.getsockname()[1], flush=True)\n"
    "sys.stdin.read()"
)


def test_a_carriage_return_in_argv_stays_a_carriage_return_in_who_and_the_panel(tmp_path: Path) -> None:
    child = start_child([sys.executable, "-c", LISTEN, "", "line\rover"])
    try:
        details = ProcessInspector().inspect(child.pid)  # what the TUI's panel shows
        done = run_cli("who", str(child.port), env=cli_env(XDG_CONFIG_HOME=str(tmp_path)))
    finally:
        child.stop()
    assert "line\rover" in details.cmdline and "line\nover" not in details.cmdline
    assert done.returncode == 0, done.stderr
    assert "line\\rover" in done.stdout and "line\\nover" not in done.stdout and "\r" not in done.stdout


def test_a_zero_width_space_in_a_process_name_is_shown(tmp_path: Path) -> None:
    child = start_child([sys.executable, "-c", LISTEN, "ss\u200bhd"])
    try:
        env = cli_env(XDG_CONFIG_HOME=str(tmp_path))
        listed = run_cli("list", env=env)
        who = run_cli("who", str(child.port), env=env)
    finally:
        child.stop()
    row = next(line for line in listed.stdout.splitlines() if f" {child.port} " in line)
    assert "ss\\u200bhd" in row and "\u200b" not in listed.stdout
    assert "(ss\\u200bhd)" in who.stdout and "\u200b" not in who.stdout


def test_paths_in_error_messages_are_escaped(tmp_path: Path) -> None:
    hostile = tmp_path / "evil\x1b[2J\u202e\u200b.toml"
    env = cli_env(XDG_CONFIG_HOME=str(tmp_path))
    missing = run_cli("check", "--baseline", str(hostile), env=env)
    assert missing.returncode == 2
    line = one_line(missing.stderr)
    assert "evil\\x1b[2J\\u202e\\u200b.toml" in line and "\x1b" not in line and "\u202e" not in line
    hostile.write_text("version = 1\n[[listener]]\nbogus = 1\n")
    malformed = run_cli("check", "--baseline", str(hostile), env=env)
    assert malformed.returncode == 2
    line = one_line(malformed.stderr)
    assert "evil\\x1b[2J\\u202e\\u200b.toml:3: listener entry 1: unknown key 'bogus'" in line
    listed = run_cli("list", "--baseline", str(hostile), env=env)  # the note list prints goes through safe() too
    assert "\x1b" not in listed.stderr and "evil\\x1b[2J" in listed.stderr
