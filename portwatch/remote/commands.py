"""`--host`: `portwatch list|who|check --host [USER@]HOST …` and the ssh options every remote command takes.

Several hosts make one table with a HOST column (and a "host" field in JSON): a fleet question ("where is
port 8080 open?") is answered by one sorted, greppable list, and a script reads one document. Hosts are asked
one after the other, each over its own control connection; a host that fails is reported on stderr in one
line and the others are still listed.

Exit codes are the local ones (0 fine, 1 found nothing / something unexpected), plus: 2 when a host refused
(host key changed or unknown, authentication, remote portwatch too old for an explicit --remote-mode
portwatch), as for bad input; 3 when a host could not be reached or the connection dropped (worth a retry).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from portwatch import listing
from portwatch.json_text import SCHEMA_VERSION
from portwatch.text import safe

if TYPE_CHECKING:  # imported where used: a local `portwatch list` loads none of the remote code
    from portwatch.model import Listener, ProcessDetails
    from portwatch.remote.host import RemoteError, RemoteHost, RemoteResult

EXIT_REFUSED, EXIT_UNREACHABLE = 2, 3
_DEFAULTS: dict[str, Any] = {
    "hosts": [],
    "ssh_options": [],
    "ssh_config": None,
    "ssh_port": None,
    "remote_portwatch": "portwatch",
    "remote_mode": "auto",
    "remote_baseline": None,
}


def add_arguments(parser: argparse.ArgumentParser, port: Callable[[str], int]) -> None:
    """The remote options; absent ones stay absent (SUPPRESS) so `portwatch --host H list` works as well."""
    group = parser.add_argument_group("remote hosts (over the system ssh client)")
    hide = argparse.SUPPRESS
    group.add_argument(
        "--host",
        dest="hosts",
        action="append",
        metavar="[USER@]HOST",
        default=hide,
        help="ask HOST over ssh instead of this machine (list/check/who: may repeat)",
    )
    group.add_argument(
        "--ssh-option",
        dest="ssh_options",
        action="append",
        metavar="OPTION",
        default=hide,
        help="passed to ssh as -o OPTION (e.g. UserKnownHostsFile=PATH); may repeat",
    )
    group.add_argument("--ssh-config", metavar="FILE", default=hide, help="ssh config file (ssh -F)")
    group.add_argument("--ssh-port", type=port, metavar="PORT", default=hide, help="ssh port (ssh -p)")
    group.add_argument(
        "--remote-portwatch",
        metavar="COMMAND",
        default=hide,
        help="how to run portwatch on the host (default: portwatch)",
    )
    group.add_argument(
        "--remote-mode",
        choices=("auto", "portwatch", "fallback"),
        default=hide,
        help="portwatch: require portwatch there; fallback: ss + /proc only (default: auto)",
    )
    group.add_argument(
        "--remote-baseline",
        metavar="PATH",
        default=hide,
        help="a baseline file on the remote host (default: the remote user's)",
    )


def option(args: argparse.Namespace, name: str) -> Any:
    return getattr(args, name, _DEFAULTS[name])


def hosts(args: argparse.Namespace) -> list[RemoteHost]:
    """One RemoteHost per --host, in the order given."""
    from portwatch.collect import SshTarget, get_ssh_transport
    from portwatch.remote.host import RemoteHost, RemoteMode, RemoteOptions

    remote = RemoteOptions(
        RemoteMode(option(args, "remote_mode")), option(args, "remote_portwatch"), option(args, "remote_baseline")
    )
    ssh = (tuple(option(args, "ssh_options")), option(args, "ssh_config"), option(args, "ssh_port"))
    return [RemoteHost(get_ssh_transport(SshTarget(name, *ssh)), remote) for name in option(args, "hosts")]


@dataclass
class Outcome:
    results: list[tuple[RemoteHost, RemoteResult]]
    failures: list[RemoteError]

    @property
    def failure_code(self) -> int | None:
        if not self.failures:
            return None
        return EXIT_REFUSED if any(error.refused for error in self.failures) else EXIT_UNREACHABLE


def fetch_all(args: argparse.Namespace, details_port: int | None = None) -> Outcome:
    """Each host in turn; a failure is one line on stderr, and the other hosts are still asked."""
    from portwatch.remote.host import RemoteError

    outcome = Outcome([], [])
    for host in hosts(args):
        try:
            outcome.results.append((host, host.fetch(details_port)))
        except RemoteError as error:
            outcome.failures.append(error)
            print(f"portwatch: {safe(str(error), 500)}", file=sys.stderr)
        finally:
            host.close()
    return outcome


def _notes(host: RemoteHost, result: RemoteResult, lines: list[str]) -> list[str]:
    prefix = f"{safe(host.label, 80)}: "
    return [safe(result.mode_note, 600), *(prefix + safe(note, 400) for note in lines)]


def _dump(document: object) -> None:
    from portwatch import json_text

    json_text.dump(document, sys.stdout)


def run_list(args: argparse.Namespace, keep: Callable[[Listener], bool]) -> int:
    from portwatch.judge import JudgedScan

    outcome = fetch_all(args)
    chosen = [(host, result.judged.only(keep)) for host, result in outcome.results]
    rows = [(host, entry) for host, judged in chosen for entry in judged.listeners]
    if args.json:
        _dump(
            {
                "schema_version": SCHEMA_VERSION,
                "listeners": [listing.listener_json(entry) | {"host": host.label} for host, entry in rows],
            }
        )
    elif outcome.results:
        first = chosen[0][1].scan
        table = JudgedScan(dataclasses.replace(first, listeners=tuple(entry for _, entry in rows)), None)
        colour = listing.use_colour(sys.stdout, args.color)
        print(listing.format_table(table, colour, [safe(h.label, 40) for h, _ in rows]))
    for (host, result), (_, judged) in zip(outcome.results, chosen, strict=True):
        listing.print_lines(_notes(host, result, listing.summary(result.judged, len(judged.listeners))), sys.stderr)
    return outcome.failure_code or 0


def _details(result: RemoteResult, entry: Listener) -> dict[int, ProcessDetails]:
    """The owners' details the host sent, else what the scan says (fallback mode reads no parent chain)."""
    from portwatch.model import ProcessDetails, ProcessState
    from portwatch.remote.host import details_from_scan

    sent = {details.pid: details for details in result.processes}
    found: dict[int, ProcessDetails] = {}
    for pid in entry.pids:
        found[pid] = (
            sent.get(pid)
            or details_from_scan(result.judged.scan, pid)
            or ProcessDetails(pid=pid, state=ProcessState.EXITED)
        )
    return found


def run_who(args: argparse.Namespace) -> int:
    from portwatch.remote.host import RemoteMode

    outcome = fetch_all(args, details_port=args.port)
    records: list[dict[str, Any]] = []
    lines: list[str] = []
    found_any = False
    for host, result in outcome.results:
        found = result.judged.only(lambda entry: entry.port == args.port)
        found_any = found_any or bool(found.listeners)
        details = {pid: d for entry in found.listeners for pid, d in _details(result, entry).items()}
        if args.json:
            document = listing.who_json(found, details, args.port)
            records += [record | {"host": host.label} for record in document["listeners"]]
        else:
            block = listing.who_lines(found, details)
            if result.mode is RemoteMode.FALLBACK:  # the fallback reads no parent chain: do not say "none"
                block = [line.replace("parents  (none)", "parents  (not read in fallback mode)") for line in block]
            lines += [f"{safe(host.label, 80)}: {line}" if not line.startswith(" ") else line for line in block]
        listing.print_lines([safe(result.mode_note, 600)], sys.stderr)
    if args.json:
        _dump({"schema_version": SCHEMA_VERSION, "port": args.port, "listeners": records})
    elif lines:
        listing.print_lines(lines)
    if outcome.failure_code is not None:
        return outcome.failure_code
    if not found_any:
        print(f"portwatch: nothing is listening on port {args.port} there", file=sys.stderr)
        return 1
    return 0


def local_baseline_refused(path: object) -> int | None:
    """--baseline names a file on this machine; with --host the remote host's baseline judges (exit 2)."""
    if path is None:
        return None
    print(
        "portwatch: --baseline is a file on this machine, but a remote host is judged by its own: "
        "use --remote-baseline PATH (a path on that host)",
        file=sys.stderr,
    )
    return EXIT_REFUSED


def run_check(args: argparse.Namespace) -> int:
    from portwatch import check

    refused = local_baseline_refused(args.baseline)
    if refused is not None:
        return refused
    outcome = fetch_all(args)
    reports: list[dict[str, Any]] = []
    worst = 0
    for host, result in outcome.results:
        verdict = check.evaluate(result.judged)
        worst = max(worst, verdict.exit_code)
        label = safe(host.label, 80)
        where = f"baseline {safe(result.baseline, 300)} there" if result.baseline else "no baseline"
        if args.json:
            reports.append(
                check.check_json(verdict) | {"host": host.label, "baseline": result.baseline, "mode": result.mode.value}
            )
        elif verdict.unexpected:
            listing.print_lines(
                [line if line.startswith(" ") else f"{label}: {line}" for line in check.check_lines(verdict)]
            )
        total = len(result.judged.listeners)
        summary = (
            f"portwatch check {label}: all {total} listeners expected and unflagged ({where})"
            if verdict.ok
            else f"portwatch check {label}: {len(verdict.unexpected)} of {total} listeners need a look ({where})"
        )
        listing.print_lines([summary, *_notes(host, result, list(verdict.notes))], sys.stderr)
    if args.json:
        every_ok = bool(reports) and all(report["ok"] for report in reports)
        _dump({"schema_version": SCHEMA_VERSION, "ok": every_ok, "hosts": reports})
    return outcome.failure_code or worst
