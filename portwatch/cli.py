# PYTHON_ARGCOMPLETE_OK (argcomplete's marker: this entry point completes itself; see main())
"""Command line: `portwatch` (the TUI), `portwatch list`, `who PORT`, `check`, `baseline save`, `events`,
`metrics`, `serve --metrics ADDR:PORT`, `stream --jsonl` (the machine mode `--host` reads; remote hosts:
portwatch.remote), `stop PORT`. The parser is portwatch.cli_parser; the one-shot commands that scan and
judge, portwatch.cli_listing; here: main(), the live view (the one door into portwatch.tui) and the rest.

`list` and `who` never import textual, so they start as fast as Python does.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from portwatch import streams
from portwatch.cli_listing import ScanFailed as ScanFailed
from portwatch.cli_listing import run_baseline as run_baseline
from portwatch.cli_listing import run_check as run_check
from portwatch.cli_listing import run_list as run_list
from portwatch.cli_listing import run_stop as run_stop
from portwatch.cli_listing import run_who as run_who
from portwatch.cli_listing import select as select
from portwatch.cli_parser import EXIT_FOUND_NOTHING as EXIT_FOUND_NOTHING
from portwatch.cli_parser import EXIT_OK as EXIT_OK
from portwatch.cli_parser import EXIT_UNKNOWN as EXIT_UNKNOWN
from portwatch.cli_parser import EXIT_USAGE as EXIT_USAGE
from portwatch.cli_parser import RANGE_CHOICES as RANGE_CHOICES
from portwatch.cli_parser import OneLineParser as OneLineParser
from portwatch.cli_parser import build_parser as build_parser
from portwatch.collect import get_collector
from portwatch.remote import commands as remote_cli
from portwatch.text import safe

if TYPE_CHECKING:
    from portwatch.config import Settings


def run_events(args: argparse.Namespace) -> int:
    from portwatch.event_stream import run_command

    return run_command(args)


def run_stream(args: argparse.Namespace) -> int:
    from portwatch.remote import stream

    return stream.run(args)


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
