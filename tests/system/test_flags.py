"""Suspicion flags on real processes the tests start, through the judged pipeline (collector, then judge)."""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from portwatch.collect import Collector, get_collector
from portwatch.collect.exeinfo import temp_place
from portwatch.flags import alarming
from portwatch.judge import Judge
from portwatch.model import Exposure, Listener
from tests.support import Server, copy_interpreter, ours

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
def test_udp_server_explicitly_bound_to_an_ephemeral_port_is_still_exposed(start_server: Callable[..., Server]) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("0.0.0.0", 0))
        port = probe.getsockname()[1]
    server = start_server("udp", "0.0.0.0", port)
    assert codes(flagged(server)) == {"dynamic-exposed"}


def test_guess_without_kernel_help_treats_wildcard_ephemeral_udp_as_client(start_server: Callable[..., Server]) -> None:
    server = start_server("udp", "0.0.0.0")
    assert codes(flagged(server, get_collector("psutil"))) == {"udp-client"}  # psutil cannot tell: autobound None


@linux_only
def test_interpreter_copy_in_a_temp_folder_is_flagged(tmp_path: Path, start_server: Callable[..., Server]) -> None:
    assert temp_place(str(tmp_path)) is not None, "pytest's tmp_path is expected under the temp dir"
    exe = copy_interpreter(tmp_path / "drop")
    listener = flagged(start_server("tcp", "127.0.0.1", exe=exe))
    assert codes(listener) == {"exe-in-temp"}
    assert str(exe) in listener.flags[0].reason


@linux_only
def test_deleted_executable_is_flagged_while_it_runs(private_dir: Path, start_server: Callable[..., Server]) -> None:
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
