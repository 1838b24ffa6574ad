"""Lenient input is wrong input: only ASCII digits, finite intervals within a day, integer versions."""

from __future__ import annotations

import pytest

from portwatch.baseline import BaselineError, parse, parse_ports
from portwatch.cli import build_parser


def _exit_code(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as stopped:
        build_parser().parse_args(argv)
    return int(stopped.value.code or 0), capsys.readouterr().err


@pytest.mark.parametrize("value", ["inf", "Infinity", "nan", "-1", "1e3", "1_0", "٢", "86401", " 2", "0x10", ""])
def test_interval_rejects_what_is_not_a_plain_number_of_seconds_within_a_day(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = _exit_code(["--interval", value, "list"], capsys)
    assert code == 2 and "--interval" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("value, seconds", [("2", 2.0), ("0.5", 0.5), (".5", 0.5), ("86400", 86400.0), ("3.", 3.0)])
def test_interval_accepts_plain_numbers(value: str, seconds: float) -> None:
    assert build_parser().parse_args(["--interval", value]).interval == seconds


@pytest.mark.parametrize("port", ["٢٢", "1_000", "+22", " 22", "22 ", "-0", "0x16", "２２", "65536", "000022"])
def test_who_accepts_only_ascii_digits(port: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _exit_code(["who", port], capsys)
    assert code == 2 and "PORT" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("port", ["22", "0", "65535", "08080"])
def test_who_takes_a_plain_port(port: str) -> None:
    assert build_parser().parse_args(["who", port]).port == int(port)


@pytest.mark.parametrize("value", ["٢٢", "٢٢-٣٣", "22-٣٣", "1_000", "+22", "２２", "22\u00a0"])
def test_baseline_ports_take_only_ascii_digits(value: str) -> None:
    with pytest.raises(ValueError):
        parse_ports(value)
    with pytest.raises(BaselineError, match="listener entry 1"):
        parse(f'version = 1\n[[listener]]\nport = "{value}"\n')


@pytest.mark.parametrize("version", ["true", "1.0", '"1"', "[1]", "2"])
def test_baseline_version_must_be_the_integer_1(version: str) -> None:
    with pytest.raises(BaselineError, match=r"version .* is not one this portwatch reads"):
        parse(f"version = {version}\n")


def test_baseline_version_1_and_plain_ranges_still_read() -> None:
    parsed = parse('version = 1\n[[listener]]\nport = "8000 - 8100"\n[[listener]]\nport = 22\n')
    assert [(e.ports.first, e.ports.last) for e in parsed.entries if e.ports] == [(8000, 8100), (22, 22)]


@pytest.mark.parametrize("value", ["inf", "nan", "1e3", "1_0", "٢", "86401", "-1"])
def test_serve_min_interval_is_read_as_strictly_as_interval(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _exit_code(["serve", "--metrics", "127.0.0.1:9105", "--min-interval", value], capsys)
    assert code == 2 and "--min-interval" in err


@pytest.mark.parametrize("address", ["127.0.0.1:٩١٠٥", "127.0.0.1:+9105", "127.0.0.1:9_105", "[::1]: 9105"])
def test_serve_listen_port_takes_only_ascii_digits(address: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _exit_code(["serve", "--metrics", address], capsys)
    assert code == 2 and "--metrics" in err


def test_serve_min_interval_zero_is_still_allowed() -> None:
    assert build_parser().parse_args(["serve", "--metrics", "127.0.0.1:9105", "--min-interval", "0"]).min_interval == 0
