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
moved over the old one with os.replace (atomic); the previous version is kept as ``baseline.toml.bak``.
New entries are *appended* to the user's text, so their comments and layout survive. If the file changed
between our read and our write (another portwatch, an editor), nothing is written and the caller is told.

TOML is written by the tiny emitter in baseline_toml.py.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from portwatch.baseline import FORMAT_VERSION, Baseline, BaselineError, Entry, Match, load, parse

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
            raise BaselineError(f"{real}: not writing as root into {folder}, which user {invoker.uid} does not "
                                "own; give an explicit PATH")
    return real, invoker


def _makedirs(folder: Path, invoker: Invoker | None) -> None:
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
    _makedirs(path.parent, invoker)
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


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise BaselineError(f"{path}: cannot read the baseline: {error.strerror or error}") from None


def _decode(data: bytes, path: Path) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise BaselineError(f"{path}:{line}: the baseline is not valid UTF-8") from None


def _commit(path: Path, before: bytes | None, text: str, invoker: Invoker | None) -> Path | None:
    """Write ``text`` over ``path`` if it still holds ``before``; keep the old bytes as .bak. Returns the .bak."""
    if _read(path) != before:
        raise BaselineError(f"{path}: the file changed while portwatch was updating it; nothing was written, "
                            "try again")
    backup = None
    try:
        if before is not None:
            backup = path.with_name(path.name + ".bak")
            atomic_write(backup, before, invoker)
        atomic_write(path, text.encode("utf-8"), invoker)
    except OSError as error:
        raise BaselineError(f"{path}: cannot write the baseline: {error.strerror or error}") from None
    return backup


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


def save(listeners: Sequence[Listener], path: Path | None = None, *, merge: bool = False,
         force: bool = False) -> SaveResult:
    """Record ``listeners`` (flagged, so udp-client sockets are known). An existing file is refused unless
    ``merge`` (append what it lacks; the user's text stays) or ``force`` (replace; the old one becomes .bak)."""
    target, invoker = _target(path or default_path(), explicit=path is not None)
    before = _read(target)
    if before is not None and not (merge or force):
        raise BaselineError(f"{target} exists: --merge adds today's listeners and keeps your entries and "
                            f"comments; --force replaces it (the old file is kept as {target.name}.bak)")
    existing = Baseline()
    text = _HEADER
    if before is not None and merge:
        text = _decode(before, target)
        existing = parse(text, str(target), target)
        text += "" if text.endswith("\n") else "\n"
        text += f"\n# added by portwatch baseline save --merge on {time.strftime('%Y-%m-%d %H:%M')}\n"
    blocks = _new_entries(listeners, existing)
    if before is not None and merge and not blocks:
        return SaveResult(target, 0, None)
    text += "".join("\n" + block for block in blocks)
    return SaveResult(target, len(blocks), _commit(target, before, text, invoker))


def approve(listener: Listener, path: Path | None = None) -> Baseline:
    """Append an entry expecting ``listener`` (creating the file if need be) and return the new baseline.

    For the TUI's approve key: raises BaselineError (one line) when the file is malformed or cannot be written;
    the caller shows it and carries on.
    """
    target, invoker = _target(path or default_path(), explicit=path is not None)
    before = _read(target)
    old_text = _decode(before, target) if before is not None else None
    existing = parse(old_text, str(target), target) if old_text is not None else Baseline()
    blocks = _new_entries([listener], existing)
    if blocks:
        text = (old_text if old_text is not None else _HEADER).rstrip("\n") + "\n"
        text += f"\n# approved in portwatch on {time.strftime('%Y-%m-%d %H:%M')}\n" + blocks[0]
        _commit(target, before, text, invoker)
    return load(target) if blocks or before is not None else existing
