"""Without root, a socket whose process is not ours to see is described by what is known, with no promise
that sudo will show it (root cannot see a kernel socket's or another namespace's process either)."""

from __future__ import annotations

import json
import sys

import pytest

from tests.system.listeners import StartListener
from tests.unprivileged import Unprivileged

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uid switching with setpriv is Linux's")

PROMISES = ("needs sudo", "run with sudo to see", "sudo shows")


def portwatch(nobody: Unprivileged, *args: str) -> str:
    result = nobody.run("-m", "portwatch", *args)
    assert "Traceback" not in result.stderr, result.stderr
    return result.stdout + result.stderr


def test_list_who_and_check_say_what_is_known_of_roots_socket(nobody: Unprivileged, listener: StartListener) -> None:
    port = listener().port  # root's: its process is not uid 65534's to see
    records = json.loads(nobody.run("-m", "portwatch", "list", "--json").stdout)
    [record] = [entry for entry in records if entry["port"] == port and entry["proto"] == "tcp"]
    assert record["owner_status"] == "hidden" and record["pids"] == [] and record["user"] == "root"

    listed = portwatch(nobody, "list")
    [row] = [line for line in listed.splitlines() if f" {port} " in line]
    assert "(not yours to see)" in row and " root " in row
    assert "sudo may reveal" in listed

    who = portwatch(nobody, "who", str(port))
    assert "(not yours to see)" in who and "owner-hidden" in who and "not yours to see" in who

    checked = portwatch(nobody, "check")
    lines = checked.splitlines()
    title = next(index for index, line in enumerate(lines) if line.startswith(f"tcp 127.0.0.1:{port}  "))
    block = []
    for line in lines[title + 1 :]:
        if not line.startswith("  "):
            break
        block.append(line)
    [reason] = [line for line in block if line.strip().startswith("owner-hidden")]
    assert "user root" in reason and "not yours to see" in reason and "sudo may reveal it" in reason
    for text in (listed, who, checked):
        assert not [promise for promise in PROMISES if promise in text]
