"""Children for the stop tests: one that ignores SIGTERM, a pre-fork master with a worker, and their fixture.

Every child is started here and stopped at teardown through its stdin (or killed if it will not go): no test
signals a process it did not start.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator

import pytest

from tests.support import CHILD_SCRIPT, Child, start_child

#: Binds TCP on 127.0.0.1 (argv[1]: port, 0 for any), ignores SIGTERM, prints its port, waits for stdin's EOF.
IGNORING_SCRIPT = textwrap.dedent("""
    import signal, socket, sys
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    sock = socket.socket()
    sock.bind(("127.0.0.1", int(sys.argv[1])))
    sock.listen()
    print(sock.getsockname()[1], flush=True)
    sys.stdin.read()
""")

#: A pre-fork server: the master binds, forks a worker that shares the socket and ignores SIGTERM (so a
#: SIGTERM sent to the worker would change nothing), and on SIGTERM the master ends the worker (SIGUSR1) and
#: exits, as real pre-fork masters do. Prints "PORT WORKER_PID".
PREFORK_SCRIPT = textwrap.dedent("""
    import os, signal, socket, sys
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    worker = os.fork()
    if worker == 0:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        while True:
            signal.pause()   # SIGUSR1's default action ends it
    def stop(*_):
        os.kill(worker, signal.SIGUSR1)
        os.waitpid(worker, 0)
        os._exit(0)
    signal.signal(signal.SIGTERM, stop)
    print(sock.getsockname()[1], worker, flush=True)
    sys.stdin.read()
    stop()
""")


def start_plain(port: int = 0) -> Child:
    return start_child([sys.executable, "-c", CHILD_SCRIPT, "tcp", "127.0.0.1", str(port), "-"])


def start_ignoring(port: int = 0) -> Child:
    return start_child([sys.executable, "-c", IGNORING_SCRIPT, str(port)])


def start_prefork() -> Child:
    child = start_child([sys.executable, "-c", PREFORK_SCRIPT])
    remember_worker(child)
    return child


def ended(child: Child, timeout: float = 10.0) -> bool:
    """Whether the child has ended (reaping it), waiting up to ``timeout``."""
    try:
        child.proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        return False
    return True


@pytest.fixture
def stop_children() -> Iterator[Callable[[Callable[[], Child]], Child]]:
    """Start children with one of the start_* functions; every one is stopped at teardown."""
    started: list[Child] = []

    def make(start: Callable[[], Child]) -> Child:
        child = start()
        started.append(child)
        return child

    yield make
    for child in started:
        child.stop()
        worker = workers.get(child.pid)
        if worker is not None:
            end_if_same(*worker)


#: master pid -> (worker pid, worker start ticks), recorded while both are known to be alive.
workers: dict[int, tuple[int, int]] = {}


def remember_worker(child: Child) -> None:
    from portwatch.collect.signals import start_ticks

    if child.forked_pid is not None:
        ticks = start_ticks(child.forked_pid)
        if ticks is not None:
            workers[child.pid] = (child.forked_pid, ticks)


def end_if_same(pid: int, ticks: int) -> None:
    """End a worker that outlived its master, through a pidfd and only if it is still the same process."""
    import os
    import signal

    from portwatch.collect.signals import start_ticks

    try:
        fd = os.pidfd_open(pid)
    except OSError:
        return
    try:
        if start_ticks(pid) == ticks:
            signal.pidfd_send_signal(fd, signal.SIGUSR1)
    except OSError:
        pass
    finally:
        os.close(fd)


def skip_unless_linux() -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("pidfd signalling and /proc checks are Linux")
