"""The Linux collector on real sockets: both socket sources, every owner of a shared socket, the owner cache."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest

if not sys.platform.startswith("linux"):
    pytest.skip("the Linux collector reads Linux's /proc and netlink", allow_module_level=True)

from portwatch.collect import get_collector, netlink
from portwatch.collect.inodes import SocketOwners
from portwatch.collect.linux import LinuxCollector
from portwatch.collect.owners import user_name
from portwatch.collect.procfs import start_ticks
from portwatch.collect.psutil_collector import PsutilCollector
from portwatch.judge import judge
from portwatch.model import Family, FlagCode, Listener, OwnerStatus, Scan
from tests.support import LOOPBACK_UP, NEW_NETNS, Child, fresh_netns_or_skip, needs_ipv6
from tests.unprivileged import Unprivileged

REPO = Path(__file__).resolve().parents[2]


class FakeClock:
    """Monotonic time that moves only when a test says so, for the cache's intervals."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=[True, False], ids=["netlink", "procfs"])
def linux(request: pytest.FixtureRequest) -> Iterator[LinuxCollector]:
    collector = LinuxCollector(use_netlink=request.param)
    yield collector
    collector.close()


def find(scan: Scan, proto: str, port: int, address: str | None = None) -> list[Listener]:
    return [
        entry
        for entry in scan.listeners
        if entry.proto.value == proto and entry.port == port and address in (None, entry.address)
    ]


def test_factory_gives_the_linux_collector_reading_netlink() -> None:
    collector = get_collector("auto")
    assert isinstance(collector, LinuxCollector)
    collector.scan()
    assert collector.source == "netlink"


@pytest.mark.parametrize("proto", ["tcp", "udp"])
@pytest.mark.parametrize(
    ("host", "family"),
    [
        ("127.0.0.1", Family.IPV4),
        ("0.0.0.0", Family.IPV4),
        pytest.param("::1", Family.IPV6, marks=needs_ipv6),
        pytest.param("::", Family.IPV6, marks=needs_ipv6),
        pytest.param("::ffff:127.0.0.1", Family.IPV6, marks=needs_ipv6),
    ],
)
def test_both_sources_find_our_listener_with_pid_uid_and_inode(
    linux: LinuxCollector, bound: Callable[..., socket.socket], proto: str, host: str, family: Family
) -> None:
    sock = bound(proto, host)
    scan = linux.scan()
    [listener] = find(scan, proto, sock.getsockname()[1], host)
    assert scan.source == linux.source == ("netlink" if linux.use_netlink else "procfs")
    assert listener.family is family
    assert listener.pids == (os.getpid(),)
    assert listener.socket_user == user_name(os.geteuid())
    assert listener.inodes == (os.fstat(sock.fileno()).st_ino,)


def test_both_sources_name_a_child_process(linux: LinuxCollector, spawn: Callable[..., Child]) -> None:
    child = spawn("udp", "127.0.0.1")
    [listener] = find(linux.scan(), "udp", child.port)
    assert listener.pids == (child.pid,)
    assert listener.owner_status is OwnerStatus.KNOWN


def test_established_connection_and_connected_udp_are_not_listeners(
    linux: LinuxCollector, bound: Callable[..., socket.socket]
) -> None:
    server = bound("tcp", "127.0.0.1")
    target = bound("udp", "127.0.0.1")
    client = socket.create_connection(server.getsockname())
    accepted, _ = server.accept()
    connected = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        connected.connect(target.getsockname())
        scan = linux.scan()
        assert find(scan, "tcp", client.getsockname()[1]) == []
        assert find(scan, "udp", connected.getsockname()[1]) == []
        assert len(find(scan, "tcp", server.getsockname()[1])) == 1  # not the accepted socket too
        assert len(find(scan, "udp", target.getsockname()[1])) == 1
    finally:
        for sock in (client, accepted, connected):
            sock.close()


@pytest.mark.parametrize("proto", ["tcp", "udp"])
def test_socket_shared_with_a_forked_child_lists_both_pids(
    linux: LinuxCollector, spawn: Callable[..., Child], proto: str
) -> None:
    child = spawn(proto, "127.0.0.1", fork=True)
    [listener] = find(linux.scan(), proto, child.port)
    assert set(listener.pids) == {child.pid, child.forked_pid}
    assert len(listener.inodes) == 1


#: Run in a network namespace of its own (other programs' new sockets would cost full walks of their own):
#: scan, start a child that forks a co-owner of its listener, scan again; report pids and full walks.
NEW_PROCESS_IN_NETNS = LOOPBACK_UP + textwrap.dedent("""
    import json
    from portwatch.collect.inodes import SocketOwners
    from portwatch.collect.linux import LinuxCollector
    from tests.support import CHILD_SCRIPT, start_child
    import sys
    # full walks allowed at any time, so the counter would show one if the cheap paths missed
    collector = LinuxCollector(socket_owners=SocketOwners(full_walk_min_interval=0), netns="host")
    collector.scan()
    walks = [collector.full_walks]
    child = start_child([sys.executable, "-c", CHILD_SCRIPT, "tcp", "127.0.0.1", "0", "fork"])
    try:
        pids = [sorted(entry.pids) for entry in collector.scan().listeners if entry.port == child.port]
        walks.append(collector.full_walks)
        print(json.dumps({"pids": pids, "expected": sorted([child.pid, child.forked_pid]), "walks": walks}))
    finally:
        child.stop()
""")


def test_new_listener_in_a_new_process_is_named_without_a_full_walk() -> None:
    fresh_netns_or_skip()
    result = subprocess.run(
        [*NEW_NETNS, sys.executable, "-c", NEW_PROCESS_IN_NETNS], capture_output=True, text=True, timeout=60, cwd=REPO
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["pids"] == [report["expected"]]
    assert report["walks"] == [1, 1]


def test_new_listener_in_an_old_process_is_named_at_once_by_one_prompt_walk(
    bound: Callable[..., socket.socket],
) -> None:
    """Before: "(no process)" and an unexpected-owner alarm until the rate-limited full walk, up to 5 s later."""
    clock = FakeClock()
    collector = LinuxCollector(socket_owners=SocketOwners(full_walk_min_interval=5, clock=clock))
    collector.scan()
    clock.now += 1
    port = bound("tcp", "127.0.0.1").getsockname()[1]  # this test process was walked already, holding none
    [listener] = find(collector.scan(), "tcp", port)
    assert listener.pids == (os.getpid(),) and listener.owner_status is OwnerStatus.KNOWN
    assert (collector.full_walks, collector.socket_owners.prompt_walks) == (1, 1)
    clock.now += 1
    find(collector.scan(), "tcp", port)  # a steady refresh: confirmed with one readlink, no walk
    assert (collector.full_walks, collector.socket_owners.prompt_walks) == (1, 1)


#: A long-lived server that held no listener: says it is up, opens one when told, says its port.
LATE_OPENER = textwrap.dedent("""
    import socket, sys
    print("up", flush=True)
    sys.stdin.readline()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    print(sock.getsockname()[1], flush=True)
    sys.stdin.read()
""")


def test_process_that_held_no_listener_is_named_on_the_refresh_its_listener_appears() -> None:
    clock = FakeClock()
    collector = LinuxCollector(socket_owners=SocketOwners(full_walk_min_interval=5, clock=clock))
    proc = subprocess.Popen(
        [sys.executable, "-c", LATE_OPENER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdin is not None
        assert proc.stdout.readline().strip() == "up"
        collector.scan()  # the full walk sees the child, holding no listener
        clock.now += 1
        collector.scan()  # and now it is an old process
        clock.now += 1
        proc.stdin.write("open\n")
        proc.stdin.flush()
        port = int(proc.stdout.readline())
        scan = collector.scan()  # well within the 5 s before a full walk may run
        [listener] = find(scan, "tcp", port)
        assert listener.pids == (proc.pid,)
        assert listener.owner_status is OwnerStatus.KNOWN and listener.owners[0].name.startswith("python")
        assert collector.full_walks == 1
        [judged] = [entry for entry in judge(scan).listeners if entry.port == port]
        assert FlagCode.OWNER_UNKNOWN not in {flag.code for flag in judged.flags}  # no "(no process)" alarm
    finally:
        if proc.stdin:
            proc.stdin.close()
        proc.wait(timeout=5)


#: A server whose main thread exits (SYS_exit ends the calling thread only) while a thread holding its listener
#: runs on: the leader is a zombie, /proc/PID/fd lists nothing, the fds are under /proc/PID/task/TID/fd.
MAIN_THREAD_EXITS = textwrap.dedent("""
    import ctypes, os, socket, sys, threading
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    print(sock.getsockname()[1], flush=True)
    def hold():
        sys.stdin.read()  # until the test closes our stdin
        os._exit(0)
    threading.Thread(target=hold).start()
    ctypes.CDLL(None).syscall(60, 0)  # SYS_exit (x86-64): the main thread ends, the thread group lives on
""")


def test_server_whose_main_thread_exited_is_found_through_its_threads() -> None:
    if os.uname().machine != "x86_64":
        pytest.skip(f"the test's SYS_exit number is x86-64's, not {os.uname().machine}'s")
    proc = subprocess.Popen(
        [sys.executable, "-c", MAIN_THREAD_EXITS], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    collector = LinuxCollector()
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        deadline = time.monotonic() + 10
        while start_ticks(proc.pid) is not None and _state(proc.pid) != "Z" and time.monotonic() < deadline:
            time.sleep(0.01)
        assert _state(proc.pid) == "Z" and os.listdir(f"/proc/{proc.pid}/fd") == []  # the hiding place
        [listener] = find(collector.scan(), "tcp", port)
        assert listener.pids == (proc.pid,)
        assert listener.owner_status is OwnerStatus.KNOWN
        owner = listener.owners[0]
        assert owner.name.startswith("python") and owner.exe and owner.cmdline[1:2] == ("-c",)
        [again] = find(collector.scan(), "tcp", port)  # confirmed through the thread's fd on a refresh
        assert again.pids == (proc.pid,) and collector.full_walks == 1
    finally:
        collector.close()
        if proc.stdin:
            proc.stdin.close()
        proc.wait(timeout=10)


def _state(pid: int) -> str:
    with open(f"/proc/{pid}/stat", "rb") as stat:
        return stat.read().rsplit(b")", 1)[1].split()[0].decode()


def test_another_port_opened_by_a_process_that_already_listens_is_named_without_a_full_walk(
    bound: Callable[..., socket.socket],
) -> None:
    clock = FakeClock()
    collector = LinuxCollector(socket_owners=SocketOwners(full_walk_min_interval=5, clock=clock))
    bound("tcp", "127.0.0.1")  # this test process now holds a listener the first scan will find
    collector.scan()
    port = bound("udp", "127.0.0.1").getsockname()[1]
    [listener] = find(collector.scan(), "udp", port)
    assert listener.pids == (os.getpid(),)
    assert collector.full_walks == 1


def test_unmatched_inode_does_not_force_a_full_walk_until_its_ttl_expires() -> None:
    clock = FakeClock()
    owners = SocketOwners(full_walk_min_interval=1, rewalk_interval=1000, unmatched_ttl=30, clock=clock)
    nobody_holds = 2**32 - 7  # a socket inode no process has
    assert owners.resolve({nobody_holds}) == {}
    clock.now += 10
    assert owners.resolve({nobody_holds}) == {}
    assert owners.full_walks == 1
    clock.now += 30
    owners.resolve({nobody_holds})
    assert owners.full_walks == 2


FD_SENDER = textwrap.dedent("""
    import socket, sys
    channel = socket.socket(fileno=int(sys.argv[1]))
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    print(listener.getsockname()[1], flush=True)
    socket.send_fds(channel, [b"x"], [listener.fileno()])
    sys.stdin.read()
""")


def test_periodic_full_walk_finds_an_old_process_that_gained_the_socket() -> None:
    clock = FakeClock()
    collector = LinuxCollector(socket_owners=SocketOwners(rewalk_interval=60, clock=clock))
    collector.scan()  # this process is now "old"
    ours, theirs = socket.socketpair()
    proc = subprocess.Popen(
        [sys.executable, "-c", FD_SENDER, str(theirs.fileno())],
        pass_fds=[theirs.fileno()],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    received: list[int] = []
    try:
        theirs.close()
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        [listener] = find(collector.scan(), "tcp", port)
        assert listener.pids == (proc.pid,)
        received = socket.recv_fds(ours, 1, 1)[1]  # now this old process holds it too
        assert find(collector.scan(), "tcp", port)[0].pids == (proc.pid,)
        clock.now += 60
        assert set(find(collector.scan(), "tcp", port)[0].pids) == {proc.pid, os.getpid()}
    finally:
        for fd in received:
            os.close(fd)
        ours.close()
        proc.kill()
        proc.wait()


def test_refused_netlink_falls_back_to_procfs_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, bound: Callable[..., socket.socket]
) -> None:
    def refuse() -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(netlink, "DiagSocket", refuse)
    port = bound("tcp", "127.0.0.1").getsockname()[1]
    collector = LinuxCollector()
    scan = collector.scan()
    assert scan.source == collector.source == "procfs"
    assert any("netlink" in warning for warning in scan.warnings)
    assert find(scan, "tcp", port)[0].pids == (os.getpid(),)


def test_fast_and_psutil_collectors_agree_on_listeners_and_owners(
    bound: Callable[..., socket.socket], spawn: Callable[..., Child]
) -> None:
    ports = {bound(proto, host).getsockname()[1] for proto in ("tcp", "udp") for host in ("127.0.0.1", "0.0.0.0")}
    ports |= {spawn(proto, "127.0.0.1", fork=True).port for proto in ("tcp", "udp")}
    if socket.has_ipv6:
        ports |= {bound(proto, "::1").getsockname()[1] for proto in ("tcp", "udp")}
    ours = {entry.key: entry for entry in LinuxCollector().scan().listeners if entry.port in ports}
    theirs = {entry.key: entry for entry in PsutilCollector().scan().listeners if entry.port in ports}
    assert ours.keys() == theirs.keys()
    assert len(ours) >= 6
    for key, entry in theirs.items():
        assert set(entry.pids) <= set(ours[key].pids), key
        assert ours[key].pids


UNPRIVILEGED_SCAN = textwrap.dedent("""
    import json, sys
    from portwatch.collect.linux import LinuxCollector
    port, use_netlink = int(sys.argv[1]), sys.argv[2] == "netlink"
    collector = LinuxCollector(use_netlink=use_netlink)
    found = [[entry.owner_status.value, list(entry.pids), entry.socket_user]
             for entry in collector.scan().listeners if entry.port == port]
    print(json.dumps({"source": collector.source, "found": found}))
""")


@pytest.mark.parametrize("source", ["netlink", "procfs"])
def test_unprivileged_scan_sees_roots_socket_with_its_user_but_hidden_owner(
    bound: Callable[..., socket.socket], unprivileged: Unprivileged, source: str
) -> None:
    port = bound("tcp", "127.0.0.1").getsockname()[1]
    result = unprivileged.run("-c", UNPRIVILEGED_SCAN, str(port), source)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["source"] == source
    assert report["found"] == [["hidden", [], "root"]]


def test_start_ticks_agree_with_psutil_and_vanish_with_the_process(spawn: Callable[..., Child]) -> None:
    child = spawn("tcp", "127.0.0.1")
    ticks = start_ticks(child.pid)
    assert ticks is not None
    since_boot = int(ticks) / os.sysconf("SC_CLK_TCK")
    assert abs(psutil.boot_time() + since_boot - psutil.Process(child.pid).create_time()) < 1
    assert child.proc.stdin is not None
    child.proc.stdin.close()
    child.proc.wait(timeout=5)
    assert start_ticks(child.pid) is None
