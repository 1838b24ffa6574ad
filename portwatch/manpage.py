"""portwatch(1), generated from the argparse parser: `python -m portwatch.manpage > man/portwatch.1`.

The page is built from build_parser() and portwatch.cli_help, so it names every option and command the
program takes; tests/unit/test_manpage.py fails when the shipped man/portwatch.1 is stale. No date in the
header: the same code gives the same page, byte for byte.
"""

from __future__ import annotations

import argparse
import sys

from portwatch import __version__, cli_help
from portwatch.cli import build_parser


def roff(text: str) -> str:
    """Plain text as roff: backslashes and hyphens escaped, no line starting with a control character."""
    escaped = text.replace("\\", "\\e").replace("-", "\\-")
    return "\n".join("\\&" + line if line.startswith((".", "'")) else line for line in escaped.splitlines())


def _option_name(action: argparse.Action) -> str:
    if not action.option_strings:
        return f"\\fI{roff(str(action.metavar or action.dest))}\\fR"
    names = ", ".join(f"\\fB{roff(name)}\\fR" for name in action.option_strings)
    if action.nargs == 0:
        return names
    if action.choices and not action.metavar:
        return f"{names} {{{roff('|'.join(str(choice) for choice in action.choices))}}}"
    metavar = action.metavar or action.dest.upper()
    return f"{names} \\fI{roff(str(metavar))}\\fR"


def _options(parser: argparse.ArgumentParser) -> list[str]:
    lines: list[str] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) or action.help == argparse.SUPPRESS:
            continue
        lines += [".TP", _option_name(action), roff(action.help or "")]
    return lines


def _commands(parser: argparse.ArgumentParser, prefix: str = "") -> list[tuple[str, argparse.ArgumentParser]]:
    found: list[tuple[str, argparse.ArgumentParser]] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                full = f"{prefix}{name}"
                found.append((full, sub))
                found += _commands(sub, f"{full} ")
    return found


def _exit_status(command: str) -> list[str]:
    lines: list[str] = []
    for code, meaning in cli_help.EXIT_STATUS.get(command, ()):
        lines += [".TP", f"\\fB{code}\\fR", roff(meaning)]
    return lines


def _usage(parser: argparse.ArgumentParser) -> str:
    """The synopsis, built from the actions (argparse's own usage text changes between Python versions)."""
    parts = [parser.prog]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            parts.append(f"{action.metavar or 'COMMAND'} ...")
        elif not action.option_strings:
            parts.append(str(action.metavar or action.dest))
        elif action.help != argparse.SUPPRESS:
            toggles = isinstance(action, argparse.BooleanOptionalAction)  # --bell | --no-bell; -h/--help: one
            names = " | ".join(action.option_strings) if toggles else action.option_strings[-1]
            if action.nargs != 0:
                shown = (
                    "{" + ",".join(map(str, action.choices)) + "}"
                    if action.choices and not action.metavar
                    else str(action.metavar or action.dest.upper())
                )
                names += f" {shown}"
            parts.append(f"[{names}]" if not action.required else names)
    return roff(" ".join(parts))


def render(parser: argparse.ArgumentParser | None = None) -> str:
    """The whole page as roff (man(7) macros)."""
    parser = parser or build_parser()
    out = [
        f'.TH PORTWATCH 1 "" "portwatch {__version__}" "User Commands"',
        ".nh",  # no hyphenation: option names stay whole
        ".ad l",
        ".SH NAME",
        "portwatch \\- what is listening on this machine, and should it be?",
        ".SH SYNOPSIS",
        f".B {_usage(parser)}",
        ".SH DESCRIPTION",
        roff(cli_help.DESCRIPTION[""]),
        ".SH OPTIONS",
        *_options(parser),
        ".SH COMMANDS",
    ]
    for name, sub in _commands(parser):
        out += [
            f".SS {roff('portwatch ' + name)}",
            f".B {_usage(sub)}",
            ".PP",
            roff(cli_help.DESCRIPTION.get(name, sub.description or "")),
            *_options(sub),
        ]
        if name in cli_help.EXIT_STATUS:
            out += [".PP", "Exit status:", ".RS", *_exit_status(name), ".RE"]
    out += [
        ".SH EXIT STATUS",
        "The live view (no command):",
        *_exit_status(""),
        ".PP",
        "Each command's own exit status is given with the command above.",
    ]
    out += [".SH ENVIRONMENT"]
    for variable, meaning in cli_help.ENVIRONMENT:
        out += [".TP", f"\\fB{roff(variable)}\\fR", roff(meaning)]
    out += [".SH FILES"]
    for path, meaning in cli_help.FILES:
        out += [".TP", f"\\fI{roff(path)}\\fR", roff(meaning)]
    out += [".SH SEE ALSO", "\\fBss\\fR(8), \\fBlsof\\fR(8), \\fBnetstat\\fR(8)", ""]
    return "\n".join(out)


def main() -> int:
    sys.stdout.write(render())
    return 0


if __name__ == "__main__":
    sys.exit(main())
