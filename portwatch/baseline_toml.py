"""The TOML text of baseline entries: what `baseline save` and the approve key write for a listener.

A tiny emitter: only integers and basic strings. Strings escape quote, backslash and every non-printable
character (controls, bidi overrides) per the TOML spec, so a hostile process name cannot break out of its
string or hide text in an editor. A string holding lone surrogates (bytes that were not UTF-8) cannot be
stored in TOML; such a value is left out of the entry and a comment says so.

An entry records what identifies the service beyond its port: exe (or name), user, exposure, and where
known the systemd unit, the container (its name, else its image), the package of its executable and a
network namespace other than the host's. A login session's scope is not recorded (it changes each login).
"""

from __future__ import annotations

from collections.abc import Sequence

from portwatch.baseline import Entry
from portwatch.baseline_entry import netns_kind
from portwatch.model import Listener, OwnerStatus, PortSpan
from portwatch.text import safe

_NAMED = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def _one(values: set[str | None]) -> str | None:
    """The value every owner shares, or None when they differ or none has one."""
    return next(iter(values)) if len(values) == 1 else None


def toml_string(value: str) -> str:
    """A TOML basic string; ValueError for text TOML cannot hold (lone surrogates)."""
    out = ['"']
    for char in value:
        code = ord(char)
        if 0xD800 <= code <= 0xDFFF:
            raise ValueError("not valid Unicode text")
        if char in _NAMED:
            out.append(_NAMED[char])
        elif not char.isprintable():
            out.append(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def entry_for(listener: Listener) -> tuple[Entry, list[str]]:
    """The entry that expects ``listener``, with comments worth writing above it."""
    comments: list[str] = []
    exes = {o.exe for o in listener.owners}
    names = {o.name for o in listener.owners}
    exe = next(iter(exes)) if len(exes) == 1 else None
    name = next(iter(names)) if len(names) == 1 and exe is None else None
    user = listener.user if listener.user and "," not in listener.user else None
    owners = listener.owners
    units = {o.unit.name if o.unit is not None and o.unit.kind != "session" else None for o in owners}
    containers = {(o.container.name or o.container.image) if o.container is not None else None for o in owners}
    packages = {o.package.name if o.package is not None else None for o in owners}
    fields = {
        "exe": exe,
        "name": name,
        "user": user,
        "unit": _one(units),
        "container": _one(containers),
        "package": _one(packages),
    }
    for key, value in fields.items():
        try:
            toml_string(value or "")
        except ValueError:
            fields[key] = None
            comments.append(f"{key} {safe(value, 120)} is not valid text and cannot be stored in TOML")
    if listener.owner_status is OwnerStatus.HIDDEN:
        comments.append("owner hidden when saved: `sudo portwatch baseline save --merge` records its program")
    elif not listener.owners:
        comments.append("no process seen holding it when saved: matches on port, user and exposure only")
        if listener.owner_reason:
            comments.append(f"why: {safe(listener.owner_reason, 300)}")
    codes = [flag.code.value for flag in listener.flags if not flag.code.value.startswith("owner-")]
    if codes:
        comments.append("flagged when saved: " + ", ".join(codes))
    kind = netns_kind(listener)
    entry = Entry(
        listener.proto,
        PortSpan(listener.port, listener.port),
        fields["exe"],
        fields["name"],
        fields["user"],
        listener.exposure,
        unit=fields["unit"],
        container=fields["container"],
        netns=kind if kind != "host" else None,
        package=fields["package"],
    )
    return entry, comments


def render_entry(entry: Entry, comments: Sequence[str] = ()) -> str:
    lines = [f"# {comment}" for comment in comments] + ["[[listener]]"]
    if entry.proto is not None:
        lines.append(f"proto = {toml_string(entry.proto.value)}")
    if entry.ports is not None:
        span = entry.ports
        lines.append(f"port = {span.first}" if span.first == span.last else f'port = "{span}"')
    for key in ("exe", "name", "user"):
        value = getattr(entry, key)
        if value is not None:
            lines.append(f"{key} = {toml_string(value)}")
    if entry.exposure is not None:
        lines.append(f"exposure = {toml_string(entry.exposure.value)}")
    for key in ("unit", "container", "package", "netns"):
        value = getattr(entry, key)
        if value is not None:
            lines.append(f"{key} = {toml_string(value)}")
    if entry.note is not None:
        lines.append(f"note = {toml_string(entry.note)}")
    return "\n".join(lines) + "\n"
