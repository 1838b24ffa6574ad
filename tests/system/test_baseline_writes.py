"""Writing baselines: only regular files, backups that keep the original, merges that stay valid and never
lose an entry to a concurrent one, approve that keeps the user's bytes, and sudo's planted symlinks."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from portwatch import baseline_file
from portwatch.baseline import BaselineError, load
from portwatch.baseline_file import approve, save
from portwatch.model import Exposure, Family, Listener, Owner, OwnerStatus, PortRange, Proto
from portwatch.userfile import Invoker
from tests.system.cli_run import ROOT, one_line, run_cli


def listener(port: int, name: str = "app") -> Listener:
    owner = Owner(pid=100, name=name, user="alice", exe=f"/usr/bin/{name}")
    return Listener(
        Proto.TCP,
        Family.IPV4,
        "0.0.0.0",
        port,
        PortRange.REGISTERED,
        False,
        Exposure.ALL,
        owners=(owner,),
        owner_status=OwnerStatus.KNOWN,
        socket_user="alice",
    )


def ports_in(path: Path) -> set[int]:
    return {entry.ports.first for entry in load(path).entries if entry.ports is not None}


@pytest.mark.parametrize("kind", ["fifo", "device", "directory", "socket"])
def test_save_force_onto_a_special_file_refuses_and_leaves_it_as_it_was(kind: str, tmp_path: Path) -> None:
    path = tmp_path / f"target.{kind}"
    holder = None
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "device":
        try:
            os.mknod(path, stat.S_IFCHR | 0o600, os.makedev(1, 3))  # the null device
        except PermissionError as error:
            pytest.skip(f"cannot make a device node here: {error}")
    elif kind == "directory":
        path.mkdir()
    else:
        import socket

        holder = socket.socket(socket.AF_UNIX)
        holder.bind(str(path))
    before = os.lstat(path)
    try:
        done = run_cli("baseline", "save", "--force", str(path))
    finally:
        if holder is not None:
            holder.close()
    assert done.returncode == 2
    assert "portwatch writes only regular files" in one_line(done.stderr)
    after = os.lstat(path)
    assert stat.S_IFMT(after.st_mode) == stat.S_IFMT(before.st_mode) and after.st_ino == before.st_ino
    assert not list(tmp_path.glob("*.bak*"))


def test_two_force_runs_keep_the_hand_written_original(tmp_path: Path) -> None:
    path = tmp_path / "baseline.toml"
    original = '# my own notes\nversion = 1\n[[listener]]\nport = 22\nnote = "hand-written"\n'
    path.write_text(original)
    for _ in range(2):
        save([listener(8080)], path, force=True)
        save([listener(8081)], path, force=True)
    backups = sorted(p.name for p in tmp_path.glob("baseline.toml.bak*"))
    assert (tmp_path / "baseline.toml.bak").read_text() == original  # never replaced: not a prefix of later ones
    assert backups == ["baseline.toml.bak", "baseline.toml.bak.1", "baseline.toml.bak.2"], backups
    assert ports_in(path) == {8081}


def test_merges_and_approvals_replace_a_backup_that_is_still_all_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "baseline.toml"
    save([listener(7000)], path)
    for port in (7001, 7002, 7003):
        save([listener(port)], path, merge=True)
        approve(listener(port + 100), path)
    assert sorted(p.name for p in tmp_path.glob("baseline.toml.bak*")) == ["baseline.toml.bak"]
    assert ports_in(path) == {7000, 7001, 7002, 7003, 7101, 7102, 7103}


def test_approve_keeps_the_files_trailing_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "baseline.toml"
    original = "version = 1\n\n[[listener]]\nport = 22  # ssh\n\n\n\n"
    path.write_text(original)
    approve(listener(9000), path)
    text = path.read_text()
    assert text.startswith(original) and ports_in(path) == {22, 9000}


def test_merge_into_an_inline_array_baseline_is_refused_and_the_file_kept(tmp_path: Path) -> None:
    path = tmp_path / "baseline.toml"
    original = "version = 1\n# mine\nlistener = [{port = 22}, {port = 80}]\n"
    path.write_text(original)
    assert ports_in(path) == {22, 80}  # a valid baseline in another TOML form
    with pytest.raises(BaselineError, match="would make it invalid"):
        save([listener(9001)], path, merge=True)
    with pytest.raises(BaselineError, match="would make it invalid"):
        approve(listener(9001), path)
    assert path.read_text() == original and not list(tmp_path.glob("*.bak*"))
    done = run_cli("baseline", "save", "--merge", str(path))  # the command: one line, exit 2
    assert done.returncode == 2 and "would make it invalid" in one_line(done.stderr)
    assert path.read_text() == original


MERGER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from portwatch.baseline import BaselineError
    from portwatch.baseline_file import save
    from tests.system.test_baseline_writes import listener
    path, go, ports = Path(sys.argv[1]), Path(sys.argv[2]), [int(p) for p in sys.argv[3:]]
    while not go.exists():
        time.sleep(0.001)
    for port in ports:
        try:
            save([listener(port)], path, merge=True)
        except BaselineError as error:
            print(error, file=sys.stderr)
            sys.exit(2)
""")


def test_concurrent_merges_by_real_processes_lose_no_entry(tmp_path: Path) -> None:
    path = tmp_path / "baseline.toml"
    save([listener(1000)], path)
    go = tmp_path / "go"
    workers = 6
    children = [
        subprocess.Popen(
            [sys.executable, "-c", MERGER, str(path), str(go), *(str(2000 + 100 * n + i) for i in range(8))],
            cwd=ROOT,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(workers)
    ]
    try:
        go.touch()  # all start merging at once
        results = [(child.wait(timeout=120), child.stderr.read() if child.stderr else "") for child in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
    assert all(code == 0 for code, _ in results), results
    expected = {1000} | {2000 + 100 * n + i for n in range(workers) for i in range(8)}
    assert ports_in(path) == expected


def test_under_sudo_a_planted_bak_symlink_is_not_followed(reachable: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root: the test plays sudo")
    uid = 65534
    home = reachable / "home"
    folder = home / ".config" / "portwatch"
    folder.mkdir(parents=True)
    for directory in (home, home / ".config", folder):
        os.chown(directory, uid, uid)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setattr(baseline_file, "invoking_user", lambda: Invoker(uid, uid, home))
    path = folder / "baseline.toml"
    path.write_text("version = 1\n# the user's own\n")
    os.chown(path, uid, uid)
    path.chmod(0o644)
    secret = reachable / "root-secret"
    secret.write_text("root's secret\n")
    secret.chmod(0o600)
    (folder / "baseline.toml.bak").symlink_to(secret)  # planted by the user, pointing at a root-only file
    saved = save([listener(5555)], force=True)
    assert saved.backup is not None and not saved.backup.is_symlink()
    info = os.lstat(saved.backup)
    assert stat.S_ISREG(info.st_mode) and info.st_uid == uid and info.st_mode & 0o444 == 0o444
    assert saved.backup.read_text() == "version = 1\n# the user's own\n"
    assert secret.read_text() == "root's secret\n" and stat.S_IMODE(os.stat(secret).st_mode) == 0o600
    assert (folder / "baseline.toml.bak").is_symlink()  # what the user planted is left alone, not followed
