"""Digests of the file a process runs, read through /proc/PID/exe (the running file itself, in whatever mount
namespace it lives, even once unlinked), cached by (device, inode, mtime, size) so a refresh costs one stat."""

from __future__ import annotations

import hashlib
import os
import threading

from portwatch.collect.procfs import PROC

#: Files larger than this are not hashed (a 128 MiB file takes ~0.3 s here); the reason says so.
HASH_CAP = 128 * 1024 * 1024
_CHUNK = 1 << 20
_KEEP = 512


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB"


class FileDigests:
    """md5 (to compare with dpkg's record) and SHA-256 (to show) of running executables; thread-safe."""

    def __init__(self, cap: int = HASH_CAP, proc: str = PROC) -> None:
        self.cap = cap
        self._proc = proc
        self._known: dict[tuple[str, int, int, int, int], str] = {}
        self._lock = threading.Lock()
        #: Files actually read (the rest came from the cache); tests read it.
        self.reads = 0

    def digest(self, pid: int, algorithm: str = "sha256") -> tuple[str | None, str | None]:
        """(hex digest, None), or (None, why not) when the file is too large, unreadable or gone."""
        path = f"{self._proc}/{pid}/exe"
        try:
            with open(path, "rb") as file:
                info = os.fstat(file.fileno())
                key = (algorithm, info.st_dev, info.st_ino, info.st_mtime_ns, info.st_size)
                with self._lock:
                    known = self._known.get(key)
                if known is not None:
                    return known, None
                if info.st_size > self.cap:
                    return None, f"not hashed: {_mib(info.st_size)} is over the {_mib(self.cap)} cap"
                hasher = hashlib.new(algorithm)
                while chunk := file.read(_CHUNK):
                    hasher.update(chunk)
        except PermissionError:
            return None, "not readable: needs root"
        except OSError as error:
            return None, f"not readable: {error.strerror or error}"
        value = hasher.hexdigest()
        with self._lock:
            self.reads += 1
            if len(self._known) >= _KEEP:
                self._known.clear()
            self._known[key] = value
        return value, None
