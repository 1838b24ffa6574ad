"""Output and environment that fight back: stdout full or closed, non-UTF-8 locales, a scan that fails.

No traceback ever; `check` never exits 1 ("unexpected found") when it could not say so; 3 (UNKNOWN, the
monitoring convention) when the scan or the output failed. Real locales via the environment, real /dev/full,
a real closed descriptor, a real /proc hidden by a tmpfs in a private mount namespace.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import start_child
from tests.system.cli_run import ROOT, cli_env, one_line, run_cli

COMMANDS = [["list"], ["check"], ["list", "--json"], ["check", "--json"]]


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
@pytest.mark.parametrize("buffered", [True, False], ids=["buffered", "unbuffered"])
def test_a_full_stdout_is_one_line_and_exit_3(args: list[str], buffered: bool, tmp_path: Path) -> None:
    env = cli_env(PYTHONUNBUFFERED=None if buffered else "1", XDG_CONFIG_HOME=str(tmp_path))
    with open("/dev/full", "w") as full:
        done = run_cli(*args, env=env, stdout=full)
    assert done.returncode == 3, done.stderr
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr
    assert done.stderr.strip().splitlines()[-1] == "portwatch: cannot write the output: No space left on device"


@pytest.mark.parametrize("args", [["list"], ["check"], ["who", "1"]], ids=" ".join)
def test_a_closed_stdout_is_one_line_and_never_exit_1_for_check(args: list[str], tmp_path: Path) -> None:
    done = run_cli(*args, env=cli_env(XDG_CONFIG_HOME=str(tmp_path)), stdout=None)
    assert "Traceback" not in done.stderr
    if args == ["who", "1"]:  # nothing listens on 1: nothing to write, the usual answer
        assert done.returncode == 1 and "nothing is listening on port 1" in done.stderr
        return
    assert done.returncode == 3
    assert done.stderr.strip().splitlines()[-1] == "portwatch: cannot write the output: standard output is closed"


LISTEN = (
    "import ctypes, socket, sys\nctypes.CDLL(None).prctl(15, sys.argv[1].encode(), 0, 0, 0)\n"
    "s = socket.socket()\ns.bind(('127.0.0.1', 0))\ns.listen()\nprint(s.getsockname()[1], flush=True)\n"
    "sys.stdin.read()"
)
NAMES = {"japanese": "日本語サーバ", "accented": "café-srv"}


@pytest.fixture
def named_child() -> Iterator[tuple[int, str]]:
    """A child listening on loopback named in Japanese (prctl: what `list` and `check` show) whose argv holds
    more non-ASCII text (what `who` prints in full)."""
    child = start_child([sys.executable, "-c", LISTEN, NAMES["japanese"][:3], *NAMES.values()])
    yield child.port, child.proc.pid.__str__()
    child.stop()


LOCALES: dict[str, dict[str, str | None]] = {
    "C-no-utf8-mode": {
        "LC_ALL": "C",
        "LANG": "C",
        "PYTHONUTF8": "0",
        "PYTHONCOERCECLOCALE": "0",
        "PYTHONIOENCODING": None,
    },
    "latin-1": {"PYTHONIOENCODING": "latin-1", "PYTHONUTF8": "0"},
}


@pytest.mark.parametrize("locale", list(LOCALES))
@pytest.mark.parametrize("command", ["list", "who", "check"])
def test_a_non_utf8_locale_degrades_to_escapes(
    locale: str, command: str, named_child: tuple[int, str], tmp_path: Path
) -> None:
    port, pid = named_child
    env = cli_env(XDG_CONFIG_HOME=str(tmp_path), **LOCALES[locale])
    empty = tmp_path / "baseline.toml"  # check lists only the unexpected: a renamed process is not (issue 10),
    empty.write_text("version = 1\n")  # one missing from the baseline is
    args = {"list": ["list"], "who": ["who", str(port)], "check": ["check", "--baseline", str(empty)]}[command]
    done = run_cli(*args, env=env, encoding="latin-1")  # ASCII or latin-1 bytes, whichever was asked
    assert "Traceback" not in done.stderr and "UnicodeEncodeError" not in done.stderr, done.stderr
    assert done.returncode in (0, 1), done.stderr
    if command != "who":
        assert "\\u65e5" in done.stdout or "\\xe6\\x97\\xa5" in done.stdout, done.stdout  # the name, escaped
    else:
        assert done.returncode == 0 and pid in done.stdout
        # each non-ASCII character as an escape (\u65e5, or \xe6\x97\xa5 when the C locale decoded bytes)
        assert "\\u65e5" in done.stdout or "\\xe6\\x97\\xa5" in done.stdout, done.stdout
        assert "caf" in done.stdout


def test_a_long_name_cut_with_an_ellipsis_survives_an_ascii_locale(tmp_path: Path) -> None:
    child = start_child(
        [
            sys.executable,
            "-c",
            "import socket, sys\ns = socket.socket()\ns.bind(('127.0.0.1', 0))\n"
            "s.listen()\nprint(s.getsockname()[1], flush=True)\nsys.stdin.read()",
            "x" * 5000,
        ]
    )
    try:
        env = cli_env(XDG_CONFIG_HOME=str(tmp_path), **LOCALES["C-no-utf8-mode"])
        done = run_cli("who", str(child.port), env=env)
    finally:
        child.stop()
    assert done.returncode == 0 and "Traceback" not in done.stderr
    assert "\\u2026 (+" in done.stdout  # safe()'s "…" cut marker, escaped for ASCII


def _without_proc(*args: str, tmp_path: Path, no_netlink: bool = False) -> subprocess.CompletedProcess[str]:
    """The CLI in a private mount namespace whose /proc is an empty tmpfs: the psutil collector cannot read
    /proc/net and fails for real; ``no_netlink``: netlink refused too (seccomp), so the Linux collector does."""
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("unshare (util-linux) is not installed")
    probe = subprocess.run(
        [unshare, "-m", "--propagation", "private", "sh", "-c", "mount -t tmpfs none /proc"],
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode != 0:
        pytest.skip(f"cannot hide /proc in a mount namespace here: {probe.stderr.strip()}")
    program = [str(ROOT / "tests" / "system" / "no_netlink.py")] if no_netlink else ["-m", "portwatch"]
    command = " ".join(["mount -t tmpfs none /proc && exec", sys.executable, *program, *args])
    done = subprocess.run(
        [unshare, "-m", "--propagation", "private", "sh", "-c", command],
        cwd=ROOT,
        env=cli_env(XDG_CONFIG_HOME=str(tmp_path), PYTHONPATH=str(ROOT)),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if done.returncode == 97:
        pytest.skip(f"cannot refuse netlink here: {done.stderr.strip()}")
    return done


@pytest.mark.parametrize(
    "args",
    [
        ["check"],
        ["check", "--json"],
        ["list"],
        ["who", "22"],
        ["baseline", "save", "/tmp/never-written-by-portwatch.toml"],
    ],
    ids=" ".join,
)
def test_a_failed_scan_is_one_line_and_exit_3(args: list[str], tmp_path: Path) -> None:
    done = _without_proc(*args, "--collector", "psutil", tmp_path=tmp_path)
    assert done.returncode == 3, done.stderr
    line = one_line(done.stderr)
    assert line == "portwatch: the scan failed (psutil collector): /proc/net/tcp: No such file or directory"
    assert done.stdout == ""
    assert not Path("/tmp/never-written-by-portwatch.toml").exists()


@pytest.mark.parametrize("args", [["check"], ["list"]], ids=" ".join)
def test_the_linux_collector_fails_as_unknown_when_netlink_and_proc_net_are_both_unreadable(
    args: list[str], tmp_path: Path
) -> None:
    done = _without_proc(*args, "--collector", "linux", tmp_path=tmp_path, no_netlink=True)
    assert done.returncode == 3, done.stderr  # before: "all 0 listeners expected", exit 0
    line = one_line(done.stderr)
    assert line == (
        "portwatch: the scan failed (linux collector): netlink sock_diag refused (tcp/IPv4: "
        "Permission denied), and /proc/net/tcp: No such file or directory"
    )


def test_with_netlink_refused_alone_the_linux_collector_reads_proc_net(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "system" / "no_netlink.py"), "list", "--collector", "linux"],
        cwd=ROOT,
        env=cli_env(XDG_CONFIG_HOME=str(tmp_path), PYTHONPATH=str(ROOT)),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if done.returncode == 97:
        pytest.skip(f"cannot refuse netlink here: {done.stderr.strip()}")
    assert done.returncode == 0 and "read /proc/net instead" in done.stderr


def test_a_full_stderr_loses_only_the_notes_never_the_verdict(tmp_path: Path) -> None:
    env = cli_env(XDG_CONFIG_HOME=str(tmp_path))
    baseline = tmp_path / "empty.toml"
    baseline.write_text("version = 1\n")
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "portwatch", "check", "--json", "--baseline", str(baseline)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=full,
            text=True,
            timeout=60,
            check=False,
        )
    import json

    verdict = json.loads(done.stdout)
    assert done.returncode == (0 if verdict["ok"] else 1)  # the verdict, not 3: stderr holds only advice
