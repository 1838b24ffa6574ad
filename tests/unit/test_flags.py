"""The pure rules behind the suspicion flags: names, owners we cannot see, temporary places."""

from __future__ import annotations

import pytest

from portwatch.collect.exeinfo import temp_place
from portwatch.flags import name_mismatch, place_flags
from portwatch.model import Exposure, Family, FlagCode, Listener, Owner, OwnerStatus, PortRange, Proto


@pytest.mark.parametrize(
    ("name", "exe", "cmdline"),
    [
        ("python3", "/usr/bin/python3.11", ("python3", "app.py")),
        ("python3.11", "/usr/bin/python3.11", ()),
        ("nginx", "/usr/sbin/nginx", ("nginx: master process /usr/sbin/nginx",)),
        ("postgres: checkpointer", "/usr/lib/postgresql/16/bin/postgres", ("postgres: checkpointer",)),
        ("sshd: alice@pts/0", "/usr/sbin/sshd", ("sshd: alice@pts/0",)),
        ("systemd-resolve", "/usr/lib/systemd/systemd-resolved", ()),  # comm cut to 15 bytes
        ("backup-agent", "/usr/bin/python3.11", ("/usr/bin/python3", "-u", "/usr/local/bin/backup-agent")),
        ("node", "/usr/bin/nodejs", ("node", "server.js")),
        ("-bash", "/usr/bin/bash", ("-bash",)),
        ("kworker/0:1", None, ()),
        ("", "/usr/bin/x", ()),
    ],
)
def test_ordinary_names_are_not_masquerading(name: str, exe: str | None, cmdline: tuple[str, ...]) -> None:
    assert name_mismatch(Owner(pid=10, name=name, exe=exe, cmdline=cmdline), exe) is None


@pytest.mark.parametrize(
    ("name", "exe", "cmdline"),
    [
        ("sshd", "/usr/bin/python3.11", ("/usr/bin/python3", "-c", "import sshd")),
        ("kworker/0:1", "/tmp/.x/miner", ("/tmp/.x/miner",)),
        ("systemd", "/home/u/.local/bin/agent", ("agent",)),
    ],
)
def test_borrowed_names_are_masquerading(name: str, exe: str, cmdline: tuple[str, ...]) -> None:
    flag = name_mismatch(Owner(pid=10, name=name, exe=exe, cmdline=cmdline), exe)
    assert flag is not None and flag.code is FlagCode.NAME_MISMATCH


def test_hostile_name_in_a_reason_is_made_safe() -> None:
    flag = name_mismatch(Owner(pid=10, name="\x1b]52;c;aGk=\x07[/]", exe="/usr/bin/x"), "/usr/bin/x")
    assert flag is not None and "\x1b" not in flag.reason and "\x07" not in flag.reason


def _listener(status: OwnerStatus, port: int = 2049, address: str = "0.0.0.0") -> Listener:
    return Listener(
        Proto.TCP,
        Family.IPV4,
        address,
        port,
        PortRange.REGISTERED,
        False,
        Exposure.ALL,
        owner_status=status,
        socket_user="nfs",
    )


def test_hidden_owner_says_sudo_reveals_it() -> None:
    [flag] = place_flags(_listener(OwnerStatus.HIDDEN), approved=False, client=None)
    assert flag.code is FlagCode.OWNER_HIDDEN and "sudo" in flag.reason and "nfs" in flag.reason


def test_unknown_owner_says_why() -> None:
    [flag] = place_flags(_listener(OwnerStatus.UNKNOWN), approved=False, client=None)
    assert flag.code is FlagCode.OWNER_UNKNOWN
    assert "kernel" in flag.reason and "namespace" in flag.reason and "exited" in flag.reason


def test_approved_listener_keeps_place_flags_as_informational() -> None:
    flags = place_flags(_listener(OwnerStatus.UNKNOWN), approved=True, client=None)
    assert [f.informational for f in flags] == [True]


@pytest.mark.parametrize(
    ("path", "place"),
    [
        ("/tmp/x/y", "/tmp"),
        ("/dev/shm/a", "/dev/shm"),
        ("/var/tmp/b", "/var/tmp"),
        ("/home/u/Downloads/tool", "a downloads folder"),
        ("/usr/bin/tmpfoo", None),
        ("/tmpx/a", None),
    ],
)
def test_temp_places(path: str, place: str | None) -> None:
    assert temp_place(path) == place
