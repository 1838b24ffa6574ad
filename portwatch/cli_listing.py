"""The one-shot commands that scan and judge this host: `list`, `who PORT`, `check`, `baseline save`, `stop`,
and the scan they share (_judged); apart from the parser and from the live view's commands in portwatch.cli."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from portwatch import listing, stop_command
from portwatch.cli_parser import EXIT_FOUND_NOTHING, EXIT_OK, EXIT_USAGE
from portwatch.collect import get_collector, get_inspector
from portwatch.model import Family, Listener, Proto, Scan
from portwatch.remote import commands as remote_cli
from portwatch.text import safe

if TYPE_CHECKING:
    from portwatch.judge import JudgedScan


class ScanFailed(Exception):
    """The collector could not read the sockets; str() is one line."""


def select(args: argparse.Namespace) -> Callable[[Listener], bool]:
    """list's --tcp/--udp/-4/-6/--range as a test of one listener; asking for both of a pair means both."""
    protos = {p for p, on in ((Proto.TCP, args.tcp), (Proto.UDP, args.udp)) if on} or set(Proto)
    families = {f for f, on in ((Family.IPV4, args.ipv4), (Family.IPV6, args.ipv6)) if on} or set(Family)
    wanted = args.port_range

    def keep(entry: Listener) -> bool:
        if entry.proto not in protos or entry.family not in families:
            return False
        if wanted == "ephemeral":
            return entry.os_ephemeral
        return not wanted or entry.port_range.value == wanted

    return keep


def _judged(args: argparse.Namespace, strict: bool) -> JudgedScan:
    """Collect and judge, against --baseline or the user's default file. ``strict``: a baseline that cannot
    be read is an error (BaselineError, for `check`); otherwise the listing goes on without it and says why.
    Owners carry their package (and exe-modified is judged) unless `list --no-packages` said otherwise."""
    from portwatch.baseline import BaselineError
    from portwatch.judge import find_baseline, judge

    try:
        baseline, note = find_baseline(args.baseline)
    except BaselineError as error:
        if strict:
            raise
        baseline, note = None, f"baseline not used: {safe(str(error), 400)}"
    packages = getattr(args, "packages", True) or (baseline is not None and baseline.needs_packages)
    notes = [note] if note else []
    if not packages:
        notes.append("--no-packages: executables were not checked against their packages (no exe-modified)")
    from portwatch import netns_scope

    choice = getattr(args, "netns", None)
    judged = judge(_scan(args.collector, packages, netns_scope.collector_scope(choice)), baseline, tuple(notes))
    line = netns_scope.scope_line(judged.scan, choice)  # raises NetnsChoiceError for an unknown NAME
    judged = judged.only(netns_scope.keep(choice, judged.scan))
    return dataclasses.replace(judged, notes=(*judged.notes, line)) if line else judged


def _scan(collector: str, packages: bool = True, netns: str = "auto") -> Scan:
    """One scan; ScanFailed (one line) when the OS would not say which sockets exist."""
    try:
        return get_collector(collector, netns, packages=packages).scan()
    except Exception as error:  # whatever the collector hit, the answer is "unknown", not a traceback
        if isinstance(error, OSError) and error.strerror:
            reason = f"{error.filename}: {error.strerror}" if error.filename else error.strerror
        else:
            reason = f"{type(error).__name__}: {error}"
        raise ScanFailed(f"the scan failed ({collector} collector): {safe(reason, 400)}") from None


def _dump_json(document: object) -> None:
    from portwatch import json_text  # here: a plain `portwatch list` starts without json

    json_text.dump(document, sys.stdout)


def _list_columns() -> tuple[str, ...] | None:
    """The config's `columns` for `list`'s table; each problem with the files is one line on stderr."""
    from portwatch import config
    from portwatch.text import safe

    loaded = config.load()
    for problem in loaded.problems:
        print(f"portwatch: {safe(problem, 400)} (ignored: running on defaults)", file=sys.stderr)
    return loaded.config.columns


def run_list(args: argparse.Namespace) -> int:
    if remote_cli.option(args, "hosts"):
        return remote_cli.run_list(args, select(args))
    judged = _judged(args, strict=False)
    chosen = judged.only(select(args))
    if args.json:
        _dump_json(listing.list_json(chosen))
    else:
        print(listing.format_table(chosen, listing.use_colour(sys.stdout, args.color), columns=_list_columns()))
    listing.print_lines(listing.summary(judged, len(chosen.listeners)), sys.stderr)
    return EXIT_OK


def run_who(args: argparse.Namespace) -> int:
    if remote_cli.option(args, "hosts"):
        return remote_cli.run_who(args)
    found = _judged(args, strict=False).only(lambda entry: entry.port == args.port)
    scope = [note for note in found.notes if note.startswith("network namespaces:")]
    if found.listeners or found.scan.unseen_namespaces:  # "nothing is listening" stays one line as root
        listing.print_lines(scope, sys.stderr)
    inspector = get_inspector()
    details = {pid: inspector.inspect(pid) for entry in found.listeners for pid in entry.pids}
    if args.json:
        _dump_json(listing.who_json(found, details, args.port))
    elif found.listeners:
        listing.print_lines(listing.who_lines(found, details))
    if not found.listeners:
        print(f"portwatch: nothing is listening on port {args.port}", file=sys.stderr)
        return EXIT_FOUND_NOTHING
    if found.hidden_owners and any(not entry.owners for entry in found.listeners):
        print(
            "portwatch: some owners are not yours to see (other users' sockets); sudo may reveal them", file=sys.stderr
        )
    return EXIT_OK


def run_check(args: argparse.Namespace) -> int:
    from portwatch import check
    from portwatch.baseline import BaselineError

    if remote_cli.option(args, "hosts"):
        return remote_cli.run_check(args)
    try:
        judged = _judged(args, strict=True)
    except BaselineError as error:
        print(f"portwatch: {safe(str(error), 400)}", file=sys.stderr)
        return EXIT_USAGE
    result = check.evaluate(judged)
    if args.json:
        _dump_json(check.check_json(result))
    elif result.unexpected:
        listing.print_lines(check.check_lines(result))
    listing.print_lines(check.summary_lines(result), sys.stderr)
    return result.exit_code


def run_baseline(args: argparse.Namespace) -> int:
    from portwatch import baseline_file
    from portwatch.baseline import BaselineError
    from portwatch.judge import judge

    judged = judge(_scan(args.collector))  # flags tell client sockets apart; packages are recorded too
    try:
        saved = baseline_file.save(judged.listeners, args.path or args.baseline, merge=args.merge, force=args.force)
    except BaselineError as error:
        print(f"portwatch: {safe(str(error), 400)}", file=sys.stderr)
        return EXIT_USAGE
    notes = [f"portwatch: {saved.added} entr{'y' if saved.added == 1 else 'ies'} written to {safe(saved.path)}"]
    if saved.backup:
        notes.append(f"portwatch: the previous file is kept as {safe(saved.backup)}")
    if judged.hidden_owners:
        notes.append(
            f"portwatch: {judged.hidden_owners} owner(s) hidden: their entries match on port and user "
            "only; `sudo portwatch baseline save --merge` may record their programs"
        )
    listing.print_lines(notes, sys.stderr)
    return EXIT_OK


def run_stop(args: argparse.Namespace) -> int:
    return stop_command.run_stop(args, _judged(args, strict=False).listeners)
