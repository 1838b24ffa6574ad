"""Every network namespace, for real: `ip netns` and `unshare -n` namespaces with listeners inside (root)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

if not sys.platform.startswith("linux"):
    pytest.skip("network namespaces are Linux's", allow_module_level=True)

from portwatch.collect.linux import LinuxCollector
from portwatch.collect.published import tie_published
from portwatch.model import Exposure, Listener, NetnsKind, Proto, Scan
from tests.json_contract import parse_json
from tests.system.netns_support import named_netns, require_root, unshared_netns

pytestmark = pytest.mark.usefixtures("root")


@pytest.fixture
def root() -> None:
    require_root()


@pytest.fixture
def collector() -> Iterator[LinuxCollector]:
    found = LinuxCollector(netns="all")
    yield found
    found.close()


def rows(scan: Scan, port: int) -> list[Listener]:
    return [entry for entry in scan.listeners if entry.port == port]


def in_netns(scan: Scan, name: str) -> list[Listener]:
    return [entry for entry in scan.listeners if entry.netns.name == name]


def test_named_namespace_listeners_tcp_udp_v4_v6_are_listed_in_it(collector: LinuxCollector) -> None:
    specs = ["tcp,127.0.0.1,18101", "tcp,::1,18102", "udp,127.0.0.1,18103", "udp,::1,18104"]
    with named_netns(specs) as (name, child):
        scan = collector.scan()
        found = {(entry.proto.value, entry.address, entry.port) for entry in in_netns(scan, name)}
        assert found == {
            ("tcp", "127.0.0.1", 18101),
            ("tcp", "::1", 18102),
            ("udp", "127.0.0.1", 18103),
            ("udp", "::1", 18104),
        }
        for entry in in_netns(scan, name):
            assert entry.netns.kind is NetnsKind.NAMED
            assert entry.pids == (child.pid,)  # owners resolve across namespaces: socket inodes are global
            assert entry.key.text.startswith(f"[netns {name}] ")
        assert not [entry for entry in rows(scan, 18101) if entry.netns.is_host]  # not in the host's tables


def test_same_address_and_port_in_two_namespaces_are_two_rows(collector: LinuxCollector) -> None:
    with named_netns(["tcp,127.0.0.1,18110"]) as (first, _a), named_netns(["tcp,127.0.0.1,18110"]) as (second, _b):
        scan = collector.scan()
        same = [entry for entry in rows(scan, 18110) if entry.netns.name in (first, second)]
        assert sorted(entry.netns.name for entry in same) == sorted([first, second])
        assert len({entry.key for entry in same}) == 2


def test_wildcard_inside_a_namespace_is_netns_exposure_never_all(collector: LinuxCollector) -> None:
    with named_netns(["tcp,0.0.0.0,18120", "udp,::,18121"]) as (name, _child):
        exposures = {entry.port: entry.exposure for entry in in_netns(collector.scan(), name)}
        assert exposures == {18120: Exposure.NAMESPACE, 18121: Exposure.NAMESPACE}


def test_unshared_namespace_without_a_bind_mount_is_named_by_its_inode(collector: LinuxCollector) -> None:
    with unshared_netns(["tcp,0.0.0.0,18130"]) as child:
        inode = os.stat(f"/proc/{child.pid}/ns/net").st_ino
        [entry] = [e for e in rows(collector.scan(), 18130) if e.netns.inode == inode]
        assert (entry.netns.kind, entry.netns.name) == (NetnsKind.OTHER, str(inode))
        assert entry.key.text == f"[netns {inode}] tcp 0.0.0.0:18130"


def test_socket_bound_to_lo_shows_addr_percent_dev_and_is_local(collector: LinuxCollector) -> None:
    with named_netns(["tcp,0.0.0.0%lo,18140"]) as (name, _child):
        [entry] = in_netns(collector.scan(), name)
        assert (entry.address, entry.device, entry.exposure) == ("0.0.0.0%lo", "lo", Exposure.LOOPBACK)


def test_ipv6_link_local_listener_keeps_its_zone(collector: LinuxCollector) -> None:
    # a veth pair with both ends inside the namespace: an interface of its own, no traffic leaves it
    setup = (
        ("ip", "link", "add", "pwdummy0", "type", "veth", "peer", "name", "pwdummy1"),
        ("ip", "link", "set", "pwdummy0", "up"),
        ("ip", "link", "set", "pwdummy1", "up"),
        ("ip", "addr", "add", "fe80::1234/64", "dev", "pwdummy0", "nodad"),
    )
    with named_netns(["tcp,fe80::1234%pwdummy0,18150"], setup) as (name, _child):
        [entry] = in_netns(collector.scan(), name)
        assert (entry.address, entry.device) == ("fe80::1234%pwdummy0", "pwdummy0")
        assert entry.key.text == f"[netns {name}] tcp [fe80::1234%pwdummy0]:18150"


def test_autobound_udp_is_judged_in_its_own_namespace(collector: LinuxCollector) -> None:
    with named_netns(["udp,127.0.0.1,18160"]) as (name, _child):
        [entry] = in_netns(collector.scan(), name)
        assert entry.proto is Proto.UDP and entry.autobound is False  # bound on purpose: a server


def test_a_namespace_that_goes_away_is_closed_and_its_rows_with_it(collector: LinuxCollector) -> None:
    with named_netns(["tcp,127.0.0.1,18170"]) as (name, _child):
        scan = collector.scan()
        [entry] = in_netns(scan, name)
        inode = entry.netns.inode
        assert collector.namespaces is not None and inode in collector.namespaces.open
    after = collector.scan()  # the fixture deleted the namespace and stopped its only process
    assert not in_netns(after, name)
    assert inode not in collector.namespaces.open


def test_warm_refresh_reuses_each_namespace_socket(collector: LinuxCollector) -> None:
    with named_netns(["tcp,127.0.0.1,18180"]) as (name, _child):
        collector.scan()
        assert collector.namespaces is not None
        kept = {inode: entry.diag for inode, entry in collector.namespaces.open.items()}
        [entry] = in_netns(collector.scan(), name)
        assert collector.namespaces.open[entry.netns.inode].diag is kept[entry.netns.inode]


def test_scanning_never_moves_the_threads_that_run_anything_else(collector: LinuxCollector) -> None:
    def netns_of_every_thread() -> set[str]:
        return {os.readlink(f"/proc/self/task/{tid}/ns/net") for tid in os.listdir("/proc/self/task")}

    before = netns_of_every_thread()
    with named_netns(["tcp,127.0.0.1,18190"]) as (name, _child):
        assert in_netns(collector.scan(), name)
        assert os.readlink("/proc/thread-self/ns/net") == os.readlink("/proc/self/ns/net")
        assert netns_of_every_thread() == before
        assert threading.active_count() >= 1


def test_cli_netns_name_selects_one_namespace_and_json_names_it() -> None:
    with named_netns(["tcp,127.0.0.1,18200"]) as (name, _child):
        done = subprocess.run(
            [sys.executable, "-m", "portwatch", "list", "--json", "--netns", name],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        document = parse_json(done.stdout, "list")["listeners"]
        assert [row["port"] for row in document] == [18200]
        assert document[0]["netns"]["kind"] == "named" and document[0]["netns"]["name"] == name
        assert isinstance(document[0]["netns"]["inode"], int)
        assert f"network namespaces: {name} (named, inode" in done.stderr
        host_only = subprocess.run(
            [sys.executable, "-m", "portwatch", "list", "--netns", "host"], capture_output=True, text=True, timeout=60
        )
        assert "18200" not in host_only.stdout


def test_cli_unknown_netns_is_one_line_and_exit_2() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "portwatch", "list", "--netns", "no-such-ns-here"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        line for line in done.stderr.strip().splitlines() if line.startswith("portwatch: --netns: no network")
    ]


def test_cli_who_answers_per_namespace() -> None:
    with named_netns(["tcp,127.0.0.1,18210"]) as (first, _a), named_netns(["tcp,127.0.0.1,18210"]) as (second, _b):
        done = subprocess.run(
            [sys.executable, "-m", "portwatch", "who", "18210"], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        assert f"[netns {first}] tcp 127.0.0.1:18210" in done.stdout
        assert f"[netns {second}] tcp 127.0.0.1:18210" in done.stdout


#: A stand-in for Docker's userland proxy: named docker-proxy (prctl), Docker's argv, holding the host port.
DOCKER_PROXY = """
import ctypes, socket, sys
ctypes.CDLL(None).prctl(15, b"docker-proxy", 0, 0, 0)
sock = socket.socket()
sock.bind(("127.0.0.1", 0))
sock.listen()
print(sock.getsockname()[1], flush=True)
sys.stdin.read()
"""


def test_docker_proxy_argv_ties_the_host_port_to_the_container_listener(
    collector: LinuxCollector, tmp_path: Path
) -> None:
    container_id = "4f1c0b6b" * 8
    args = [
        "-proto",
        "tcp",
        "-host-ip",
        "127.0.0.1",
        "-host-port",
        "0",
        "-container-ip",
        "172.17.0.2",
        "-container-port",
        "18220",
    ]
    proxy = subprocess.Popen(
        [sys.executable, "-c", DOCKER_PROXY, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proxy.stdout is not None
        host_port = int(proxy.stdout.readline())
        with named_netns(["tcp,0.0.0.0,18220"]) as (name, child):
            (tmp_path / container_id).mkdir()
            config = {
                "ID": container_id,
                "Name": "/shop",
                "State": {"Pid": child.pid},
                "NetworkSettings": {"Networks": {"bridge": {"IPAddress": "172.17.0.2"}}},
            }
            (tmp_path / container_id / "config.v2.json").write_text(json.dumps(config))
            scan = tie_published(collector.scan(), docker_root=str(tmp_path))
            [outer] = [e for e in rows(scan, host_port) if e.netns.is_host]
            [inner] = in_netns(scan, name)
            assert outer.process_name == "docker-proxy"
            assert [link.text for link in outer.links] == ["published by container shop → its port 18220"]
            assert [link.text for link in inner.links] == [f"published on host 127.0.0.1:{host_port}"]
            assert outer.links[0].via == "docker-proxy"
    finally:
        assert proxy.stdin is not None
        proxy.stdin.close()
        proxy.wait(timeout=10)


def test_a_namespace_ephemeral_range_is_its_own(collector: LinuxCollector) -> None:
    # every network namespace has its own ip_local_port_range: judge its listeners by it, not by the host's
    setup = (("sysctl", "-qw", "net.ipv4.ip_local_port_range=61000 61100"),)
    with named_netns(["tcp,127.0.0.1,61050", "tcp,127.0.0.1,33000"], setup) as (name, _child):
        ephemeral = {entry.port: entry.os_ephemeral for entry in in_netns(collector.scan(), name)}
        assert ephemeral == {61050: True, 33000: False}
