"""What we can learn about an owner's executable file, cheaply enough to ask on every scan.

Where a file lives cannot change while the process runs, so that answer is cached per (pid, create time).
Whether the file still exists can change at any moment (``rm``, a package upgrade), so it is asked again on
every scan: on Linux that is one ``readlink`` of ``/proc/PID/exe``, which the kernel suffixes with
" (deleted)" once the file is unlinked.
"""

from __future__ import annotations

import dataclasses
import os
import stat
import sys
import tempfile

from portwatch.collect.procfs import strip_deleted
from portwatch.model import ExeFacts, Owner

_LINUX = sys.platform.startswith("linux")
#: Places any local user, browser or dropper can write to.
_TEMP_DIRS = ("/tmp", "/var/tmp", "/dev/shm", "/run/shm", "/private/tmp", "/private/var/tmp")
_DOWNLOADS = ("downloads", "download")


def temp_place(path: str) -> str | None:
    """The temporary or downloads location ``path`` is in, or None. Pure: looks at the text only."""
    roots = {*_TEMP_DIRS, tempfile.gettempdir()}
    for root in sorted(roots):
        if path == root or path.startswith(root.rstrip("/") + "/"):
            return root
    parts = path.split("/")[:-1]
    for part in parts:
        if part.lower() in _DOWNLOADS:
            return "a downloads folder"
    return None


def _world_writable_dir(pid: int, directory: str) -> bool:
    """Whether the directory holding the exe is world-writable, judged in the process's own mount namespace."""
    candidates = [f"/proc/{pid}/root{directory}", directory] if _LINUX else [directory]
    for candidate in candidates:
        try:
            return bool(os.stat(candidate).st_mode & stat.S_IWOTH)
        except PermissionError:
            return False  # not ours to look at; the host path might be another filesystem
        except OSError:
            continue
    return False


def _read_link(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:  # ENOENT: kernel thread or zombie; EACCES: not ours to read
        return None


class ExeInspector:
    """Per-owner facts, the location part cached per (pid, create time); forget() bounds the cache."""

    def __init__(self) -> None:
        self._places: dict[tuple[int, float | None, str], str | None] = {}
        #: pid -> (the owner given, the facts found, the owner returned): a steady scan builds no new records.
        self._attached: dict[int, tuple[Owner, ExeFacts, Owner]] = {}

    def facts(self, owner: Owner) -> ExeFacts:
        if _LINUX:
            link = _read_link(owner.pid)
            if link is None:
                return ExeFacts()
            path, deleted = strip_deleted(link)
            if deleted and path.startswith("/memfd:"):
                return ExeFacts(path=path, deleted=True, fileless=True)
            replaced = deleted and os.path.exists(path)
        else:
            if not owner.exe:
                return ExeFacts()
            path, deleted, replaced = owner.exe, not os.path.exists(owner.exe), False
        return ExeFacts(path, deleted, replaced, False, self._place(owner, path))

    def attach(self, owner: Owner) -> Owner:
        """``owner`` carrying this scan's facts (the same object when they did not change)."""
        found = self.facts(owner)
        if found == owner.exe_facts:
            return owner
        cached = self._attached.get(owner.pid)
        if cached is not None and cached[0] is owner and cached[1] == found:
            return cached[2]
        attached = dataclasses.replace(owner, exe_facts=found)
        self._attached[owner.pid] = (owner, found, attached)
        return attached

    def _place(self, owner: Owner, path: str) -> str | None:
        key = (owner.pid, owner.create_time, path)
        if key not in self._places:
            place = temp_place(path)
            if place is None and _world_writable_dir(owner.pid, os.path.dirname(path) or "/"):
                place = "a world-writable directory"
            self._places[key] = place
        return self._places[key]

    def forget_except(self, pids: set[int]) -> None:
        """Drop cached answers for processes no longer holding a listener."""
        for key in [key for key in self._places if key[0] not in pids]:
            del self._places[key]
        for pid in self._attached.keys() - pids:
            del self._attached[pid]
