"""Backups of a user's file before portwatch replaces it: which name, and how it is written.

``PATH.bak`` first. A backup is replaced only when all of it is still in the version being backed up (it is a
prefix: the file only grew by appends since, as ``--merge`` and the approve key do); a backup holding anything
else — the hand-written original before a second ``--force`` — is kept, and the new one takes the next free
number (``PATH.bak.1``, ``.bak.2``, …). So nothing a user wrote is ever lost to a backup, while a run of
approvals keeps one backup, not one per key press. A symlink or other non-regular file at a backup name is
never followed, read or replaced (under sudo, a planted ``.bak`` symlink must not steer root); a backup is
written as a new file (``O_EXCL | O_NOFOLLOW``) with the file's own mode and owner, then renamed into place.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

from portwatch.userfile import MAX_BYTES, RefusedFile

#: Numbered backups tried after ``.bak`` (``.bak.1`` … ``.bak.99``) before giving up.
MAX_BACKUPS = 99

_ABSENT, _NOT_OURS = "absent", "not ours"


def _backup_bytes(path: Path) -> bytes | str:
    """The bytes of a backup candidate, or _ABSENT / _NOT_OURS; never read through a symlink."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY)
    except FileNotFoundError:
        return _ABSENT if not os.path.lexists(path) else _NOT_OURS  # a dangling symlink is not free
    except OSError:  # a symlink (ELOOP), a FIFO nobody writes, unreadable: not one of ours, leave it alone
        return _NOT_OURS
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_BYTES:
            return _NOT_OURS
        with os.fdopen(os.dup(fd), "rb") as stream:
            return stream.read(MAX_BYTES + 1)
    finally:
        os.close(fd)


def backup_path(path: Path, data: bytes) -> tuple[Path, bool]:
    """Where the previous version ``data`` of ``path`` is kept, and whether that name is free (else it holds a
    backup ``data`` may replace).

    ``PATH.bak`` first. A backup is replaced only when all of it is still in ``data`` (it is a prefix: the file
    only grew by appends since, as ``--merge`` and the approve key do); a backup holding anything else — the
    hand-written original before a ``--force`` — is kept, and the new one takes the next free number
    (``PATH.bak.1``, ``.bak.2``, …). A symlink or other non-regular file at a backup name is never followed
    or replaced. RefusedFile when all :data:`MAX_BACKUPS` names are taken.
    """
    names = [path.with_name(path.name + ".bak")]
    names += [path.with_name(f"{path.name}.bak.{number}") for number in range(1, MAX_BACKUPS + 1)]
    for name in names:
        held = _backup_bytes(name)
        if held == _ABSENT:
            return name, True
        if isinstance(held, bytes) and data.startswith(held):
            return name, False
    raise RefusedFile(
        f"all {len(names)} backup names ({names[0].name}, .1 … .{MAX_BACKUPS}) hold other versions: "
        "delete the old ones you no longer need"
    )


def write_backup(path: Path, data: bytes, mode: int, owner: tuple[int, int] | None) -> Path:
    """Keep ``data`` (the previous version of ``path``) as a backup (see :func:`backup_path`), written as a
    new file with O_EXCL|O_NOFOLLOW, the baseline's own mode and ``owner``, then renamed into place."""
    target, _free = backup_path(path, data)
    temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0), 0o600)
    try:
        try:
            _write_all(fd, data)
            os.fchmod(fd, mode)
            if owner is not None and hasattr(os, "geteuid") and os.geteuid() == 0:
                os.fchown(fd, *owner)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, target)  # rename replaces a name, never what a symlink there points to
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    return target


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
