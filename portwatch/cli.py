# PYTHON_ARGCOMPLETE_OK (argcomplete's marker: this entry point completes itself; see main())
"""Command line: `portwatch` (the TUI), `portwatch list`, `who PORT`, `check`, `baseline save`, `events`,
`metrics`, `serve --metrics ADDR:PORT`, `stream --jsonl` (the machine mode `--host` reads; remote hosts:
portwatch.remote), `stop PORT`.

`list` and `who` never import textual, so they start as fast as Python does.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from portwatch import __version__, arguments, cli_help, listing, stop_command, streams
from portwatch.collect import COLLECTOR_NAMES, get_collector, get_inspector
from portwatch.model import Family, Listener, PortRange, Proto, Scan
from portwatch.remote import commands as remote_cli
from portwatch.text import safe
from portwatch.watch import MIN_INTERVAL

if TYPE_CHECKING:
    from portwatch.config import Settings
    from portwatch.judge import JudgedScan

#: 3 is the monitoring convention's UNKNOWN: the scan failed, or the answer could not be written.
EXIT_OK, EXIT_FOUND_NOTHING, EXIT_USAGE, EXIT_UNKNOWN = 0, 1, 2, 3
RANGE_CHOICES = (*(r.value for r in PortRange), "ephemeral")


class OneLineParser(argparse.ArgumentParser):
    """Bad input gets one line naming what is wrong, not a usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {safe(message, 400)} (see --help)\n")


class ScanFailed(Exception):
    """The collector could not read the sockets; str() is one line."""


def _interval(text: str) -> float:
    return arguments.seconds(text, MIN_INTERVAL)


def _wait(text: str) -> float:
    return arguments.seconds(text, 0.0, 600.0, "--wait ")


def _netns(text: str) -> str:
    if not text or not text.isprintable() or len(text) > 256:
        raise argparse.ArgumentTypeError(f"--netns {text!r} is not all, host, a namespace name or an inode")
    return text


def _capture_interval(text: str) -> float:
    from portwatch.sentinel import MIN_CAPTURE_INTERVAL

    value = arguments.seconds(text, 0.0, 60.0, "capture interval ")
    if value and value < MIN_CAPTURE_INTERVAL:
        raise argparse.ArgumentTypeError(
            f"capture interval {text} is below {MIN_CAPTURE_INTERVAL:g} seconds (0 turns it off)"
        )
    return value


def _queue_size(text: str) -> int:
    if not re.fullmatch(r"[0-9]{1,9}", text) or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of events, at least 1")
    return int(text)


def _shared_options(parser: argparse.ArgumentParser, top: bool) -> None:
    """Options that mean the same before or after the subcommand (`portwatch --baseline X check` and
    `portwatch check --baseline X`): given after it, they override; not given, they keep the top's value."""
    collector: dict[str, Any] = {"default": "auto" if top else argparse.SUPPRESS}
    baseline: dict[str, Any] = {"default": None if top else argparse.SUPPRESS}
    netns: dict[str, Any] = {"default": None if top else argparse.SUPPRESS}
    parser.add_argument(
        "--collector",
        choices=COLLECTOR_NAMES,
        **collector,
        help="how sockets are read (default: the fastest that works here)",
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        metavar="PATH",
        **baseline,
        help="baseline file to judge against (default: your config dir)",
    )
    parser.add_argument(
        "--netns",
        type=_netns,
        metavar="all|host|NAME|INODE",
        **netns,
        help="network namespaces to show (default: all as root, else the host's)",
    )


def _colour_option(parser: argparse.ArgumentParser, top: bool) -> None:
    """--color before or after `list` means the same (as _shared_options)."""
    parser.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto" if top else argparse.SUPPRESS,
        help="colour: auto (a terminal, unless NO_COLOR or TERM=dumb; FORCE_COLOR forces it), "
        "always, never (default: auto; wins over the environment)",
    )


def _listen_address(text: str) -> tuple[str, int]:
    """ADDR:PORT for `serve --metrics`: an explicit address, IPv6 in brackets; no wildcard by default."""
    host, sep, port_text = text.rpartition(":")
    if not sep or not host:
        raise argparse.ArgumentTypeError(
            f"{text!r}: give ADDR:PORT with the address to listen on, e.g. "
            "127.0.0.1:9105 (0.0.0.0:PORT only if every interface is meant)"
        )
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        raise argparse.ArgumentTypeError(f"{text!r}: write an IPv6 address in brackets, e.g. [::1]:9105")
    return host, arguments.port(port_text)


def _min_interval(text: str) -> float:
    return arguments.seconds(text, 0.0, what="--min-interval ")


def _add_metrics_parsers(commands: argparse._SubParsersAction[OneLineParser]) -> None:
    per_listener = {
        "choices": ("all", "unexpected", "none"),
        "default": "unexpected",
        "help": "which listeners get a series of their own (default: unexpected)",
    }
    metrics = commands.add_parser(
        "metrics", help="the judged scan in Prometheus's text format", **cli_help.parser_texts("metrics")
    )
    metrics.add_argument(
        "--textfile",
        type=Path,
        metavar="PATH.prom",
        help="write it atomically to PATH.prom (node_exporter's textfile collector) instead of stdout",
    )
    _shared_options(metrics, top=False)
    metrics.add_argument("--per-listener", **per_listener)  # type: ignore[arg-type]
    serve = commands.add_parser(
        "serve", help="an HTTP endpoint for Prometheus to scrape", **cli_help.parser_texts("serve")
    )
    serve.add_argument(
        "--metrics",
        type=_listen_address,
        required=True,
        metavar="ADDR:PORT",
        help="where to listen, e.g. 127.0.0.1:9105 (required: no wildcard default)",
    )
    serve.add_argument(
        "--min-interval",
        type=_min_interval,
        default=15.0,
        metavar="SECONDS",
        help="scan at most this often however often scraped (default 15; 0 scans every scrape)",
    )
    _shared_options(serve, top=False)
    serve.add_argument("--per-listener", **per_listener)  # type: ignore[arg-type]


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="portwatch", **cli_help.parser_texts(""))
    parser.add_argument("--version", action="version", version=f"portwatch {__version__}")
    _shared_options(parser, top=True)
    parser.add_argument(
        "--interval",
        type=_interval,
        default=None,
        metavar="SECONDS",
        help=f"TUI refresh interval (default: the config's, else 2; at least {MIN_INTERVAL})",
    )
    parser.add_argument(
        "--bell",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="TUI: ring the terminal bell with each alert (default: the config's, else no)",
    )
    _colour_option(parser, top=True)
    parser.add_argument(
        "--capture-interval",
        type=_capture_interval,
        default=None,
        metavar="SECONDS",
        help="TUI: how often the sentinel looks for listeners that open and close between "
        "refreshes (default 0.2; 0 turns it off: events as refreshes see them)",
    )
    remote_cli.add_arguments(parser, arguments.port)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)

    list_cmd = commands.add_parser("list", help="print every listener, sorted by port", **cli_help.parser_texts("list"))
    _shared_options(list_cmd, top=False)
    list_cmd.add_argument("--json", action="store_true", help="a JSON array instead of a table")
    list_cmd.add_argument("--tcp", action="store_true", help="TCP listeners only")
    list_cmd.add_argument("--udp", action="store_true", help="UDP sockets only")
    list_cmd.add_argument("-4", dest="ipv4", action="store_true", help="IPv4 only")
    list_cmd.add_argument("-6", dest="ipv6", action="store_true", help="IPv6 only")
    list_cmd.add_argument(
        "--range", choices=RANGE_CHOICES, dest="port_range", help="one IANA range, or this OS's ephemeral range"
    )
    _colour_option(list_cmd, top=False)
    remote_cli.add_arguments(list_cmd, arguments.port)
    list_cmd.add_argument(
        "--no-packages",
        dest="packages",
        action="store_false",
        help="skip naming each executable's package and checking its checksum (faster; "
        "exe-modified cannot be told then, and the output says so)",
    )

    who = commands.add_parser(
        "who", help="who listens on PORT: exe, cmdline, user, parents, start time", **cli_help.parser_texts("who")
    )
    _shared_options(who, top=False)
    who.add_argument("port", type=arguments.port, metavar="PORT")
    who.add_argument("--json", action="store_true", help="JSON instead of text")
    remote_cli.add_arguments(who, arguments.port)

    check = commands.add_parser(
        "check", help="exit 0 if every listener is expected and unflagged, 1 if not", **cli_help.parser_texts("check")
    )
    _shared_options(check, top=False)
    check.add_argument("--json", action="store_true", help="JSON instead of text")
    remote_cli.add_arguments(check, arguments.port)

    stream = commands.add_parser(
        "stream", help="machine mode for --host: one judged scan per line, flushed", **cli_help.parser_texts("stream")
    )
    _shared_options(stream, top=False)
    stream.add_argument(
        "--jsonl", action="store_true", required=True, help="JSON lines (the portwatch.remote.wire format)"
    )
    stream.add_argument("--interval", type=_interval, default=2.0, metavar="SECONDS", help="between scans")
    stream.add_argument("--count", type=int, default=0, metavar="N", help="stop after N scans (default: never)")
    stream.add_argument(
        "--details-port",
        type=arguments.port,
        metavar="PORT",
        help="also send the process details of PORT's owners (for `who --host`)",
    )

    stop_command.add_parser(commands, arguments.port, _wait, lambda parser: _shared_options(parser, top=False))

    baseline = commands.add_parser(
        "baseline", help="manage the allowlist of expected listeners", **cli_help.parser_texts("baseline")
    )
    actions = baseline.add_subparsers(
        dest="baseline_command", metavar="ACTION", required=True, parser_class=OneLineParser
    )
    save = actions.add_parser(
        "save", help="record what listens now as expected", **cli_help.parser_texts("baseline save")
    )
    save.add_argument(
        "--collector",
        choices=COLLECTOR_NAMES,
        default=argparse.SUPPRESS,
        help="how sockets are read (default: the fastest that works here)",
    )
    save.add_argument(
        "path", type=Path, nargs="?", metavar="PATH", help="file (default: --baseline, else your config dir)"
    )
    existing = save.add_mutually_exclusive_group()
    existing.add_argument("--merge", action="store_true", help="add to an existing file, keeping its entries")
    existing.add_argument("--force", action="store_true", help="replace an existing file (kept as .bak)")
    events = commands.add_parser(
        "events",
        help="write each listener opened, closed or taken over as it happens, until stopped (one line each)",
        **cli_help.parser_texts("events"),
    )
    _shared_options(events, top=False)
    events.add_argument("--jsonl", action="store_true", help="one JSON object per line (schemas/events.schema.json)")
    events.add_argument(
        "--capture-interval",
        type=_capture_interval,
        default=argparse.SUPPRESS,
        metavar="SECONDS",
        help="how often the kernel's socket list is read (default 0.2)",
    )
    events.add_argument("--max-queue", type=_queue_size, default=None, help=argparse.SUPPRESS)
    _add_metrics_parsers(commands)
    return parser


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


def run_events(args: argparse.Namespace) -> int:
    from portwatch.event_stream import run_command

    return run_command(args)


def run_stream(args: argparse.Namespace) -> int:
    from portwatch.remote import stream

    return stream.run(args)


def run_stop(args: argparse.Namespace) -> int:
    return stop_command.run_stop(args, _judged(args, strict=False).listeners)


def _settings(args: argparse.Namespace) -> Settings:
    """The config files under the options: --interval and --bell (when given) win; args gets the result."""
    from portwatch import config

    loaded = config.load()
    merged = config.with_options(loaded.config, interval=args.interval, bell=args.bell)
    args.interval = merged.interval or 2.0
    args.bell = bool(merged.bell)
    return config.Settings(merged, loaded.problems, config.user_path())


def run_tui(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if remote_cli.option(args, "hosts"):
        return _run_remote_tui(args, settings)
    import os

    from portwatch.baseline_file import default_path
    from portwatch.colour import tui_environment, wants_colour
    from portwatch.sentinel import DEFAULT_CAPTURE_INTERVAL
    from portwatch.watch import Watcher, poll_in_background

    tui_environment(wants_colour(sys.stdout, args.color), os.environ)  # before Textual reads NO_COLOR

    if args.baseline is not None and not args.baseline.exists():  # as `check`: an explicit file must exist
        print(
            f"portwatch: no baseline at {safe(args.baseline)}: `portwatch baseline save {safe(args.baseline)}` "
            "creates it",
            file=sys.stderr,
        )
        return EXIT_USAGE
    # A malformed file does not stop the TUI: the app says so in one notification and runs on without it.
    capture = DEFAULT_CAPTURE_INTERVAL if args.capture_interval is None else args.capture_interval
    # packages on: looked up in the scan worker, cached per executable, never on the event loop; at most
    # 64 MiB of executables checksummed per refresh, so the first table does not wait for every big binary
    from portwatch.netns_scope import collector_scope

    scope = collector_scope(args.netns)
    collector = get_collector(args.collector, scope, packages=True, package_budget=64 * 1024 * 1024)
    watcher = Watcher(collector, args.baseline or default_path(), log_events=not capture)
    first_scan = poll_in_background(watcher)  # runs while Textual is imported: the first paint shows the table
    from portwatch.tui.app import PortwatchApp  # the one import of the TUI from outside it

    # The sentinel gets a collector of its own (collectors are not thread-safe; it names owners without package
    # look-ups, which would slow its looks).
    PortwatchApp(
        collector=collector,
        interval=args.interval,
        baseline_path=watcher.baseline_path,
        bell=args.bell,
        capture=get_collector(args.collector, scope) if capture else None,
        capture_interval=capture,
        watcher=watcher,
        first_scan=first_scan,
        netns=args.netns,
        settings=settings,
    ).run()
    return EXIT_OK


def _run_remote_tui(args: argparse.Namespace, settings: Settings) -> int:
    """`portwatch --host HOST`: one host per view (its cursor, panel, events and alerts are one machine's).

    The first refresh happens before the terminal is taken over, so a refused host key or an unreachable
    host is one line and an exit code, as with the commands; afterwards failures are states in the header.
    """
    from portwatch.remote.host import RemoteError
    from portwatch.remote.live import Prejudged, RemoteCollector, RemoteInspector
    from portwatch.text import safe

    refused = remote_cli.local_baseline_refused(args.baseline)
    if refused is not None:
        return refused
    hosts = remote_cli.hosts(args)
    if len(hosts) != 1:
        print(
            "portwatch: the live view watches one --host; `portwatch list --host A --host B` lists several",
            file=sys.stderr,
        )
        return EXIT_USAGE
    collector = RemoteCollector(hosts[0], args.interval)
    try:
        collector.scan()
    except RemoteError as error:
        print(f"portwatch: {safe(str(error), 500)}", file=sys.stderr)
        collector.close()
        return remote_cli.EXIT_REFUSED if error.refused else remote_cli.EXIT_UNREACHABLE
    from portwatch.tui.app import PortwatchApp

    try:
        PortwatchApp(
            collector=collector,
            interval=args.interval,
            inspector=RemoteInspector(collector),
            judge=Prejudged(),
            baseline_path=None,
            bell=args.bell,
            host=hosts[0].label,
            settings=settings,
        ).run()
    finally:
        collector.close()
    return EXIT_OK


def run_metrics(args: argparse.Namespace) -> int:
    from portwatch.metrics_commands import run_metrics

    return run_metrics(args)


def run_serve(args: argparse.Namespace) -> int:
    from portwatch.metrics_commands import run_serve

    return run_serve(args)


def _complete(parser: argparse.ArgumentParser) -> None:
    """The shell asks for completions (argcomplete's protocol): answer and exit. Without the optional
    `completion` extra there is nothing to offer, and the shell gets nothing."""
    try:
        import argcomplete
    except ImportError:
        return
    argcomplete.autocomplete(parser)


def main(argv: Sequence[str] | None = None) -> int:
    import os

    parser = build_parser()
    if "_ARGCOMPLETE" in os.environ:  # only while completing: a normal run never imports argcomplete
        _complete(parser)
    args = parser.parse_args(argv)
    if args.command is None:
        return run_tui(args)
    with streams.tolerant():
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    handlers = {
        "list": run_list,
        "who": run_who,
        "check": run_check,
        "baseline": run_baseline,
        "events": run_events,
        "metrics": run_metrics,
        "serve": run_serve,
        "stream": run_stream,
        "stop": run_stop,
        None: run_tui,
    }
    from portwatch.netns_scope import NetnsChoiceError

    try:
        code = handlers[args.command](args)
        sys.stdout.flush()  # a full disk shows here, not in the interpreter's last flush
        return code
    except NetnsChoiceError as error:
        print(f"portwatch: --netns: {error}", file=sys.stderr)
        return EXIT_USAGE
    except ScanFailed as error:
        print(f"portwatch: {error}", file=sys.stderr)
        return EXIT_UNKNOWN
    except KeyboardInterrupt:
        return 130
    except streams.OutputFailed as error:
        streams.discard_stdout()
        if error.broken_pipe and args.command != "check":  # `portwatch list | head`: the reader had enough
            return EXIT_OK
        # stdout full or closed: the answer was not given. `check` never says 1 ("unexpected found") then.
        print(f"portwatch: cannot write the output: {safe(str(error))}", file=sys.stderr)
        return EXIT_UNKNOWN
