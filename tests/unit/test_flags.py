"""Suspicion flags on real processes the tests start, and the pure rules behind them."""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from portwatch.collect import Collector, get_collector
from portwatch.collect.exeinfo import temp_place
from portwatch.flags import alarming, name_mismatch, place_flags
from portwatch.judge import Judge
from portwatch.model import Exposure, Family, FlagCode, Listener, Owner, OwnerStatus, PortRange, Proto
from tests.unit.flag_support import Server, copy_interpreter, ours

pytest_plugins = ["tests.unit.flag_fixtures"]  # the start_server and private_dir fixtures

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl and /proc are Linux's")


def flagged(server: Server, collector: Collector | None = None, judge: Judge | None = None) -> Listener:
    """``server``'s listener as the judged pipeline sees it (pass a collector and judge to keep their caches)."""
    judged = (judge or Judge()).judge((collector or get_collector()).scan())
    [listener] = ours(judged.listeners, server.port, server.pid)
    return listener


def codes(listener: Listener) -> set[str]:
    return {flag.code.value for flag in listener.flags}


def test_plain_loopback_udp_server_gets_no_flags(start_server: Callable[..., Server]) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert flagged(start_server("udp", "127.0.0.1", port)).flags == ()


def test_dynamic_port_on_every_interface_is_flagged_with_a_reason(start_server: Callable[..., Server]) -> None:
    listener = flagged(start_server("tcp", "0.0.0.0"))  # port 0: the kernel picks an ephemeral port
    assert listener.os_ephemeral
    assert codes(listener) == {"dynamic-exposed"}
    [flag] = listener.flags
    assert str(listener.port) in flag.reason and "\n" not in flag.reason and not flag.informational


def test_dynamic_port_on_loopback_is_not_flagged(start_server: Callable[..., Server]) -> None:
    listener = flagged(start_server("tcp", "127.0.0.1"))
    assert listener.os_ephemeral and listener.flags == ()


@linux_only
def test_udp_client_socket_is_informational_not_dynamic_exposed(start_server: Callable[..., Server]) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:  # a port nobody listens on, loopback
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    client = start_server("udp-client", "127.0.0.1", closed_port)
    listener = flagged(client)
    assert listener.exposure is Exposure.ALL  # the kernel auto-bound it on the wildcard address
    assert codes(listener) == {"udp-client"}
    assert alarming(listener) == ()


@linux_only
def test_udp_server_explicitly_bound_to_an_ephemeral_port_is_still_exposed(
        start_server: Callable[..., Server]) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("0.0.0.0", 0))
        port = probe.getsockname()[1]
    server = start_server("udp", "0.0.0.0", port)
    assert codes(flagged(server)) == {"dynamic-exposed"}


def test_guess_without_kernel_help_treats_wildcard_ephemeral_udp_as_client(
        start_server: Callable[..., Server]) -> None:
    server = start_server("udp", "0.0.0.0")
    assert codes(flagged(server, get_collector("psutil"))) == {"udp-client"}  # psutil cannot tell: autobound None


@linux_only
def test_interpreter_copy_in_a_temp_folder_is_flagged(tmp_path: Path,
                                                      start_server: Callable[..., Server]) -> None:
    assert temp_place(str(tmp_path)) is not None, "pytest's tmp_path is expected under the temp dir"
    exe = copy_interpreter(tmp_path / "drop")
    listener = flagged(start_server("tcp", "127.0.0.1", exe=exe))
    assert codes(listener) == {"exe-in-temp"}
    assert str(exe) in listener.flags[0].reason


@linux_only
def test_deleted_executable_is_flagged_while_it_runs(private_dir: Path,
                                                    start_server: Callable[..., Server]) -> None:
    exe = copy_interpreter(private_dir)
    server = start_server("tcp", "127.0.0.1", exe=exe)
    collector, judge = get_collector(), Judge()
    assert flagged(server, collector, judge).flags == ()
    exe.unlink()
    assert codes(flagged(server, collector, judge)) == {"exe-deleted"}  # re-checked although the owner is cached


@linux_only
def test_renamed_process_is_flagged_as_masquerading(start_server: Callable[..., Server]) -> None:
    listener = flagged(start_server("tcp", "127.0.0.1", name="sshd"))
    assert listener.owners[0].name == "sshd"
    assert codes(listener) == {"name-mismatch"}
    assert "sshd" in listener.flags[0].reason


@pytest.mark.parametrize(("name", "exe", "cmdline"), [
    ("python3", "/usr/bin/python3.11", ("python3", "app.py")),
    ("python3.11", "/usr/bin/python3.11", ()),
    ("nginx", "/usr/sbin/nginx", ("nginx: master process /usr/sbin/nginx",)),
    ("postgres: checkpointer", "/usr/lib/postgresql/16/bin/postgres", ("postgres: checkpointer",)),
    ("sshd: alice@pts/0", "/usr/sbin/sshd", ("sshd: alice@pts/0",)),
    ("systemd-resolve", "/usr/lib/systemd/systemd-resolved", ()),  # comm cut to 15 bytes
    ("backup-agent", "/usr/bin/python3.11", ("/usr/bin/python3", "-u", "/usr/local/bin/backup-agent")),
    ("node", "/usr/bin/nodejs", ("node", "server.js")),
    ("-bash", "/usr/bin/bash", ("-bash",)),
    ("kworker/0:1", None, ()),
    ("", "/usr/bin/x", ()),
])
def test_ordinary_names_are_not_masquerading(name: str, exe: str | None, cmdline: tuple[str, ...]) -> None:
    assert name_mismatch(Owner(pid=10, name=name, exe=exe, cmdline=cmdline), exe) is None


@pytest.mark.parametrize(("name", "exe", "cmdline"), [
    ("sshd", "/usr/bin/python3.11", ("/usr/bin/python3", "-c", "import sshd")),
    ("kworker/0:1", "/tmp/.x/miner", ("/tmp/.x/miner",)),
    ("systemd", "/home/u/.local/bin/agent", ("agent",)),
])
def test_borrowed_names_are_masquerading(name: str, exe: str, cmdline: tuple[str, ...]) -> None:
    flag = name_mismatch(Owner(pid=10, name=name, exe=exe, cmdline=cmdline), exe)
    assert flag is not None and flag.code is FlagCode.NAME_MISMATCH


def test_hostile_name_in_a_reason_is_made_safe() -> None:
    flag = name_mismatch(Owner(pid=10, name="\x1b]52;c;aGk=\x07[/]", exe="/usr/bin/x"), "/usr/bin/x")
    assert flag is not None and "\x1b" not in flag.reason and "\x07" not in flag.reason


def _listener(status: OwnerStatus, port: int = 2049, address: str = "0.0.0.0") -> Listener:
    return Listener(Proto.TCP, Family.IPV4, address, port, PortRange.REGISTERED, False, Exposure.ALL,
                    owner_status=status, socket_user="nfs")


def test_hidden_owner_says_sudo_reveals_it() -> None:
    [flag] = place_flags(_listener(OwnerStatus.HIDDEN), approved=False, client=None)
    assert flag.code is FlagCode.OWNER_HIDDEN and "sudo" in flag.reason and "nfs" in flag.reason


def test_unknown_owner_says_why() -> None:
    [flag] = place_flags(_listener(OwnerStatus.UNKNOWN), approved=False, client=None)
    assert flag.code is FlagCode.OWNER_UNKNOWN
    assert "kernel" in flag.reason and "namespace" in flag.reason and "exited" in flag.reason


def test_approved_listener_keeps_place_flags_as_informational() -> None:
    flags = place_flags(_listener(OwnerStatus.UNKNOWN), approved=True, client=None)
    assert [f.informational for f in flags] == [True]


@pytest.mark.parametrize(("path", "place"), [
    ("/tmp/x/y", "/tmp"), ("/dev/shm/a", "/dev/shm"), ("/var/tmp/b", "/var/tmp"),
    ("/home/u/Downloads/tool", "a downloads folder"), ("/usr/bin/tmpfoo", None), ("/tmpx/a", None),
])
def test_temp_places(path: str, place: str | None) -> None:
    assert temp_place(path) == place
