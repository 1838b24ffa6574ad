"""Reading and writing a user's file without being steered: only regular files, bounded, never blocking.

A path the user gives (or a symlink at the default path) may name anything: ``/dev/zero`` (endless), a FIFO
(an open for reading waits for a writer; a read waits for data), a directory, a socket, a device node. So a
read opens with ``O_NONBLOCK | O_NOCTTY`` (a FIFO opens at once and nothing becomes our terminal), checks with
``fstat`` on the opened descriptor that it is a regular file, and reads at most :data:`MAX_BYTES`. Writing
refuses every existing path that is not a regular file, so a device node is never replaced by a file.

Under sudo, root can read what the user cannot. A read made on the user's behalf (their default file) checks
the file actually opened against the invoking uid by its owner and mode bits, and refuses without quoting a
byte of it. Backups of the previous version live in portwatch.backups.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from portwatch.text import safe

#: The largest file read: a baseline of thousands of entries is a few hundred KiB.
MAX_BYTES = 1 << 20

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISLNK, "a symlink"),
)


class RefusedFile(Exception):
    """The file is not one portwatch will read or write; str() is the reason, without the path."""


@dataclass(frozen=True, slots=True)
class Invoker:
    """The user behind sudo."""

    uid: int
    gid: int
    home: Path


def invoking_user() -> Invoker | None:
    """The real user when running as root under sudo, else None."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or "SUDO_UID" not in os.environ:
        return None
    import pwd

    try:
        record = pwd.getpwuid(int(os.environ["SUDO_UID"]))
    except (KeyError, ValueError):
        return None
    if record.pw_uid == 0:
        return None
    return Invoker(record.pw_uid, record.pw_gid, Path(record.pw_dir))


def kind(mode: int) -> str:
    """What a file that is not a regular file is, in words."""
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def _groups(invoker: Invoker) -> set[int]:
    import grp
    import pwd

    groups = {invoker.gid}
    with contextlib.suppress(KeyError):
        name = pwd.getpwuid(invoker.uid).pw_name
        groups.update(g.gr_gid for g in grp.getgrall() if name in g.gr_mem)
    return groups


def readable_by(info: os.stat_result, invoker: Invoker) -> bool:
    """Whether the mode bits let the invoking user read the file (as the kernel would, without ACLs)."""
    if info.st_uid == invoker.uid:
        return bool(info.st_mode & stat.S_IRUSR)
    if info.st_gid in _groups(invoker):
        return bool(info.st_mode & stat.S_IRGRP)
    return bool(info.st_mode & stat.S_IROTH)


def _searchable_by(info: os.stat_result, invoker: Invoker) -> bool:
    """Whether the mode bits let the invoking user pass through a directory."""
    if info.st_uid == invoker.uid:
        return bool(info.st_mode & stat.S_IXUSR)
    if info.st_gid in _groups(invoker):
        return bool(info.st_mode & stat.S_IXGRP)
    return bool(info.st_mode & stat.S_IXOTH)


def _check_readable_by(path: Path, opened: os.stat_result, invoker: Invoker) -> None:
    """RefusedFile unless the user behind sudo could read the file root opened: its mode bits, and every
    folder on the way to where the path really leads (a 0644 file inside root's 0700 home is not theirs)."""
    denied = f"user {invoker.uid} may not read it; root does not read it on their behalf"
    if not readable_by(opened, invoker):
        raise RefusedFile(f"{denied} (owner {opened.st_uid}, mode {stat.S_IMODE(opened.st_mode):04o})")
    real = Path(os.path.realpath(path))
    try:
        now = os.stat(real)
    except OSError:
        now = None
    if now is None or (now.st_dev, now.st_ino) != (opened.st_dev, opened.st_ino):
        raise RefusedFile("it changed while portwatch opened it (a symlink swapped?)")
    for folder in real.parents:
        if not _searchable_by(os.stat(folder), invoker):
            raise RefusedFile(f"{denied} (it lies inside {safe(folder)}, which they may not enter)")


def read_regular(path: Path, for_user: Invoker | None = None, limit: int = MAX_BYTES) -> bytes | None:
    """The bytes of ``path``, None when it does not exist; RefusedFile or OSError otherwise.

    ``for_user``: read on behalf of the user behind sudo; a file they may not read is refused.
    """
    try:
        before = os.stat(path)
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(before.st_mode):  # refuse before opening: opening a device can act on it
        raise RefusedFile(f"it is {kind(before.st_mode)}, not a regular file")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        return None
    try:
        info = os.fstat(fd)  # the file actually opened: a path swapped since the stat is caught here
        if not stat.S_ISREG(info.st_mode):
            raise RefusedFile(f"it is {kind(info.st_mode)}, not a regular file")
        if for_user is not None:
            _check_readable_by(path, info, for_user)
        if info.st_size > limit:
            raise RefusedFile(f"it is {info.st_size} bytes, larger than the {limit >> 10} KiB portwatch reads")
        chunks: list[bytes] = []
        size = 0
        while size <= limit:  # a file growing while read is cut here too
            chunk = os.read(fd, limit + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise RefusedFile(f"it is larger than the {limit >> 10} KiB portwatch reads")
        return b"".join(chunks)
    finally:
        os.close(fd)


def check_writable(path: Path) -> None:
    """RefusedFile unless ``path`` is absent or a regular file (a symlink counts as what it points to)."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISREG(info.st_mode):
        raise RefusedFile(f"it is {kind(info.st_mode)}: portwatch writes only regular files (or a new path)")


def _lock_path(path: Path) -> Path:
    return path.with_name(path.name + ".lock")


@contextlib.contextmanager
def locked(path: Path, invoker: Invoker | None = None) -> Iterator[None]:
    """Hold an exclusive lock on ``PATH.lock`` beside the file (created if need be, never through a symlink)
    for a read-modify-write: two portwatch processes updating one file take turns instead of losing an entry."""
    import fcntl

    lock = _lock_path(path)
    flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(lock, flags, 0o644)
    except OSError as error:
        raise RefusedFile(f"cannot open the lock file {safe(lock)}: {error.strerror or error}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise RefusedFile(f"the lock file {safe(lock)} is not a regular file")
        if invoker is not None and os.fstat(fd).st_uid == 0 and os.stat(path.parent).st_uid == invoker.uid:
            os.fchown(fd, invoker.uid, invoker.gid)
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def makedirs(folder: Path, invoker: Invoker | None) -> None:
    """Create ``folder`` and its missing parents; under sudo, those in the user's own folders are theirs."""
    missing = [p for p in (folder, *folder.parents) if not p.exists()]
    for directory in reversed(missing):
        directory.mkdir(mode=0o755)
        if invoker is not None and _theirs(directory.parent, invoker):
            os.chown(directory, invoker.uid, invoker.gid)


def _theirs(folder: Path, invoker: Invoker | None) -> bool:
    """Whether something new in ``folder`` should belong to the user behind sudo: only in their own folders,
    so `sudo portwatch baseline save /etc/portwatch/baseline.toml` stays root's."""
    return invoker is not None and folder.stat().st_uid == invoker.uid


def atomic_write(path: Path, data: bytes, invoker: Invoker | None = None) -> None:
    """Replace ``path`` with ``data`` atomically, keeping an existing file's mode and owner."""
    makedirs(path.parent, invoker)
    owner: tuple[int, int] | None
    try:
        old = os.stat(path)
        mode, owner = old.st_mode & 0o7777, (old.st_uid, old.st_gid)
    except FileNotFoundError:
        mode, owner = 0o644, ((invoker.uid, invoker.gid) if invoker and _theirs(path.parent, invoker) else None)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fchmod(stream.fileno(), mode)
            if owner is not None and hasattr(os, "geteuid") and os.geteuid() == 0:
                os.fchown(stream.fileno(), *owner)
            os.fsync(stream.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    try:
        folder = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
