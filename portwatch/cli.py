"""Command line: `portwatch` (the TUI), `portwatch list`, `who PORT`, `check`, `baseline save`, `stop PORT`.

`list` and `who` never import textual, so they start as fast as Python does.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from portwatch import __version__, listing, stop_command
from portwatch.collect import COLLECTOR_NAMES, get_collector
from portwatch.model import Family, Listener, PortRange, Proto, Scan

EXIT_OK, EXIT_FOUND_NOTHING, EXIT_USAGE = 0, 1, 2
MIN_INTERVAL = 0.5
RANGE_CHOICES = (*(r.value for r in PortRange), "ephemeral")


class OneLineParser(argparse.ArgumentParser):
    """Bad input gets one line naming what is wrong, not a usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


def _interval(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value >= MIN_INTERVAL:  # also rejects nan
        raise argparse.ArgumentTypeError(f"{text} is below the minimum of {MIN_INTERVAL} seconds")
    return value


def _wait(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 <= value <= 600:  # also rejects nan
        raise argparse.ArgumentTypeError(f"{text} is outside 0-600 seconds")
    return value


def _port(text: str) -> int:
    try:
        value = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"port {text!r} is not an integer in 0-65535") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port {value} is outside 0-65535")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="portwatch", description="What is listening on this machine, and should it be?")
    parser.add_argument("--version", action="version", version=f"portwatch {__version__}")
    parser.add_argument("--collector", choices=COLLECTOR_NAMES, default="auto",
                        help="how sockets are read (default: the fastest that works here)")
    parser.add_argument("--interval", type=_interval, default=2.0, metavar="SECONDS",
                        help=f"TUI refresh interval (default 2, at least {MIN_INTERVAL})")
    parser.add_argument("--baseline", type=Path, metavar="PATH", dest="tui_baseline",
                        help="TUI: baseline file to judge against and approve into (default: your config dir)")
    parser.add_argument("--bell", action="store_true", help="TUI: ring the terminal bell with each alert")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)

    listing = commands.add_parser("list", help="print every listener, sorted by port")
    listing.add_argument("--json", action="store_true", help="a JSON array instead of a table")
    listing.add_argument("--tcp", action="store_true", help="TCP listeners only")
    listing.add_argument("--udp", action="store_true", help="UDP sockets only")
    listing.add_argument("-4", dest="ipv4", action="store_true", help="IPv4 only")
    listing.add_argument("-6", dest="ipv6", action="store_true", help="IPv6 only")
    listing.add_argument("--range", choices=RANGE_CHOICES, dest="port_range",
                         help="one IANA range, or this OS's ephemeral range")

    who = commands.add_parser("who", help="who listens on PORT: exe, cmdline, user, parents, start time")
    who.add_argument("port", type=_port, metavar="PORT")
    who.add_argument("--json", action="store_true", help="JSON instead of text")

    check = commands.add_parser("check", help="exit 0 if every listener is expected and unflagged, 1 if not")
    check.add_argument("--baseline", type=Path, metavar="PATH", help="baseline file (default: your config dir)")
    check.add_argument("--json", action="store_true", help="JSON instead of text")

    stop_command.add_parser(commands, _port, _wait)

    baseline = commands.add_parser("baseline", help="manage the allowlist of expected listeners")
    actions = baseline.add_subparsers(dest="baseline_command", metavar="ACTION", required=True,
                                      parser_class=OneLineParser)
    save = actions.add_parser("save", help="record what listens now as expected")
    save.add_argument("path", type=Path, nargs="?", metavar="PATH", help="file (default: your config dir)")
    existing = save.add_mutually_exclusive_group()
    existing.add_argument("--merge", action="store_true", help="add to an existing file, keeping its entries")
    existing.add_argument("--force", action="store_true", help="replace an existing file (kept as .bak)")
    return parser


def select(listeners: Sequence[Listener], args: argparse.Namespace) -> list[Listener]:
    """Apply list's --tcp/--udp/-4/-6/--range; asking for both of a pair means both."""
    protos = {p for p, on in ((Proto.TCP, args.tcp), (Proto.UDP, args.udp)) if on} or set(Proto)
    families = {f for f, on in ((Family.IPV4, args.ipv4), (Family.IPV6, args.ipv6)) if on} or set(Family)
    chosen = [entry for entry in listeners if entry.proto in protos and entry.family in families]
    if args.port_range == "ephemeral":
        chosen = [entry for entry in chosen if entry.os_ephemeral]
    elif args.port_range:
        chosen = [entry for entry in chosen if entry.port_range.value == args.port_range]
    return chosen


def _scan(args: argparse.Namespace) -> Scan:
    return get_collector(args.collector).scan()


def run_list(args: argparse.Namespace) -> int:
    scan = _scan(args)
    chosen = select(scan.listeners, args)
    if args.json:
        import json  # here: a plain `portwatch list` starts without it

        json.dump([listing.listener_json(entry) for entry in chosen], sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(listing.format_table(chosen, listing.use_colour(sys.stdout)))
    listing.print_lines(listing.summary(scan, len(chosen)), sys.stderr)
    return EXIT_OK


def run_who(args: argparse.Namespace) -> int:
    from portwatch.collect.process import ProcessInspector

    scan = _scan(args)
    found = [entry for entry in scan.listeners if entry.port == args.port]
    inspector = ProcessInspector()
    details = {pid: inspector.inspect(pid) for entry in found for pid in entry.pids}
    if args.json:
        import json

        records = [listing.listener_json(entry) | {"processes": [listing.process_json(details[pid])
                                                               for pid in entry.pids]} for entry in found]
        json.dump(records, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        lines: list[str] = []
        for entry in found:
            _, process, user = listing.owner_text(entry)
            service = f" ({entry.service})" if entry.service else ""
            lines.append(f"{entry.proto.value} {listing.listener_row(entry)[1]}:{entry.port}{service}  "
                         f"{entry.port_range.value}{', OS ephemeral' if entry.os_ephemeral else ''}  "
                         f"exposure: {entry.exposure.value}  owner: {process} {user}".rstrip())
            for pid in entry.pids:
                lines.extend(listing.process_lines(details[pid]))
        if lines:
            listing.print_lines(lines)
    if not found:
        print(f"portwatch: nothing is listening on port {args.port}", file=sys.stderr)
        return EXIT_FOUND_NOTHING
    if scan.hidden_owners and any(not entry.owners for entry in found):
        print("portwatch: some owners are hidden; run with sudo to see them", file=sys.stderr)
    return EXIT_OK


def run_check(args: argparse.Namespace) -> int:
    from portwatch import check
    from portwatch.baseline import BaselineError
    from portwatch.flags import flag_scan

    try:
        baseline, note = check.find_baseline(args.baseline)
    except BaselineError as error:
        print(f"portwatch: {error}", file=sys.stderr)
        return EXIT_USAGE
    result = check.evaluate(flag_scan(_scan(args), baseline), baseline, note)
    if args.json:
        import json

        json.dump(check.check_json(result), sys.stdout, indent=2)
        sys.stdout.write("\n")
    elif result.unexpected:
        listing.print_lines(check.check_lines(result))
    listing.print_lines(check.summary_lines(result), sys.stderr)
    return result.exit_code


def run_baseline(args: argparse.Namespace) -> int:
    from portwatch import baseline_file
    from portwatch.baseline import BaselineError
    from portwatch.flags import flag_scan
    from portwatch.text import safe

    scan = flag_scan(_scan(args))  # flags tell client sockets (nothing to approve) from services
    try:
        saved = baseline_file.save(scan.listeners, args.path, merge=args.merge, force=args.force)
    except BaselineError as error:
        print(f"portwatch: {error}", file=sys.stderr)
        return EXIT_USAGE
    notes = [f"portwatch: {saved.added} entr{'y' if saved.added == 1 else 'ies'} written to {safe(saved.path)}"]
    if saved.backup:
        notes.append(f"portwatch: the previous file is kept as {safe(saved.backup)}")
    if scan.hidden_owners:
        notes.append(f"portwatch: {scan.hidden_owners} owner(s) hidden: their entries match on port and user "
                     "only; `sudo portwatch baseline save --merge` records their programs")
    listing.print_lines(notes, sys.stderr)
    return EXIT_OK


def run_stop(args: argparse.Namespace) -> int:
    return stop_command.run_stop(args, _scan(args).listeners)


def run_tui(args: argparse.Namespace) -> int:
    from portwatch.tui.app import PortwatchApp
    from portwatch.baseline_file import default_path

    if args.tui_baseline is not None and not args.tui_baseline.exists():  # as `check`: an explicit file must exist
        print(f"portwatch: no baseline at {args.tui_baseline}: `portwatch baseline save {args.tui_baseline}` "
              "creates it", file=sys.stderr)
        return EXIT_USAGE
    # A malformed file does not stop the TUI: the app says so in one notification and runs on without it.
    PortwatchApp(collector=get_collector(args.collector), interval=args.interval,
                 baseline_path=args.tui_baseline or default_path(), bell=args.bell).run()
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handlers = {"list": run_list, "who": run_who, "check": run_check, "baseline": run_baseline,
                "stop": run_stop, None: run_tui}
    try:
        return handlers[args.command](args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `portwatch list | head`
        sys.stderr.close()
        return EXIT_OK
