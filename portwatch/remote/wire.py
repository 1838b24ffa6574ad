"""The JSON-lines format one portwatch speaks to another over ssh: a judged scan per line, and its encoder.

`portwatch stream --jsonl` (portwatch.remote.stream) prints one record per refresh; the remote collector
(portwatch.remote.host) reads them back into the same records a local scan produces. With
portwatch.remote.wire_decode (the reader's half, re-exported here) the only place that knows the format:
:func:`encode` and :func:`decode` are each other's inverse, and a test keeps them so.

Each record carries ``schema``; a reader refuses a record with another schema number (:class:`WireError`
with ``too_old``/``too_new``). The remote end is another machine: its text is untrusted like any process's,
and a malformed record is a WireError, never a crash. Strings stay raw (outputs make them safe), except
flag reasons, warnings and notes, which the model promises are already safe: they pass through safe() here.
"""

from __future__ import annotations

import json
from typing import Any

from portwatch import listing
from portwatch.model import ExeFacts, Listener, ProcessDetails, Scan

# Re-exported: the reader's half (the schema number, WireError, Judged, decode) lives in wire_decode.
from portwatch.remote.wire_decode import SCHEMA as SCHEMA
from portwatch.remote.wire_decode import Judged as Judged
from portwatch.remote.wire_decode import WireError as WireError
from portwatch.remote.wire_decode import decode as decode


def _facts_record(facts: ExeFacts) -> dict[str, Any]:
    return {
        "path": facts.path,
        "deleted": facts.deleted,
        "replaced": facts.replaced,
        "fileless": facts.fileless,
        "risky_place": facts.risky_place,
    }


def listener_record(listener: Listener) -> dict[str, Any]:
    """`list --json`'s record (cmdlines whole) plus what a reader needs to rebuild the Listener exactly."""
    return listing.listener_json(listener, None) | {  # None: whole cmdlines, so the reader rebuilds it exactly
        "socket_user": listener.socket_user,
        "inodes": list(listener.inodes),
        "autobound": listener.autobound,
        "exe_facts": [_facts_record(owner.exe_facts) for owner in listener.owners],
    }


def encode(
    scan: Scan,
    *,
    baseline: str | None,
    hostname: str,
    version: str,
    notes: tuple[str, ...] = (),
    processes: tuple[ProcessDetails, ...] = (),
    elapsed: float | None = None,
) -> str:
    """One line (no newline inside: json escapes every control character). ``elapsed``: seconds the
    refresh took there (collect and judge), informational."""
    eph = scan.ephemeral
    record = {
        "schema": SCHEMA,
        "portwatch": version,
        "hostname": hostname,
        "baseline": baseline,
        "notes": list(notes),
        "elapsed": elapsed,
        "scan": {
            "source": scan.source,
            "privileged": scan.privileged,
            "taken_at": scan.taken_at,
            "warnings": list(scan.warnings),
            "ephemeral": {
                "first": eph.span.first,
                "last": eph.span.last,
                "source": eph.source,
                "reserved": [[span.first, span.last] for span in eph.reserved],
            },
            "listeners": [listener_record(entry) for entry in scan.listeners],
            "namespaces": [listing.netns_json(netns) for netns in scan.namespaces],
            "unseen_namespaces": scan.unseen_namespaces,
        },
        "processes": [listing.process_json(details) for details in processes],
    }
    return json.dumps(record, separators=(",", ":"))
