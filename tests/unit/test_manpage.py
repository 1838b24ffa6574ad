"""man/portwatch.1 is generated from the parser: the shipped page must be what the code generates now."""

from __future__ import annotations

from pathlib import Path

from portwatch import cli_help, manpage

SHIPPED = Path(__file__).resolve().parents[2] / "man" / "portwatch.1"


def test_shipped_man_page_equals_a_fresh_generation() -> None:
    assert SHIPPED.read_text("utf-8") == manpage.render(), (
        "man/portwatch.1 is stale: run `python -m portwatch.manpage > man/portwatch.1`"
    )


def test_man_page_names_every_command_and_exit_status() -> None:
    page = manpage.render()
    for command, rows in cli_help.EXIT_STATUS.items():
        if command:
            assert f".SS portwatch {manpage.roff(command)}" in page
        for code, _ in rows:
            assert f"\\fB{code}\\fR" in page
    assert ".SH ENVIRONMENT" in page and ".SH FILES" in page


def test_roff_escapes_control_lines_and_backslashes() -> None:
    assert manpage.roff(".x\n'y\na\\b-c") == "\\&.x\n\\&'y\na\\eb\\-c"
