"""Issue 10's wrong answers, as pure rules: masquerades, needs-restart, RPC evidence, users, argv, wording."""

from __future__ import annotations

import struct

import pytest

from portwatch.collect.base import RawSocket
from portwatch.collect.procfs import uids
from portwatch.collect.psutil_collector import with_holders
from portwatch.collect.rpcbind import (
    PMAP_VERS,
    RPCB_VERS,
    RpcbindReader,
    VersionMismatch,
    parse_dump_reply,
    portmapper_listens,
    registrations,
    universal_port,
)
from portwatch.flags import Flagger, exe_flags, masquerade
from portwatch.judge import judge
from portwatch.listing import HIDDEN_OWNER, listener_user, owner_text, user_text
from portwatch.model import (
    EphemeralRange,
    ExeFacts,
    Exposure,
    Family,
    Listener,
    Owner,
    OwnerStatus,
    PortRange,
    PortSpan,
    Proto,
    Scan,
)
from portwatch.text import safe_join


@pytest.mark.parametrize(
    ("name", "exe"),
    [
        ("nginx", "/usr/sbin/nginx"),
        ("cache-main", "/usr/sbin/varnishd"),  # varnish's child renames itself
        ("redis-server", "/usr/bin/redis-check-rdb"),  # redis-server is a symlink to it
        ("mysqld", "/usr/sbin/mariadbd"),
        ("systemd-resolve", "/usr/lib/systemd/systemd-resolved"),  # the comm cut to 15 bytes
        ("httpd", "/bin/busybox"),  # a multi-call binary's applet
        ("watchdog", "/usr/sbin/watchdog"),  # a daemon, not the kernel's watchdog/0
        ("worker-1", "/usr/bin/python3.11"),
        ("(sd-pam)", "/usr/lib/systemd/systemd"),
        ("postgres", "/usr/lib/postgresql/15/bin/postgres"),
        ("sshd", "/usr/sbin/sshd"),
    ],
)
def test_a_rename_that_claims_no_other_program_is_no_masquerade(name: str, exe: str) -> None:
    assert masquerade(name, exe) is None


@pytest.mark.parametrize(
    ("name", "exe", "claim"),
    [
        ("sshd", "/usr/bin/python3.11", "the name of sshd"),
        ("systemd", "/home/u/.local/bin/agent", "the name of systemd"),
        ("nginx: worker", "/tmp/.x/miner", "the name of nginx"),
        ("redis-server", "/tmp/redis-server-miner", "the name of redis-server"),
        ("[kworker/0:1]", "/usr/bin/python3.11", "a kernel thread's name"),
        ("kworker/u8:2", "/tmp/.x/miner", "a kernel thread's name"),
        ("ksoftirqd/0", "/tmp/.x/miner", "a kernel thread's name"),
        ("ss\u200bhd", "/usr/bin/python3.11", "a name with hidden or control characters"),
        ("\x1b[31mx", "/usr/bin/x", "a name with hidden or control characters"),
    ],
)
def test_a_name_that_claims_another_program_is_a_masquerade(name: str, exe: str, claim: str) -> None:
    assert masquerade(name, exe) == claim


def test_a_replaced_file_needs_a_restart_and_a_deleted_one_is_exe_deleted() -> None:
    owner = Owner(pid=7, name="nginx", exe="/usr/sbin/nginx")
    [restart] = exe_flags(owner, ExeFacts("/usr/sbin/nginx", deleted=True, replaced=True))
    assert restart.code.value == "needs-restart" and restart.informational and "needs restart" in restart.reason
    [deleted] = exe_flags(owner, ExeFacts("/usr/sbin/nginx", deleted=True))
    assert deleted.code.value == "exe-deleted" and not deleted.informational


def _udp(autobound: bool | None, rpc_program: str | None = None, port: int = 44146) -> Listener:
    return Listener(
        Proto.UDP,
        Family.IPV4,
        "0.0.0.0",
        port,
        PortRange.REGISTERED,
        True,
        Exposure.ALL,
        owners=(Owner(pid=9, name="rpc.statd", exe="/usr/sbin/rpc.statd"),),
        autobound=autobound,
        rpc_program=rpc_program,
    )


def _scan(*listeners: Listener) -> Scan:
    return Scan(listeners, EphemeralRange(PortSpan(32768, 60999)), True, "test", 0.0)


@pytest.mark.parametrize("autobound", [True, None])
def test_an_auto_bound_udp_socket_registered_with_rpcbind_is_a_server(autobound: bool | None) -> None:
    [served, client] = judge(_scan(_udp(autobound, "100024 status"), _udp(autobound, port=44147))).listeners
    assert "udp-client" not in {flag.code.value for flag in served.flags}
    assert "dynamic-exposed" in {flag.code.value for flag in served.flags}  # judged as any server
    assert "udp-client" in {flag.code.value for flag in client.flags}


def _xdr_string(text: str) -> bytes:
    raw = text.encode()
    return struct.pack(">I", len(raw)) + raw + b"\0" * (-len(raw) % 4)


def _reply(xid: int, body: bytes, accept_stat: int = 0) -> bytes:
    return struct.pack(">IIIIII", xid, 1, 0, 0, 0, accept_stat) + body


def test_rpcbind_version_4_dump_is_read_with_its_ipv6_registrations() -> None:
    entries = b"".join(
        struct.pack(">III", 1, 100024, 1) + _xdr_string(netid) + _xdr_string(addr) + _xdr_string("107")
        for netid, addr in (("udp", "0.0.0.0.172.114"), ("udp6", "::.194.57"), ("local", "/run/rpcbind.sock"))
    )
    parsed = parse_dump_reply(_reply(5, entries + struct.pack(">I", 0)), 5, RPCB_VERS)
    assert parsed == [(100024, Proto.UDP, Family.IPV4, 44146), (100024, Proto.UDP, Family.IPV6, 49721)]
    assert registrations(parsed, {100024: "status"}) == {
        (Proto.UDP, Family.IPV4, 44146): "100024 status",
        (Proto.UDP, Family.IPV6, 49721): "100024 status",
    }


def test_portmapper_version_2_dump_and_version_mismatch() -> None:
    body = struct.pack(">IIIII", 1, 100005, 3, 6, 20048) + struct.pack(">I", 0)
    assert parse_dump_reply(_reply(9, body), 9, PMAP_VERS) == [(100005, Proto.TCP, Family.IPV4, 20048)]
    with pytest.raises(VersionMismatch):
        parse_dump_reply(_reply(9, b"", accept_stat=2), 9, RPCB_VERS)
    with pytest.raises(ValueError, match="short"):
        parse_dump_reply(_reply(9, struct.pack(">I", 1)), 9, PMAP_VERS)
    with pytest.raises(ValueError, match="not an accepted reply"):
        parse_dump_reply(_reply(8, body), 9, PMAP_VERS)


def test_universal_address_ports_and_when_the_portmapper_is_asked() -> None:
    assert universal_port("0.0.0.0.0.111") == 111 and universal_port("::1.4.1") == 1025
    assert universal_port("/run/rpcbind.sock") is None
    assert portmapper_listens([(Proto.TCP, "0.0.0.0", 111)])
    assert not portmapper_listens([(Proto.UDP, "0.0.0.0", 111), (Proto.TCP, "192.0.2.1", 111)])
    assert RpcbindReader().programs(False) == {}  # nothing on port 111: no connection is even tried


def test_real_and_effective_uids_come_from_the_status_uid_line() -> None:
    assert uids(b"Name:\tx\nUid:\t0\t65534\t0\t65534\nGid:\t0\t0\t0\t0\n") == (0, 65534)
    assert uids(b"Name:\tx\n") == (None, None)


def test_the_user_cell_shows_the_effective_user_and_the_real_one_where_they_differ() -> None:
    assert user_text("nobody", "root") == "nobody (real root)"
    assert user_text("root", None) == "root" and user_text("root", "root") == "root"
    shared = _udp(False)
    owners = (Owner(pid=1, name="a", user="nobody", real_user="root"), Owner(pid=2, name="a", user="nobody"))
    from dataclasses import replace

    assert listener_user(replace(shared, owners=owners)) == "nobody (real root),nobody"


def test_empty_argv_slots_are_not_displayed() -> None:
    assert safe_join(["nginx: worker process", "", "", ""]) == "nginx: worker process"
    assert safe_join(["python", "", "-c", "a\nb"]) == "python -c a\\nb"


def test_a_hidden_owner_is_described_without_promising_what_sudo_shows() -> None:
    hidden = Listener(
        Proto.TCP,
        Family.IPV4,
        "127.0.0.1",
        5432,
        PortRange.REGISTERED,
        False,
        Exposure.LOOPBACK,
        owner_status=OwnerStatus.HIDDEN,
        socket_user="postgres",
    )
    assert owner_text(hidden) == ("-", HIDDEN_OWNER, "postgres")
    [flag] = Flagger().flag_scan(_scan(hidden)).listeners[0].flags
    assert "not yours to see" in flag.reason and "sudo may reveal it" in flag.reason
    assert "run with sudo" not in flag.reason


def test_the_tui_describes_a_hidden_owner_the_same_way() -> None:
    from rich.style import Style

    from portwatch.tui.table.rows import RowState, row_cells
    from portwatch.tui.widgets.process_view import owner_notice

    hidden = Listener(
        Proto.TCP,
        Family.IPV4,
        "127.0.0.1",
        5432,
        PortRange.REGISTERED,
        False,
        Exposure.LOOPBACK,
        owner_status=OwnerStatus.HIDDEN,
        socket_user="postgres",
    )
    notice = owner_notice(hidden)
    assert notice is not None and "not yours to see" in notice.plain and "sudo may reveal it" in notice.plain
    assert "run with sudo to see" not in notice.plain
    cells = [cell.plain for cell in row_cells(hidden, RowState.STEADY, lambda _name: Style())]
    assert "(not yours)" in cells and not [cell for cell in cells if "sudo" in cell]


def test_the_panel_shows_the_real_user_beside_the_effective_one() -> None:
    from portwatch.model import ProcessDetails, ProcessState
    from portwatch.tui.widgets.process_view import fields

    details = ProcessDetails(
        pid=5, state=ProcessState.OK, name="x", user="nobody", real_user="root", cmdline=("x: title", "", "", "")
    )
    shown = fields(details, now=0.0)
    assert shown["user"].plain == "nobody  (real: root)"
    assert shown["cmdline"].plain == "x: title"


def test_shared_socket_holders_from_each_process_are_added_to_the_system_table() -> None:
    table = [
        RawSocket(Proto.TCP, Family.IPV4, "127.0.0.1", 8080, pids=(10,)),
        RawSocket(Proto.TCP, Family.IPV6, "::1", 8080, pids=(12,)),
    ]
    held = {(Proto.TCP, Family.IPV4, "127.0.0.1", 8080): {10, 11}}
    assert [sock.pids for sock in with_holders(table, held)] == [(10, 11), (12,)]


def test_a_remote_host_carries_the_real_user_and_the_rpc_program_over_the_wire() -> None:
    from dataclasses import replace

    from portwatch.model import ProcessDetails, ProcessState
    from portwatch.remote import wire

    served = replace(
        _udp(True, "100024 status"),
        owners=(Owner(pid=9, name="rpc.statd", user="statd", real_user="root", exe="/usr/sbin/rpc.statd"),),
    )
    details = ProcessDetails(pid=9, state=ProcessState.OK, name="rpc.statd", user="statd", real_user="root")
    line = wire.encode(_scan(served), baseline=None, hostname="h", version="0", processes=(details,))
    back = wire.decode(line)
    [listener] = back.scan.listeners
    assert listener.rpc_program == "100024 status" and listener.owners[0].real_user == "root"
    assert back.processes[0].real_user == "root"


def test_the_new_fields_follow_the_json_schema() -> None:
    import json
    from dataclasses import replace
    from pathlib import Path

    import jsonschema

    from portwatch.listing import listener_json

    schema = json.loads((Path(__file__).resolve().parents[2] / "portwatch/schemas/events.schema.json").read_text())
    owner = Owner(pid=9, name="rpc.statd", user="statd", real_user="root", exe="/usr/sbin/rpc.statd")
    served = replace(_udp(True, "100024 status"), owners=(owner,))
    [judged] = judge(_scan(served)).listeners
    record = listener_json(judged)
    assert record["rpc_program"] == "100024 status" and record["owners"][0]["real_user"] == "root"
    jsonschema.validate(record, {"$ref": "#/$defs/listener", "$defs": schema["$defs"]})
    [restart] = exe_flags(owner, ExeFacts("/usr/sbin/rpc.statd", deleted=True, replaced=True))
    flagged = listener_json(replace(judged, flags=(restart,)))
    jsonschema.validate(flagged, {"$ref": "#/$defs/listener", "$defs": schema["$defs"]})
