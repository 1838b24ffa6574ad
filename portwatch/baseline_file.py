"""Where the baseline lives, how it is written, and who owns it.

Location: ``platformdirs.user_config_path("portwatch") / "baseline.toml"`` (on Linux
``~/.config/portwatch/baseline.toml``, honouring XDG_CONFIG_HOME), unless a PATH is given.

Under sudo, HOME usually points at root's home, so platformdirs alone would pick /root/.config. We use the
*invoking* user's file instead (SUDO_UID, their home from the password database): ``sudo portwatch baseline
save`` records what only root can see into the same file the user's own ``portwatch`` and ``check`` read.
Files and folders created this way in the user's own folders are chowned back to them, so their file never
becomes root's (a file root creates in a root-owned folder, e.g. /etc/portwatch, stays root's). A
symlink there is followed only to a place the user owns (root must not be steered into writing elsewhere);
an explicit PATH is taken as given.

Writes never lose the user's file: text is written to a temporary file in the same folder, fsynced, and
moved over the old one with os.replace (atomic); the previous version is kept as ``baseline.toml.bak`` (or
``.bak.1``, ``.bak.2``, … when ``.bak`` holds something else, such as the hand-written original before a
second ``--force``: see portwatch.userfile.backup_path). Only regular files (or a new path) are written.
New entries are *appended* to the user's text, so their comments, layout and trailing blank lines survive,
and the result is parsed back before it replaces the file. A read-modify-write holds ``baseline.toml.lock``
(flock), so two portwatch processes merging at once both land; if the file changed between our read and our
write anyway (an editor), nothing is written and the caller is told.

TOML is written by the tiny emitter in baseline_toml.py.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from portwatch.backups import write_backup
from portwatch.baseline import FORMAT_VERSION, Baseline, BaselineError, Entry, Match, decode, load, parse, read
from portwatch.text import safe
from portwatch.userfile import Invoker, RefusedFile, atomic_write, check_writable, invoking_user, locked, makedirs

__all__ = [
    "Invoker",
    "SaveResult",
    "approve",
    "atomic_write",
    "default_path",
    "entry_for",
    "invoking_user",
    "render_entry",
    "save",
    "toml_string",
]

# The TOML text of entries lives in baseline_toml.py; these names are part of this module's interface.
from portwatch.baseline_toml import entry_for as entry_for
from portwatch.baseline_toml import render_entry as render_entry
from portwatch.baseline_toml import toml_string as toml_string
from portwatch.model import Listener

_HEADER = f"""\
# portwatch baseline: the listeners you expect on this machine.
# Every key is optional; an entry matches a listener when all of its keys match (never on a pid).
# port may be a range such as "8000-8100"; exe may be swapped for name = "..."; note is free text.
# Delete an entry to be told about that listener again.
version = {FORMAT_VERSION}
"""


def default_path() -> Path:
    """The baseline file this user means: under sudo, the invoking user's (see module docstring)."""
    from platformdirs import user_config_path

    path = user_config_path("portwatch", appauthor=False) / "baseline.toml"
    invoker = invoking_user()
    if invoker is not None:
        # A ValueError means XDG_CONFIG_HOME was kept through sudo -E: already the user's choice.
        with contextlib.suppress(ValueError):
            path = invoker.home / path.relative_to(Path.home())
    return path


def _target(path: Path, explicit: bool) -> tuple[Path, Invoker | None]:
    """Where to write, following a symlink; under sudo, only into the invoking user's own folders."""
    invoker = invoking_user()
    real = Path(os.path.realpath(path))
    if invoker is not None and not explicit:
        folder = next((p for p in (real.parent, *real.parent.parents) if p.exists()), Path("/"))
        if folder.stat().st_uid != invoker.uid:
            raise BaselineError(
                f"{safe(real)}: not writing as root into {safe(folder)}, which user {invoker.uid} "
                "does not own; give an explicit PATH"
            )
    try:
        check_writable(real)  # a device node, FIFO, directory or socket is never replaced by a file
    except RefusedFile as error:
        raise BaselineError(f"{safe(real)}: not writing the baseline: {error}") from None
    return real, invoker


def _commit(
    path: Path, before: bytes | None, text: str, invoker: Invoker | None, for_user: Invoker | None
) -> Path | None:
    """Write ``text`` over ``path`` if it still holds ``before``; keep the old bytes as a backup (see
    portwatch.userfile.backup_path). Returns the backup. The caller holds the file's lock."""
    if read(path, for_user) != before:
        raise BaselineError(
            f"{safe(path)}: the file changed while portwatch was updating it; nothing was written, try again"
        )
    backup = None
    try:
        if before is not None:
            old = os.stat(path)
            backup = write_backup(path, before, old.st_mode & 0o7777, (old.st_uid, old.st_gid))
        atomic_write(path, text.encode("utf-8"), invoker)
    except RefusedFile as error:
        raise BaselineError(f"{safe(path)}: not writing the baseline: {error}") from None
    except OSError as error:
        raise BaselineError(f"{safe(path)}: cannot write the baseline: {error.strerror or error}") from None
    return backup


def _checked(text: str, path: Path, existing: Baseline, added: int) -> str:
    """``text`` if portwatch itself reads it back with every old entry and the new ones, else BaselineError:
    appending ``[[listener]]`` tables to a file that wrote its listeners another way (``listener = [...]``,
    an inline array) would make a file portwatch then rejects."""
    try:
        merged = parse(text, safe(path), path)
    except BaselineError as error:
        raise BaselineError(
            f"{safe(path)}: not merging: appending [[listener]] tables to this file would make "
            f"it invalid ({str(error).removeprefix(safe(path) + ':').strip()}); nothing was "
            "written. Write its listeners as [[listener]] tables, or use --force"
        ) from None
    if len(merged.entries) != len(existing.entries) + added:
        raise BaselineError(
            f"{safe(path)}: not merging: the appended entries would not read back as "
            f"{added} new entries; nothing was written"
        )
    return text


def _new_entries(listeners: Sequence[Listener], existing: Baseline) -> list[str]:
    """Rendered entries for listeners no existing entry expects; udp-client sockets have nothing to approve."""
    blocks: dict[Entry, str] = {}
    for listener in listeners:
        if any(flag.code == "udp-client" for flag in listener.flags) or existing.match(listener) is Match.FULL:
            continue
        entry, comments = entry_for(listener)
        blocks.setdefault(entry, render_entry(entry, comments))
    return list(blocks.values())


@dataclass(frozen=True, slots=True)
class SaveResult:
    path: Path
    added: int
    backup: Path | None


def save(
    listeners: Sequence[Listener], path: Path | None = None, *, merge: bool = False, force: bool = False
) -> SaveResult:
    """Record ``listeners`` (flagged, so udp-client sockets are known). An existing file is refused unless
    ``merge`` (append what it lacks; the user's text stays) or ``force`` (replace; the old one is backed up).
    The read-modify-write holds the file's lock, so concurrent merges take turns."""
    target, invoker = _target(path or default_path(), explicit=path is not None)
    for_user = invoker if path is None else None
    _prepare(target, invoker)
    with _locked(target, invoker):
        before = read(target, for_user)
        if before is not None and not (merge or force):
            raise BaselineError(
                f"{safe(target)} exists: --merge adds today's listeners and keeps your entries "
                f"and comments; --force replaces it (the old file is kept as a backup, "
                f"{safe(target.name)}.bak)"
            )
        existing = Baseline()
        text = _HEADER
        if before is not None and merge:
            text = decode(before, target)
            existing = parse(text, safe(target), target)
            text += "" if text.endswith("\n") else "\n"
            text += f"\n# added by portwatch baseline save --merge on {time.strftime('%Y-%m-%d %H:%M')}\n"
        blocks = _new_entries(listeners, existing)
        if before is not None and merge and not blocks:
            return SaveResult(target, 0, None)
        text = _checked(text + "".join("\n" + block for block in blocks), target, existing, len(blocks))
        return SaveResult(target, len(blocks), _commit(target, before, text, invoker, for_user))


def approve(listener: Listener, path: Path | None = None) -> Baseline:
    """Append an entry expecting ``listener`` (creating the file if need be) and return the new baseline.

    For the TUI's approve key: raises BaselineError (one line) when the file is malformed or cannot be written;
    the caller shows it and carries on. The user's bytes stay as they were, trailing blank lines included.
    """
    target, invoker = _target(path or default_path(), explicit=path is not None)
    for_user = invoker if path is None else None
    _prepare(target, invoker)
    with _locked(target, invoker):
        before = read(target, for_user)
        old_text = decode(before, target) if before is not None else None
        existing = parse(old_text, safe(target), target) if old_text is not None else Baseline()
        blocks = _new_entries([listener], existing)
        if blocks:
            text = old_text if old_text is not None else _HEADER
            text += "" if text.endswith("\n") else "\n"
            text += f"\n# approved in portwatch on {time.strftime('%Y-%m-%d %H:%M')}\n" + blocks[0]
            _commit(target, before, _checked(text, target, existing, 1), invoker, for_user)
        return load(target, for_user) if blocks or before is not None else existing


def _prepare(target: Path, invoker: Invoker | None) -> None:
    """The folder the file and its lock live in."""
    try:
        makedirs(target.parent, invoker)
    except OSError as error:
        raise BaselineError(f"{safe(target.parent)}: cannot create the folder: {error.strerror or error}") from None


@contextlib.contextmanager
def _locked(target: Path, invoker: Invoker | None) -> Iterator[None]:
    stack = contextlib.ExitStack()
    try:
        stack.enter_context(locked(target, invoker))
    except RefusedFile as error:
        raise BaselineError(f"{safe(target)}: {error}") from None
    with stack:
        yield
