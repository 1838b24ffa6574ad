"""`portwatch events` and --capture-interval on the command line: bad input is one line and exit 2."""

from __future__ import annotations

import pytest

from portwatch.cli import build_parser, main


@pytest.mark.parametrize("value", ["fast", "0.001", "-1", "nan", "100"])
def test_a_bad_capture_interval_is_one_line_and_exit_2(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        build_parser().parse_args(["events", "--capture-interval", value])
    err = capsys.readouterr().err
    assert stopped.value.code == 2 and err.count("\n") == 1 and "--capture-interval" in err


def test_the_capture_interval_is_accepted_before_or_after_events() -> None:
    assert build_parser().parse_args(["events", "--capture-interval", "0.5"]).capture_interval == 0.5
    assert build_parser().parse_args(["--capture-interval", "0.1", "events"]).capture_interval == 0.1
    assert build_parser().parse_args(["--capture-interval", "0"]).capture_interval == 0.0


def test_events_without_a_sentinel_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["events", "--capture-interval", "0"]) == 2
    assert "--capture-interval 0" in capsys.readouterr().err


def test_events_with_a_missing_baseline_is_refused(tmp_path: object, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["events", "--baseline", f"{tmp_path}/none.toml"]) == 2
    assert capsys.readouterr().err.count("\n") == 1
