"""`--host`: `portwatch list|who|check --host [USER@]HOST …` and the ssh options every remote command takes.

Several hosts make one table with a HOST column (and a "host" field in JSON): a fleet question ("where is
port 8080 open?") is answered by one sorted, greppable list, and a script reads one array. Hosts are asked
one after the other, each over its own control connection; a host that fails is reported on stderr in one
line and the others are still listed.

Exit codes are the local ones (0 fine, 1 found nothing / something unexpected), plus: 2 when a host refused
(host key changed or unknown, authentication, remote portwatch too old for an explicit --remote-mode
portwatch), as for bad input; 3 when a host could not be reached or the connection dropped (worth a retry).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from portwatch import listing
from portwatch.text import safe

if TYPE_CHECKING:  # imported where used: a local `portwatch list` loads none of the remote code
    from portwatch.collect.remote import RemoteError, RemoteHost, RemoteResult

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
    from portwatch.collect.remote import RemoteHost, RemoteMode, RemoteOptions
    from portwatch.collect.ssh import SshTarget, SshTransport

    remote = RemoteOptions(
        RemoteMode(option(args, "remote_mode")), option(args, "remote_portwatch"), option(args, "remote_baseline")
    )
    return [
        RemoteHost(
            SshTransport(
                SshTarget(
                    name, tuple(option(args, "ssh_options")), option(args, "ssh_config"), option(args, "ssh_port")
                )
            ),
            remote,
        )
        for name in option(args, "hosts")
    ]


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
    from portwatch.collect.remote import RemoteError

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
    return [safe(result.mode_note, 600), *(prefix + safe(note, 400) for note in (*result.notes, *lines))]


def run_list(args: argparse.Namespace, select: Callable[..., list[Any]]) -> int:
    outcome = fetch_all(args)
    chosen = [(host, entry) for host, result in outcome.results for entry in select(result.scan.listeners, args)]
    if args.json:
        json.dump([listing.listener_json(entry) | {"host": host.label} for host, entry in chosen], sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(
            listing.format_table(
                [entry for _, entry in chosen],
                listing.use_colour(sys.stdout),
                [safe(host.label, 40) for host, _ in chosen],
            )
        )
    for host, result in outcome.results:
        shown = sum(1 for h, _ in chosen if h is host)
        listing.print_lines(_notes(host, result, listing.summary(result.scan, shown)), sys.stderr)
    return outcome.failure_code or 0


def run_who(args: argparse.Namespace) -> int:
    from portwatch.collect.remote import RemoteMode, details_from_scan

    outcome = fetch_all(args, details_port=args.port)
    found_any = False
    records: list[dict[str, Any]] = []
    lines: list[str] = []
    for host, result in outcome.results:
        found = [entry for entry in result.scan.listeners if entry.port == args.port]
        found_any = found_any or bool(found)
        details = {d.pid: d for d in result.processes}
        for entry in found:
            for pid in entry.pids:
                if pid not in details:
                    fallback = details_from_scan(result.scan, pid)
                    if fallback is not None:
                        details[pid] = fallback
            if args.json:
                records.append(
                    listing.listener_json(entry)
                    | {
                        "host": host.label,
                        "processes": [listing.process_json(details[pid]) for pid in entry.pids if pid in details],
                    }
                )
                continue
            _, process, user = listing.owner_text(entry)
            lines.append(
                f"{safe(host.label, 80)}: {entry.proto.value} {listing.listener_row(entry)[1]}:{entry.port}"
                f"  exposure: {entry.exposure.value}  owner: {process} {user}".rstrip()
            )
            for pid in entry.pids:
                if pid in details:
                    block = listing.process_lines(details[pid])
                    if result.mode is RemoteMode.FALLBACK:  # the fallback reads no parent chain: do not say "none"
                        block = [
                            line.replace("parents  (none)", "parents  (not read in fallback mode)") for line in block
                        ]
                    lines.extend(block)
        listing.print_lines([safe(result.mode_note, 600)], sys.stderr)
    if args.json:
        json.dump(records, sys.stdout, indent=2)
        sys.stdout.write("\n")
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
        verdict = check.evaluate(result.scan, None)
        worst = max(worst, verdict.exit_code)
        where = f"baseline {result.baseline} there" if result.baseline else "no baseline"
        if args.json:
            reports.append(
                check.check_json(verdict) | {"host": host.label, "baseline": result.baseline, "mode": result.mode.value}
            )
        elif verdict.unexpected:
            listing.print_lines(
                [
                    f"{safe(host.label, 80)}: {line}" if not line.startswith(" ") else line
                    for line in check.check_lines(verdict)
                ]
            )
        total = len(result.scan.listeners)
        summary = (
            f"portwatch check {safe(host.label, 80)}: all {total} listeners expected and unflagged ({where})"
            if verdict.ok
            else f"portwatch check {safe(host.label, 80)}: {len(verdict.unexpected)} of {total} listeners need "
            f"a look ({safe(where, 300)})"
        )
        listing.print_lines([summary, *_notes(host, result, [*verdict.notes])], sys.stderr)
    if args.json:
        json.dump(reports, sys.stdout, indent=2)
        sys.stdout.write("\n")
    return outcome.failure_code or worst
