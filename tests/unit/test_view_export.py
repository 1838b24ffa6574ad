"""Export: CSV that a spreadsheet cannot run, raw JSON, clipboard text, and files never clobbered."""

from __future__ import annotations

import csv
import io
import json
import os
from datetime import datetime
from pathlib import Path

import pytest

from portwatch import ranges, view_export
from portwatch.model import Family, Flag, FlagCode, Listener, Owner, OwnerStatus, Proto

CONTROL = {chr(c) for c in (*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0))}


def listener(name: str, cmdline: tuple[str, ...] = (), port: int = 8080, user: str = "dev") -> Listener:
    return Listener(
        proto=Proto.TCP,
        family=Family.IPV4,
        address="127.0.0.1",
        port=port,
        port_range=ranges.iana_range(port),
        os_ephemeral=False,
        exposure=ranges.exposure("127.0.0.1"),
        owners=(Owner(4242, name, user, "/usr/bin/srv", cmdline),),
        flags=(Flag(FlagCode.DYNAMIC_EXPOSED, "why"),),
    )


FORMULAS = ('=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx")


@pytest.mark.parametrize("text", FORMULAS)
def test_a_formula_lead_is_neutralised(text: str) -> None:
    cell = view_export.neutralise(text)
    assert cell.startswith("'") or cell.startswith("\\")  # quoted, or the control shown as an escape
    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_plain_text_and_numbers_are_left_alone() -> None:
    assert view_export.neutralise("nginx") == "nginx"
    assert view_export.neutralise("8080") == "8080"


def test_csv_round_trips_through_the_csv_module_with_formulas_neutralised() -> None:
    rows = [listener(formula, (formula, "--flag"), port=1000 + index) for index, formula in enumerate(FORMULAS)]
    rows.append(listener("\x1b]52;c;aGk=\x07evil", ("a,b", 'quote"d', "new\nline")))
    text = view_export.csv_text(rows)
    parsed = list(csv.reader(io.StringIO(text, newline="")))
    assert tuple(parsed[0]) == view_export.COLUMNS
    assert len(parsed) == len(rows) + 1
    process, cmdline = view_export.COLUMNS.index("process"), view_export.COLUMNS.index("cmdline")
    for row in parsed[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
            assert not (set(cell) & CONTROL), cell
    assert parsed[1][process] == '\'=HYPERLINK("http://x","y")'
    assert parsed[-1][process] == "\\x1b]52;c;aGk=\\x07evil"
    assert parsed[-1][cmdline] == 'a,b quote"d new\\nline'
    assert parsed[1][view_export.COLUMNS.index("port")] == "1000"


def test_json_carries_raw_values() -> None:
    hostile = "\x1b[2J=cmd"
    data = json.loads(view_export.json_text([listener(hostile)]))
    assert data[0]["owners"][0]["name"] == hostile and data[0]["port"] == 8080


def test_hidden_owner_row() -> None:
    entry = Listener(
        proto=Proto.UDP,
        family=Family.IPV4,
        address="0.0.0.0",
        port=5353,
        port_range=ranges.iana_range(5353),
        os_ephemeral=False,
        exposure=ranges.exposure("0.0.0.0"),
        owner_status=OwnerStatus.HIDDEN,
        socket_user="avahi",
    )
    row = view_export.csv_row(entry)
    assert row[view_export.COLUMNS.index("process")] == "(hidden)"
    assert "owner hidden" in view_export.row_text(entry)


def test_row_and_cmdline_text_are_safe() -> None:
    entry = listener("[/]\x1b]52;c;x\x07", ("python3", "\x1b[2J", ""))
    row = view_export.row_text(entry)
    assert "tcp 127.0.0.1:8080" in row and "pid 4242" in row and "dynamic-exposed" in row
    assert not (set(row) & CONTROL)
    assert view_export.cmdline_text(entry.owners[0]) == "python3 \\x1b[2J"  # empty slots dropped, as ps does


def test_format_from_the_name() -> None:
    assert view_export.format_of(Path("a.CSV")) == "csv" and view_export.format_of(Path("b.json")) == "json"
    with pytest.raises(view_export.ExportError, match=r"must end in \.csv or \.json"):
        view_export.format_of(Path("c.txt"))


def test_default_name_is_timestamped() -> None:
    assert view_export.default_name(datetime(2026, 12, 1, 22, 5, 9), "json") == "portwatch-20261201-220509.json"


def test_write_new_creates_a_regular_file(tmp_path: Path) -> None:
    path = view_export.write_new(tmp_path / "out.csv", b"x,y\r\n")
    assert path.read_bytes() == b"x,y\r\n" and path.is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]  # no temporary left behind


def test_write_new_never_overwrites_unless_asked(tmp_path: Path) -> None:
    path = tmp_path / "out.json"
    path.write_text("mine")
    with pytest.raises(view_export.ExportExists):
        view_export.write_new(path, b"theirs")
    assert path.read_text() == "mine"
    view_export.write_new(path, b"new", overwrite=True)
    assert path.read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]


def test_write_new_refuses_non_regular_files(tmp_path: Path) -> None:
    target = tmp_path / "target.csv"
    target.write_text("keep")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    folder = tmp_path / "dir.csv"
    folder.mkdir()
    fifo = tmp_path / "fifo.csv"
    os.mkfifo(fifo)
    for path in (link, folder, fifo):
        with pytest.raises(view_export.ExportError, match="not a regular file"):
            view_export.write_new(path, b"x", overwrite=True)
    assert target.read_text() == "keep"


def test_write_new_into_a_missing_folder_says_so(tmp_path: Path) -> None:
    with pytest.raises(view_export.ExportError, match="no folder"):
        view_export.write_new(tmp_path / "nope" / "x.csv", b"x")
