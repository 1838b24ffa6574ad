"""`--host` against a real sshd on 127.0.0.1: both modes, refusals, and a reconnect after the remote side died."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import Child, start_child
from tests.system.sshd_support import Sshd, free_port, make_sshd

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="sshd and /proc: Linux only")

#: A listener that carries a flag of its own: its program lives in a temporary folder (exe-in-temp).
LISTENER = (
    "import socket, sys\ns = socket.socket()\ns.bind(('127.0.0.1', 0))\ns.listen()\n"
    "print(s.getsockname()[1], flush=True)\nsys.stdin.read()\n"
)


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    server = make_sshd(tmp_path_factory.mktemp("sshd"))
    yield server
    server.stop()


@pytest.fixture
def xdg(tmp_path: Path) -> Path:
    """A config folder with no baseline, for this side and the remote side alike."""
    folder = tmp_path / "xdg"
    folder.mkdir()
    return folder


@pytest.fixture
def planted(tmp_path: Path) -> Iterator[Child]:
    """A listener on 127.0.0.1 run by a copy of the system Python in a temporary folder."""
    system_python = shutil.which("python3", path="/usr/bin:/bin") or sys.executable
    program = tmp_path / "planted-py"
    shutil.copy(system_python, program)
    child = start_child([str(program), "-c", LISTENER])
    yield child
    child.stop()


def portwatch(*args: str, xdg: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_CONFIG_HOME": str(xdg), "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "portwatch", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )


def record_for(records: list[dict[str, Any]], port: int) -> dict[str, Any]:
    found = [r for r in records if r["port"] == port and r["proto"] == "tcp"]
    assert len(found) == 1, records
    return found[0]


def test_list_host_json_equals_the_local_list_for_the_planted_listener(sshd: Sshd, planted: Child, xdg: Path) -> None:
    remote = portwatch("list", "--json", *sshd.ssh_args(), "--remote-portwatch", sshd.remote_portwatch(xdg), xdg=xdg)
    local = portwatch("list", "--json", xdg=xdg)
    assert remote.returncode == 0, remote.stderr
    theirs = record_for(json.loads(remote.stdout), planted.port)
    ours = record_for(json.loads(local.stdout), planted.port)
    assert theirs.pop("host") == "pwtest"
    assert theirs == ours  # same owners, same flags: judged there as here
    assert ours["pids"] == [planted.pid]
    assert [f["code"] for f in theirs["flags"]] == ["exe-in-temp"]
    assert "judged there by portwatch" in remote.stderr


def test_fallback_without_a_remote_portwatch_lists_the_planted_listener(sshd: Sshd, planted: Child, xdg: Path) -> None:
    remote = portwatch("list", "--json", *sshd.ssh_args(), "--remote-portwatch", "/nonexistent/portwatch", xdg=xdg)
    local = portwatch("list", "--json", xdg=xdg)
    assert remote.returncode == 0, remote.stderr
    theirs = record_for(json.loads(remote.stdout), planted.port)
    ours = record_for(json.loads(local.stdout), planted.port)
    # The fallback reads no cgroup and no package database over ssh: it cannot name unit, container, pod or
    # package, and says nothing rather than guess. Everything else is what the local collector reads.
    for owner in ours["owners"]:
        for field in ("unit", "container", "pod", "package"):
            owner[field] = None
    assert {k: theirs[k] for k in ("address", "pids", "process", "user", "owners", "exposure", "range")} == {
        k: ours[k] for k in ("address", "pids", "process", "user", "owners", "exposure", "range")
    }
    assert [f["code"] for f in theirs["flags"]] == ["exe-in-temp"]  # judged here, from the remote exe link
    theirs.pop("host")
    assert theirs == ours, "the fallback reads what the local collector reads, for a plain TCP listener"
    assert "no portwatch there" in remote.stderr
    assert "fallback mode: ss + /proc over ssh" in remote.stderr
    assert "no baseline of the remote host" in remote.stderr


def test_text_list_of_two_hosts_has_a_host_column(sshd: Sshd, planted: Child, xdg: Path) -> None:
    both = portwatch("list", *sshd.ssh_args(), "--host", "pwtest", "--remote-mode", "fallback", xdg=xdg)
    assert both.returncode == 0, both.stderr
    header, *rows = both.stdout.splitlines()
    assert header.split()[0] == "HOST"
    mine = [row for row in rows if f" {planted.port} " in f" {row} "]
    assert len(mine) == 2 and all(row.startswith("pwtest ") for row in mine)


def test_a_remote_portwatch_without_stream_is_too_old(sshd: Sshd, tmp_path: Path, xdg: Path) -> None:
    old = tmp_path / "old-portwatch"
    old.write_text("#!/bin/sh\necho \"portwatch: error: argument COMMAND: invalid choice: 'stream'\" >&2\nexit 2\n")
    old.chmod(0o755)
    required = portwatch(
        "list", *sshd.ssh_args(), "--remote-portwatch", str(old), "--remote-mode", "portwatch", xdg=xdg
    )
    assert required.returncode == 2
    assert "remote portwatch too old" in required.stderr
    assert "Traceback" not in required.stderr
    auto = portwatch("list", *sshd.ssh_args(), "--remote-portwatch", str(old), xdg=xdg)
    assert auto.returncode == 0, auto.stderr
    assert "remote portwatch too old" in auto.stderr and "fallback mode" in auto.stderr


def test_a_changed_host_key_is_refused(sshd: Sshd, xdg: Path) -> None:
    known = sshd.known_hosts.read_bytes()
    sshd.new_host_key()
    result = portwatch("list", *sshd.ssh_args(), "--remote-mode", "fallback", xdg=xdg)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "host key changed" in lines[0], result.stderr
    assert sshd.known_hosts.read_bytes() == known  # nothing added, nothing replaced
    sshd.known_hosts.write_text(f"[127.0.0.1]:{sshd.port} {(sshd.folder / 'host_key.pub').read_text()}")


def test_the_live_view_refuses_a_changed_host_key_before_taking_the_terminal(sshd: Sshd, xdg: Path) -> None:
    sshd.new_host_key()
    try:
        result = portwatch(*sshd.ssh_args(), "--remote-mode", "fallback", xdg=xdg, timeout=60)
    finally:
        sshd.known_hosts.write_text(f"[127.0.0.1]:{sshd.port} {(sshd.folder / 'host_key.pub').read_text()}")
    assert result.returncode == 2
    assert result.stdout == ""  # the TUI never started
    (line,) = result.stderr.strip().splitlines()
    assert "host key changed" in line


def test_local_baseline_with_host_is_bad_input(sshd: Sshd, xdg: Path, tmp_path: Path) -> None:
    result = portwatch("check", "--baseline", str(tmp_path / "b.toml"), *sshd.ssh_args(), xdg=xdg)
    assert result.returncode == 2 and "--remote-baseline" in result.stderr


def test_an_unknown_host_key_is_refused(sshd: Sshd, tmp_path: Path, xdg: Path) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    result = portwatch(
        "check",
        "--host",
        "root@127.0.0.1",
        "--ssh-port",
        str(sshd.port),
        "--ssh-config",
        "/dev/null",
        "--ssh-option",
        f"UserKnownHostsFile={empty}",
        "--ssh-option",
        f"IdentityFile={sshd.folder}/id",
        xdg=xdg,
    )
    assert result.returncode == 2
    assert "not in known_hosts" in result.stderr
    assert empty.read_text() == ""


def test_an_unreachable_host_is_exit_3(sshd: Sshd, xdg: Path) -> None:
    closed = free_port()
    result = portwatch(
        "list", "--host", "root@127.0.0.1", "--ssh-port", str(closed), "--ssh-config", "/dev/null", xdg=xdg
    )
    assert result.returncode == 3
    assert "host unreachable" in result.stderr and "Connection refused" in result.stderr


def test_who_host_shows_the_remote_process_details(sshd: Sshd, planted: Child, xdg: Path) -> None:
    result = portwatch(
        "who", str(planted.port), "--json", *sshd.ssh_args(), "--remote-portwatch", sshd.remote_portwatch(xdg), xdg=xdg
    )
    assert result.returncode == 0, result.stderr
    (record,) = json.loads(result.stdout)
    (process,) = record["processes"]
    assert process["pid"] == planted.pid and process["parents"]  # the parent chain came from the host


def test_remote_collector_reconnects_after_the_remote_side_is_killed(sshd: Sshd, planted: Child, xdg: Path) -> None:
    from portwatch.collect import SshTarget, SshTransport
    from portwatch.remote.host import RemoteHost, RemoteOptions
    from portwatch.remote.live import RemoteCollector

    target = SshTarget("pwtest", config_file=str(sshd.client_config))
    collector = RemoteCollector(
        RemoteHost(SshTransport(target), RemoteOptions(command=sshd.remote_portwatch(xdg))), interval=0.5
    )
    try:
        first = collector.scan()
        assert any(entry.port == planted.port for entry in first.listeners)
        assert sshd.kill_sessions() >= 1
        seen_lost = False
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            scan = collector.scan()
            if any("connection lost" in w or "stopped" in w for w in scan.warnings):
                seen_lost = True
                assert any("old" in w for w in scan.warnings)  # the data's age is said
            elif seen_lost and collector.reconnects >= 1 and scan.taken_at > first.taken_at:
                break
            time.sleep(0.3)
        else:
            pytest.fail(f"no reconnect: lost seen {seen_lost}, reconnects {collector.reconnects}")
        assert any(entry.port == planted.port for entry in scan.listeners)
    finally:
        collector.close()
