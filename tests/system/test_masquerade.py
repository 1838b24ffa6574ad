"""A process named after another program is flagged; a process that merely retitled itself is not."""

from __future__ import annotations

import sys

import pytest

from portwatch.collect.linux import LinuxCollector
from portwatch.judge import judge
from portwatch.model import Listener
from tests.system.listeners import StartListener

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl(PR_SET_NAME) is Linux's")


def judged_on(port: int) -> Listener:
    collector = LinuxCollector()
    try:
        [found] = [entry for entry in judge(collector.scan()).listeners if entry.port == port]
    finally:
        collector.close()
    return found


@pytest.mark.parametrize("name", ["sshd", "[kworker/0:1]", "kworker/0:1", "systemd", "ss\u200bhd"])
def test_python_calling_itself_another_program_is_flagged(listener: StartListener, name: str) -> None:
    child = listener(name=name)
    found = judged_on(child.port)
    assert found.owners[0].name == name and found.owners[0].exe is not None
    [flag] = [flag for flag in found.flags if flag.code.value == "name-mismatch"]
    assert not flag.informational and str(found.owners[0].pid) in flag.reason


@pytest.mark.parametrize("name", ["worker-1", "cache-main", "app: serving", "(sd-pam)"])
def test_python_retitled_to_a_name_of_its_own_is_not_flagged(listener: StartListener, name: str) -> None:
    child = listener(name=name)
    found = judged_on(child.port)
    assert found.owners[0].name == name
    assert [flag for flag in found.flags if flag.code.value == "name-mismatch"] == []
