"""Why a socket has no owner we can name, from what this machine says about itself (asked only for such
sockets, and cached a few seconds: a steady refresh re-reads nothing).

In order, the first that applies:

1. A kernel socket, named from the kernel's own configuration: a VXLAN or Geneve device's UDP port
   (``ip -d -j link``), a WireGuard listen port (``wg show all listen-port``), the NFS server's ports
   (/proc/fs/nfsd/portlist) and lockd's (/proc/sys/fs/nfs/nlm_tcpport, nlm_udpport).
2. Socket activation: systemd runs (/run/systemd/system exists) and a ``.socket`` unit's ListenStream= or
   ListenDatagram= names the port: pid 1 holds it until the service it starts takes over.
3. What kept us from seeing the holder, each said when true: processes whose fds may not be read (with the
   one whose command line names the port, "probably"), this process lacking CAP_SYS_PTRACE (CapEff),
   /proc mounted with hidepid, portwatch running inside a PID namespace (NSpid, or /proc/self/ns/pid not
   the initial namespace's fixed inode).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from pathlib import Path

from portwatch.collect import socket_units
from portwatch.collect.procfs import PROC, parse_stat

#: Seconds the machine's answers are reused.
TTL = 10.0
CAP_SYS_PTRACE = 19
#: readlink of /proc/self/ns/pid in the initial PID namespace (PROC_PID_INIT_INO, fixed by the kernel).
INIT_PID_NS = "pid:[4026531836]"


def _read(path: str | Path) -> str | None:
    try:
        with open(path, "rb") as file:
            return file.read().decode("utf-8", "surrogateescape")
    except OSError:
        return None


def _output(argv: list[str]) -> str:
    import subprocess  # here: only a host with such devices runs a tool

    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=5, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


def tunnel_kinds(sys_class_net: str = "/sys/class/net") -> set[str]:
    """The kinds of kernel tunnel devices present (``DEVTYPE=`` of each device's uevent): vxlan, geneve,
    wireguard. Cheap reads, so ``ip`` and ``wg`` run only where such a device exists."""
    kinds: set[str] = set()
    try:
        names = os.listdir(sys_class_net)
    except OSError:
        return kinds
    for name in names:
        for line in (_read(f"{sys_class_net}/{name}/uevent") or "").splitlines():
            if line.startswith("DEVTYPE=") and line[8:] in ("vxlan", "geneve", "wireguard"):
                kinds.add(line[8:])
    return kinds


def link_ports(document: object) -> dict[tuple[str, int], str]:
    """(proto, port) -> what holds it, from ``ip -d -j link`` JSON: VXLAN and Geneve devices' UDP ports."""
    found: dict[tuple[str, int], str] = {}
    for link in document if isinstance(document, list) else []:
        info = link.get("linkinfo") if isinstance(link, dict) else None
        if not isinstance(info, dict) or info.get("info_kind") not in ("vxlan", "geneve"):
            continue
        data = info.get("info_data")
        port = data.get("port") if isinstance(data, dict) else None
        if isinstance(port, int) and port:
            kind = "VXLAN" if info["info_kind"] == "vxlan" else "Geneve"
            vni = data.get("id") if isinstance(data, dict) else None
            found[("udp", port)] = f"the kernel's {kind} device {link.get('ifname')} (VNI {vni})"
    return found


def wireguard_ports(output: str) -> dict[tuple[str, int], str]:
    """From ``wg show all listen-port``: ``wg0<TAB>51820`` a line."""
    found: dict[tuple[str, int], str] = {}
    for line in output.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit() and int(parts[1]):
            found[("udp", int(parts[1]))] = f"the kernel's WireGuard interface {parts[0]}"
    return found


def nfsd_ports(portlist: str) -> dict[tuple[str, int], str]:
    """From /proc/fs/nfsd/portlist: ``tcp 2049`` a line."""
    found: dict[tuple[str, int], str] = {}
    for line in portlist.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] in ("tcp", "udp") and parts[1].isdigit():
            found[(parts[0], int(parts[1]))] = "the kernel NFS server (nfsd)"
    return found


def proc_mount_options(mountinfo: str) -> str | None:
    """The hidepid/subset options of the /proc mount, from /proc/self/mountinfo; None when there are none."""
    for line in mountinfo.splitlines():
        fields = line.split()
        if len(fields) > 4 and fields[4] == "/proc" and " - " in line:
            options = line.split(" - ", 1)[1].split()[-1].split(",")
            hiding = [
                o for o in options if o.startswith(("hidepid=", "subset=")) and o not in ("hidepid=0", "hidepid=off")
            ]
            return ",".join(hiding) or None
    return None


def capabilities(status: str) -> int | None:
    """CapEff from /proc/self/status as a number."""
    for line in status.splitlines():
        if line.startswith("CapEff:"):
            return int(line.split()[1], 16)
    return None


def names_port(cmdline: str, address: str, port: int) -> bool:
    """Whether a command line names the port: ``ADDR:PORT``, ``:PORT`` or ``--port PORT`` style."""
    words = cmdline.replace("=", " ").split()
    return any(word.endswith(f":{port}") for word in words) or any(
        word == str(port) and index > 0 and "port" in words[index - 1].lower() for index, word in enumerate(words)
    )


def _fds_readable(fd_dir: str) -> bool:
    """False when the fd table may not be read: listing it or reading its links is refused (pid 1 here lists,
    but refuses every readlink, even to root). Gone processes count as readable: nothing to say of them."""
    try:
        names = os.listdir(fd_dir)
        if names:
            os.readlink(f"{fd_dir}/{names[0]}")
    except PermissionError:
        return False
    except OSError:
        return True
    return True


class UnownedExplainer:
    """One line saying why no owner could be named for a socket, or None when nothing explains it."""

    def __init__(
        self,
        proc: str = PROC,
        systemd_run: Path = Path("/run/systemd/system"),
        unit_dirs: tuple[Path, ...] = socket_units.UNIT_DIRS,
        nfs_root: str = "/proc",
        sys_class_net: str = "/sys/class/net",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._proc, self._systemd_run, self._unit_dirs, self._nfs = proc, systemd_run, unit_dirs, nfs_root
        self._sys_class_net = sys_class_net
        self._clock = clock
        self._until = -1.0
        self._facts: dict[str, object] = {}

    def _refresh(self) -> None:
        """Start a new TTL window: every fact is read again, lazily, when an explanation first needs it."""
        if self._clock() < self._until:
            return
        self._until = self._clock() + TTL
        self._facts = {}

    def _fact(self, name: str, read: Callable[[], object]) -> object:
        if name not in self._facts:
            self._facts[name] = read()
        return self._facts[name]

    def _systemd_units(self) -> list[socket_units.SocketUnit]:
        return socket_units.load(self._unit_dirs) if self._systemd_run.is_dir() else []

    def _has_ptrace(self) -> bool:
        caps = capabilities(_read(f"{self._proc}/self/status") or "")
        return caps is None or bool(caps >> CAP_SYS_PTRACE & 1)

    def _visibility_limits(self) -> list[str]:
        limits: list[str] = []
        hiding = proc_mount_options(_read(f"{self._proc}/self/mountinfo") or "")
        if hiding:
            limits.append(f"/proc is mounted with {hiding}: other users' processes are invisible")
        status = _read(f"{self._proc}/self/status") or ""
        nspid = next((line.split()[1:] for line in status.splitlines() if line.startswith("NSpid:")), [])
        try:
            own_pid_ns = os.readlink(f"{self._proc}/self/ns/pid")
        except OSError:
            own_pid_ns = None
        # NSpid lists every level only where /proc belongs to an outer namespace; a container mounts its own
        # /proc, but the initial PID namespace always has the same inode (the kernel's PROC_PID_INIT_INO).
        if len(nspid) > 1 or (own_pid_ns is not None and own_pid_ns != INIT_PID_NS):
            limits.append("portwatch runs inside a PID namespace: processes outside it cannot be seen")
        return limits

    def _kernel_ports(self) -> dict[tuple[str, int], str]:
        import shutil

        found: dict[tuple[str, int], str] = {}
        kinds = tunnel_kinds(self._sys_class_net)
        ip, wg = shutil.which("ip"), shutil.which("wg")
        if ip and kinds & {"vxlan", "geneve"}:
            import json

            with contextlib.suppress(ValueError):  # not JSON: an ip too old for -j
                found.update(link_ports(json.loads(_output([ip, "-d", "-j", "link", "show"]) or "[]")))
        if wg and "wireguard" in kinds:
            found.update(wireguard_ports(_output([wg, "show", "all", "listen-port"])))
        found.update(nfsd_ports(_read(f"{self._nfs}/fs/nfsd/portlist") or ""))
        for proto in ("tcp", "udp"):
            port = (_read(f"{self._nfs}/sys/fs/nfs/nlm_{proto}port") or "").strip()
            if port.isdigit() and int(port):
                found[(proto, int(port))] = "the kernel NFS lock manager (lockd)"
        return found

    def _unreadable_processes(self) -> list[tuple[int, str, str]]:
        """(pid, name, cmdline) of processes whose fd table we may not read. Pid 1 first: when it refuses (a
        container's or a VM's init) it is named alone, without walking every process."""
        found: list[tuple[int, str, str]] = []
        if not _fds_readable(f"{self._proc}/1/fd"):
            return [self._described(1)]
        try:
            names = os.listdir(self._proc)
        except OSError:
            return found
        me = os.getpid()
        for name in names:
            if not name.isdigit() or int(name) in (me, 1):
                continue
            if not _fds_readable(f"{self._proc}/{name}/fd"):
                found.append(self._described(int(name)))
        return sorted(found)

    def _described(self, pid: int) -> tuple[int, str, str]:
        stat = parse_stat((_read(f"{self._proc}/{pid}/stat") or "").encode("utf-8", "surrogateescape"))
        comm = stat.name.decode("utf-8", "surrogateescape") if stat else "?"
        argv = (_read(f"{self._proc}/{pid}/cmdline") or "").replace("\x00", " ").strip()
        return pid, comm, argv

    def explain(self, proto: str, address: str, port: int) -> str | None:
        self._refresh()
        kernel = self._fact("kernel", self._kernel_ports)
        assert isinstance(kernel, dict)
        if (proto, port) in kernel:
            return f"a kernel socket: {kernel[(proto, port)]} listens on {proto} port {port}"
        units = self._fact("units", self._systemd_units)
        assert isinstance(units, list)
        unit = socket_units.matching(units, proto, port)
        if unit is not None:
            return (
                f"socket activation: systemd (pid 1) holds it for {unit.name}, which starts {unit.service} "
                "on the first connection"
            )
        parts: list[str] = []
        unreadable = self._fact("unreadable", self._unreadable_processes)
        ptrace = self._fact("ptrace", self._has_ptrace)
        assert isinstance(unreadable, list)
        if unreadable:
            pid, comm, _ = unreadable[0]
            others = len(unreadable) - 1
            who = f"pid {pid} ({comm})" + (
                f" and {others} other process{'es' if others != 1 else ''}" if others else ""
            )
            why = (
                "even with CAP_SYS_PTRACE: the kernel refuses it"
                if ptrace
                else "reading other users' fds needs CAP_SYS_PTRACE, which this process lacks"
            )
            parts.append(f"the fds of {who} cannot be read ({why})")
            named = [(p, c) for p, c, argv in unreadable if names_port(argv, address, port)]
            if len(named) == 1:
                holder = "its" if named[0][0] == pid and not others else f"pid {named[0][0]} ({named[0][1]})'s"
                parts.append(f"{holder} command line names port {port}, so it is probably the holder")
        elif not ptrace:
            parts.append("this process lacks CAP_SYS_PTRACE, needed to read other users' fds")
        limits = self._fact("limits", self._visibility_limits)
        assert isinstance(limits, list)
        parts.extend(limits)
        return "; ".join(parts) or None
