"""Empty argv slots (left by daemons that overwrite their argv) are not shown; JSON keeps the raw argv."""

from __future__ import annotations

import sys

import pytest

from portwatch.collect import get_inspector
from tests.system.listeners import StartListener, json_of, run_portwatch

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/PID/cmdline")


def test_who_drops_empty_argv_slots_and_json_keeps_them(listener: StartListener) -> None:
    child = listener(args=("", "", "", "--flag", "", ""))
    [entry] = json_of("who", str(child.port), "--json")
    [process] = entry["processes"]
    assert process["cmdline"][-6:] == ["", "", "", "--flag", "", ""]
    [line] = [
        line for line in run_portwatch("who", str(child.port)).stdout.splitlines() if line.startswith("  cmdline")
    ]
    assert "''" not in line and line.endswith("- - --flag")  # LISTENER's own arguments, then the extra one


def test_the_inspector_reads_the_raw_slots_the_panel_then_drops(listener: StartListener) -> None:
    from portwatch.text import safe_join

    child = listener(args=("", "", "x"))
    details = get_inspector().inspect(child.pid)
    assert details.cmdline[-3:] == ("", "", "x")
    assert "''" not in safe_join(details.cmdline) and safe_join(details.cmdline).endswith("- - x")
