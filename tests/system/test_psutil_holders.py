"""`--collector psutil` names every process holding a shared socket, as the Linux collector does."""

from __future__ import annotations

from collections.abc import Callable

from portwatch.model import Family, Proto
from tests.support import Child
from tests.system.listeners import json_of, record_of


def test_psutil_collector_lists_parent_and_forked_child_of_a_shared_socket(spawn: Callable[..., Child]) -> None:
    child = spawn(fork=True)
    assert child.forked_pid is not None
    expected = sorted([child.pid, child.forked_pid])
    record = record_of(json_of("list", "--json", "--collector", "psutil"), child.port)
    assert record["pids"] == expected
    assert sorted(owner["pid"] for owner in record["owners"]) == expected
    assert record_of(json_of("list", "--json", "--collector", "linux"), child.port)["pids"] == expected


def test_each_processs_own_socket_list_names_both_holders(spawn: Callable[..., Child]) -> None:
    """The portable path (macOS, BSD), which Linux replaces by its inode index, works here too."""
    from portwatch.collect.psutil_collector import holders

    child = spawn(fork=True)
    assert holders()[Proto.TCP, Family.IPV4, "127.0.0.1", child.port] == {child.pid, child.forked_pid}
