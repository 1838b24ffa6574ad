"""A real Podman container, a real packaged daemon and a modified copy of it, a real kernel socket."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from portwatch.collect.attribution import Attribution
from portwatch.collect.dpkg import DpkgDatabase
from portwatch.collect.linux import LinuxCollector
from portwatch.collect.packages import PackageInspector, RpmDatabase
from portwatch.collect.socket_units import UNIT_DIRS
from portwatch.collect.unowned import UnownedExplainer
from portwatch.judge import judge
from portwatch.model import FlagCode, Listener
from tests.json_contract import parse_json
from tests.support import Child
from tests.system.occupant_support import REPO, free_port, need, random_hex, stop, wait_listening, who_json

PODMAN_LIMITS = ["--runtime", "runc", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]


def root_only() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root")


@pytest.fixture
def busybox_rootfs(tmp_path: Path) -> Path:
    busybox = need("busybox")
    root = tmp_path / "rootfs"
    for sub in ("bin", "proc", "sys", "dev", "etc", "tmp", "www"):
        (root / sub).mkdir(parents=True)
    shutil.copy(busybox, root / "bin" / "busybox")
    (root / "www" / "index.html").write_text("hello\n")
    return root


@pytest.fixture
def podman_container(busybox_rootfs: Path) -> Iterator[tuple[str, int]]:
    """A rootful Podman container on the host network, its busybox httpd on 127.0.0.1: (name, port)."""
    root_only()
    podman = need("podman")
    name, port = f"pwat-{random_hex(8)}", free_port()
    argv = [
        podman,
        "run",
        "-d",
        "--name",
        name,
        *PODMAN_LIMITS,
        "--network",
        "host",
        "--rootfs",
        str(busybox_rootfs),
        "/bin/busybox",
        "httpd",
        "-f",
        "-p",
        f"127.0.0.1:{port}",
        "-h",
        "/www",
    ]
    started = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    try:
        if started.returncode != 0:
            pytest.skip(f"podman could not start a container: {started.stderr.strip()}")
        wait_listening(port)
        yield name, port
    finally:
        subprocess.run([podman, "rm", "-f", "-t", "0", name], capture_output=True, timeout=120, check=False)


@pytest.fixture
def podman_published(busybox_rootfs: Path) -> Iterator[tuple[str, int]]:
    """A container on Podman's default bridge with its port published on 127.0.0.1: conmon holds the host side."""
    root_only()
    podman = need("podman")
    name, port = f"pwat-{random_hex(8)}", free_port()
    argv = [
        podman,
        "run",
        "-d",
        "--name",
        name,
        *PODMAN_LIMITS,
        "-p",
        f"127.0.0.1:{port}:8080",
        "--rootfs",
        str(busybox_rootfs),
        "/bin/busybox",
        "httpd",
        "-f",
        "-p",
        "8080",
        "-h",
        "/www",
    ]
    started = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    try:
        if started.returncode != 0:
            pytest.skip(f"podman could not start a bridged container: {started.stderr.strip()}")
        wait_listening(port)
        yield name, port
    finally:
        subprocess.run([podman, "rm", "-f", "-t", "0", name], capture_output=True, timeout=120, check=False)


def test_conmon_holding_a_published_port_is_attributed_to_its_container(podman_published: tuple[str, int]) -> None:
    name, port = podman_published
    [row] = who_json(port)
    [owner] = row["owners"]
    assert owner["name"] == "conmon"  # the host side of a published port is conmon's placeholder socket
    assert owner["container"]["runtime"] == "podman" and owner["container"]["name"] == name


def test_podman_container_is_named_from_its_store(podman_container: tuple[str, int]) -> None:
    name, port = podman_container
    [row] = who_json(port)
    [owner] = row["owners"]
    container = owner["container"]
    assert container["runtime"] == "podman" and container["name"] == name
    assert len(container["id"]) == 64
    assert container["image"] is None  # a --rootfs container has no image: said as none, not invented
    # Its /bin/busybox is the container's file, not the host's: the host's packages do not describe it.
    assert owner["package"]["name"] is None and "another mount namespace" in owner["package"]["note"]


def start_memcached(exe: str, port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [exe, "-u", "root", "-l", "127.0.0.1", "-p", str(port), "-U", "0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_listening(port)
    except AssertionError:
        stop(proc)
        error = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        pytest.skip(f"memcached did not start: {error.strip() or 'no listener'}")
    return proc


@pytest.fixture
def memcached() -> Iterator[int]:
    root_only()
    exe = need("memcached")
    port = free_port()
    proc = start_memcached(exe, port)
    yield port
    stop(proc)


def test_packaged_daemon_shows_its_package_and_matches(memcached: int) -> None:
    [row] = who_json(memcached)
    [owner] = row["owners"]
    assert owner["package"] == {"manager": "dpkg", "name": "memcached", "verified": True, "note": None}
    assert "exe-modified" not in [flag["code"] for flag in row["flags"]]
    assert len(row["processes"][0]["sha256"]) == 64


@pytest.fixture
def modified_copy() -> Iterator[tuple[Path, int, str]]:
    """memcached copied to /usr/local/lib/pwtest-XXXX/ (not a temp dir: no exe-in-temp) with one byte
    appended, running: (path, port, md5 of the original)."""
    root_only()
    original = Path(os.path.realpath(need("memcached")))
    folder = Path(tempfile.mkdtemp(prefix="pwtest-", dir="/usr/local/lib"))
    copy = folder / "memcached"
    shutil.copy2(original, copy)
    with copy.open("ab") as file:
        file.write(b"\0")
    port = free_port()
    proc = start_memcached(str(copy), port)
    try:
        yield copy, port, hashlib.md5(original.read_bytes()).hexdigest()
    finally:
        stop(proc)
        shutil.rmtree(folder)


def test_modified_copy_is_no_package_s_file(modified_copy: tuple[Path, int, str]) -> None:
    _copy, port, _md5 = modified_copy
    [row] = who_json(port)
    package = row["owners"][0]["package"]
    assert package["name"] is None and package["note"] == "no installed package owns this file"


def test_modified_binary_at_a_packaged_path_is_flagged(modified_copy: tuple[Path, int, str], tmp_path: Path) -> None:
    """A dpkg database (same format as /var/lib/dpkg/info) that installed the copy's path with the original's
    md5: the running file no longer matches, and that is an alarming flag with what to do."""
    copy, port, md5 = modified_copy
    (tmp_path / "pwtest-memcached.list").write_text(f"/.\n{copy.parent}\n{copy}\n")
    (tmp_path / "pwtest-memcached.md5sums").write_text(f"{md5}  {str(copy).lstrip('/')}\n")
    inspector = PackageInspector(dpkg=DpkgDatabase(tmp_path), rpm=RpmDatabase())
    collector = LinuxCollector(attribution=Attribution(package_inspector=inspector))
    [entry] = [e for e in judge(collector.scan()).listeners if e.port == port]
    package = entry.owners[0].package
    assert package is not None and package.name == "pwtest-memcached" and package.verified is False
    [flag] = [flag for flag in entry.flags if flag.code is FlagCode.EXE_MODIFIED]
    assert not flag.informational
    assert f"{copy} no longer matches the checksum package pwtest-memcached recorded" in flag.reason
    assert "dpkg --verify pwtest-memcached" in flag.reason
    # The same check of the untouched original passes: it is the byte, not the method.
    (tmp_path / "pwtest-memcached.md5sums").write_text(
        f"{hashlib.md5(copy.read_bytes()).hexdigest()}  {str(copy).lstrip('/')}\n"
    )
    os.utime(tmp_path / "pwtest-memcached.md5sums", ns=(time.time_ns() + 10**9,) * 2)
    inspector = PackageInspector(dpkg=DpkgDatabase(tmp_path), rpm=RpmDatabase())
    collector = LinuxCollector(attribution=Attribution(package_inspector=inspector))
    [entry] = [e for e in collector.scan().listeners if e.port == port]
    assert entry.owners[0].package is not None and entry.owners[0].package.verified is True


@pytest.fixture
def vxlan_port() -> Iterator[int]:
    """A VXLAN device bound to 127.0.0.1 with no remote (it sends nothing): the kernel opens its UDP port."""
    root_only()
    ip = need("ip")
    name, port = f"pwat{random_hex(6)}", free_port()
    made = subprocess.run(
        [
            ip,
            "link",
            "add",
            name,
            "type",
            "vxlan",
            "id",
            "4242",
            "dstport",
            str(port),
            "local",
            "127.0.0.1",
            "nolearning",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if made.returncode != 0:
        pytest.skip(f"cannot create a VXLAN device: {made.stderr.strip()}")
    try:
        up = subprocess.run([ip, "link", "set", name, "up"], capture_output=True, text=True, check=False)
        if up.returncode != 0:
            pytest.skip(f"cannot bring the VXLAN device up: {up.stderr.strip()}")
        yield port
    finally:
        subprocess.run([ip, "link", "del", name], capture_output=True, check=False)


def test_kernel_vxlan_socket_is_named_from_the_link(vxlan_port: int) -> None:
    found: list[Listener] = []
    for _ in range(50):
        found = [e for e in LinuxCollector().scan().listeners if e.port == vxlan_port]
        if found:
            break
        time.sleep(0.05)
    assert found, "the VXLAN socket did not appear"
    [entry] = [e for e in judge(LinuxCollector().scan()).listeners if e.port == vxlan_port]
    assert not entry.owners
    assert entry.owner_reason is not None and "VXLAN device pwat" in entry.owner_reason
    assert "VNI 4242" in entry.owner_reason
    [flag] = [flag for flag in entry.flags if flag.code is FlagCode.OWNER_UNKNOWN]
    assert "a kernel socket" in flag.reason


def test_socket_activation_names_the_socket_unit_and_its_service(tmp_path: Path) -> None:
    marker = tmp_path / "run-systemd-system"
    marker.mkdir()
    units = tmp_path / "lib-systemd-system"
    units.mkdir()
    (units / "pwat-echo.socket").write_text(
        "[Unit]\nDescription=x\n\n[Socket]\nListenStream=0.0.0.0:47231\n"
        "Accept=yes\n\n[Install]\nWantedBy=sockets.target\n"
    )
    explainer = UnownedExplainer(systemd_run=marker, unit_dirs=(units,))
    assert explainer.explain("tcp", "0.0.0.0", 47231) == (
        "socket activation: systemd (pid 1) holds it for pwat-echo.socket, which starts pwat-echo@.service on "
        "the first connection"
    )
    assert not (explainer.explain("udp", "0.0.0.0", 47231) or "").startswith("socket activation")
    # Without systemd running, a unit file proves nothing.
    assert not (
        UnownedExplainer(systemd_run=tmp_path / "absent", unit_dirs=(units,)).explain("tcp", "0.0.0.0", 47231) or ""
    ).startswith("socket activation")


def test_an_unreadable_pid_1_is_said_as_such() -> None:
    """Here pid 1 holds 0.0.0.0:2024 and refuses every fd readlink even to root: say exactly that."""
    root_only()
    names = os.listdir("/proc/1/fd")
    try:
        os.readlink(f"/proc/1/fd/{names[0]}")
    except PermissionError:
        pass
    else:
        pytest.skip("pid 1's fds are readable on this machine: nothing to explain")
    reason = UnownedExplainer(unit_dirs=UNIT_DIRS).explain("tcp", "0.0.0.0", 1)
    assert reason is not None and reason.startswith("the fds of pid 1 (")
    assert "cannot be read (even with CAP_SYS_PTRACE" in reason
    assert "probably the holder" not in reason  # nothing names port 1


def test_portwatch_inside_a_pid_namespace_says_the_holder_is_outside(spawn: Callable[..., Child]) -> None:
    """portwatch run by `unshare --pid --fork --mount-proc`: the socket (same network namespace) is seen, its
    holder (in the parent PID namespace) is not, and the reason says so."""
    root_only()
    unshare = need("unshare")
    child = spawn("tcp", "127.0.0.1")
    done = subprocess.run(
        [
            unshare,
            "--pid",
            "--fork",
            "--mount-proc",
            sys.executable,
            "-m",
            "portwatch",
            "who",
            "--json",
            str(child.port),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=REPO,
    )
    if done.returncode != 0 and not done.stdout:
        pytest.skip(f"unshare --pid could not run portwatch: {done.stderr.strip()}")
    [row] = parse_json(done.stdout, "who")["listeners"]
    assert row["owners"] == [] and row["owner_status"] == "unknown"
    assert "portwatch runs inside a PID namespace: processes outside it cannot be seen" in row["owner_reason"]


def test_a_per_scan_checksum_budget_defers_the_rest_to_the_next_scan(
    memcached: int, modified_copy: tuple[Path, int, str]
) -> None:
    """The live view's budget: one scan checksums up to N bytes (at least one file); the rest come next scan."""
    ports = (memcached, modified_copy[1])
    listeners = {entry.port: entry for entry in LinuxCollector().scan().listeners if entry.port in ports}
    owners = [listeners[port].owners[0] for port in ports]
    inspector = PackageInspector(budget=1)

    def one_scan() -> list[str | None]:
        found = [inspector.facts(owner) for owner in owners]
        inspector.forget_except({owner.pid for owner in owners})  # what the end of build_scan does
        return [facts.note if facts is not None else None for facts in found]

    first = one_scan()
    assert ["pending" in (note or "") for note in first] == [False, True]
    second = one_scan()
    assert not any("pending" in (note or "") for note in second)
    verified = inspector.facts(owners[0])
    assert verified is not None and verified.name == "memcached" and verified.verified is True
