"""Standard streams for a command that degrade instead of crashing.

- Text the locale cannot encode (``LANG=C`` without UTF-8 mode, ``PYTHONIOENCODING=latin-1``) becomes
  backslash escapes (``\\u65e5``) instead of a UnicodeEncodeError.
- stdout that refuses the answer (full: ENOSPC, closed before start: ``>&-``, a broken pipe) raises
  :class:`OutputFailed`, told apart from every other OSError, so the CLI says so in one line and exits 3
  (UNKNOWN) rather than printing a traceback or letting ``check`` exit 1 ("unexpected found").
- stderr that fails loses only the notes: they are advice, never the reason a command fails.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
from collections.abc import Iterator
from typing import Any


class OutputFailed(Exception):
    """stdout refused the answer (full, closed, a broken pipe); str() is why."""

    def __init__(self, why: str, broken_pipe: bool = False) -> None:
        super().__init__(why)
        self.broken_pipe = broken_pipe


class _Output:
    """stdout for a command: a failed write becomes OutputFailed, so it is told apart from any other OSError.
    ``stream`` None is a descriptor closed before start (`>&-`), where Python leaves sys.stdout None. The
    binary ``buffer`` (`metrics` writes bytes) is guarded the same way; anything else is the stream's own."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    @staticmethod
    def _failed(error: OSError) -> OutputFailed:
        return OutputFailed(error.strerror or str(error), isinstance(error, BrokenPipeError))

    def write(self, data: Any) -> int:
        if self._stream is None:
            raise OutputFailed("standard output is closed")
        try:
            return int(self._stream.write(data))
        except OSError as error:
            raise self._failed(error) from None

    def flush(self) -> None:
        try:
            if self._stream is not None:
                self._stream.flush()
        except OSError as error:
            raise self._failed(error) from None

    def isatty(self) -> bool:
        return bool(self._stream is not None and self._stream.isatty())

    def fileno(self) -> int:
        if self._stream is None:
            raise OSError(errno.EBADF, "standard output is closed")
        return int(self._stream.fileno())

    @property
    def buffer(self) -> _Output:
        return _Output(getattr(self._stream, "buffer", None) if self._stream is not None else None)

    def __getattr__(self, name: str) -> Any:  # encoding, errors, writelines' callers, …
        if self._stream is None:
            raise AttributeError(name)
        return getattr(self._stream, name)


class _Diagnostics:
    """stderr that never fails the command: notes are advice, and a full or closed stderr loses only them."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return int(self._stream.write(text)) if self._stream is not None else len(text)
        except (OSError, ValueError):  # ValueError: a stream closed under us
            return len(text)

    def flush(self) -> None:
        try:
            if self._stream is not None:
                self._stream.flush()
        except (OSError, ValueError):
            pass

    def isatty(self) -> bool:
        return bool(self._stream is not None and self._stream.isatty())


@contextlib.contextmanager
def tolerant() -> Iterator[None]:
    """Text the locale cannot encode (LANG=C without UTF-8 mode, PYTHONIOENCODING=latin-1) degrades to
    backslash escapes instead of raising; a failing stdout is reported (OutputFailed), a failing stderr loses
    only the notes."""
    saved = sys.stdout, sys.stderr
    for stream in saved:
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(OSError, ValueError):
                reconfigure(errors="backslashreplace")
    sys.stdout, sys.stderr = _Output(sys.stdout), _Diagnostics(sys.stderr)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


def discard_stdout() -> None:
    """After a failed write, point fd 1 at /dev/null so the interpreter's last flush does not fail again
    (a full disk keeps the unwritten text buffered: without this, "Exception ignored" at exit)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
    except OSError:
        pass
