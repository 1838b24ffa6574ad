"""ProcessInspector on real processes: sockets, states, and the socket list reused while fds hold still."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

from portwatch.collect.process import SOCKETS_MAX_AGE, ProcessInspector
from portwatch.listing import process_json, process_lines
from portwatch.model import ProcessState
from tests.support import open_socket, start_child


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def listening(inspector: ProcessInspector) -> tuple[str, ...]:
    details = inspector.inspect(os.getpid())
    assert details.state is ProcessState.OK
    return details.listening


def test_own_listeners_and_connections_counted_by_state() -> None:
    inspector = ProcessInspector()
    with open_socket("tcp", "127.0.0.1") as server:
        port = server.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port)) as client:
            accepted, _ = server.accept()
            with accepted:
                details = inspector.inspect(os.getpid())
                assert f"tcp 127.0.0.1:{port}" in details.listening
                states = dict(details.connection_states)
                assert states.get("ESTABLISHED", 0) >= 2  # both ends live in this process
                assert client.getsockname()[1] != port


def test_a_socket_opened_or_swapped_under_the_same_fd_is_seen_at_once() -> None:
    clock = Clock()
    inspector = ProcessInspector(clock)
    with open_socket("tcp", "127.0.0.1") as first:
        assert f"tcp 127.0.0.1:{first.getsockname()[1]}" in listening(inspector)
        with open_socket("udp", "127.0.0.1") as second:
            assert f"udp 127.0.0.1:{second.getsockname()[1]}" in listening(inspector)  # same clock
    old = open_socket("tcp", "127.0.0.1")
    old_line = f"tcp 127.0.0.1:{old.getsockname()[1]}"
    assert old_line in listening(inspector)
    fd = old.fileno()
    old.close()
    with open_socket("tcp", "127.0.0.1") as new:  # the kernel hands out the lowest free fd: the same one
        assert new.fileno() == fd
        fresh = listening(inspector)  # same clock, same fd count: the socket link changed
        assert f"tcp 127.0.0.1:{new.getsockname()[1]}" in fresh and old_line not in fresh


def test_connection_states_on_the_same_sockets_show_at_the_next_re_read() -> None:
    clock = Clock()
    inspector = ProcessInspector(clock)
    with (
        open_socket("tcp", "127.0.0.1") as server,
        socket.create_connection(("127.0.0.1", server.getsockname()[1])) as client,
    ):
        accepted, _ = server.accept()
        with accepted:

            def states() -> dict[str, int]:
                return dict(inspector.inspect(os.getpid()).connection_states)

            assert states().get("CLOSE_WAIT", 0) == 0
            client.shutdown(socket.SHUT_WR)  # no fd opened or closed: the accepted end goes CLOSE_WAIT
            clock.now += SOCKETS_MAX_AGE - 1
            assert states().get("CLOSE_WAIT", 0) == 0  # reused: psutil was not asked again
            clock.now += 1
            assert states().get("CLOSE_WAIT", 0) >= 1


def test_a_child_that_exits_is_a_state_and_pid_zero_is_never_inspected() -> None:
    inspector = ProcessInspector()
    child = start_child([sys.executable, "-c", "import sys; print(0, flush=True); sys.stdin.read()"])
    try:
        assert inspector.inspect(child.pid).state is ProcessState.OK
    finally:
        child.stop()
    assert inspector.inspect(child.pid).state is ProcessState.EXITED
    assert inspector.inspect(0).state is ProcessState.DENIED


def test_deleted_working_directory_is_said_to_be_deleted(tmp_path: Path) -> None:
    """Linux marks a removed cwd " (deleted)" in the link and psutil strips it: the panel and `who` said
    the directory was there."""
    folder = tmp_path / "gone"
    folder.mkdir()
    script = "import os, sys; os.chdir(sys.argv[1]); print(0, flush=True); sys.stdin.read()"
    child = start_child([sys.executable, "-c", script, str(folder)])
    try:
        folder.rmdir()
        details = ProcessInspector().inspect(child.pid)
        assert details.state is ProcessState.OK
        assert details.cwd == str(folder)
        assert details.cwd_deleted
        assert f"  cwd      {folder} (deleted)" in process_lines(details)
        assert process_json(details)["cwd_deleted"] is True
    finally:
        child.stop()


def test_existing_working_directory_is_not_marked(tmp_path: Path) -> None:
    script = "import os, sys; os.chdir(sys.argv[1]); print(0, flush=True); sys.stdin.read()"
    child = start_child([sys.executable, "-c", script, str(tmp_path)])
    try:
        details = ProcessInspector().inspect(child.pid)
        assert details.cwd == str(tmp_path) and not details.cwd_deleted
        assert f"  cwd      {tmp_path}" in process_lines(details)
    finally:
        child.stop()
