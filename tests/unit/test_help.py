"""Every command's --help states its exit status (and the top level its environment and files), and the
README's table says the same."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path

import pytest

from portwatch import cli_help
from portwatch.cli import build_parser

README = Path(__file__).resolve().parents[2] / "README.md"


def commands(parser: argparse.ArgumentParser, prefix: str = "") -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """Every subcommand, nested ones as "baseline save", from the real parser (new commands included)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                full = f"{prefix}{name}"
                yield full, sub
                yield from commands(sub, f"{full} ")


ALL = [("", build_parser()), *commands(build_parser())]


@pytest.mark.parametrize(("name", "parser"), ALL, ids=[name or "portwatch" for name, _ in ALL])
def test_help_states_the_exit_status_of_the_command(name: str, parser: argparse.ArgumentParser) -> None:
    assert name in cli_help.EXIT_STATUS, f"`portwatch {name}` has no exit status in portwatch/cli_help.py"
    text = " ".join(parser.format_help().split())  # wrapping aside
    assert "EXIT STATUS" in text
    for code, meaning in cli_help.EXIT_STATUS[name]:
        assert f"{code} {meaning}" in text, (code, meaning)


@pytest.mark.parametrize(("name", "parser"), ALL, ids=[name or "portwatch" for name, _ in ALL])
def test_every_command_has_a_description_not_only_a_help_line(name: str, parser: argparse.ArgumentParser) -> None:
    assert parser.description and len(parser.description) > 40


def test_top_level_help_names_the_environment_and_the_files() -> None:
    text = build_parser().format_help()
    assert "ENVIRONMENT:" in text and "FILES:" in text
    for variable in ("NO_COLOR", "FORCE_COLOR", "CLICOLOR_FORCE", "TERM", "SUDO_UID", "PORTWATCH_SYSTEM_CONFIG"):
        assert f"  {variable} " in text
    assert "/etc/portwatch/config.toml" in text and "baseline.toml" in text


def test_the_readme_has_every_exit_status_row() -> None:
    readme = README.read_text("utf-8")
    for name, rows in cli_help.EXIT_STATUS.items():
        for code, meaning in rows:
            row = f"| `portwatch{' ' + name if name else ''}` | {code} | {meaning} |"
            assert row in readme, f"README lacks: {row}"
