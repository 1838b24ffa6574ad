"""The command line's parser: build_parser(), the option types and the options shared by several
commands, and the exit codes; separate from the handlers so the man page and tests build it alone."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any, NoReturn

from portwatch import __version__, arguments, cli_help, stop_command
from portwatch.collect import COLLECTOR_NAMES
from portwatch.model import PortRange
from portwatch.remote import commands as remote_cli
from portwatch.text import safe
from portwatch.watch import MIN_INTERVAL

#: 3 is the monitoring convention's UNKNOWN: the scan failed, or the answer could not be written.
EXIT_OK, EXIT_FOUND_NOTHING, EXIT_USAGE, EXIT_UNKNOWN = 0, 1, 2, 3
RANGE_CHOICES = (*(r.value for r in PortRange), "ephemeral")


class OneLineParser(argparse.ArgumentParser):
    """Bad input gets one line naming what is wrong, not a usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {safe(message, 400)} (see --help)\n")


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
