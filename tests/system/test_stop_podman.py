"""The manager's stop for a real Podman container the test starts: offered, shown, and run.

A published port is held on the host by conmon, a placeholder: the plan must say so and offer
`podman stop NAME`; running it stops the container and the listener goes. Rootful Podman here needs runc and
explicit ulimits (see the field notes); the container runs busybox from a rootfs made in tmp_path.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from portwatch.collect import get_collector
from portwatch.model import Listener
from portwatch.stop import Stopper
from portwatch.stop_plan import Method, Result

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Podman containers here are Linux")

PODMAN_FLAGS = ("--runtime", "runc", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def container(tmp_path: Path) -> Iterator[tuple[str, int]]:
    """A busybox httpd container publishing 127.0.0.1:PORT; removed at teardown."""
    podman, busybox = shutil.which("podman"), shutil.which("busybox") or "/bin/busybox"
    if podman is None:
        pytest.skip("podman is not installed (apt-get install podman runc busybox-static)")
    if not os.path.exists(busybox):
        pytest.skip("busybox is not installed (apt-get install busybox-static)")
    rootfs = tmp_path / "rootfs"
    for folder in ("bin", "proc", "sys", "dev", "etc", "tmp", "www"):
        (rootfs / folder).mkdir(parents=True)
    shutil.copy(busybox, rootfs / "bin" / "busybox")
    (rootfs / "www" / "index.html").write_text("hello\n")
    name, port = f"pwtest-stop-{os.getpid()}", free_port()
    started = subprocess.run(
        [
            podman,
            "run",
            "-d",
            "--name",
            name,
            *PODMAN_FLAGS,
            "--stop-timeout",
            "2",
            "-p",
            f"127.0.0.1:{port}:8080",
            "--rootfs",
            str(rootfs),
            "/bin/busybox",
            "httpd",
            "-f",
            "-p",
            "8080",
            "-h",
            "/www",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if started.returncode != 0:
        subprocess.run([podman, "rm", "-f", "-t", "0", name], capture_output=True, timeout=60)
        pytest.skip(f"podman run failed: {started.stderr.strip().splitlines()[-1:]}")
    yield name, port
    subprocess.run([podman, "rm", "-f", "-t", "0", name], capture_output=True, timeout=60)


def find(port: int, timeout: float = 15.0) -> Listener:
    collector = get_collector()
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        for entry in collector.scan().listeners:
            if entry.port == port and entry.address == "127.0.0.1" and entry.owners:
                return entry
        time.sleep(0.1)
    raise AssertionError(f"no owned listener on 127.0.0.1:{port}")


def test_conmon_placeholder_is_explained_and_podman_stop_ends_the_listener(container: tuple[str, int]) -> None:
    name, port = container
    stopper = Stopper(wait=10.0)
    plan = stopper.plan(find(port))
    assert plan.target is not None and plan.target.name == "conmon"
    assert plan.target.container is not None and plan.target.container.name == name
    assert any("only holds the port" in note for note in plan.notes)
    option = plan.option(Method.PODMAN)
    assert option is not None and option.command == f"podman stop {name}"
    outcome = stopper.execute(plan, Method.PODMAN)
    assert outcome.result is Result.GONE, outcome.message
    state = subprocess.run(
        ["podman", "inspect", "-f", "{{.State.Status}}", name], capture_output=True, text=True, timeout=60
    )
    assert state.stdout.strip() in ("exited", "stopped"), state
