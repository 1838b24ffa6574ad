"""The baseline: matching without pids, a TOML round trip with hostile names, safe writes, clear errors."""

from __future__ import annotations

import dataclasses
import os
import stat
from pathlib import Path

import pytest

from portwatch import baseline_file
from portwatch.baseline import Baseline, BaselineError, Entry, Match, load, parse, parse_ports
from portwatch.baseline_file import Invoker, approve, entry_for, render_entry, save
from portwatch.model import Exposure, Family, Flag, FlagCode, Listener, Owner, OwnerStatus, PortRange, PortSpan, Proto

HOSTILE = 'evil"\\name\n[[listener]]\x1b]52;c;aGk=\x07\u202egnp.exe\u2028\U0001f600 \x7f\x85'


def listener(
    port: int = 8080,
    exe: str | None = "/usr/bin/app",
    name: str = "app",
    pid: int = 100,
    user: str = "alice",
    exposure: Exposure = Exposure.ALL,
    proto: Proto = Proto.TCP,
) -> Listener:
    owners = (Owner(pid=pid, name=name, user=user, exe=exe),) if pid else ()
    return Listener(
        proto,
        Family.IPV4,
        "0.0.0.0",
        port,
        PortRange.REGISTERED,
        False,
        exposure,
        owners=owners,
        owner_status=OwnerStatus.KNOWN if pid else OwnerStatus.HIDDEN,
        socket_user=user,
    )


def test_entry_matches_on_everything_but_pid() -> None:
    entry = Entry(Proto.TCP, PortSpan(8080, 8080), "/usr/bin/app", None, "alice", Exposure.ALL)
    assert entry.match(listener(pid=100)) is Match.FULL
    assert entry.match(listener(pid=4242)) is Match.FULL  # restarted: new pid, same service
    assert entry.match(listener(exe="/tmp/app")) is Match.NONE
    assert entry.match(listener(user="mallory")) is Match.NONE
    assert entry.match(listener(exposure=Exposure.LOOPBACK)) is Match.NONE
    assert entry.match(listener(proto=Proto.UDP)) is Match.NONE
    assert entry.match(listener(port=8081)) is Match.NONE


def test_port_ranges_and_hidden_owners() -> None:
    entry = Entry(ports=parse_ports("8000-8100"), exe="/usr/bin/app")
    assert entry.match(listener(port=8050)) is Match.FULL
    assert entry.match(listener(port=8101)) is Match.NONE
    assert entry.match(listener(pid=0)) is Match.VISIBLE  # exe unseen: matched on what we can see


@pytest.mark.parametrize("bad", ["8100-8000", "70000", "80-", "x", -1, True, 1.5])
def test_bad_port_values_are_refused(bad: object) -> None:
    with pytest.raises(ValueError):
        parse_ports(bad)


def test_hostile_names_survive_a_round_trip() -> None:
    entry = Entry(Proto.UDP, PortSpan(5353, 5353), "/opt/" + HOSTILE, HOSTILE, HOSTILE, Exposure.SPECIFIC)
    text = "version = 1\n\n" + render_entry(entry, ["a comment"])
    assert "\x1b" not in text and "\u202e" not in text and "\x85" not in text  # nothing raw for the editor
    [back] = parse(text).entries
    assert (back.proto, back.ports, back.exe, back.name, back.user, back.exposure) == (
        entry.proto,
        entry.ports,
        entry.exe,
        entry.name,
        entry.user,
        entry.exposure,
    )


def test_name_that_is_not_unicode_is_left_out_with_a_comment() -> None:
    entry, comments = entry_for(listener(exe="/usr/bin/\udcff\udcfe"))
    assert entry.exe is None and any("cannot be stored" in c for c in comments)
    parse("version = 1\n" + render_entry(entry, comments))  # still valid TOML


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('version = 1\n\n[[listener]]\nproto = "tcp"\nport = \n', "baseline.toml:5"),  # TOML syntax
        ('version = 1\n\n[[listener]]\nproto = "tcp"\nprot = "udp"\n', "baseline.toml:5"),  # unknown key
        ('version = 1\n[[listener]]\nport = 1\n\n[[listener]]\nport = "9-3"\n', "baseline.toml:6"),  # bad range
        ("version = 1\n[[listener]]\nexe = 5\n", "baseline.toml:3"),  # wrong type
        ('version = 1\n[[listener]]\nproto = "sctp"\n', "baseline.toml:3"),
        ('version = 1\n[[listener]]\nnote = "only a note"\n', "baseline.toml:2"),
        ("versio = 1\n", "baseline.toml:1"),
    ],
)
def test_malformed_baseline_gives_one_line_with_the_line_number(text: str, where: str) -> None:
    with pytest.raises(BaselineError) as caught:
        parse(text)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(where + ": "), message


def test_existing_file_is_refused_merged_with_comments_kept_or_forced_with_a_backup(tmp_path: Path) -> None:
    path = tmp_path / "baseline.toml"
    mine = "# my notes: keep these\nversion = 1\n\n[[listener]]\nport = 22 # ssh\n"
    path.write_text(mine)
    with pytest.raises(BaselineError, match="--merge"):
        save([listener()], path)
    assert path.read_text() == mine
    merged = save([listener(), listener(port=22)], path, merge=True)
    assert merged.added == 1 and path.read_text().startswith(mine)
    assert len(load(path).entries) == 2
    assert save([listener()], path, merge=True).added == 0  # already there
    forced = save([listener(port=9)], path, force=True)
    assert forced.backup is not None and "app" in forced.backup.read_text()
    assert [e.ports for e in load(path).entries] == [PortSpan(9, 9)]


def test_malformed_file_is_never_overwritten_by_merge_or_approve(tmp_path: Path) -> None:
    path = tmp_path / "baseline.toml"
    path.write_text("version = [\n")
    for attempt in (lambda: save([listener()], path, merge=True), lambda: approve(listener(), path)):
        with pytest.raises(BaselineError, match=r"baseline.toml:1: "):
            attempt()
    assert path.read_text() == "version = [\n"


def test_approve_appends_once_and_returns_the_new_baseline(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "baseline.toml"
    first = approve(listener(), path)
    assert first.match(listener(pid=7)) is Match.FULL
    text = path.read_text()
    assert approve(listener(), path).entries == first.entries and path.read_text() == text
    assert len(approve(listener(port=9), path).entries) == 2
    assert not list(path.parent.glob(".*.tmp"))  # no temporary files left behind


def test_udp_client_sockets_are_not_recorded(tmp_path: Path) -> None:
    client = dataclasses.replace(listener(proto=Proto.UDP), flags=(Flag(FlagCode.UDP_CLIENT, "a client", True),))
    assert save([client], tmp_path / "b.toml").added == 0


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="chown needs root")
def test_under_sudo_the_invoking_users_file_is_used_and_stays_theirs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    os.chown(home, 4321, 4321)
    monkeypatch.setattr(baseline_file, "invoking_user", lambda: Invoker(4321, 4321, home))
    path = baseline_file.default_path()
    assert path.is_relative_to(home) and path.name == "baseline.toml"
    save([listener()], None)
    assert path.exists()
    for created in (path, path.parent):
        assert (created.stat().st_uid, created.stat().st_gid) == (4321, 4321)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root")
def test_under_sudo_a_symlink_out_of_the_users_home_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home, elsewhere = tmp_path / "home", tmp_path / "root-owned"
    elsewhere.mkdir()
    monkeypatch.setattr(baseline_file, "invoking_user", lambda: Invoker(4321, 4321, home))
    path = baseline_file.default_path()
    path.parent.mkdir(parents=True)
    os.chown(path.parent, 4321, 4321)
    path.symlink_to(elsewhere / "baseline.toml")
    with pytest.raises(BaselineError, match="not writing as root"):
        save([listener()], None)
    assert not (elsewhere / "baseline.toml").exists()


def test_empty_baseline_expects_nothing() -> None:
    assert Baseline().match(listener()) is Match.NONE
