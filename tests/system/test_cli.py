"""The command line as a user and a script meet it: real sockets, real processes, real exit codes."""

from __future__ import annotations

import os
import pty
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.json_contract import parse_json
from tests.support import HOSTILE_ARGS, HOSTILE_NAME, Child, Server
from tests.unprivileged import Unprivileged

JSON_KEYS = {
    "proto",
    "family",
    "address",
    "port",
    "range",
    "os_ephemeral",
    "exposure",
    "service",
    "pids",
    "process",
    "user",
}
CONTROL = {chr(c) for c in (*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0))} - {"\n"}


def portwatch(
    *args: str, env: dict[str, str] | None = None, prefix: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*prefix, sys.executable, "-m", "portwatch", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        errors="surrogateescape",
    )


def listed(*args: str) -> list[dict[str, object]]:
    result = portwatch("list", "--json", *args)
    assert result.returncode == 0, result.stderr
    records: list[dict[str, object]] = parse_json(result.stdout, "list")["listeners"]
    return records


def test_list_json_holds_every_key_and_matches_real_sockets(bound: Callable[..., socket.socket]) -> None:
    tcp_port = bound("tcp", "127.0.0.1").getsockname()[1]
    udp_port = bound("udp", "::1").getsockname()[1]
    records = listed()
    assert all(record.keys() >= JSON_KEYS for record in records)
    [tcp] = [r for r in records if r["port"] == tcp_port and r["proto"] == "tcp"]
    [udp] = [r for r in records if r["port"] == udp_port and r["proto"] == "udp"]
    assert (tcp["address"], tcp["family"], tcp["exposure"], tcp["pids"]) == (
        "127.0.0.1",
        "IPv4",
        "loopback",
        [os.getpid()],
    )
    assert (udp["address"], udp["family"]) == ("::1", "IPv6")
    assert tcp["range"] in ("registered", "dynamic") and tcp["os_ephemeral"] is True
    ports = [port for port in (record["port"] for record in records) if isinstance(port, int)]
    assert len(ports) == len(records) and ports == sorted(ports)


def test_list_filters_by_protocol_family_and_range(bound: Callable[..., socket.socket]) -> None:
    tcp_port = bound("tcp", "127.0.0.1").getsockname()[1]
    udp_port = bound("udp", "::1").getsockname()[1]
    assert {r["proto"] for r in listed("--tcp")} == {"tcp"}
    assert {r["family"] for r in listed("-6")} == {"IPv6"}
    assert udp_port in {r["port"] for r in listed("--udp", "-6")}
    assert tcp_port not in {r["port"] for r in listed("--udp")}
    assert {r["range"] for r in listed("--range", "dynamic")} <= {"dynamic"}
    assert tcp_port in {r["port"] for r in listed("--range", "ephemeral")}


def test_list_table_shows_our_listener_plainly_when_piped(bound: Callable[..., socket.socket]) -> None:
    port = bound("tcp", "127.0.0.1").getsockname()[1]
    result = portwatch("list")
    assert result.returncode == 0
    assert "\x1b" not in result.stdout
    [row] = [line for line in result.stdout.splitlines() if f" {port} " in line]
    assert row.split()[:3] == ["tcp", "127.0.0.1", str(port)] and str(os.getpid()) in row.split()
    assert "listener" in result.stderr


def _run_on_pty(*args: str, env: dict[str, str]) -> str:
    main, tty = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "portwatch", *args], stdout=tty, stderr=tty, env=env)
    os.close(tty)
    chunks = []
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    proc.wait(timeout=30)
    os.close(main)
    return b"".join(chunks).decode(errors="replace")


def test_list_is_coloured_by_range_on_a_terminal_unless_no_color(bound: Callable[..., socket.socket]) -> None:
    bound("tcp", "127.0.0.1")
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    assert "\x1b[33m" in _run_on_pty("list", "--range", "dynamic", env=env) or "\x1b[32m" in _run_on_pty(
        "list", "--range", "registered", env=env
    )
    assert "\x1b[" not in _run_on_pty("list", env=env | {"NO_COLOR": "1"})


def test_who_answers_with_exe_cmdline_user_parents_and_start(spawn: Callable[..., Child]) -> None:
    child = spawn("tcp", "127.0.0.1")
    result = portwatch("who", str(child.port))
    assert result.returncode == 0, result.stderr
    assert f"pid      {child.pid}" in result.stdout
    assert f"exe      {os.path.realpath(sys.executable)}" in result.stdout
    assert f"cmdline  {sys.executable} -c" in result.stdout
    assert f"{os.getpid()} " in result.stdout.split("parents")[1]  # the test process is the parent
    assert "started  " in result.stdout and " ago)" in result.stdout


def test_who_json_lists_every_process_on_the_port(spawn: Callable[..., Child]) -> None:
    child = spawn("tcp", "127.0.0.1", fork=True)
    result = portwatch("who", str(child.port), "--json")
    assert result.returncode == 0
    [record] = parse_json(result.stdout, "who")["listeners"]
    assert {p["pid"] for p in record["processes"]} == {child.pid, child.forked_pid}
    assert all(p["parents"] for p in record["processes"])


def test_who_exits_1_with_one_line_when_nothing_listens() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free_port = probe.getsockname()[1]
    result = portwatch("who", str(free_port))
    assert result.returncode == 1
    assert result.stderr == f"portwatch: nothing is listening on port {free_port}\n"


@pytest.mark.parametrize("port", ["http", "-1", "65536", "1.5", ""])
def test_who_exits_2_for_a_port_that_is_not_0_to_65535(port: str) -> None:
    result = portwatch("who", port)
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1 and "port" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["--interval", "0.1"],
        ["--interval", "soon"],
        ["list", "--range", "x"],
        ["list", "--bogus"],
        ["frobnicate"],
        ["--collector", "magic", "list"],
    ],
)
def test_bad_flags_get_one_line_naming_the_problem(args: list[str]) -> None:
    result = portwatch(*args)
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith("portwatch")
    assert result.stdout == ""


def test_version_is_printed() -> None:
    result = portwatch("--version")
    assert result.returncode == 0 and result.stdout.startswith("portwatch 0.")


def test_hostile_process_name_and_cmdline_reach_the_terminal_without_control_characters(hostile: Server) -> None:
    table = portwatch("list")
    who = portwatch("who", str(hostile.port))
    for shown in (table.stdout, who.stdout):
        assert not CONTROL & set(shown), repr(shown)
    [row] = [line for line in table.stdout.splitlines() if f" {hostile.port} " in line]
    assert "\\x1b[31mEV\\x07[/]" in row
    assert "\\x1b]52;c;aGk=\\x07 \\x1b[2J [@click=app.quit] [bold red]x \\x9bq \\u202eexe" in who.stdout
    raw = parse_json(portwatch("list", "--json").stdout, "list")["listeners"]
    [record] = [r for r in raw if r["port"] == hostile.port]
    assert record["process"] == HOSTILE_NAME
    assert tuple(record["owners"][0]["cmdline"][-len(HOSTILE_ARGS) :]) == HOSTILE_ARGS


def test_unprivileged_user_sees_root_sockets_with_hidden_owners_and_the_reason(
    bound: Callable[..., socket.socket], unprivileged: Unprivileged
) -> None:
    port = bound("tcp", "127.0.0.1").getsockname()[1]
    result = unprivileged.run("-m", "portwatch", "list", "--json")
    assert result.returncode == 0, result.stderr
    [record] = [r for r in parse_json(result.stdout, "list")["listeners"] if r["port"] == port and r["proto"] == "tcp"]
    assert record["pids"] == [] and record["owner_status"] == "hidden"
    assert "not yours to see" in result.stderr and "sudo may reveal" in result.stderr
    table = unprivileged.run("-m", "portwatch", "list")
    assert table.returncode == 0
    [row] = [line for line in table.stdout.splitlines() if f" {port} " in line]
    assert "(not yours to see)" in row


def test_tui_baseline_that_does_not_exist_is_one_line_and_exit_2(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    result = portwatch("--baseline", str(missing), "--bell")
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1 and "baseline save" in result.stderr and result.stdout == ""
