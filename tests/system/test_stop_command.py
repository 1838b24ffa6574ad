"""`portwatch stop PORT` as a user and a script meet it: real children, real exit codes, a real terminal."""

from __future__ import annotations

import os
import pty
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from tests.stop_support import ended, start_ignoring, start_plain
from tests.support import Child

Children = Callable[[Callable[[], Child]], Child]

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pidfd and /proc are Linux")


def stop(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "portwatch", "stop", *args],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def still_running(child: Child) -> bool:
    time.sleep(0.3)
    return child.proc.poll() is None


def test_without_a_terminal_and_without_yes_it_refuses(stop_children: Children) -> None:
    child = stop_children(start_plain)
    done = stop(str(child.port), "--proto", "tcp")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "portwatch: not a terminal: pass --yes to stop without asking; nothing was signalled"
    ]
    assert f"kill -TERM {child.pid}" in done.stdout  # it said what it would have signalled
    assert still_running(child)


def test_dry_run_signals_nothing(stop_children: Children) -> None:
    child = stop_children(start_plain)
    done = stop(str(child.port), "--dry-run", "--yes")
    assert done.returncode == 0, done.stderr
    assert "target:   python" in done.stdout and f"pid {child.pid}" in done.stdout
    assert "dry run" in done.stderr
    assert still_running(child)


def test_yes_stops_the_child_and_exits_0(stop_children: Children) -> None:
    child = stop_children(start_plain)
    done = stop(str(child.port), "--yes")
    assert done.returncode == 0, done.stderr
    assert "is gone" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert ended(child) and child.proc.returncode == -15


def test_ignored_sigterm_exits_1_and_sigkill_exits_0(stop_children: Children) -> None:
    child = stop_children(start_ignoring)
    done = stop(str(child.port), "--yes", "--wait", "1")
    assert done.returncode == 1, done.stderr
    assert "SIGKILL ends it" in done.stderr
    assert still_running(child)
    killed = stop(str(child.port), "--yes", "--signal", "KILL")
    assert killed.returncode == 0, killed.stderr
    assert ended(child) and child.proc.returncode == -9


def test_its_own_parent_is_refused(bound: Callable[..., socket.socket]) -> None:
    port = bound("tcp", "127.0.0.1").getsockname()[1]  # held by this test process: the command's parent
    done = stop(str(port), "--yes")
    assert done.returncode == 2
    assert "portwatch's parent" in done.stderr


def test_no_unit_known_refuses_unit(stop_children: Children) -> None:
    child = stop_children(start_plain)
    done = stop(str(child.port), "--unit", "--yes")
    assert done.returncode == 2 and "no systemd unit is known" in done.stderr
    assert still_running(child)


@pytest.mark.parametrize(
    "args",
    [
        ["70000"],
        ["80", "--proto", "sctp"],
        ["80", "--signal", "HUP"],
        ["80", "--unit", "--container"],
        ["80", "--wait", "-1"],
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str]) -> None:
    done = stop(*args)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_nothing_listening_is_exit_0() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, never listening, closed: nothing listens there
    done = stop(str(port), "--yes")
    assert done.returncode == 0 and "nothing is listening" in done.stderr


def ask(port: int, answer: bytes) -> tuple[int, bytes]:
    """Run `portwatch stop PORT` on a real terminal and answer its question."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: exec at once
        os.execv(sys.executable, [sys.executable, "-m", "portwatch", "stop", str(port)])
    output = b""
    end = time.monotonic() + 30
    while b"[y/N]" not in output and time.monotonic() < end:
        if select.select([fd], [], [], 0.2)[0]:
            try:
                output += os.read(fd, 4096)
            except OSError:
                break
    os.write(fd, answer)
    while time.monotonic() < end:
        if select.select([fd], [], [], 0.2)[0]:
            try:
                data = os.read(fd, 4096)
            except OSError:
                break
            if not data:
                break
            output += data
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), output


def test_on_a_terminal_it_asks_and_no_is_the_default(stop_children: Children) -> None:
    child = stop_children(start_plain)
    code, output = ask(child.port, b"\r")
    assert b"[y/N]" in output and b"not confirmed" in output
    assert code == 2
    assert still_running(child)


def test_on_a_terminal_yes_stops_it(stop_children: Children) -> None:
    child = stop_children(start_plain)
    code, output = ask(child.port, b"y\r")
    assert code == 0, output
    assert ended(child) and child.proc.returncode == -15


def test_permission_denied_is_said_and_exits_1() -> None:
    """A listener of user nobody, and portwatch as root without CAP_KILL: it may look, not signal."""
    setpriv, busybox = shutil.which("setpriv"), shutil.which("busybox")
    if os.geteuid() != 0 or setpriv is None or busybox is None:
        pytest.skip(f"needs root, setpriv and busybox (euid {os.geteuid()}, setpriv {setpriv}, busybox {busybox})")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    home = Path(tempfile.mkdtemp(prefix="pwtest-www-"))  # pytest's tmp_path is not nobody's to enter
    home.chmod(0o755)
    child = subprocess.Popen(
        [
            setpriv,
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            busybox,
            "httpd",
            "-f",
            "-p",
            f"127.0.0.1:{port}",
            "-h",
            str(home),
        ]
    )
    try:
        end = time.monotonic() + 10
        while not any(c.laddr.port == port for c in psutil.Process(child.pid).net_connections("inet")):
            assert time.monotonic() < end and child.poll() is None, "busybox httpd did not start"
            time.sleep(0.05)
        done = subprocess.run(
            [setpriv, "--bounding-set=-kill", sys.executable, "-m", "portwatch", "stop", str(port), "--yes"],
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
        assert done.returncode == 1, done.stderr
        assert "permission denied" in done.stderr
        time.sleep(0.3)
        assert child.poll() is None
    finally:
        child.kill()  # our own child, tracked by Popen
        child.wait()
        home.rmdir()
