"""The reader's half of the portwatch.remote.wire format: the schema number, and :func:`decode`, which checks
every field so a bad remote yields :class:`WireError`, never a crash (the encoder is in portwatch.remote.wire).

Re-exported by :mod:`portwatch.remote.wire` (import them from there); a module of its own keeps wire.py short.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from portwatch.model import (
    HOST_NETNS,
    EphemeralRange,
    ExeFacts,
    Exposure,
    Family,
    Flag,
    FlagCode,
    LinkDirection,
    Listener,
    Netns,
    NetnsKind,
    Owner,
    OwnerStatus,
    PortLink,
    PortRange,
    PortSpan,
    ProcessDetails,
    ProcessLink,
    ProcessState,
    Proto,
    Scan,
)
from portwatch.occupants import ContainerRef, PackageFacts, PodRef, UnitRef
from portwatch.text import safe

#: Bump when a reader of the old format would misread the new one (not for added fields: readers ignore them).
SCHEMA = 1


class WireError(ValueError):
    """A record this portwatch cannot read; ``too_old``/``too_new``: the other side speaks another schema."""

    def __init__(self, message: str, *, too_old: bool = False, too_new: bool = False) -> None:
        super().__init__(message)
        self.too_old, self.too_new = too_old, too_new


@dataclass(frozen=True, slots=True)
class Judged:
    """One remote refresh: the judged scan, and the remote host's word on its baseline."""

    scan: Scan
    #: Which baseline judged it on the remote host (a path there), None when it had none.
    baseline: str | None
    #: The remote host's name for itself.
    hostname: str
    version: str
    notes: tuple[str, ...] = ()
    processes: tuple[ProcessDetails, ...] = ()


# -- decoding: every field checked, so a bad remote yields WireError, not a TypeError deep in an output --------


def _get(record: Any, key: str, kind: type | tuple[type, ...], optional: bool = False) -> Any:
    if not isinstance(record, dict):
        raise WireError(f"expected an object holding {key!r}")
    value = record.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, kind) or (isinstance(value, bool) and kind in (int, float, (int, float))):
        raise WireError(f"field {key!r} is {type(value).__name__}, not {getattr(kind, '__name__', kind)}")
    return value


def _str_list(record: Any, key: str) -> tuple[str, ...]:
    values = _get(record, key, list)
    if not all(isinstance(v, str) for v in values):
        raise WireError(f"field {key!r} holds a non-string")
    return tuple(values)


def _enum(record: Any, key: str, kind: type[Any]) -> Any:
    value = _get(record, key, str)
    try:
        return kind(value)
    except ValueError:
        raise WireError(f"field {key!r} has an unknown value {safe(value, 40)!r}") from None


def _facts(record: Any) -> ExeFacts:
    if not isinstance(record, dict):
        raise WireError("exe facts are not an object")
    return ExeFacts(
        _get(record, "path", str, True),
        bool(_get(record, "deleted", bool)),
        bool(_get(record, "replaced", bool)),
        bool(_get(record, "fileless", bool)),
        _get(record, "risky_place", str, True),
    )


def _occupants(record: Any) -> dict[str, Any]:
    """The owner's unit, container, pod and package as the host named them (each may be absent)."""
    found: dict[str, Any] = {}
    unit = _get(record, "unit", dict, True)
    if unit is not None:
        found["unit"] = UnitRef(_get(unit, "name", str), _get(unit, "kind", str), _get(unit, "user_uid", int, True))
    container = _get(record, "container", dict, True)
    if container is not None:
        found["container"] = ContainerRef(
            _get(container, "runtime", str),
            _get(container, "id", str),
            _get(container, "name", str, True),
            _get(container, "image", str, True),
        )
    pod = _get(record, "pod", dict, True)
    if pod is not None:
        found["pod"] = PodRef(_get(pod, "uid", str), _get(pod, "namespace", str, True), _get(pod, "name", str, True))
    package = _get(record, "package", dict, True)
    if package is not None:
        verified = package.get("verified")
        found["package"] = PackageFacts(
            _get(package, "manager", str, True),
            _get(package, "name", str, True),
            verified if isinstance(verified, bool) else None,
            _get(package, "note", str, True),
        )
    return found


def _owner(record: Any, facts: ExeFacts) -> Owner:
    number = (int, float)
    return Owner(
        exe_facts=facts,
        pid=_get(record, "pid", int),
        name=_get(record, "name", str),
        user=_get(record, "user", str, True),
        exe=_get(record, "exe", str, True),
        cmdline=_str_list(record, "cmdline"),
        create_time=_get(record, "create_time", number, True),
        real_user=_get(record, "real_user", str, True),
        **_occupants(record),
    )


def _flag(record: Any) -> Flag:
    return Flag(
        _enum(record, "code", FlagCode),
        safe(_get(record, "reason", str), 1000),
        bool(_get(record, "informational", bool)),
    )


def _listener(record: Any) -> Listener:
    dual = record.get("dual_stack") if isinstance(record, dict) else None
    autobound = record.get("autobound") if isinstance(record, dict) else None
    inodes = _get(record, "inodes", list, True) or []
    owners = _get(record, "owners", list)
    facts = [_facts(f) for f in (_get(record, "exe_facts", list, True) or [])]
    if len(facts) != len(owners):
        facts = [ExeFacts()] * len(owners)
    return Listener(
        proto=_enum(record, "proto", Proto),
        family=_enum(record, "family", Family),
        address=_get(record, "address", str),
        port=_get(record, "port", int),
        port_range=_enum(record, "range", PortRange),
        os_ephemeral=bool(_get(record, "os_ephemeral", bool)),
        exposure=_enum(record, "exposure", Exposure),
        service=_get(record, "service", str, True),
        owners=tuple(_owner(o, f) for o, f in zip(owners, facts, strict=True)),
        owner_status=_enum(record, "owner_status", OwnerStatus),
        socket_user=_get(record, "socket_user", str, True),
        owner_reason=_get(record, "owner_reason", str, True),
        inodes=tuple(i for i in inodes if isinstance(i, int)),
        dual_stack=dual if isinstance(dual, bool) else None,
        autobound=autobound if isinstance(autobound, bool) else None,
        rpc_program=_get(record, "rpc_program", str, True),
        flags=tuple(_flag(f) for f in _get(record, "flags", list)),
        netns=_netns(record.get("netns")),
        device=_get(record, "device", str, True),
        links=tuple(_link(link) for link in (_get(record, "published", list, True) or [])),
    )


def _netns(record: Any) -> Netns:
    """A listener's namespace; the host's where a record (an older portwatch) carries none."""
    if record is None:
        return HOST_NETNS
    return Netns(_get(record, "inode", int), _enum(record, "kind", NetnsKind), _get(record, "name", str))


def _link(record: Any) -> PortLink:
    return PortLink(
        _enum(record, "direction", LinkDirection),
        _netns(_get(record, "netns", dict)),
        _get(record, "address", str),
        _get(record, "port", int),
        _get(record, "via", str),
        _get(record, "container", str, True),
    )


def _details(record: Any) -> ProcessDetails:
    number = (int, float)
    return ProcessDetails(
        pid=_get(record, "pid", int),
        state=_enum(record, "state", ProcessState),
        name=_get(record, "name", str),
        exe=_get(record, "exe", str, True),
        exe_deleted=bool(_get(record, "exe_deleted", bool)),
        cmdline=_str_list(record, "cmdline"),
        cwd=_get(record, "cwd", str, True),
        cwd_deleted=bool(_get(record, "cwd_deleted", bool, True)),
        user=_get(record, "user", str, True),
        real_user=_get(record, "real_user", str, True),
        parents=tuple(ProcessLink(_get(p, "pid", int), _get(p, "name", str)) for p in _get(record, "parents", list)),
        create_time=_get(record, "create_time", number, True),
        status=_get(record, "status", str, True),
        listening=_str_list(record, "listening"),
        denied=_str_list(record, "denied"),
    )


def decode(line: str | bytes) -> Judged:
    """One line of `portwatch stream --jsonl` back into records; WireError when it is not one."""
    try:
        record = json.loads(line)
    except (ValueError, UnicodeDecodeError) as error:
        raise WireError(f"not a JSON record: {error}") from None
    schema = record.get("schema") if isinstance(record, dict) else None
    if not isinstance(schema, int) or isinstance(schema, bool):
        raise WireError("the record has no schema number", too_old=True)
    if schema != SCHEMA:
        raise WireError(
            f"the remote portwatch speaks schema {schema}, this one reads {SCHEMA}",
            too_old=schema < SCHEMA,
            too_new=schema > SCHEMA,
        )
    scan = _get(record, "scan", dict)
    eph = _get(scan, "ephemeral", dict)
    reserved = _get(eph, "reserved", list)
    if not all(isinstance(r, list) and len(r) == 2 and all(isinstance(n, int) for n in r) for r in reserved):
        raise WireError("field 'reserved' is not a list of port pairs")
    ephemeral = EphemeralRange(
        PortSpan(_get(eph, "first", int), _get(eph, "last", int)),
        tuple(PortSpan(a, b) for a, b in reserved),
        _get(eph, "source", str),
    )
    decoded = Scan(
        listeners=tuple(_listener(entry) for entry in _get(scan, "listeners", list)),
        ephemeral=ephemeral,
        privileged=bool(_get(scan, "privileged", bool)),
        source=_get(scan, "source", str),
        taken_at=float(_get(scan, "taken_at", (int, float))),
        warnings=tuple(safe(w, 400) for w in _str_list(scan, "warnings")),
        namespaces=tuple(_netns(entry) for entry in (_get(scan, "namespaces", list, True) or [])),
        unseen_namespaces=_get(scan, "unseen_namespaces", int, True),
    )
    return Judged(
        decoded,
        _get(record, "baseline", str, True),
        _get(record, "hostname", str),
        _get(record, "portwatch", str),
        tuple(safe(note, 400) for note in _str_list(record, "notes")),
        tuple(_details(d) for d in (_get(record, "processes", list, True) or [])),
    )
