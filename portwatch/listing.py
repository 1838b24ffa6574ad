"""Plain-terminal renderings of judged listeners and processes, for `list`, `who` and `check`.

Everything here takes listeners from a :class:`~portwatch.judge.JudgedScan`: their flags are filled.

Every string a process supplied passes through :func:`portwatch.text.safe` before it is printed; JSON
(portwatch.listing_json) keeps the raw value (json escapes control characters itself, and scripts deserve
the truth).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import IO

from portwatch.judge import JudgedScan
from portwatch.listing_json import LIST_CMDLINE_LIMIT as LIST_CMDLINE_LIMIT
from portwatch.listing_json import capped_cmdline as capped_cmdline
from portwatch.listing_json import list_json as list_json
from portwatch.listing_json import listener_json as listener_json
from portwatch.listing_json import netns_json as netns_json
from portwatch.listing_json import owner_json as owner_json
from portwatch.listing_json import process_json as process_json
from portwatch.listing_json import who_json as who_json
from portwatch.model import Listener, Owner, OwnerStatus, PackageFacts, PortRange, ProcessDetails, ProcessState
from portwatch.text import age, bracket, cells, pad, safe, safe_join

#: ANSI SGR colour per IANA range; the TUI takes its colours from portwatch.tcss instead.
_RANGE_SGR = {PortRange.WELL_KNOWN: "36", PortRange.REGISTERED: "32", PortRange.DYNAMIC: "33"}
RANGE_GLYPH = {PortRange.WELL_KNOWN: "well-known", PortRange.REGISTERED: "registered", PortRange.DYNAMIC: "dynamic"}
_COLUMNS = ("PROTO", "ADDRESS", "PORT", "RANGE", "EPH", "SERVICE", "PID", "PROCESS", "USER", "NETNS", "EXPOSURE")
#: Each column's name in the config's `columns` (the live view's names for the same things).
COLUMN_KEYS = (
    "proto",
    "address",
    "port",
    "range",
    "ephemeral",
    "service",
    "pids",
    "process",
    "user",
    "netns",
    "exposure",
)
_NAME_LIMIT = 40


def use_colour(stream: IO[str], choice: str = "auto") -> bool:
    """Whether to colour ``stream``: --color, NO_COLOR, FORCE_COLOR/CLICOLOR_FORCE, TERM=dumb (portwatch.colour)."""
    from portwatch.colour import wants_colour

    return wants_colour(stream, choice)


#: The process cell of a socket whose process this user may not inspect: what is known, no promise.
HIDDEN_OWNER = "(not yours to see)"


def user_text(user: str | None, real_user: str | None) -> str:
    """The effective user, as ps shows it, and the real one where it differs: ``nobody (real root)``."""
    shown = safe(user, _NAME_LIMIT)
    return f"{shown} (real {safe(real_user, _NAME_LIMIT)})" if real_user and real_user != user else shown


def listener_user(listener: Listener) -> str:
    """The user cell: each owner's effective user, with its real user where the two differ."""
    if not listener.owners:
        return safe(listener.user or "", _NAME_LIMIT)
    cells = dict.fromkeys(user_text(o.user, o.real_user) for o in listener.owners if o.user)
    return ",".join(cells)


def owner_text(listener: Listener) -> tuple[str, str, str]:
    """(pids, process, user) cells, with what is known where the owner is not."""
    if listener.owner_status is OwnerStatus.HIDDEN:
        return "-", HIDDEN_OWNER, listener_user(listener)
    if listener.owner_status is OwnerStatus.UNKNOWN:
        return "-", "(unknown)", listener_user(listener)
    pids = ",".join(str(pid) for pid in listener.pids)
    return pids, safe(listener.process_name, _NAME_LIMIT), listener_user(listener)


def exposure_text(listener: Listener) -> str:
    """``all (IPv4 too)``, ``netns``, ``loopback``... with where a published port leads."""
    text = listener.exposure.value + (" (IPv4 too)" if listener.dual_stack else "")
    links = "; ".join(safe(link.text, 120) for link in listener.links)
    return f"{text}; {links}" if links else text


def listener_row(listener: Listener) -> tuple[str, ...]:
    pids, process, user = owner_text(listener)
    return (
        listener.proto.value,
        safe(bracket(listener.address), 64),
        str(listener.port),
        RANGE_GLYPH[listener.port_range],
        "eph" if listener.os_ephemeral else "",
        listener.service or "",
        pids,
        process,
        user,
        safe(listener.netns.label, _NAME_LIMIT),
        exposure_text(listener),
    )


def format_table(
    judged: JudgedScan, colour: bool, hosts: Sequence[str] | None = None, columns: Sequence[str] | None = None
) -> str:
    """An `ss`-like aligned table, each row coloured by its IANA range when ``colour``.

    ``hosts``: a HOST column first, one (already safe) name per listener (`list --host`). ``columns``: only
    these (COLUMN_KEYS names; the config's `columns`), in the usual order; None: all.
    """
    listeners = judged.listeners
    keep = [i for i, key in enumerate(COLUMN_KEYS) if columns is None or key in columns]
    labels = tuple(_COLUMNS[i] for i in keep)
    shown = labels if hosts is None else ("HOST", *labels)
    rows = [tuple(row[i] for i in keep) for row in map(listener_row, listeners)]
    if hosts is not None:
        rows = [(host, *row) for host, row in zip(hosts, rows, strict=True)]
    port_column = shown.index("PORT") if "PORT" in shown else -1
    # Widths in terminal cells, not characters: a CJK or emoji name takes two cells a character.
    widths = [max([len(col)] + [cells(row[i]) for row in rows]) for i, col in enumerate(shown)]

    def line(row: Sequence[str]) -> str:
        return "  ".join(
            pad(cell, w, right=i == port_column) for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()

    out = [f"\x1b[1m{line(shown)}\x1b[0m" if colour else line(shown)]
    for entry, row in zip(listeners, rows, strict=True):
        text = line(row)
        out.append(f"\x1b[{_RANGE_SGR[entry.port_range]}m{text}\x1b[0m" if colour else text)
    return "\n".join(out)


def summary(scan: JudgedScan, shown: int) -> list[str]:
    """Closing notes for a listing: counts, hidden owners and how to reveal them, scan warnings."""
    notes = [
        f"{shown} listener{'s' if shown != 1 else ''} (of {len(scan.listeners)}); "
        f"OS ephemeral range {scan.ephemeral.span} ({scan.ephemeral.source})"
    ]
    if scan.hidden_owners:
        notes.append(
            f"{scan.hidden_owners} owner{'s are' if scan.hidden_owners != 1 else ' is'} not yours to "
            "see: those sockets belong to other users; sudo may reveal which processes hold them"
        )
    notes.extend(scan.warnings)
    notes.extend(scan.notes)
    return notes


def package_text(package: PackageFacts) -> str:
    """``nginx (dpkg), matches its recorded checksum`` and the other verdicts, made safe."""
    if package.name is None:
        return safe(package.note or "no package owns it")
    verdict = {
        True: "matches its recorded checksum",
        False: "DOES NOT MATCH its recorded checksum",
        None: "not checked",
    }[package.verified]
    note = f": {safe(package.note)}" if package.note else ""
    return f"{safe(package.name, _NAME_LIMIT)} ({package.manager}), {verdict}{note}"


def occupant_lines(owner: Owner) -> list[str]:
    """The `who` lines naming an owner's unit, container, pod and package (those it has)."""
    lines: list[str] = []
    if owner.unit is not None:
        lines.append(f"  unit     {safe(owner.unit.text)}")
    if owner.container is not None:
        lines.append(f"  container {safe(owner.container.text)}  id {safe(owner.container.id)}")
    if owner.pod is not None:
        lines.append(f"  pod      {safe(owner.pod.text.removeprefix('pod '))}  uid {safe(owner.pod.uid)}")
    if owner.package is not None:
        lines.append(f"  package  {package_text(owner.package)}")
    return lines


def started(create_time: float | None, now: float | None = None) -> str:
    """Local start time with its age, e.g. "2026-11-26 21:04:09 (1h55m ago)"."""
    if create_time is None:
        return "unknown"
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(create_time))
    return f"{stamp} ({age((now or time.time()) - create_time)} ago)"


def process_lines(details: ProcessDetails) -> list[str]:
    """The `who` block for one process: identity, where it runs from, who started it."""
    if details.state is ProcessState.EXITED:
        return [f"  pid {details.pid}: the process has exited"]
    if details.state is ProcessState.DENIED:
        return [f"  pid {details.pid}: access denied; run with sudo to see this process"]
    exe = safe(details.exe) if details.exe else "(not readable)"
    if details.exe_deleted:
        exe += " (deleted)"
    cwd = safe(details.cwd) if details.cwd else "(not readable)"
    if details.cwd_deleted:
        cwd += " (deleted)"
    chain = " <- ".join(f"{link.pid} {safe(link.name, _NAME_LIMIT)}" for link in details.parents) or "(none)"
    lines = [
        f"  pid      {details.pid} ({safe(details.name, _NAME_LIMIT)})",
        f"  exe      {exe}",
        f"  cmdline  {safe_join(details.cmdline) if details.cmdline else '(not readable)'}",
        f"  cwd      {cwd}",
        f"  user     {user_text(details.user, details.real_user) or '(unknown)'}",
        f"  parents  {chain}",
        f"  started  {started(details.create_time)}",
    ]
    if details.sha256 or details.sha256_note:
        lines.append(f"  sha256   {details.sha256 or safe(details.sha256_note)}")
    if details.denied:
        lines.append(f"  denied   {', '.join(details.denied)}: run with sudo to see them")
    return lines


def flag_lines(listener: Listener) -> list[str]:
    """Each flag's code and reason, indented, as `who` and `check` print them."""
    return [
        f"  {flag.code.value}{' (info)' if flag.informational else ''}: {safe(flag.reason)}" for flag in listener.flags
    ]


def who_lines(judged: JudgedScan, details: dict[int, ProcessDetails]) -> list[str]:
    """The `who` text: each listener on the port with its flags, then each owner's process block."""
    lines: list[str] = []
    for entry in judged.listeners:
        _, process, user = owner_text(entry)
        service = f" ({safe(entry.service)})" if entry.service else ""
        exposure = entry.exposure.value + (" (IPv4 too)" if entry.dual_stack else "")
        netns = (
            ""
            if entry.netns.is_host
            else f"  netns: {safe(entry.netns.label, 80)} ({entry.netns.kind.value}, inode {entry.netns.inode})"
        )
        lines.append(
            f"{safe(entry.key.text)}{service}  {entry.port_range.value}"
            f"{', OS ephemeral' if entry.os_ephemeral else ''}  exposure: {exposure}  "
            f"owner: {process} {user}".rstrip()
            + netns
        )
        lines.extend(f"  {safe(link.text, 200)} (via {link.via})" for link in entry.links)
        lines.extend(flag_lines(entry))
        for owner in entry.owners:
            lines.extend(process_lines(details[owner.pid]))
            lines.extend(occupant_lines(owner))
    return lines


def print_lines(lines: Sequence[str], stream: IO[str] | None = None) -> None:
    """Lines to ``stream``, stdout by default (looked up at the call: the CLI may have wrapped it)."""
    (stream or sys.stdout).write("\n".join(lines) + "\n")
