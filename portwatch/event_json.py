"""One event as `portwatch events` writes it: a JSON object (schemas/events.schema.json) or one readable line.

JSON carries raw process strings (json escapes control characters); the line passes each through
:func:`portwatch.text.safe`, so a process name cannot write an escape sequence to a terminal or a log viewer.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from portwatch.events import Event, EventKind
from portwatch.flags import alarming
from portwatch.json_text import carry
from portwatch.listing import listener_json, owner_text
from portwatch.model import FlagCode
from portwatch.text import duration, safe

#: Bumped when a field changes meaning or goes; new fields may appear without a bump.
SCHEMA_VERSION = 1


def iso_time(epoch: float) -> str:
    """UTC, ISO 8601 with milliseconds, e.g. "2026-12-01T22:30:01.123Z" (what journald, Vector and jq sort)."""
    moment = datetime.fromtimestamp(epoch, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def expected(event: Event, has_baseline: bool) -> bool | None:
    """Whether a baseline entry expects the listener (as the judge decided); None without a baseline."""
    if not has_baseline:
        return None
    return not any(flag.code is FlagCode.NOT_IN_BASELINE for flag in event.listener.flags)


def event_json(event: Event, has_baseline: bool) -> dict[str, Any]:
    """One event; text with undecodable bytes travels as U+FFFD text plus a ``<field>_b64`` sibling, as in
    every JSON document (portwatch.json_text), so each line is valid Unicode."""
    document: dict[str, Any] = carry(
        {
            "v": SCHEMA_VERSION,
            "time": iso_time(event.at),
            "epoch": round(event.at, 6),
            "kind": event.kind.value,
            "key": event.key.text,
            "listener": listener_json(event.listener),
            "lifetime": None if event.lifetime is None else round(event.lifetime, 3),
            "since_start": event.since_start,
            "short_lived": event.short_lived,
            "previous_pids": list(event.previous_pids),
            "previous_name": event.previous_name,
            "previous_exe": event.previous_exe,
            "expected": expected(event, has_baseline),
            "alarming": bool(alarming(event.listener)),
            "seen_by": event.seen_by.value,
        }
    )
    return document


def dropped_json(count: int, at: float) -> dict[str, Any]:
    """The stream's reader fell so far behind that ``count`` events were dropped (oldest first)."""
    return {"v": SCHEMA_VERSION, "time": iso_time(at), "epoch": round(at, 6), "kind": "dropped", "count": count}


def event_line(event: Event, has_baseline: bool) -> str:
    """``2026-12-01T22:30:01.123Z closed  tcp 127.0.0.1:8080  python3 pid 4242 (root)  lived 0.3s, short-lived``"""
    pids, process, user = owner_text(event.listener)
    owner = f"{process} pid {pids}" if pids != "-" else process
    owner += f" ({user})" if user else ""
    parts = [f"{iso_time(event.at)} {event.kind.value:<13} {safe(event.key.text, 80)}  {owner}"]
    if event.kind is EventKind.CLOSED and event.lifetime is not None:
        lived = f"lived {'≥ ' if event.since_start else ''}{duration(event.lifetime)}"
        parts.append(lived + (", short-lived" if event.short_lived else ""))
    if event.kind is EventKind.PROGRAM_CHANGED:
        parts.append(f"was {safe(event.previous_name or '?', 64)} ({safe(event.previous_exe or 'exe unknown', 200)})")
    elif event.previous_pids:
        parts.append("was pid " + ",".join(map(str, event.previous_pids)))
    elif event.kind is EventKind.OWNER_CHANGED:
        parts.append("owner found: first seen without a process")
    codes = [flag.code.value for flag in alarming(event.listener)]
    if codes:
        parts.append("! " + ", ".join(codes))
    seen = expected(event, has_baseline)
    if seen is not None:
        parts.append("expected" if seen else "not expected")
    return "  ".join(parts)


def dropped_line(count: int, at: float) -> str:
    return f"{iso_time(at)} dropped       {count} event{'s' if count != 1 else ''}: the reader fell behind"
