"""Real Debian daemons, judged as portwatch users see them (issue 10, "Wrong answers to fix").

nginx (master and workers retitled, worker argv padded with empty slots), varnish (its child calls itself
``cache-main``), redis (``redis-server`` whose file is redis-check-rdb), memcached (no retitle at all), sshd
(``sshd: ... [listener]``), and rpcbind + rpc.statd (port-0 sockets registered with rpcbind) run in a
network namespace of their own (tests/system/daemons.py), where portwatch judges everything it sees.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.json_contract import parse_json
from tests.system.daemons import DaemonNetns, make_netns, start_daemons, start_rpc

RETITLERS = ("nginx", "varnish", "redis", "memcached", "sshd")

Record = dict[str, Any]


@pytest.fixture(scope="module")
def daemons() -> Iterator[DaemonNetns]:
    ns, reason = make_netns()
    if ns is None:
        pytest.skip(reason)
    try:
        start_daemons(ns, RETITLERS)
        start_rpc(ns)
        yield ns
    finally:
        ns.close()


def need(ns: DaemonNetns, name: str) -> None:
    if name in ns.missing or (name not in ns.daemons and name != "rpc"):
        pytest.skip(ns.missing.get(name, f"{name} was not started"))


def listed(ns: DaemonNetns, *args: str) -> list[Record]:
    result = ns.portwatch("list", "--json", *args)
    assert result.returncode == 0, result.stderr
    records: list[Record] = parse_json(result.stdout, "list")["listeners"]
    return records


def record_on(records: list[Record], port: int, proto: str = "tcp") -> Record:
    [record] = [entry for entry in records if entry["port"] == port and entry["proto"] == proto]
    return record


#: What makes each daemon's process names unlike a plain program's, so the test is about a real retitle.
def _retitled(name: str, owners: list[Record]) -> bool:
    names = {owner["name"] for owner in owners}
    exes = {Path(owner["exe"]).name for owner in owners}
    titles = {" ".join(part for part in owner["cmdline"] if part) for owner in owners}
    if name == "nginx":
        return "nginx: worker process" in titles and any(t.startswith("nginx: master process") for t in titles)
    if name == "varnish":
        return {"varnishd", "cache-main"} <= names and exes == {"varnishd"}
    if name == "redis":
        return names == {"redis-server"} and exes == {"redis-check-rdb"}
    if name == "sshd":
        return any(t.startswith("sshd: ") for t in titles)
    return names == exes == {"memcached"}  # the plain case: no retitle at all


@pytest.mark.parametrize("name", RETITLERS)
def test_a_daemon_that_retitles_itself_is_no_masquerade(daemons: DaemonNetns, name: str) -> None:
    need(daemons, name)
    record = record_on(listed(daemons), daemons.daemon(name).port)
    assert _retitled(name, record["owners"]), record["owners"]
    assert [flag for flag in record["flags"] if flag["code"] == "name-mismatch"] == []


def test_check_against_a_baseline_of_these_daemons_exits_0(daemons: DaemonNetns, tmp_path: Path) -> None:
    """Judged in the daemons' own namespace only (--netns host: the one portwatch runs in): as root it would
    otherwise read every namespace of the machine, other programs' listeners included."""
    if not daemons.daemons:
        pytest.skip("no daemon started: " + "; ".join(daemons.missing.values()))
    baseline = daemons.folder / "baseline.toml"
    saved = daemons.portwatch("baseline", "save", str(baseline))
    assert saved.returncode == 0, saved.stderr
    check = daemons.portwatch("check", "--json", "--netns", "host", "--baseline", str(baseline))
    report = parse_json(check.stdout, "check")
    assert check.returncode == 0, report["unexpected"]
    assert report["ok"] is True and report["checked"] >= len(daemons.daemons)


def test_who_prints_no_empty_argv_slots_of_nginx_workers(daemons: DaemonNetns) -> None:
    need(daemons, "nginx")
    port = str(daemons.daemon("nginx").port)
    raw = parse_json(daemons.portwatch("who", port, "--json").stdout, "who")["listeners"]
    workers = [p for entry in raw for p in entry["processes"] if p["cmdline"][:1] == ["nginx: worker process"]]
    assert workers and all("" in p["cmdline"] for p in workers)  # JSON keeps the raw argv, empty slots and all
    text = daemons.portwatch("who", port).stdout
    lines = [line for line in text.splitlines() if line.strip().startswith("cmdline")]
    assert "  cmdline  nginx: worker process" in lines
    assert not any("''" in line for line in lines)


def _rpcinfo_udp_ports(ns: DaemonNetns, program: str) -> set[int]:
    """The UDP ports rpcinfo (the rpcbind package's own client) says ``program`` registered."""
    out = ns.run("rpcinfo", "-p", "127.0.0.1").stdout
    return {int(m.group(1)) for m in re.finditer(rf"^\s*{program}\s+\d+\s+udp\s+(\d+)", out, re.MULTILINE)}


@pytest.mark.parametrize("collector", ["linux", "psutil"])
def test_rpc_service_on_an_auto_bound_udp_port_is_a_server(daemons: DaemonNetns, collector: str) -> None:
    need(daemons, "rpc")
    statd = daemons.daemon("rpc.statd").main_pid()
    registered = _rpcinfo_udp_ports(daemons, "100024")
    assert registered, "rpc.statd registered no UDP port"
    records = listed(daemons, "--collector", collector)
    held = [entry for entry in records if entry["proto"] == "udp" and statd in entry["pids"]]
    assert held and not [entry for entry in held for flag in entry["flags"] if flag["code"] == "udp-client"]
    for port in registered:
        record = record_on(records, port, "udp")
        assert statd in record["pids"] and record.get("rpc_program") == "100024 status"
    # Its IPv6 socket too: rpcbind's version-4 dump lists udp6, which rpcinfo -p (version 2) does not show.
    wildcard6 = [entry for entry in held if entry["address"] == "::"]
    assert all(entry.get("rpc_program") == "100024 status" for entry in wildcard6)
