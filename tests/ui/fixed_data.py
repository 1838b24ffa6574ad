"""Fixed listeners and process details for snapshot tests and screenshots, fed through the app's own seams.

Built with the real ``build``-side helpers (ranges.iana_range, ranges.exposure) so rows look as a scan makes them.
The facts a real collector gathers from the OS come with the data, as a collector delivers them: each owner's
executable (``Owner.exe_facts``) and, for UDP, whether the kernel auto-bound the socket (``Listener.autobound``).
The app judges them with its own judge: nothing here reads /proc.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from portwatch import ranges
from portwatch.baseline_file import entry_for, render_entry
from portwatch.collect.exeinfo import temp_place
from portwatch.collect.process import ProcessInspector
from portwatch.model import (
    EphemeralRange,
    ExeFacts,
    Family,
    Listener,
    Owner,
    OwnerStatus,
    PortSpan,
    ProcessDetails,
    ProcessLink,
    ProcessState,
    Proto,
    Scan,
)

#: 2025-10-09 08:53:20 UTC: the moment every fixed scan was taken.
NOW = 1_760_000_000.0
EPHEMERAL = EphemeralRange(PortSpan(32768, 60999), (), "/proc/sys/net/ipv4/ip_local_port_range")
HOSTILE_NAME = "[/]\x1b]52;c;aGk=\x07"

#: Where each fixed process runs from (pid -> exe); a process not named here has no readable exe.
FIXED_EXES = {
    812: "/usr/sbin/sshd",
    640: "/usr/lib/systemd/systemd-resolved",
    702: "/usr/sbin/dhclient",
    1201: "/usr/sbin/nginx",
    1202: "/usr/sbin/nginx",
    1203: "/usr/sbin/nginx",
    4242: "/usr/bin/node",
    990: "/usr/lib/postgresql/16/bin/postgres",
    1010: "/usr/bin/redis-server",
    5150: "/usr/bin/python3",
    733: "/usr/local/bin/node_exporter",
    6021: "/usr/share/code/code",
    6100: "/home/dev/bin/grpc-server",
    6666: "/tmp/\x1b[2Jevil",
    7321: "/tmp/build/python3",
}

#: The one fixed UDP socket the kernel bound for a client (a resolver's reply socket): udp-client, not a server.
AUTOBOUND = {("0.0.0.0", 54321)}


def exe_facts(pid: int) -> ExeFacts:
    """What a collector would find of ``pid``'s executable: the path from FIXED_EXES and whether it is a temp
    place (the judged flag comes from the facts, as for a real owner); nothing for a pid not named there."""
    path = FIXED_EXES.get(pid)
    return ExeFacts(path=path, risky_place=temp_place(path)) if path else ExeFacts()


def listener(
    proto: str,
    address: str,
    port: int,
    owners: Sequence[tuple[int, str, str]] = (),
    status: OwnerStatus = OwnerStatus.KNOWN,
    socket_user: str | None = None,
) -> Listener:
    kind = Proto(proto)
    return Listener(
        proto=kind,
        family=Family.IPV6 if ":" in address else Family.IPV4,
        address=address,
        port=port,
        port_range=ranges.iana_range(port),
        os_ephemeral=port in EPHEMERAL,
        exposure=ranges.exposure(address),
        service={
            22: "ssh",
            53: "domain",
            68: "bootpc",
            80: "http",
            5353: "mdns",
            5432: "postgresql",
            6379: "redis",
            9100: "jetdirect",
        }.get(port),
        owners=tuple(
            Owner(pid, name, user, create_time=NOW - 3600, exe_facts=exe_facts(pid)) for pid, name, user in owners
        ),
        owner_status=status,
        socket_user=socket_user,
        autobound=(address, port) in AUTOBOUND if kind is Proto.UDP else None,
    )


def sample_listeners(hostile: bool = False) -> tuple[Listener, ...]:
    rows = [
        listener("tcp", "0.0.0.0", 22, [(812, "sshd", "root")]),
        listener("tcp", "127.0.0.53", 53, [(640, "systemd-resolve", "systemd-resolve")]),
        listener("udp", "127.0.0.53", 53, [(640, "systemd-resolve", "systemd-resolve")]),
        listener("udp", "0.0.0.0", 68, [(702, "dhclient", "root")]),
        listener(
            "tcp", "::", 80, [(1201, "nginx", "www-data"), (1202, "nginx", "www-data"), (1203, "nginx", "www-data")]
        ),
        listener("tcp", "0.0.0.0", 3000, [(4242, "node", "dev")]),
        listener("udp", "0.0.0.0", 5353, status=OwnerStatus.HIDDEN, socket_user="avahi"),
        listener("tcp", "127.0.0.1", 5432, [(990, "postgres", "postgres")]),
        listener("tcp", "127.0.0.1", 6379, [(1010, "redis-server", "redis")]),
        listener("tcp", "127.0.0.1", 8080, [(5150, "python3", "dev")]),
        listener("tcp", "192.168.1.20", 9100, [(733, "node_exporter", "prometheus")]),
        listener("tcp", "127.0.0.1", 41235, [(6021, "code", "dev")]),
        listener("tcp", "127.0.0.1", 50051, [(6100, "grpc-server", "dev")]),
        listener("udp", "0.0.0.0", 54321, status=OwnerStatus.HIDDEN, socket_user="nobody"),
        listener("tcp", "::1", 63342, [(6021, "code", "dev")]),
    ]
    if hostile:
        rows.append(listener("tcp", "127.0.0.1", 31337, [(6666, HOSTILE_NAME, "mallory")]))
    return tuple(sorted(rows, key=lambda entry: (entry.port, entry.proto.value, entry.address)))


def sample_scan(hostile: bool = False, listeners: tuple[Listener, ...] | None = None) -> Scan:
    return Scan(
        listeners if listeners is not None else sample_listeners(hostile),
        EPHEMERAL,
        privileged=False,
        source="fixed",
        taken_at=NOW,
    )


class FixedCollector:
    """Returns the given scans in turn, then the last one forever: the seam the real collectors use."""

    source = "fixed"

    def __init__(self, *scans: Scan) -> None:
        self.scans = list(scans) or [sample_scan()]
        self.calls = 0

    def scan(self) -> Scan:
        self.calls += 1
        return self.scans[min(self.calls, len(self.scans)) - 1]


def sample_details(pid: int) -> ProcessDetails:
    if pid == 812:
        return ProcessDetails(
            pid=812,
            state=ProcessState.OK,
            name="sshd",
            exe="/usr/sbin/sshd",
            cmdline=("sshd: /usr/sbin/sshd", "-D", "[listener]", "0 of 10-100 startups"),
            cwd="/",
            user="root",
            parents=(ProcessLink(1, "systemd"),),
            create_time=NOW - 3 * 86400 - 7200,
            status="sleeping",
            cpu_percent=0.0,
            memory_rss=9_437_184,
            memory_percent=0.2,
            threads=1,
            open_fds=5,
            listening=("tcp 0.0.0.0:22",),
            connection_states=(("ESTABLISHED", 2),),
        )
    if pid in (1201, 1202, 1203):
        return ProcessDetails(
            pid=pid,
            state=ProcessState.OK,
            name="nginx",
            exe="/usr/sbin/nginx",
            cmdline=("nginx: worker process",),
            cwd=None,
            user="www-data",
            parents=(ProcessLink(1200, "nginx"), ProcessLink(1, "systemd")),
            create_time=NOW - 5400,
            status="sleeping",
            cpu_percent=1.5,
            memory_rss=7_340_032,
            memory_percent=0.1,
            threads=1,
            open_fds=None,
            listening=("tcp [::]:80",),
            connection_states=(("ESTABLISHED", 14), ("TIME_WAIT", 3)),
            denied=("cwd", "open files"),
        )
    if pid == 6666:
        return ProcessDetails(
            pid=6666,
            state=ProcessState.OK,
            name=HOSTILE_NAME,
            exe="/tmp/\x1b[2Jevil",
            cmdline=("[/]", "[@click=app.quit]", "[bold red]x", "\x1b]52;c;aGk=\x07", "\x1b[2J"),
            cwd="/tmp",
            user="mallory",
            parents=(ProcessLink(1, "systemd"),),
            create_time=NOW - 60,
            status="sleeping",
            cpu_percent=99.0,
            memory_rss=1024,
            memory_percent=0.0,
            threads=1,
            open_fds=3,
            listening=("tcp 127.0.0.1:31337",),
        )
    if pid == 7321:
        return ProcessDetails(
            pid=7321,
            state=ProcessState.OK,
            name="python3",
            exe="/tmp/build/python3",
            cmdline=("/tmp/build/python3", "-m", "http.server", "8000"),
            cwd="/tmp/build",
            user="dev",
            parents=(ProcessLink(7300, "bash"), ProcessLink(1, "systemd")),
            create_time=NOW - 5,
            status="sleeping",
            cpu_percent=0.3,
            memory_rss=21_495_808,
            memory_percent=0.3,
            threads=1,
            open_fds=4,
            listening=("tcp 0.0.0.0:8000",),
        )
    if pid == 4242:
        return ProcessDetails(pid=4242, state=ProcessState.EXITED)
    return ProcessDetails(pid=pid, state=ProcessState.DENIED)


class FixedInspector(ProcessInspector):
    """Process details from the table above instead of psutil."""

    def inspect(self, pid: int) -> ProcessDetails:
        return sample_details(pid)


def write_baseline(path: Path, listeners: Sequence[Listener]) -> Path:
    """A baseline file expecting ``listeners``, rendered as `portwatch baseline save` would."""
    text = "version = 1\n" + "".join("\n" + render_entry(*entry_for(entry)) for entry in listeners)
    path.write_text(text, encoding="utf-8")
    return path


def expected_listeners() -> tuple[Listener, ...]:
    """What the fixed machine's baseline expects: everything in sample_listeners() but the hostile one."""
    return sample_listeners(hostile=False)
