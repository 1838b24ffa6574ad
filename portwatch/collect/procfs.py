"""A process's identity read straight from /proc (Linux), as psutil would report it, without importing psutil.

`portwatch list` on Linux runs the Linux collector start to finish; importing psutil alone is a measurable share
of a command that must keep up with `ss` (README, Performance). These reads mirror psutil's Linux rules (name
completed from the cmdline when the kernel cut it at 15 bytes, " (deleted)" dropped
from a missing exe, a cmdline rewritten with spaces split on them), and tests compare them with psutil
on real processes.
Three differences are deliberate: a zombie is no owner (it holds no fds, so no socket), and a carriage return
in a cmdline is kept as such (psutil's text-mode read turns it into a newline; safe() shows it as ``\r``), and
the user is the effective uid's, as ps and lsof show it (psutil's username() is the real uid's), with the real
one beside it where they differ.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, replace

from portwatch.collect.owners import user_name
from portwatch.model import Owner

PROC = "/proc"
_ENCODING = sys.getfilesystemencoding()
#: The kernel keeps this many bytes of a process name (TASK_COMM_LEN - 1).
_COMM_MAX = 15


def _decode(raw: bytes) -> str:
    return raw.decode(_ENCODING, "surrogateescape")


def _read(path: str) -> bytes:
    with open(path, "rb") as file:
        return file.read()


def boot_time(proc: str = PROC) -> float:
    """When the system booted (seconds since the epoch), from /proc/stat's btime line."""
    for line in _read(f"{proc}/stat").splitlines():
        if line.startswith(b"btime"):
            return float(line.split()[1])
    raise RuntimeError(f"no btime line in {proc}/stat")


DELETED_SUFFIX = " (deleted)"


def strip_deleted(link: str) -> tuple[str, bool]:
    """The path an exe link names, and whether the kernel marked the file deleted.

    Linux appends " (deleted)" to /proc/PID/exe once the file is unlinked; a file really named so exists.
    """
    if link.endswith(DELETED_SUFFIX) and not os.path.exists(link):
        return link[: -len(DELETED_SUFFIX)], True
    return link, False


@dataclass(frozen=True, slots=True)
class StatFields:
    """What portwatch uses of /proc/PID/stat (proc(5)): the comm sits in parentheses and may hold anything."""

    name: bytes
    state: bytes
    ppid: int
    #: The kernel's per-process flags (PF_KTHREAD marks a kernel thread).
    flags: int
    #: Clock ticks since boot; with the pid it names one process (a reused pid starts later).
    start_ticks: bytes


def parse_stat(raw: bytes) -> StatFields | None:
    """Split one /proc/PID/stat line; None when it is cut short."""
    close = raw.rfind(b")")
    fields = raw[close + 2 :].split(b" ", 20)  # fields 3.. of proc(5); starttime is field 22
    if close < 0 or len(fields) < 20:
        return None
    return StatFields(raw[raw.find(b"(") + 1 : close], fields[0], int(fields[1]), int(fields[6]), fields[19])


def read_stat(pid: int, proc: str = PROC) -> StatFields | None:
    """/proc/PID/stat, parsed; None once the process exited."""
    try:
        return parse_stat(_read(f"{proc}/{pid}/stat"))
    except OSError:
        return None


def start_ticks(pid: int, proc: str = PROC) -> bytes | None:
    """The process's start time in clock ticks since boot; None once it exited.

    One small read, where psutil's create_time() also reads /proc/stat for the boot time on every call.
    """
    try:
        raw = _read(f"{proc}/{pid}/stat")
    except OSError:
        return None
    fields = parse_stat(raw)
    return fields.start_ticks if fields else None


def cmdline(pid: int, proc: str = PROC) -> tuple[str, ...]:
    """argv as the process left it: NUL-separated, or split on spaces when it rewrote itself into one string."""
    return split_cmdline(_decode(_read(f"{proc}/{pid}/cmdline")))


def split_cmdline(data: str) -> tuple[str, ...]:
    """/proc/PID/cmdline's text as argv: NUL-separated, or split on spaces when it was rewritten as one string."""
    if not data:
        return ()
    separator = "\x00" if data.endswith("\x00") else " "
    if data.endswith(separator):
        data = data[:-1]
    parts = data.split(separator)
    if separator == "\x00" and len(parts) == 1 and " " in data:  # setproctitle-style rewrites
        parts = data.split(" ")
    return tuple(parts)


def complete_name(name: str, argv: tuple[str, ...]) -> str:
    """The comm, completed from argv[0] when the kernel cut it at 15 bytes (as psutil does)."""
    if len(name) >= _COMM_MAX and argv:
        extended = os.path.basename(argv[0])
        if extended.startswith(name):
            return extended
    return name


def exe(pid: int, proc: str = PROC) -> str | None:
    """The executable's path; None when it may not be read, "" for kernel threads and zombies."""
    try:
        path = os.readlink(f"{proc}/{pid}/exe")
    except PermissionError:
        return None
    except (FileNotFoundError, ProcessLookupError):
        if os.path.lexists(f"{proc}/{pid}"):
            return ""
        raise
    return strip_deleted(path.split("\x00")[0])[0]


def read_owner(pid: int, proc: str = PROC, boot: float | None = None, *, threads: bool = True) -> Owner | None:
    """One process's name, user, exe, cmdline and start time; None when it exited or is a zombie.

    A zombie leader whose other threads run on is read from one of them (``threads``: look for them).

    A field we may not read is left empty rather than failing the whole owner, as with psutil's as_dict.
    """
    if pid <= 0:
        return None
    try:
        stat = _read(f"{proc}/{pid}/stat")
        status = _read(f"{proc}/{pid}/status")
    except (FileNotFoundError, ProcessLookupError):
        return None
    except PermissionError:
        return Owner(pid=pid, name="")
    fields = parse_stat(stat)
    if fields is not None and fields.state == b"Z" and threads:
        return _owner_of_threads(pid, proc, boot, fields.start_ticks)
    if fields is None or fields.state == b"Z":
        return None
    name = _decode(fields.name)
    try:
        argv: tuple[str, ...] | None = cmdline(pid, proc)
    except PermissionError:
        argv = None
    except (FileNotFoundError, ProcessLookupError):
        return None
    try:
        path = exe(pid, proc)  # None when not ours to read (another user's process, without root)
    except (FileNotFoundError, ProcessLookupError):
        return None
    name = complete_name(name, argv or ())
    real, effective = uids(status)
    started = int(fields.start_ticks) / os.sysconf("SC_CLK_TCK") + (boot if boot is not None else boot_time(proc))
    return Owner(
        pid=pid,
        name=name,
        user=user_name(effective) if effective is not None else None,
        exe=path or None,
        cmdline=argv or (),
        create_time=started,
        real_user=user_name(real) if real is not None and real != effective else None,
    )


def uids(status: bytes) -> tuple[int | None, int | None]:
    """(real, effective) uid from /proc/PID/status, whose ``Uid:`` line holds real, effective, saved and fs."""
    for line in status.splitlines():
        if line.startswith(b"Uid:"):
            values = line.split()[1:]
            if len(values) >= 2:
                return int(values[0]), int(values[1])
    return None, None


def _owner_of_threads(pid: int, proc: str, boot: float | None, start: bytes) -> Owner | None:
    """A thread group whose leader exited while other threads run on (a zombie leader keeping its sockets):
    the owner as a live thread shows it (/proc/PID/task/TID), with the pid and start time of the group."""
    try:
        tids = [int(name) for name in os.listdir(f"{proc}/{pid}/task") if name.isdigit() and int(name) != pid]
    except OSError:
        return None
    for tid in tids:
        owner = read_owner(tid, f"{proc}/{pid}/task", boot, threads=False)
        if owner is not None:
            started = int(start) / os.sysconf("SC_CLK_TCK") + (boot if boot is not None else boot_time(proc))
            return replace(owner, pid=pid, create_time=started)
    return None
