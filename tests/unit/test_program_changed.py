"""The same pid holding the same socket as another program (exec, rename): logged as a program change, and
alarming when the program it became is flagged, as a takeover by another owner is."""

from __future__ import annotations

from dataclasses import replace

from portwatch.changes import ChangeFeed
from portwatch.events import Event, EventKind, EventLog
from portwatch.model import (
    EphemeralRange,
    ExeFacts,
    Exposure,
    Family,
    Listener,
    Owner,
    PortRange,
    PortSpan,
    Proto,
    Scan,
)
from portwatch.watch import Watcher


def listener(name: str, exe: str, pid: int = 10) -> Listener:
    facts = ExeFacts(path=exe, risky_place="/tmp" if exe.startswith("/tmp/") else None)
    return Listener(
        Proto.TCP,
        Family.IPV4,
        "127.0.0.1",
        8080,
        PortRange.REGISTERED,
        False,
        Exposure.LOOPBACK,
        owners=(Owner(pid=pid, name=name, exe=exe, exe_facts=facts),),
    )


def scan(at: float, *listeners: Listener) -> Scan:
    return Scan(tuple(listeners), EphemeralRange(PortSpan(32768, 60999)), True, "test", at)


def events_between(before: Listener, after: Listener) -> list[Event]:
    log, feed = EventLog(), ChangeFeed()
    log.update(feed.update(scan(100.0, before)))
    return list(log.update(feed.update(scan(102.0, after))))


def test_exec_of_another_program_on_the_same_pid_is_a_program_change() -> None:
    [event] = events_between(listener("python3", "/usr/bin/python3"), listener("nc", "/usr/bin/nc.openbsd"))
    assert event.kind is EventKind.PROGRAM_CHANGED
    assert (event.previous_name, event.previous_exe, event.previous_pids) == (
        "python3",
        "/usr/bin/python3",
        (10,),
    )


def test_rename_alone_is_a_program_change() -> None:
    [event] = events_between(listener("python3", "/usr/bin/python3"), listener("sshd", "/usr/bin/python3"))
    assert event.kind is EventKind.PROGRAM_CHANGED
    assert event.previous_name == "python3"


def test_same_program_with_a_new_cmdline_is_no_event() -> None:
    before = listener("nginx", "/usr/sbin/nginx")
    after = replace(before, owners=(replace(before.owners[0], cmdline=("nginx: worker process",)),))
    assert events_between(before, after) == []


def test_an_exe_that_could_not_be_read_this_time_is_no_program_change() -> None:
    before = listener("app", "/usr/bin/app")
    after = replace(before, owners=(replace(before.owners[0], exe=None),))
    assert events_between(before, after) == []


def test_a_new_pid_is_an_owner_change_not_a_program_change() -> None:
    [event] = events_between(listener("app", "/usr/bin/app", 10), listener("app", "/usr/bin/app", 11))
    assert event.kind is EventKind.OWNER_CHANGED


class Scans:
    source = "test"

    def __init__(self, *scans: Scan) -> None:
        self.scans = list(scans)

    def scan(self) -> Scan:
        return self.scans.pop(0) if len(self.scans) > 1 else self.scans[0]


def test_becoming_a_flagged_program_raises_an_alarm() -> None:
    quiet = listener("python3", "/usr/bin/python3")
    flagged = listener("python3", "/tmp/dropper")  # the same pid exec'd a program from /tmp
    watcher = Watcher(Scans(scan(100.0, quiet), scan(102.0, flagged)))
    assert watcher.poll().alarms == ()
    polled = watcher.poll()
    assert [event.kind for event in polled.events] == [EventKind.PROGRAM_CHANGED]
    assert [entry.owners[0].exe for entry in polled.alarms] == ["/tmp/dropper"]


def test_an_exec_seen_through_a_refresh_that_missed_the_process_is_still_a_program_change() -> None:
    log, feed = EventLog(), ChangeFeed()
    log.update(feed.update(scan(100.0, listener("python3", "/usr/bin/python3"))))
    missed = replace(listener("python3", "/usr/bin/python3"), owners=())
    assert log.update(feed.update(scan(101.0, missed))) == []
    [event] = log.update(feed.update(scan(102.0, listener("nc", "/usr/bin/nc.openbsd"))))
    assert (event.kind, event.previous_name, event.previous_exe, event.previous_pids) == (
        EventKind.PROGRAM_CHANGED,
        "python3",
        "/usr/bin/python3",
        (10,),
    )
