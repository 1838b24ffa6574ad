"""The baseline: a human-editable TOML allowlist of the listeners you expect.

Example ``baseline.toml``::

    version = 1

    [[listener]]
    proto = "tcp"
    port = 22                  # or a range: "8000-8100"
    exe = "/usr/sbin/sshd"     # or name = "sshd"
    user = "root"
    exposure = "all"           # loopback | specific | all | netns (every interface of a non-host namespace)
    unit = "ssh.service"       # the systemd unit; or container = "web-1" (its name or image)
    package = "openssh-server" # the package that installed the executable
    netns = "host"             # host | container | pod | named | other

Every key is optional but at least one must be given; an entry matches a listener when every key it has
matches. Nothing ever matches on a pid, so a service restarted with a new pid stays expected. ``exe``,
``name``, ``user``, ``unit``, ``container`` and ``package`` must hold for every process sharing the socket
(baseline_entry.py has the details). ``note`` is free text for humans.

A baseline entry says "this is expected here": it silences the flags about *place and visibility*
(not-in-baseline, a dynamic port, a hidden owner) but never those about *the program itself* (deleted, in
/tmp, renamed) — an approved service whose binary vanished is exactly what to look at.

Reading and validating live here; where the file lives, sudo, and safe writes live in baseline_file.py.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Entry and Match live in baseline_entry.py (matching); they are part of this module's interface.
from portwatch.baseline_entry import NETNS_KINDS
from portwatch.baseline_entry import Entry as Entry
from portwatch.baseline_entry import Match as Match
from portwatch.model import Exposure, Listener, PortSpan, Proto
from portwatch.text import safe
from portwatch.userfile import Invoker, RefusedFile, read_regular

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found]

FORMAT_VERSION = 1
_KEYS = ("proto", "port", "exe", "name", "user", "exposure", "unit", "container", "netns", "package", "note")
_STRINGS = ("exe", "name", "user", "unit", "container", "package", "note")
_HEADER = re.compile(r"^\s*\[\[\s*listener\s*\]\]")


class BaselineError(Exception):
    """The baseline could not be read or is malformed; str() is one line naming file, line and problem."""


@dataclass(frozen=True, slots=True)
class Baseline:
    entries: tuple[Entry, ...] = ()
    #: The file it was read from, None for one built in memory.
    path: Path | None = None
    #: Single-port entries by port, the rest in file order: a scan asks once per listener, so this is hot.
    _by_port: dict[int, tuple[Entry, ...]] = field(init=False, repr=False, compare=False)
    _general: tuple[Entry, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_port: dict[int, list[Entry]] = {}
        general: list[Entry] = []
        for entry in self.entries:
            if entry.ports is not None and entry.ports.first == entry.ports.last:
                by_port.setdefault(entry.ports.first, []).append(entry)
            else:
                general.append(entry)
        object.__setattr__(self, "_by_port", {port: tuple(found) for port, found in by_port.items()})
        object.__setattr__(self, "_general", tuple(general))

    @property
    def needs_packages(self) -> bool:
        """Whether some entry names a package: the collector must then look packages up to match it."""
        return any(entry.package is not None for entry in self.entries)

    def match(self, listener: Listener) -> Match:
        """The best match any entry gives."""
        best = Match.NONE
        for entry in (*self._by_port.get(listener.port, ()), *self._general):
            found = entry.match(listener)
            if found is Match.FULL:
                return found
            if found is Match.VISIBLE:
                best = found
        return best


def parse_ports(value: object) -> PortSpan:
    """22, "22" or "8000-8100" -> PortSpan; ValueError with a human message otherwise."""
    if isinstance(value, bool):
        raise ValueError('port must be a number or a range such as "8000-8100"')
    if isinstance(value, int):
        first = last = value
    elif isinstance(value, str):  # ASCII digits only: int() would take "٢٢" and "1_000"
        match = re.fullmatch(r"[ \t]*([0-9]{1,5})[ \t]*(?:-[ \t]*([0-9]{1,5})[ \t]*)?", value)
        if match is None:
            raise ValueError(f'port {value!r} is not a number or a range such as "8000-8100"')
        first, last = int(match[1]), int(match[2] or match[1])
    else:
        raise ValueError('port must be a number or a range such as "8000-8100"')
    if not (0 <= first <= 65535 and 0 <= last <= 65535):
        raise ValueError(f"port {value!r} is outside 0-65535")
    if first > last:
        raise ValueError(f"port range {value!r} runs backwards")
    return PortSpan(first, last)


def _key_line(lines: list[str], first: int, key: str) -> int | None:
    """The 1-based line of ``key = …`` from 0-based line ``first`` up to the next table header."""
    pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
    for number in range(first, len(lines)):
        if lines[number].lstrip().startswith("["):
            return None
        if pattern.match(lines[number]):
            return number + 1
    return None


def _entry(table: object, index: int, start: int | None, lines: list[str], where: str) -> Entry:
    def fail(message: str, key: str | None = None) -> BaselineError:
        line = (_key_line(lines, start, key) if key and start else None) or start
        at = f"{where}:{line}" if line else where
        return BaselineError(f"{at}: listener entry {index + 1}: {message}")

    if not isinstance(table, dict):
        raise fail("each [[listener]] must be a table")
    unknown = sorted(set(table) - set(_KEYS))
    if unknown:
        raise fail(f"unknown key {unknown[0]!r} (known: {', '.join(_KEYS)})", unknown[0])
    if not set(table) - {"note"}:
        raise fail("an entry needs at least one of " + ", ".join(key for key in _KEYS if key != "note"))
    for key in (*_STRINGS, "proto", "exposure", "netns"):
        if key in table and not isinstance(table[key], str):
            raise fail(f"{key} must be a string", key)
    values: dict[str, Any] = {"line": start}
    try:
        if "proto" in table:
            values["proto"] = Proto(table["proto"].lower())
    except ValueError:
        raise fail(f"proto {table['proto']!r} is not tcp or udp", "proto") from None
    try:
        if "exposure" in table:
            values["exposure"] = Exposure(table["exposure"].lower())
    except ValueError:
        raise fail(f"exposure {table['exposure']!r} is not loopback, specific, all or netns", "exposure") from None
    if "port" in table:
        try:
            values["ports"] = parse_ports(table["port"])
        except ValueError as error:
            raise fail(str(error), "port") from None
    if "netns" in table:
        if table["netns"].lower() not in NETNS_KINDS:
            raise fail(f"netns {table['netns']!r} is not one of {', '.join(NETNS_KINDS)}", "netns")
        values["netns"] = table["netns"].lower()
    values.update({key: table[key] for key in _STRINGS if key in table})
    return Entry(**values)


def _syntax_error(where: str, message: str, text: str) -> str:
    """tomllib's message as "file:LINE: problem (column N)"; "end of document" becomes the last line."""
    found = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
    if found:
        return f"{where}:{found[1]}: {message[: found.start()]} (column {found[2]})"
    if message.endswith("(at end of document)"):
        line = max(1, len(text.splitlines()))
        return f"{where}:{line}: {message.removesuffix(' (at end of document)')} (at the end of the file)"
    return f"{where}: {message}"


def parse(text: str, where: str = "baseline.toml", path: Path | None = None) -> Baseline:
    """Parse and validate baseline TOML; BaselineError names ``where`` and the line."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise BaselineError(_syntax_error(where, str(error), text)) from None
    except RecursionError:  # tomllib recurses once per nesting level: 3,000 arrays deep exhausts the stack
        raise BaselineError(f"{where}: too deeply nested (arrays or tables inside each other)") from None
    lines = text.splitlines()
    unknown = sorted(set(document) - {"version", "listener"})
    if unknown:
        line = _key_line(lines, 0, unknown[0])
        at = f"{where}:{line}" if line else where
        raise BaselineError(f"{at}: unknown top-level key {unknown[0]!r} (known: version, listener)")
    version = document.get("version", FORMAT_VERSION)
    if type(version) is not int or version != FORMAT_VERSION:  # true and 1.0 compare equal to 1
        raise BaselineError(f"{where}: version {version!r} is not one this portwatch reads ({FORMAT_VERSION})")
    tables = document.get("listener", [])
    if not isinstance(tables, list):
        raise BaselineError(f"{where}: 'listener' must be an array of tables ([[listener]])")
    starts = [number + 1 for number, line in enumerate(lines) if _HEADER.match(line)]
    if len(starts) != len(tables):
        starts = []  # inline tables or headers inside strings: name the entry by its number only
    entries = tuple(
        _entry(table, index, starts[index] if starts else None, lines, where) for index, table in enumerate(tables)
    )
    return Baseline(entries, path)


def read(path: Path, for_user: Invoker | None = None) -> bytes | None:
    """The file's bytes (None when absent) if it is a regular file of a sane size that ``for_user`` (the user
    behind sudo, for their default file) may read; BaselineError naming why not, never quoting the file."""
    try:
        return read_regular(path, for_user)
    except RefusedFile as error:
        raise BaselineError(f"{safe(path)}: not reading the baseline: {error}") from None
    except OSError as error:
        raise BaselineError(f"{safe(path)}: cannot read the baseline: {error.strerror or error}") from None


def decode(data: bytes, path: Path) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise BaselineError(f"{safe(path)}:{line}: the baseline is not valid UTF-8") from None


def load(path: Path, for_user: Invoker | None = None) -> Baseline:
    """Read and validate the baseline at ``path``; BaselineError (one line) when unreadable or malformed.

    Only a regular file up to 1 MiB is read, and never blocks (see portwatch.userfile); ``for_user``: the
    user behind sudo, whose default file this is.
    """
    data = read(path, for_user)
    if data is None:
        raise BaselineError(f"{safe(path)}: cannot read the baseline: No such file or directory")
    return parse(decode(data, path), safe(path), path)
