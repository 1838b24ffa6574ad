"""What `--help`, the man page and the README say about each command: descriptions, exit status, environment
and files. One table, so the three cannot disagree (tests compare them)."""

from __future__ import annotations

import argparse
import textwrap
from typing import Any

#: Every command's exit statuses, in order. "" is the live view (`portwatch` with no command).
EXIT_STATUS: dict[str, tuple[tuple[int, str], ...]] = {
    "": (
        (0, "quit normally"),
        (
            2,
            "bad input: an unknown option, a --baseline that does not exist; with --host: "
            "the host refused (host key, authentication)",
        ),
        (3, "with --host: the host could not be reached"),
        (130, "interrupted (Ctrl-C)"),
    ),
    "list": (
        (0, "listed (an empty list too)"),
        (2, "bad input, or with --host a host refused"),
        (3, "the scan failed or the output could not be written; with --host a host could not be reached"),
    ),
    "who": (
        (0, "something listens on PORT"),
        (1, "nothing listens on PORT"),
        (2, "bad input: PORT is not an integer in 0-65535, an unknown option"),
        (3, "the scan failed or the output could not be written; with --host a host could not be reached"),
    ),
    "check": (
        (0, "every listener is expected and carries no alarming flag"),
        (1, "some listener is unexpected (each is listed with its flags and reasons)"),
        (2, "bad input: an unknown option, a malformed, unreadable or missing baseline"),
        (3, "unknown: the scan failed or the output could not be written (the monitoring convention)"),
    ),
    "baseline": (
        (0, "the baseline was written"),
        (2, "refused: the file exists (give --merge or --force), is malformed, or is not a regular file"),
        (3, "the scan failed"),
    ),
    "baseline save": (
        (0, "the baseline was written"),
        (2, "refused: the file exists (give --merge or --force), is malformed, or is not a regular file"),
        (3, "the scan failed"),
    ),
    "stop": (
        (0, "the listener is gone (or nothing listened there; or --dry-run)"),
        (1, "it is still there: the signal was ignored or denied, or the service came back"),
        (2, "bad input, a refusal (the holder changed, no terminal without --yes), or no confirmation"),
    ),
    "events": (
        (0, "stopped by Ctrl-C or SIGTERM, or its reader closed the pipe"),
        (2, "bad input: a malformed or missing --baseline, a bad --capture-interval"),
        (3, "the scan failed or the output could not be written"),
    ),
    "stream": ((0, "--count scans were sent"), (2, "bad input: --baseline does not exist")),
    "metrics": (
        (0, "the metrics were written"),
        (1, "the scan failed (the metrics were still written, with portwatch_scan_success 0)"),
        (2, "bad input: --textfile refused, prometheus_client missing"),
    ),
    "serve": (
        (0, "stopped by SIGTERM or Ctrl-C"),
        (2, "bad input: the address cannot be listened on, prometheus_client missing"),
    ),
}

#: Descriptions for `portwatch COMMAND --help` (the one-line help= stays for the command list).
DESCRIPTION: dict[str, str] = {
    "": "What is listening on this machine, and should it be? With no command: the live view, a table of every "
    "listening socket refreshed every --interval seconds.",
    "list": "Print every listening TCP socket and bound UDP socket, sorted by port, with its owners, IANA range, "
    "exposure and flags. A table on a terminal; --json writes the document described by "
    "portwatch/schemas/list.schema.json.",
    "who": "Who listens on PORT: each listener's flags, then each owning process's exe, cmdline, user, parent "
    "chain and start time. --json: portwatch/schemas/who.schema.json.",
    "check": "Judge every listener against the baseline and the suspicion flags: for cron, CI and monitoring. "
    "Unexpected listeners are printed on stdout, the verdict on stderr. --json: "
    "portwatch/schemas/check.schema.json.",
    "baseline": "Manage the allowlist of expected listeners (a TOML file you may edit).",
    "baseline save": "Record what listens now as expected, in PATH or --baseline or your default file. An "
    "existing file is refused unless --merge (add what is missing, keep your entries and "
    "comments) or --force (replace it, keeping the old one as .bak).",
    "stop": "Signal the process that holds the listening socket on PORT (for a pre-fork server: its master), "
    "after checking it is still that process; --unit/--container stop its systemd unit or container.",
    "events": "Write each listener opened, closed or taken over as it happens, until stopped: one readable "
    "line each, or --jsonl: one JSON object per line (portwatch/schemas/events.schema.json).",
    "stream": "Machine mode for --host on another machine: one judged scan per line (JSON lines), flushed.",
    "metrics": "The judged scan in Prometheus's text format, on stdout or atomically into a node_exporter textfile.",
    "serve": "An HTTP endpoint for Prometheus to scrape: /metrics, scanning at most every --min-interval seconds.",
}

ENVIRONMENT = (
    ("NO_COLOR", "when not empty, no colour (no-color.org); --color wins over it"),
    ("FORCE_COLOR", "when not empty, colour even into a pipe"),
    ("CLICOLOR_FORCE", "when not empty and not 0, colour even into a pipe"),
    ("TERM", "dumb: no colour"),
    ("SUDO_UID", "under sudo, the invoking user's baseline and config files are used, not root's"),
    ("PORTWATCH_SYSTEM_CONFIG", "the system config file instead of /etc/portwatch/config.toml"),
    ("XDG_CONFIG_HOME", "where the user's config folder is (platformdirs)"),
)

FILES = (
    ("~/.config/portwatch/baseline.toml", "the default baseline (your platform's config folder)"),
    ("~/.config/portwatch/config.toml", "your defaults: interval, theme, columns, bell, saved filters"),
    ("/etc/portwatch/config.toml", "system-wide defaults; yours override them, options override both"),
)


def _block(title: str, rows: tuple[tuple[Any, str], ...], width: int) -> list[str]:
    lines = [f"{title}:"]
    for name, meaning in rows:
        head = f"  {name!s:<{width}}  "
        if len(head) > 40:  # a long name gets its meaning on the next line
            lines.append(head.rstrip())
            head = " " * 8
        lines += textwrap.wrap(meaning, 79, initial_indent=head, subsequent_indent=" " * len(head))
    return lines


def exit_lines(command: str) -> list[str]:
    title = "EXIT STATUS (the live view; each command's --help has its own)" if command == "" else "EXIT STATUS"
    return _block(title, EXIT_STATUS[command], 3)


def epilog(command: str) -> str:
    """The text after the options in `--help`: exit status; for the top level also environment and files."""
    lines = exit_lines(command)
    if command == "":
        lines += ["", *(f"  portwatch {name:<13}  {codes}" for name, codes in _summary())]
        lines += ["", *_block("ENVIRONMENT", ENVIRONMENT, 23), "", *_block("FILES", FILES, 33)]
    return "\n".join(lines)


def _summary() -> list[tuple[str, str]]:
    """Per command, its codes in one line, for the top-level epilog."""
    return [
        (name, "exits " + ", ".join(str(code) for code, _ in rows))
        for name, rows in EXIT_STATUS.items()
        if name and name != "baseline"
    ]


def parser_texts(command: str) -> dict[str, Any]:
    """Keyword arguments for ArgumentParser / add_parser: description, epilog and a formatter that keeps them."""
    return {
        "description": textwrap.fill(DESCRIPTION[command], 79),
        "epilog": epilog(command),
        "formatter_class": argparse.RawDescriptionHelpFormatter,
    }
