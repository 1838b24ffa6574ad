"""A real Podman container (rootful, runc, a busybox-static rootfs): its listener in its namespace, named after
the container, and a published port tied both ways (the host row held by conmon, the inner row)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

if not sys.platform.startswith("linux"):
    pytest.skip("Podman containers are Linux namespaces", allow_module_level=True)

from portwatch.collect.linux import LinuxCollector
from portwatch.model import Exposure, LinkDirection, Listener, NetnsKind, Scan
from tests.system.netns_support import require_root

#: runc, not crun (crun fails on this kind of machine's rlimits and hybrid cgroups); explicit ulimits
#: because the shell's hard nofile limit is below Podman's default.
RUN_OPTIONS = ("--runtime", "runc", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024")
BUSYBOX = Path("/bin/busybox")


@pytest.fixture(scope="session")
def rootfs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A busybox-static root filesystem: /bin/busybox and a page for httpd to serve."""
    require_root()
    if shutil.which("podman") is None:
        pytest.skip("podman is not installed (apt-get install podman runc)")
    if not BUSYBOX.exists():
        pytest.skip("busybox-static is not installed (apt-get install busybox-static)")
    root = tmp_path_factory.mktemp("rootfs")
    for name in ("bin", "proc", "sys", "dev", "etc", "tmp", "www"):
        (root / name).mkdir()
    shutil.copy2(BUSYBOX, root / "bin" / "busybox")
    (root / "www" / "index.html").write_text("hello\n")
    return root


@pytest.fixture
def container(rootfs: Path) -> Iterator[Callable[..., tuple[str, int]]]:
    """Factory: run a detached container with some options and a command; every one removed at teardown."""
    started: list[str] = []

    def run(options: list[str], command: list[str]) -> tuple[str, int]:
        name = f"pwt-{uuid.uuid4().hex[:8]}"
        started.append(name)
        argv = ["podman", "run", "-d", "--name", name, *RUN_OPTIONS, *options, "--rootfs", str(rootfs), *command]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            pytest.skip(f"podman cannot start a container here: {done.stderr.strip() or done.returncode}")
        pid = subprocess.run(
            ["podman", "inspect", "-f", "{{.State.Pid}}", name], capture_output=True, text=True, timeout=60
        ).stdout.strip()
        return name, int(pid)

    yield run
    for name in started:
        subprocess.run(["podman", "rm", "-f", "-t", "0", name], capture_output=True, timeout=120)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def scan_until(collector: LinuxCollector, found: Callable[[Scan], list[Listener]]) -> list[Listener]:
    """Scan until ``found`` returns rows (httpd binds a moment after podman returns), at most 10 s."""
    deadline = time.monotonic() + 10
    while True:
        rows = found(collector.scan())
        if rows or time.monotonic() > deadline:
            return rows
        time.sleep(0.1)


@pytest.fixture
def collector() -> Iterator[LinuxCollector]:
    found = LinuxCollector(netns="all")
    yield found
    found.close()


def test_container_without_network_is_listed_in_its_namespace_by_name(
    container: Callable[..., tuple[str, int]], collector: LinuxCollector
) -> None:
    name, pid = container(["--network", "none"], ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"])
    rows = scan_until(collector, lambda scan: [e for e in scan.listeners if e.netns.name == name and e.port == 8080])
    assert rows, f"no listener of container {name} found"
    [entry] = rows
    assert entry.netns.kind is NetnsKind.CONTAINER
    assert entry.pids == (pid,) and entry.process_name == "busybox"
    assert entry.exposure is Exposure.NAMESPACE  # [::] inside the container: never "all"
    assert entry.key.text == f"[netns {name}] tcp [::]:8080"


def test_published_port_ties_the_conmon_host_row_and_the_inner_row(
    container: Callable[..., tuple[str, int]], collector: LinuxCollector
) -> None:
    host_port = free_port()
    name, _pid = container(
        ["-p", f"127.0.0.1:{host_port}:8080"], ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]
    )

    def both(scan: Scan) -> list[Listener]:
        inner = [e for e in scan.listeners if e.netns.name == name and e.port == 8080]
        outer = [e for e in scan.listeners if e.netns.is_host and e.port == host_port]
        return [*outer, *inner] if inner and outer else []

    rows = scan_until(collector, both)
    assert rows, f"container {name}: the host row on {host_port} or the inner row on 8080 is missing"
    outer, inner = rows
    assert outer.process_name == "conmon" and outer.exposure is Exposure.LOOPBACK
    [to_container] = outer.links
    assert (to_container.direction, to_container.container, to_container.port) == (
        LinkDirection.TO_CONTAINER,
        name,
        8080,
    )
    assert to_container.netns.inode == inner.netns.inode
    assert to_container.text == f"published by container {name} → its port 8080"
    [from_host] = inner.links
    assert (from_host.direction, from_host.address, from_host.port) == (LinkDirection.FROM_HOST, "127.0.0.1", host_port)
    assert from_host.text == f"published on host 127.0.0.1:{host_port}"


def test_host_network_container_listens_in_the_host_namespace(
    container: Callable[..., tuple[str, int]], collector: LinuxCollector
) -> None:
    port = free_port()
    _name, pid = container(
        ["--network", "host"], ["/bin/busybox", "httpd", "-f", "-p", f"127.0.0.1:{port}", "-h", "/www"]
    )
    rows = scan_until(collector, lambda scan: [e for e in scan.listeners if e.port == port and pid in e.pids])
    assert rows, f"busybox httpd of the --network host container did not show on 127.0.0.1:{port}"
    assert [entry.netns.is_host for entry in rows] == [True]
