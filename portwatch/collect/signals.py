"""Signalling a listener's holder so that only that process can receive it.

Linux: the signal goes through a pidfd. The order matters:

1. ``pidfd_open(pid)`` pins whatever process has the pid *now*;
2. /proc/PID/stat must show the start time the plan recorded, and one of /proc/PID/fd must link to the
   listener's socket inode;
3. ``pidfd_send_signal`` on the pidfd.

If the process the plan named was alive at step 2 (same start time: the same process), it was alive at step 1
too (a process cannot come back), so the pidfd is that process; if it exited in between, its pid may have been
reused and step 2 sees another start time and refuses. After step 3 the pidfd tells when the process ends,
whoever takes the pid afterwards.

Elsewhere (or with no pidfd support): psutil's send_signal on the Process object the scan made
(collect.owners.scan_process), which checks pid and create time itself; never a Process(pid) made now.
"""

from __future__ import annotations

import errno
import os
import select
import signal
import socket
import subprocess
import sys
from typing import Any

from portwatch.collect import procfs
from portwatch.collect.inodes import matching_fds, socket_link
from portwatch.collect.owners import scan_process
from portwatch.collect.stop_attribution import attribution
from portwatch.model import Listener, Owner
from portwatch.stop_facts import Holder, SendResult, Sent, StopRequest

PROC = "/proc"
LINUX = sys.platform.startswith("linux")
#: /proc/PID/stat flags: PF_KTHREAD.
_PF_KTHREAD = 0x00200000
#: How far a start time computed from /proc may differ from the scan's (float rounding, not another process).
_START_SLACK = 1e-3


def start_ticks(pid: int, proc: str = PROC) -> int | None:
    """When the process started, in clock ticks after boot (/proc/PID/stat field 22): exact, unlike seconds."""
    ticks = procfs.start_ticks(pid, proc)
    return int(ticks) if ticks is not None else None


def _boot_time(proc: str = PROC) -> float | None:
    try:
        return procfs.boot_time(proc)
    except (OSError, RuntimeError):
        return None


def holds_socket(pid: int, listener: Listener, proc: str = PROC) -> bool:
    """Whether ``pid`` has an fd on one of the listener's sockets (by inode; by address where none is known)."""
    if listener.inodes and LINUX:
        return bool(matching_fds(pid, {socket_link(inode): inode for inode in listener.inodes}, proc))
    handle = _process(pid, None)
    return handle is not None and _holds_by_address(handle, listener)


def _holds_by_address(handle: Any, listener: Listener) -> bool:
    import psutil

    try:
        conns = handle.net_connections("inet")
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False
    for conn in conns:
        proto = "tcp" if conn.type == socket.SOCK_STREAM else "udp"
        if (
            conn.laddr
            and conn.laddr.port == listener.port
            and conn.laddr.ip == listener.address
            and proto == listener.proto.value
            and not conn.raddr
        ):
            return True
    return False


def _process(pid: int, started: float | None) -> Any | None:
    """A psutil.Process to read from (never to signal: see scan_process)."""
    import psutil

    try:
        proc = psutil.Process(pid)
        if started is not None and abs(proc.create_time() - started) > _START_SLACK:
            return None
        return proc
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return None


def read_holder(owner: Owner, listener: Listener, proc: str = PROC, boot: float | None = None) -> Holder | None:
    """This owner as it is now, or None when it exited, its pid names another process, or it dropped the socket."""
    if LINUX:
        fields = procfs.read_stat(owner.pid, proc)
        if fields is None or fields.state == b"Z":
            return None
        ticks = int(fields.start_ticks)
        boot = boot if boot is not None else _boot_time(proc)
        if (
            owner.create_time is not None
            and boot is not None
            and abs(ticks / os.sysconf("SC_CLK_TCK") + boot - owner.create_time) > _START_SLACK
        ):
            return None  # the pid was reused since the scan
        if not holds_socket(owner.pid, listener, proc):
            return None
        unit, container = attribution(owner.pid, owner.cmdline, proc)
        return Holder(
            pid=owner.pid,
            ppid=fields.ppid,
            name=owner.name,
            exe=owner.exe,
            user=owner.user,
            start=ticks,
            create_time=owner.create_time,
            kernel_thread=bool(fields.flags & _PF_KTHREAD) or owner.pid == 2 or fields.ppid == 2,
            unit=unit,
            container=container,
        )
    handle = scan_process(owner.pid, owner.create_time) or _process(owner.pid, owner.create_time)
    if handle is None or not _holds_by_address(handle, listener):
        return None
    try:
        ppid = handle.ppid()
    except Exception:  # gone meanwhile: the signal step will say so
        ppid = None
    return Holder(
        pid=owner.pid,
        ppid=ppid,
        name=owner.name,
        exe=owner.exe,
        user=owner.user,
        start=owner.create_time,
        create_time=owner.create_time,
    )


def ancestors(pid: int | None = None, proc: str = PROC) -> tuple[int, ...]:
    """The parent chain of ``pid`` (default: this process), parent first, up to pid 1."""
    pid = os.getpid() if pid is None else pid
    chain: list[int] = []
    if LINUX:
        current = pid
        while len(chain) < 256:
            fields = procfs.read_stat(current, proc)
            if fields is None:
                break
            parent = fields.ppid
            if parent <= 0 or parent in chain:
                break
            chain.append(parent)
            current = parent
        return tuple(chain)
    import psutil

    return tuple(parent.pid for parent in psutil.Process(pid).parents())


def stop_request(listener: Listener, proc: str = PROC) -> StopRequest:
    """The facts a stop of ``listener`` is planned from, read now."""
    boot = _boot_time(proc) if LINUX else None
    holders: list[Holder] = []
    changed: list[int] = []
    for owner in listener.owners:
        holder = read_holder(owner, listener, proc, boot)
        if holder is None:
            changed.append(owner.pid)
        else:
            holders.append(holder)
    return StopRequest(listener, tuple(holders), tuple(changed), os.getpid(), ancestors(proc=proc))


class PidfdHandle:
    """A pidfd, readable once its process has ended (a zombie counts as ended)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def alive(self) -> bool:
        poller = select.poll()
        poller.register(self.fd, select.POLLIN)
        return not poller.poll(0)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class PsutilHandle:
    def __init__(self, proc: Any) -> None:
        self.proc = proc

    def alive(self) -> bool:
        import psutil

        try:
            return bool(self.proc.is_running()) and self.proc.status() != psutil.STATUS_ZOMBIE
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            return False
        except psutil.AccessDenied:
            return True

    def close(self) -> None:
        pass


def send_signal(
    holder: Holder, listener: Listener, signum: int, proc: str = PROC, use_pidfd: bool | None = None
) -> SendResult:
    """Signal ``holder`` if, at this instant, it is still that process and still holds the listener's socket."""
    if use_pidfd is None:
        use_pidfd = LINUX and hasattr(os, "pidfd_open") and hasattr(signal, "pidfd_send_signal")
    if not use_pidfd:
        return _send_psutil(holder, listener, signum)
    try:
        fd = os.pidfd_open(holder.pid)
    except ProcessLookupError:
        return SendResult(Sent.GONE)
    except OSError as error:  # ENOSYS: a kernel before 5.3
        if error.errno == errno.ENOSYS:
            return _send_psutil(holder, listener, signum)
        raise
    try:
        ticks = start_ticks(holder.pid, proc)
        if ticks is None:
            os.close(fd)
            return SendResult(Sent.GONE)
        if holder.start is not None and ticks != holder.start:
            os.close(fd)
            return SendResult(Sent.CHANGED, f"pid {holder.pid} is now another process (a different start time)")
        if not holds_socket(holder.pid, listener, proc):
            os.close(fd)
            return SendResult(Sent.CHANGED, f"pid {holder.pid} no longer holds the listener's socket")
        signal.pidfd_send_signal(fd, signum)
    except ProcessLookupError:
        os.close(fd)
        return SendResult(Sent.GONE)
    except PermissionError as error:
        os.close(fd)
        return SendResult(Sent.DENIED, error.strerror or "permission denied")
    return SendResult(Sent.SENT, handle=PidfdHandle(fd))


def _send_psutil(holder: Holder, listener: Listener, signum: int) -> SendResult:
    import psutil

    handle = scan_process(holder.pid, holder.create_time)
    if handle is None:
        return SendResult(Sent.CHANGED, f"no process object from the scan for pid {holder.pid}: scan again")
    try:
        if not handle.is_running():
            return SendResult(
                Sent.CHANGED if psutil.pid_exists(holder.pid) else Sent.GONE, f"pid {holder.pid} is now another process"
            )
        if not _holds_by_address(handle, listener):
            return SendResult(Sent.CHANGED, f"pid {holder.pid} no longer holds the listener's socket")
        handle.send_signal(signum)  # psutil checks pid + create time again here
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return SendResult(Sent.GONE)
    except psutil.AccessDenied:
        return SendResult(Sent.DENIED, "permission denied")
    return SendResult(Sent.SENT, handle=PsutilHandle(handle))


def run_manager(argv: tuple[str, ...], timeout: float = 90.0) -> tuple[int, str]:
    """Run a service manager's stop command: (exit code, its last line of output). 127 when it is missing."""
    try:
        done = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        return 127, f"{argv[0]} is not installed here"
    except subprocess.TimeoutExpired:
        return 124, f"{argv[0]} did not finish within {timeout:.0f} s"
    lines = (done.stderr or done.stdout or "").strip().splitlines()
    return done.returncode, lines[-1] if lines else ""


class ProcSignaller:
    """The Signaller of collect/__init__.py: facts from /proc (psutil elsewhere), signals by pidfd."""

    def request(self, listener: Listener) -> StopRequest:
        return stop_request(listener)

    def send(self, holder: Holder, listener: Listener, signum: int, use_pidfd: bool | None = None) -> SendResult:
        return send_signal(holder, listener, signum, use_pidfd=use_pidfd)

    def run(self, argv: tuple[str, ...], timeout: float = 90.0) -> tuple[int, str]:
        return run_manager(argv, timeout)
