"""`portwatch check`: is every listener expected and unflagged? For cron, CI and monitoring.

Exit 0: every listener is expected and carries no alarming flag (informational ones such as udp-client do
not count). Exit 1: some do; each is listed with its flags and reasons. Exit 2: bad input (the CLI's: an
unknown option, a baseline that is malformed, unreadable or not a regular file). Exit 3: UNKNOWN, the
monitoring convention (Nagios/Icinga): the scan failed (neither netlink nor /proc/net could be read) or the
answer could not be written (stdout full, closed, or a pipe whose reader left) — never 1, which would claim
something unexpected was found.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from portwatch import listing
from portwatch.json_text import SCHEMA_VERSION
from portwatch.judge import JudgedScan
from portwatch.model import Listener
from portwatch.text import safe

EXIT_EXPECTED, EXIT_UNEXPECTED = 0, 1


@dataclass(frozen=True, slots=True)
class CheckResult:
    judged: JudgedScan
    notes: tuple[str, ...] = ()

    @property
    def unexpected(self) -> tuple[Listener, ...]:
        """Listeners with at least one alarming flag, in scan (port) order."""
        return self.judged.unexpected

    @property
    def ok(self) -> bool:
        return not self.unexpected

    @property
    def exit_code(self) -> int:
        return EXIT_EXPECTED if self.ok else EXIT_UNEXPECTED


def evaluate(judged: JudgedScan) -> CheckResult:
    """The verdict on a judged scan, with what the reader should know about how complete it is."""
    notes = list(judged.notes)
    if not judged.privileged and judged.hidden_owners:
        notes.append(f"{judged.hidden_owners} owner(s) are not yours to see: sudo may reveal them")
    return CheckResult(judged, (*notes, *judged.warnings))


def listener_title(listener: Listener) -> str:
    _pids, process, user = listing.owner_text(listener)
    pids = ",".join(str(pid) for pid in listener.pids)
    who = f"{process} (pid {pids}{', user ' + user if user else ''})" if pids else f"{process} {user}".strip()
    return f"{safe(listener.key.text)}  {who}"


def check_lines(result: CheckResult) -> list[str]:
    """Human text for stdout: each unexpected listener and its flags, every string made safe."""
    lines: list[str] = []
    for listener in result.unexpected:
        lines.append(listener_title(listener))
        lines.extend(listing.flag_lines(listener))
    return lines


def summary_lines(result: CheckResult) -> list[str]:
    """For stderr: the verdict, where the baseline came from, and notes."""
    total = len(result.judged.listeners)
    baseline = result.judged.baseline
    source = f"baseline {safe(baseline.path)}" if baseline and baseline.path else "no baseline"
    if result.ok:
        verdict = f"portwatch check: all {total} listeners expected and unflagged ({source})"
    else:
        verdict = f"portwatch check: {len(result.unexpected)} of {total} listeners need a look ({source})"
    return [verdict, *(safe(note) for note in result.notes)]


def check_json(result: CheckResult) -> dict[str, Any]:
    """Raw values (JSON escapes controls itself); each listener as `list --json` writes it."""
    baseline = result.judged.baseline
    path = baseline.path if baseline else None
    return {
        "schema_version": SCHEMA_VERSION,
        "ok": result.ok,
        "baseline": str(path) if path else None,
        "checked": len(result.judged.listeners),
        "unexpected": [listing.listener_json(entry) for entry in result.unexpected],
        "notes": list(result.notes),
    }
