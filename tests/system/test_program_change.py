"""A process that becomes another program on the same pid, keeping its listening socket: the collector follows
the current program and the event log records the change (real children: a prctl rename, an execv)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

if not sys.platform.startswith("linux"):
    pytest.skip("prctl and /proc/PID/stat are Linux's", allow_module_level=True)

from portwatch.changes import ChangeFeed
from portwatch.collect.linux import LinuxCollector
from portwatch.events import Event, EventKind, EventLog
from portwatch.model import Listener, Scan
from tests.support import copy_interpreter, interpreter_env, ours

#: Binds a listener, says its port, waits for a line, then renames itself (prctl PR_SET_NAME) and says so.
RENAMER = textwrap.dedent("""
    import ctypes, socket, sys
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    print(sock.getsockname()[1], flush=True)
    sys.stdin.readline()
    ctypes.CDLL(None, use_errno=True).prctl(15, b"pw-renamed", 0, 0, 0)  # PR_SET_NAME
    print("renamed", flush=True)
    sys.stdin.read()
""")

#: Binds a listener, says its port, waits for a line, then execs another program that keeps the socket's fd.
EXECER = textwrap.dedent("""
    import os, socket, sys
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    sock.set_inheritable(True)
    print(sock.getsockname()[1], flush=True)
    sys.stdin.readline()
    after = ("import socket, sys; s = socket.socket(fileno=int(sys.argv[1])); print('execd', flush=True); "
             "sys.stdin.read()")
    os.execv(sys.argv[1], [sys.argv[1], "-c", after, str(sock.fileno())])
""")


@pytest.fixture
def collector() -> Iterator[LinuxCollector]:
    found = LinuxCollector()
    yield found
    found.close()


def start(argv: list[str], env: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.strip().isdigit():
        proc.kill()
        proc.wait()
        pytest.fail(f"child did not start: {line!r}")
    return proc, int(line)


def step(proc: subprocess.Popen[str], said: str) -> None:
    """Tell the child to change, and wait until it says it did."""
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write("go\n")
    proc.stdin.flush()
    assert proc.stdout.readline().strip() == said


def stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        if proc.stdin:
            proc.stdin.close()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()  # only the child this test started
            proc.wait()


def the_one(scan: Scan, port: int, pid: int) -> Listener:
    [found] = ours(scan.listeners, port, pid)
    return found


def program_events(before: Scan, after: Scan) -> list[Event]:
    feed, log = ChangeFeed(), EventLog()
    log.update(feed.update(before))
    return [event for event in log.update(feed.update(after)) if event.kind is EventKind.PROGRAM_CHANGED]


def test_a_process_that_renames_itself_is_shown_by_its_new_name(collector: LinuxCollector) -> None:
    proc, port = start([sys.executable, "-c", RENAMER])
    try:
        before = collector.scan()
        assert the_one(before, port, proc.pid).owners[0].name != "pw-renamed"
        step(proc, "renamed")
        after = collector.scan()
        owner = the_one(after, port, proc.pid).owners[0]
        assert owner.name == "pw-renamed"
        [event] = program_events(before, after)
        assert event.previous_name == the_one(before, port, proc.pid).process_name
        assert event.listener.process_name == "pw-renamed"
    finally:
        stop(proc)


def test_a_process_that_execs_another_program_keeping_its_socket_is_followed(
    collector: LinuxCollector, tmp_path: Path
) -> None:
    other = copy_interpreter(tmp_path / "bin", "pw-other-prog")
    proc, port = start([sys.executable, "-c", EXECER, str(other)], env=interpreter_env())
    try:
        before = collector.scan()
        first = the_one(before, port, proc.pid).owners[0]
        assert first.exe != str(other)
        step(proc, "execd")
        after = collector.scan()
        owner = the_one(after, port, proc.pid).owners[0]  # the same pid still holds the same socket
        assert owner.exe == str(other)
        assert owner.name == "pw-other-prog"
        assert owner.cmdline[:2] == (str(other), "-c")
        [event] = program_events(before, after)
        assert event.previous_exe == first.exe
        assert event.previous_pids == (proc.pid,)
    finally:
        stop(proc)
