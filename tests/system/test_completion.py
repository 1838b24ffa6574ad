"""Shell completion through argcomplete's own protocol: the shell sets _ARGCOMPLETE, COMP_LINE and
COMP_POINT, runs the program, and reads the candidates from fd 8 (debug output goes to fd 9)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest


def complete(line: str) -> list[str]:
    """What the shell would offer for ``line``, asked the way argcomplete's bash hook asks (fd 8 is the answer,
    fd 9 the debug stream, stdout and stderr silenced)."""
    pytest.importorskip("argcomplete", reason="argcomplete (the completion extra) is not installed")
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash is not installed: it does the fd 8/9 redirection argcomplete's protocol needs")
    env = dict(
        os.environ, _ARGCOMPLETE="1", _ARGCOMPLETE_IFS="\v", COMP_LINE=line, COMP_POINT=str(len(line)), COMP_TYPE="9"
    )
    hook = '"$@" 8>&1 9>/dev/null 1>/dev/null 2>/dev/null'
    result = subprocess.run(
        [bash, "-c", hook, "complete", sys.executable, "-m", "portwatch"],
        env=env,
        capture_output=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result
    return [word.strip() for word in result.stdout.decode().split("\v") if word.strip()]


def test_subcommands_are_offered() -> None:
    offered = complete("portwatch ")
    for command in ("list", "who", "check", "baseline", "metrics", "serve"):
        assert command in offered, offered


def test_options_of_a_subcommand_are_offered() -> None:
    offered = complete("portwatch list --")
    assert {"--json", "--tcp", "--color"} <= set(offered), offered


def test_choices_are_offered() -> None:
    assert set(complete("portwatch list --color ")) == {"auto", "always", "never"}


def test_a_normal_run_never_imports_argcomplete() -> None:
    code = "import sys; from portwatch.cli import main; main(['--version'])"
    probe = (
        "import sys, runpy\ntry:\n    " + code + "\nexcept SystemExit:\n    pass\nprint('argcomplete' in sys.modules)"
    )
    env = {k: v for k, v in os.environ.items() if k != "_ARGCOMPLETE"}
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=60)
    assert result.stdout.strip().endswith("False"), result
