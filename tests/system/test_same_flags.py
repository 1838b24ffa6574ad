"""Issue 9's "done when": one planted listener carries the same flags, codes and reasons, in every CLI output.

The planted listener (tests.support.Planted) is an interpreter copied into a temporary folder, serving TCP on
every interface on a port of IANA's dynamic range, judged against an empty baseline. `list --json`,
`who --json`, `check --json` (and the text of `who` and `check`) each collect and judge it in their own
process; they must agree to the letter. The TUI's side is tests/ui/test_same_flags.py.
"""

from __future__ import annotations

import json

from tests.support import Planted, listed_flags, planted_record, run_portwatch


def test_list_who_and_check_give_the_planted_listener_the_same_flags_and_reasons(planted: Planted) -> None:
    baseline = ("--baseline", str(planted.baseline))
    port = str(planted.server.port)
    listed = listed_flags(planted)
    who = run_portwatch("who", port, "--json", *baseline)
    assert who.returncode == 0, who.stderr
    check = run_portwatch("check", "--json", *baseline)
    assert check.returncode == 1, check.stderr  # ours is unexpected, whatever else the machine holds
    report = json.loads(check.stdout)
    assert report["ok"] is False

    assert {flag["code"] for flag in listed} == Planted.CODES
    assert all(flag["reason"] and not flag["informational"] for flag in listed)
    assert planted_record(json.loads(who.stdout), planted)["flags"] == listed
    assert planted_record(report["unexpected"], planted)["flags"] == listed


def test_who_and_check_text_print_the_same_codes_and_reasons(planted: Planted) -> None:
    baseline = ("--baseline", str(planted.baseline))
    listed = listed_flags(planted)
    lines = [f"  {flag['code']}: {flag['reason']}" for flag in listed]  # the reasons hold no control chars
    who = run_portwatch("who", str(planted.server.port), *baseline).stdout.splitlines()
    check = run_portwatch("check", *baseline).stdout.splitlines()
    assert [line for line in who if line in lines] == lines
    title = next(index for index, line in enumerate(check) if f":{planted.server.port}  " in line)
    assert check[title + 1 : title + 1 + len(lines)] == lines
