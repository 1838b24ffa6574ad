"""LinuxOwnerResolver: a socket owner's process details read from /proc, cached by pid and rechecked each
scan. Apart from linux.py because it is about processes, not how sockets are read."""

from __future__ import annotations

from portwatch.collect import procfs
from portwatch.collect.owners import OwnerResolver
from portwatch.model import Owner

#: What tells the process read before from the one there now: (start ticks, comm, exe path).
_Identity = tuple[bytes, bytes, str | None]


class LinuxOwnerResolver(OwnerResolver):
    """Owners read from /proc (collect/procfs.py), cached by pid and checked once per pid per scan with one
    /proc/PID/stat read and one readlink of /proc/PID/exe: the start ticks tell a reused pid from the process
    we read before, the comm and the exe a process that renamed itself or exec'd another program on the same
    pid (keeping its sockets), whose name, exe and cmdline are then read again."""

    def __init__(self, proc: str = procfs.PROC) -> None:
        super().__init__()
        self._proc = proc
        self._boot: float | None = None
        self._checked: dict[int, tuple[_Identity, Owner | None]] = {}
        self._this_scan: dict[int, Owner | None] = {}

    def new_scan(self) -> None:
        self._this_scan.clear()

    def owner(self, pid: int) -> Owner | None:
        if pid in self._this_scan:
            return self._this_scan[pid]
        identity = self._identity(pid)
        checked = self._checked.get(pid)
        if identity is not None and checked is not None and checked[0] == identity:
            found = checked[1]
        else:
            found = self._read(pid) if identity is not None else None
            if identity is None or found is None:
                self._checked.pop(pid, None)
            else:
                self._checked[pid] = (identity, found)
        self._this_scan[pid] = found
        return found

    def _identity(self, pid: int) -> _Identity | None:
        stat = procfs.read_stat(pid, self._proc)
        if stat is None:
            return None
        try:
            path = procfs.exe(pid, self._proc)
        except OSError:  # exited between the two reads
            return None
        return stat.start_ticks, stat.name, path

    def _read(self, pid: int) -> Owner | None:
        if self._boot is None:
            self._boot = procfs.boot_time(self._proc)
        return procfs.read_owner(pid, self._proc, self._boot)

    def forget_except(self, live_pids: set[int]) -> None:
        super().forget_except(live_pids)
        for pid in self._checked.keys() - live_pids:
            del self._checked[pid]
