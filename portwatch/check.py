"""`portwatch check`: is every listener expected and unflagged? For cron, CI and monitoring.

Exit 0: every listener is expected and carries no alarming flag (informational ones such as udp-client do
not count). Exit 1: some do; each is listed with its flags and reasons. Exit 2: bad input (the CLI's).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from portwatch import listing
from portwatch.baseline import Baseline, load
from portwatch.baseline_file import default_path
from portwatch.flags import alarming
from portwatch.model import Listener, Scan
from portwatch.text import safe

EXIT_EXPECTED, EXIT_UNEXPECTED = 0, 1


@dataclass(frozen=True, slots=True)
class CheckResult:
    scan: Scan
    #: Listeners with at least one alarming flag, in scan (port) order.
    unexpected: tuple[Listener, ...]
    baseline: Baseline | None
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.unexpected

    @property
    def exit_code(self) -> int:
        return EXIT_EXPECTED if self.ok else EXIT_UNEXPECTED


def find_baseline(path: Path | None) -> tuple[Baseline | None, str | None]:
    """The baseline to check against, and a note when there is none. An explicit PATH must exist (else
    BaselineError); a missing default file only means "no baseline yet"."""
    if path is not None:
        return load(path), None
    default = default_path()
    if not default.exists():
        return None, (f"no baseline at {safe(default)}: only suspicion flags were checked; "
                      "`portwatch baseline save` records what listens now as expected")
    return load(default), None


def evaluate(flagged: Scan, baseline: Baseline | None, note: str | None = None) -> CheckResult:
    """Judge a scan whose flags are already filled (portwatch.flags.flag_scan)."""
    unexpected = tuple(entry for entry in flagged.listeners if alarming(entry))
    notes = [note] if note else []
    if not flagged.privileged and flagged.hidden_owners:
        notes.append(f"{flagged.hidden_owners} owner(s) are hidden from this user: sudo shows them")
    return CheckResult(flagged, unexpected, baseline, (*notes, *flagged.warnings))


def listener_title(listener: Listener) -> str:
    address = f"[{listener.address}]" if ":" in listener.address else listener.address
    _pids, process, user = listing.owner_text(listener)
    pids = ",".join(str(pid) for pid in listener.pids)
    who = f"{process} (pid {pids}{', user ' + user if user else ''})" if pids else f"{process} {user}".strip()
    return f"{listener.proto.value} {safe(address)}:{listener.port}  {who}"


def check_lines(result: CheckResult) -> list[str]:
    """Human text for stdout: each unexpected listener and its flags, every string made safe."""
    lines: list[str] = []
    for listener in result.unexpected:
        lines.append(listener_title(listener))
        for flag in listener.flags:
            mark = " (info)" if flag.informational else ""
            lines.append(f"  {flag.code}{mark}: {safe(flag.reason)}")
    return lines


def summary_lines(result: CheckResult) -> list[str]:
    """For stderr: the verdict, where the baseline came from, and notes."""
    total = len(result.scan.listeners)
    source = f"baseline {safe(result.baseline.path)}" if result.baseline and result.baseline.path else "no baseline"
    if result.ok:
        verdict = f"portwatch check: all {total} listeners expected and unflagged ({source})"
    else:
        verdict = f"portwatch check: {len(result.unexpected)} of {total} listeners need a look ({source})"
    return [verdict, *(safe(note) for note in result.notes)]


def check_json(result: CheckResult) -> dict[str, Any]:
    """Raw values (JSON escapes controls itself); flags carry ``informational``."""
    def record(listener: Listener) -> dict[str, Any]:
        return listing.listener_json(listener) | {"flags": [
            {"code": f.code, "reason": f.reason, "informational": f.informational} for f in listener.flags]}

    path = result.baseline.path if result.baseline else None
    return {"ok": result.ok, "baseline": str(path) if path else None, "checked": len(result.scan.listeners),
            "unexpected": [record(entry) for entry in result.unexpected], "notes": list(result.notes)}
