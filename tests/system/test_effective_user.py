"""The user shown is the effective one, as ps and lsof show it, with the real one beside it where they differ."""

from __future__ import annotations

import os
import pwd
import sys

import pytest

from tests.system.listeners import StartListener, json_of, record_of, run_portwatch

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/PID/status is Linux's"),
    pytest.mark.skipif(
        not hasattr(os, "geteuid") or os.geteuid() != 0,
        reason="needs root to start a process with another effective uid",
    ),
]

NOBODY = 65534


@pytest.fixture
def switched(listener: StartListener) -> int:
    """A loopback listener with real uid root and effective uid 65534 (saved uid root): its port."""
    try:
        pwd.getpwuid(NOBODY)
    except KeyError:
        pytest.skip(f"uid {NOBODY} has no name here")
    return listener(ruid=0, euid=NOBODY).port


@pytest.mark.parametrize("collector", ["linux", "psutil"])
def test_list_json_gives_the_effective_user_and_the_real_one(switched: int, collector: str) -> None:
    nobody = pwd.getpwuid(NOBODY).pw_name
    record = record_of(json_of("list", "--json", "--collector", collector), switched)
    assert record["user"] == nobody
    assert [(o["user"], o["real_user"]) for o in record["owners"]] == [(nobody, "root")]


def test_list_and_who_text_show_both(switched: int) -> None:
    nobody = pwd.getpwuid(NOBODY).pw_name
    rows = [line for line in run_portwatch("list").stdout.splitlines() if f" {switched} " in line]
    assert len(rows) == 1 and f" {nobody} (real root) " in rows[0]
    who = run_portwatch("who", str(switched))
    assert who.returncode == 0, who.stderr
    assert f"  user     {nobody} (real root)" in who.stdout.splitlines()
    [process] = json_of("who", str(switched), "--json")[0]["processes"]
    assert (process["user"], process["real_user"]) == (nobody, "root")


def test_a_process_whose_uids_agree_shows_no_real_user(listener: StartListener) -> None:
    port = listener().port
    [owner] = record_of(json_of("list", "--json"), port)["owners"]
    assert owner["real_user"] is None and owner["user"] == pwd.getpwuid(os.geteuid()).pw_name
