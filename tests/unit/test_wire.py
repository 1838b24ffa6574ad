"""The JSON-lines format between two portwatches: a round trip keeps every field; a bad record is an error."""

from __future__ import annotations

import json

import pytest

from portwatch.model import (
    EphemeralRange,
    ExeFacts,
    Exposure,
    Family,
    Flag,
    FlagCode,
    Listener,
    Owner,
    OwnerStatus,
    PortRange,
    PortSpan,
    ProcessDetails,
    ProcessLink,
    ProcessState,
    Proto,
    Scan,
)
from portwatch.remote import wire

HOSTILE = "\x1b]52;c;aGk=\x07[/]\n"


def sample_scan() -> Scan:
    owner = Owner(
        pid=4242,
        name=HOSTILE,
        user="www",
        exe="/tmp/x",
        cmdline=("x", "", "\udcff"),
        create_time=1.5,
        exe_facts=ExeFacts("/tmp/x", deleted=True, risky_place="/tmp"),
    )
    listeners = (
        Listener(
            Proto.TCP,
            Family.IPV4,
            "127.0.0.1",
            8080,
            PortRange.REGISTERED,
            False,
            Exposure.LOOPBACK,
            service="http-alt",
            owners=(owner,),
            owner_status=OwnerStatus.KNOWN,
            socket_user="www",
            inodes=(123,),
            dual_stack=False,
            flags=(Flag(FlagCode.EXE_IN_TEMP, "it runs from /tmp"),),
        ),
        Listener(
            Proto.UDP,
            Family.IPV6,
            "::",
            51000,
            PortRange.DYNAMIC,
            True,
            Exposure.ALL,
            owner_status=OwnerStatus.HIDDEN,
            socket_user="nobody",
            dual_stack=None,
            autobound=True,
            flags=(Flag(FlagCode.UDP_CLIENT, "auto-bound", informational=True),),
        ),
    )
    return Scan(
        listeners,
        EphemeralRange(PortSpan(32768, 60999), (PortSpan(40000, 40010),), "/proc/x"),
        True,
        "netlink",
        1000.25,
        ("a warning",),
    )


def test_a_round_trip_keeps_every_record_field() -> None:
    details = ProcessDetails(
        pid=4242,
        state=ProcessState.OK,
        name="x",
        exe="/tmp/x",
        cmdline=("x",),
        cwd="/",
        user="www",
        parents=(ProcessLink(1, "init"),),
        create_time=1.5,
        status="sleeping",
        listening=("tcp 127.0.0.1:8080",),
    )
    line = wire.encode(
        sample_scan(), baseline="/etc/b.toml", hostname="web1", version="0.1.0", notes=("n",), processes=(details,)
    )
    assert "\n" not in line
    back = wire.decode(line)
    assert back.scan == sample_scan()
    assert (back.baseline, back.hostname, back.version, back.notes) == ("/etc/b.toml", "web1", "0.1.0", ("n",))
    assert back.processes == (details,)


def test_another_schema_is_too_old_or_too_new() -> None:
    record = json.loads(wire.encode(sample_scan(), baseline=None, hostname="h", version="v"))
    with pytest.raises(wire.WireError) as old:
        wire.decode(json.dumps(record | {"schema": 0}))
    assert old.value.too_old and not old.value.too_new
    with pytest.raises(wire.WireError) as new:
        wire.decode(json.dumps(record | {"schema": wire.SCHEMA + 1}))
    assert new.value.too_new
    with pytest.raises(wire.WireError) as none:
        wire.decode("{}")
    assert none.value.too_old


@pytest.mark.parametrize(
    "damage",
    [
        lambda r: r["scan"]["listeners"][0].update(port="80"),
        lambda r: r["scan"]["listeners"][0].update(proto="sctp"),
        lambda r: r["scan"]["listeners"][0]["owners"][0].update(pid=True),
        lambda r: r["scan"].update(listeners={}),
        lambda r: r["scan"]["ephemeral"].update(reserved=[[1]]),
        lambda r: r.pop("scan"),
    ],
)
def test_a_malformed_record_is_a_wire_error_not_a_crash(damage: object) -> None:
    record = json.loads(wire.encode(sample_scan(), baseline=None, hostname="h", version="v"))
    assert callable(damage)
    damage(record)
    with pytest.raises(wire.WireError):
        wire.decode(json.dumps(record))


def test_flag_reasons_from_a_remote_host_are_made_safe() -> None:
    record = json.loads(wire.encode(sample_scan(), baseline=None, hostname="h", version="v"))
    record["scan"]["listeners"][0]["flags"][0]["reason"] = "\x1b[2Jgone"
    (first, _) = wire.decode(json.dumps(record)).scan.listeners
    assert first.flags[0].reason == "\\x1b[2Jgone"
    assert first.owners[0].name == HOSTILE  # other strings stay raw: outputs make them safe
