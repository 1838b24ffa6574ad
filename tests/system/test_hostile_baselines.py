"""Baselines that are not regular files, are huge, nested or unreadable: one line and exit 2, never a hang.

Real special files: FIFOs (os.mkfifo), /dev/zero, a device node made with os.mknod, a unix socket file, a
directory; the real CLI in a subprocess (a hang fails the test at the subprocess timeout).
"""

from __future__ import annotations

import os
import socket
import stat
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from portwatch.baseline import BaselineError, load
from portwatch.collect import get_collector
from portwatch.watch import Polled, Watcher
from tests.system.cli_run import cli_env, one_line, run_cli


@pytest.fixture
def unix_socket(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "baseline.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    yield path
    sock.close()


def _fifo(tmp_path: Path) -> Path:
    path = tmp_path / "baseline.fifo"
    os.mkfifo(path)
    return path


def _device(tmp_path: Path) -> Path:
    path = tmp_path / "baseline.dev"
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 5))  # the zero device: endless bytes
    except PermissionError as error:
        pytest.skip(f"cannot make a device node here: {error}")
    return path


def _directory(tmp_path: Path) -> Path:
    path = tmp_path / "baseline.d"
    path.mkdir()
    return path


SPECIAL: dict[str, Callable[[Path], Path]] = {
    "fifo": _fifo,
    "device": _device,
    "directory": _directory,
    "dev-zero": lambda _: Path("/dev/zero"),
}
WORDS = {"fifo": "FIFO", "device": "character device", "directory": "directory", "dev-zero": "character device"}


@pytest.mark.parametrize("kind", list(SPECIAL))
def test_check_refuses_a_special_baseline_in_one_line(kind: str, tmp_path: Path) -> None:
    path = SPECIAL[kind](tmp_path)
    done = run_cli("check", "--baseline", str(path))
    assert done.returncode == 2
    line = one_line(done.stderr)
    assert WORDS[kind] in line and "not a regular file" in line


def test_check_refuses_a_socket_file_as_baseline(unix_socket: Path) -> None:
    done = run_cli("check", "--baseline", str(unix_socket))
    assert done.returncode == 2 and "a socket, not a regular file" in one_line(done.stderr)


@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_save_merge_into_a_special_file_refuses_without_hanging(kind: str, tmp_path: Path) -> None:
    path = SPECIAL[kind](tmp_path)
    done = run_cli("baseline", "save", "--merge", str(path))
    assert done.returncode == 2
    assert "portwatch writes only regular files" in one_line(done.stderr)


def test_a_fifo_symlinked_at_the_default_path_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "config"
    (config / "portwatch").mkdir(parents=True)
    (config / "portwatch" / "baseline.toml").symlink_to(_fifo(tmp_path))
    env = cli_env(XDG_CONFIG_HOME=str(config))
    for args in (["check"], ["baseline", "save", "--merge"]):
        done = run_cli(*args, env=env)
        assert done.returncode == 2, done.stderr
        assert "a FIFO (named pipe)" in one_line(done.stderr)
    listed = run_cli("list", env=env)  # list goes on without the baseline and says why
    assert listed.returncode == 0 and "baseline not used" in listed.stderr and "FIFO" in listed.stderr


def test_a_baseline_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "huge.toml"
    path.write_text("version = 1\n" + "# padding\n" * 200_000)  # 2 MB of comments: valid TOML, absurd size
    done = run_cli("check", "--baseline", str(path))
    assert done.returncode == 2 and "larger than the 1024 KiB" in one_line(done.stderr)


def test_a_deeply_nested_baseline_is_one_line_for_check_and_merge(tmp_path: Path) -> None:
    path = tmp_path / "nested.toml"
    path.write_text("version = 1\nx = " + "[" * 3000 + "]" * 3000 + "\n")
    for args in (["check", "--baseline", str(path)], ["baseline", "save", "--merge", str(path)]):
        done = run_cli(*args)
        assert done.returncode == 2
        assert one_line(done.stderr).endswith("too deeply nested (arrays or tables inside each other)")


def _poll_within(watcher: Watcher, seconds: float = 30) -> Polled:
    """One poll in a thread; a poll that hangs fails here instead of hanging the suite."""
    result: list[Polled] = []
    worker = threading.Thread(target=lambda: result.append(watcher.poll()), daemon=True)
    worker.start()
    worker.join(seconds)
    assert result, "the watcher's poll hung on the baseline"
    return result[0]


@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_the_tui_watcher_says_so_and_runs_on_without_a_special_baseline(kind: str, tmp_path: Path) -> None:
    watcher = Watcher(get_collector(), SPECIAL[kind](tmp_path))
    polled = _poll_within(watcher)
    assert polled.baseline_notice is not None and "not a regular file" in polled.baseline_notice
    assert polled.baseline_notice_is_error and not polled.has_baseline


def test_the_tui_watcher_says_a_nested_baseline_is_too_deep_and_runs_without_it(tmp_path: Path) -> None:
    path = tmp_path / "nested.toml"
    path.write_text("x = " + "[" * 3000 + "]" * 3000 + "\n")
    polled = _poll_within(Watcher(get_collector(), path))
    assert polled.baseline_notice is not None and "too deeply nested" in polled.baseline_notice
    assert not polled.has_baseline


SECRET = 'version = 1\n[[listener]]\nname = "the-secret-key-value"\nbogus = 1\n'


def _sudo_env(tmp_path: Path, uid: int) -> tuple[dict[str, str], Path]:
    """Root running on behalf of ``uid`` (SUDO_UID), whose default file lives under tmp_path."""
    config = tmp_path / "usercfg"
    (config / "portwatch").mkdir(parents=True)
    os.chown(config, uid, uid)
    os.chown(config / "portwatch", uid, uid)
    return cli_env(SUDO_UID=str(uid), XDG_CONFIG_HOME=str(config)), config / "portwatch" / "baseline.toml"


def _other_uid() -> int:
    import pwd

    if os.geteuid() != 0:
        pytest.skip("needs root: the test plays sudo (root with SUDO_UID of another user)")
    try:
        return pwd.getpwnam("nobody").pw_uid
    except KeyError as error:
        pytest.skip(f"no 'nobody' user to play the invoking user: {error}")


def test_under_sudo_a_symlink_to_a_file_the_user_cannot_read_is_refused_without_quoting_it(reachable: Path) -> None:
    uid = _other_uid()
    secret = reachable / "root-only.toml"
    secret.write_text(SECRET)
    secret.chmod(0o600)  # root's, unreadable to the user
    env, default = _sudo_env(reachable, uid)
    default.symlink_to(secret)
    done = run_cli("check", env=env)
    assert done.returncode == 2
    line = one_line(done.stderr)
    assert f"user {uid} may not read it" in line
    assert "secret" not in line.replace(str(secret), "") and "bogus" not in line
    merged = run_cli("baseline", "save", "--merge", env=env)  # refused before reading (not the user's folder)
    assert merged.returncode == 2 and "bogus" not in one_line(merged.stderr)
    assert secret.read_text() == SECRET


def test_under_sudo_the_users_own_readable_file_is_still_read(reachable: Path) -> None:
    uid = _other_uid()
    env, default = _sudo_env(reachable, uid)
    default.write_text("version = 1\n")
    os.chown(default, uid, uid)
    default.chmod(0o600)
    done = run_cli("check", env=env)
    assert done.returncode in (0, 1), done.stderr  # judged against it: a verdict, not a refusal
    assert f"baseline {default}" in done.stderr


def test_load_refuses_a_file_the_invoking_user_may_not_read(reachable: Path) -> None:
    from portwatch.userfile import Invoker

    if os.geteuid() != 0:
        pytest.skip("needs root: only root reads a file its mode bits deny")
    path = reachable / "root.toml"
    path.write_text("version = 1\n")
    path.chmod(0o600)
    with pytest.raises(BaselineError, match="may not read it"):
        load(path, Invoker(65534, 65534, reachable))
    path.chmod(0o644)
    assert load(path, Invoker(65534, 65534, reachable)).entries == ()


def test_under_sudo_a_root_only_file_at_the_default_path_is_neither_read_nor_merged(reachable: Path) -> None:
    uid = _other_uid()
    env, default = _sudo_env(reachable, uid)
    default.write_text(SECRET)
    default.chmod(0o600)  # root's own file in the user's folder: root could read it, the user could not
    for args in (["check"], ["baseline", "save", "--merge"]):
        done = run_cli(*args, env=env)
        assert done.returncode == 2
        line = one_line(done.stderr)
        assert "may not read it" in line and "bogus" not in line and "secret" not in line
    assert default.read_text() == SECRET


def test_under_sudo_a_symlink_into_a_folder_the_user_may_not_enter_is_refused(reachable: Path) -> None:
    uid = _other_uid()
    vault = reachable / "vault"
    vault.mkdir()
    vault.chmod(0o700)  # root's folder: the file inside is world-readable by its bits, yet out of reach
    hidden = vault / "baseline.toml"
    hidden.write_text(SECRET)
    hidden.chmod(0o644)
    env, default = _sudo_env(reachable, uid)
    default.symlink_to(hidden)
    done = run_cli("check", env=env)
    assert done.returncode == 2
    line = one_line(done.stderr)
    assert f"inside {vault}, which they may not enter" in line and "bogus" not in line and "secret-key" not in line
