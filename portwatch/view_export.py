"""The current view as CSV or JSON, a row as one line of text for the clipboard, and writing a new file safely.

CSV is opened by spreadsheets, which run a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and, in some,
tab or CR) as a formula: process names are chosen by whoever runs the process, so every text cell is first
made safe (control characters shown as escapes, :func:`portwatch.text.safe`) and then, when it starts like a
formula, prefixed with a single quote (OWASP's advice). JSON carries the raw values, as `list --json` does.

Files are only ever created as regular files, atomically (written beside the target, then linked into place
so an existing file is never replaced unless the caller says so), and never through a symlink.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from portwatch.listing import listener_json
from portwatch.model import Listener, Owner, OwnerStatus
from portwatch.text import safe, safe_join

FORMATS = ("csv", "json")
COLUMNS = (
    "proto",
    "address",
    "port",
    "family",
    "range",
    "os_ephemeral",
    "exposure",
    "service",
    "pids",
    "process",
    "user",
    "owner_status",
    "flags",
    "exe",
    "cmdline",
)
#: The first characters that make a spreadsheet evaluate a cell.
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")
#: Longest cmdline copied or exported (a hostile one can be megabytes).
CMDLINE_LIMIT = 32768


class ExportError(Exception):
    """A one-line reason an export was not written."""


class ExportExists(ExportError):
    """The path exists: overwrite only when the user confirms."""


def neutralise(text: str) -> str:
    """A CSV cell a spreadsheet shows as text: safe() first, then a quote before a formula's first character."""
    cell = safe(text, None)
    return f"'{cell}" if cell.startswith(FORMULA_LEADS) else cell


def _owners_field(owners: Sequence[Owner], field: str) -> str:
    values = [(owner.exe or "") if field == "exe" else safe_join(owner.cmdline, CMDLINE_LIMIT) for owner in owners]
    return " | ".join(dict.fromkeys(value for value in values if value))


def csv_row(listener: Listener) -> list[str]:
    """One listener's cells, in COLUMNS order, neutralised."""
    status = listener.owner_status
    process = listener.process_name or ("(hidden)" if status is OwnerStatus.HIDDEN else "")
    cells = [
        listener.proto.value,
        listener.address,
        str(listener.port),
        listener.family.value,
        listener.port_range.value,
        "yes" if listener.os_ephemeral else "no",
        listener.exposure.value,
        listener.service or "",
        " ".join(str(pid) for pid in listener.pids),
        process,
        listener.user or "",
        status.value,
        " ".join(flag.code.value for flag in listener.flags),
        _owners_field(listener.owners, "exe"),
        _owners_field(listener.owners, "cmdline"),
    ]
    return [neutralise(cell) for cell in cells]


def csv_text(listeners: Sequence[Listener]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(csv_row(entry) for entry in listeners)
    return out.getvalue()


def json_text(listeners: Sequence[Listener]) -> str:
    """Raw values, as `portwatch list --json`; lone surrogates (non-UTF-8 bytes) stay \\udcXX escapes."""
    return json.dumps([listener_json(entry) for entry in listeners], indent=2) + "\n"


def format_of(path: Path) -> str:
    """ "csv" or "json" from the file name; ExportError for anything else."""
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise ExportError(f"{safe(path.name, 200)}: the name must end in .csv or .json")
    return suffix


def render(listeners: Sequence[Listener], fmt: str) -> bytes:
    text = csv_text(listeners) if fmt == "csv" else json_text(listeners)
    return text.encode("utf-8", "surrogateescape" if fmt == "csv" else "strict")


def default_name(now: datetime, fmt: str = "csv") -> str:
    return f"portwatch-{now:%Y%m%d-%H%M%S}.{fmt}"


def row_text(listener: Listener) -> str:
    """The row as one line of plain, safe text (the `c` key)."""
    host = f"[{listener.address}]" if ":" in listener.address else listener.address
    parts = [f"{listener.proto.value} {host}:{listener.port}"]
    if listener.owners:
        parts.append(f"{safe(listener.process_name, 200)} pid {','.join(str(pid) for pid in listener.pids)}")
    elif listener.owner_status is not OwnerStatus.KNOWN:
        parts.append(f"owner {listener.owner_status.value}")
    if listener.user:
        parts.append(f"user {safe(listener.user, 100)}")
    parts.append(f"{listener.port_range.value}{' OS-ephemeral' if listener.os_ephemeral else ''}")
    parts.append(f"exposure {listener.exposure.value}")
    if listener.service:
        parts.append(f"service {listener.service}")
    if listener.flags:
        parts.append("flags " + ",".join(flag.code.value for flag in listener.flags))
    return "  ".join(parts)


def cmdline_text(owner: Owner) -> str:
    """An owner's full command line as safe text (the `C` key); its name when the cmdline is empty."""
    return safe_join(owner.cmdline, CMDLINE_LIMIT) if owner.cmdline else safe(owner.name, 200)


def write_new(path: Path, data: bytes, overwrite: bool = False) -> Path:
    """Write ``data`` to ``path`` atomically as a regular file; ExportExists if it exists and not ``overwrite``.

    Refuses anything at ``path`` that is not a regular file (a folder, a device, a FIFO, a symlink).
    """
    folder = path.parent
    if not folder.is_dir():
        raise ExportError(f"no folder {safe(folder, 300)}")
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        info = None
    if info is not None:
        import stat

        if not stat.S_ISREG(info.st_mode):
            raise ExportError(f"{safe(path, 300)} exists and is not a regular file: choose another name")
        if not overwrite:
            raise ExportExists(f"{safe(path, 300)} exists")
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as error:
        raise ExportError(f"cannot write in {safe(folder, 300)}: {error.strerror or error}") from None
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fchmod(stream.fileno(), 0o644)
            os.fsync(stream.fileno())
        if overwrite:
            os.replace(temp, path)
        else:
            os.link(temp, path)  # fails if someone created the name meanwhile: never clobbers
            os.unlink(temp)
    except FileExistsError:
        Path(temp).unlink(missing_ok=True)
        raise ExportExists(f"{safe(path, 300)} exists") from None
    except OSError as error:
        Path(temp).unlink(missing_ok=True)
        raise ExportError(f"cannot write {safe(path, 300)}: {error.strerror or error}") from None
    return path
