"""Plain-terminal and JSON renderings of judged listeners and processes, for `list`, `who` and `check`.

Everything here takes listeners from a :class:`~portwatch.judge.JudgedScan`: their flags are filled.

Every string a process supplied passes through :func:`portwatch.text.safe` before it is printed; JSON keeps
the raw value (json escapes control characters itself, and scripts deserve the truth).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import IO, Any

from portwatch.json_text import SCHEMA_VERSION
from portwatch.judge import JudgedScan
from portwatch.model import Listener, Netns, Owner, OwnerStatus, PackageFacts, PortRange, ProcessDetails, ProcessState
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


#: `list --json` cuts each owner's cmdline to this many characters (all arguments together) and says so with
#: ``cmdline_truncated``; `who --json` carries it whole.
LIST_CMDLINE_LIMIT = 1024


def capped_cmdline(cmdline: Sequence[str], limit: int | None) -> tuple[list[str], bool]:
    """``cmdline`` cut to ``limit`` characters over all its arguments (the last one kept cut), and whether it was."""
    if limit is None or sum(len(arg) for arg in cmdline) <= limit:
        return list(cmdline), False
    kept: list[str] = []
    left = limit
    for arg in cmdline:
        if left <= 0:
            break
        kept.append(arg[:left])
        left -= len(arg)
    return kept, True


def listener_json(listener: Listener, cmdline_limit: int | None = LIST_CMDLINE_LIMIT) -> dict[str, Any]:
    """One listener as `list --json` writes it (``cmdline_limit=None``: every owner's whole cmdline)."""
    return {
        "proto": listener.proto.value,
        "family": listener.family.value,
        "address": listener.address,
        "port": listener.port,
        "range": listener.port_range.value,
        "os_ephemeral": listener.os_ephemeral,
        "exposure": listener.exposure.value,
        "dual_stack": listener.dual_stack,
        "service": listener.service,
        "pids": list(listener.pids),
        "process": listener.process_name,
        "user": listener.user,
        "owner_status": listener.owner_status.value,
        "owner_reason": listener.owner_reason,
        "rpc_program": listener.rpc_program,
        "owners": [owner_json(owner, cmdline_limit) for owner in listener.owners],
        "flags": [
            {"code": flag.code.value, "reason": flag.reason, "informational": flag.informational}
            for flag in listener.flags
        ],
        "netns": netns_json(listener.netns),
        "device": listener.device,
        "published": [
            {
                "direction": link.direction.value,
                "netns": netns_json(link.netns),
                "address": link.address,
                "port": link.port,
                "via": link.via,
                "container": link.container,
                "text": link.text,
            }
            for link in listener.links
        ],
    }


def netns_json(netns: Netns) -> dict[str, Any]:
    return {"inode": netns.inode, "kind": netns.kind.value, "name": netns.name}


def owner_json(owner: Owner, cmdline_limit: int | None = LIST_CMDLINE_LIMIT) -> dict[str, Any]:
    """One owner; ``unit``, ``container`` and ``pod`` are null outside one, ``package`` null when not looked up
    (`list --packages`, `who`, `check` look it up). The cmdline cut to ``cmdline_limit`` characters (None:
    whole), and ``cmdline_truncated`` says whether it was."""
    unit, container, pod, package = owner.unit, owner.container, owner.pod, owner.package
    cmdline, cut = capped_cmdline(owner.cmdline, cmdline_limit)
    return {
        "pid": owner.pid,
        "name": owner.name,
        "user": owner.user,
        "real_user": owner.real_user,
        "exe": owner.exe,
        "cmdline": cmdline,
        "cmdline_truncated": cut,
        "cmdline_args": len(owner.cmdline),
        "create_time": owner.create_time,
        "unit": {"name": unit.name, "kind": unit.kind, "user_uid": unit.user_uid} if unit else None,
        "container": {
            "runtime": container.runtime,
            "id": container.id,
            "name": container.name,
            "image": container.image,
        }
        if container
        else None,
        "pod": {"uid": pod.uid, "namespace": pod.namespace, "name": pod.name} if pod else None,
        "package": {
            "manager": package.manager,
            "name": package.name,
            "verified": package.verified,
            "note": package.note,
        }
        if package
        else None,
    }


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


def process_json(details: ProcessDetails) -> dict[str, Any]:
    return {
        "pid": details.pid,
        "state": details.state.value,
        "name": details.name,
        "exe": details.exe,
        "exe_deleted": details.exe_deleted,
        "cmdline": list(details.cmdline),
        "cwd": details.cwd,
        "cwd_deleted": details.cwd_deleted,
        "user": details.user,
        "real_user": details.real_user,
        "parents": [{"pid": link.pid, "name": link.name} for link in details.parents],
        "create_time": details.create_time,
        "status": details.status,
        "listening": list(details.listening),
        "denied": list(details.denied),
        "sha256": details.sha256,
        "sha256_note": details.sha256_note,
    }


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


def list_json(judged: JudgedScan) -> dict[str, Any]:
    """The `list --json` document (portwatch/schemas/list.schema.json)."""
    return {"schema_version": SCHEMA_VERSION, "listeners": [listener_json(entry) for entry in judged.listeners]}


def who_json(judged: JudgedScan, details: dict[int, ProcessDetails], port: int) -> dict[str, Any]:
    """The `who --json` document (portwatch/schemas/who.schema.json): cmdlines whole."""
    return {
        "schema_version": SCHEMA_VERSION,
        "port": port,
        "listeners": [
            listener_json(entry, None) | {"processes": [process_json(details[pid]) for pid in entry.pids]}
            for entry in judged.listeners
        ],
    }


def print_lines(lines: Sequence[str], stream: IO[str] | None = None) -> None:
    """Lines to ``stream``, stdout by default (looked up at the call: the CLI may have wrapped it)."""
    (stream or sys.stdout).write("\n".join(lines) + "\n")
