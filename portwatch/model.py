"""The frozen records that every layer passes to every other: nothing else crosses a layer boundary.

Strings in these records are exactly what the OS reported (process names, cmdlines, paths, user names):
untrusted. They are made safe only where they are shown, by :func:`portwatch.text.safe`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import NamedTuple

# Re-exported: the process-detail records (the process panel, `who`) and network namespaces are part of the model.
from portwatch.details import ProcessDetails as ProcessDetails
from portwatch.details import ProcessLink as ProcessLink
from portwatch.details import ProcessState as ProcessState
from portwatch.netns import HOST_NETNS as HOST_NETNS
from portwatch.netns import HOST_REF as HOST_REF
from portwatch.netns import LinkDirection as LinkDirection
from portwatch.netns import Netns as Netns
from portwatch.netns import NetnsKind as NetnsKind
from portwatch.netns import NetnsRef as NetnsRef
from portwatch.netns import PortLink as PortLink

# Re-exported: the records naming an owner's unit, container, pod and package are part of the model.
from portwatch.occupants import ContainerRef as ContainerRef
from portwatch.occupants import PackageFacts as PackageFacts
from portwatch.occupants import PodRef as PodRef
from portwatch.occupants import UnitRef as UnitRef
from portwatch.text import host_port


class Proto(str, enum.Enum):
    TCP = "tcp"
    UDP = "udp"


class Family(str, enum.Enum):
    IPV4 = "IPv4"
    IPV6 = "IPv6"


class PortRange(str, enum.Enum):
    """IANA port classes (RFC 6335 section 6)."""

    WELL_KNOWN = "well-known"
    REGISTERED = "registered"
    DYNAMIC = "dynamic"


class Exposure(str, enum.Enum):
    """Who can reach a listener, judged from its bind address."""

    LOOPBACK = "loopback"
    SPECIFIC = "specific"
    ALL = "all"
    #: Every interface of a network namespace other than the host's (a container's, a pod's, an `ip netns`):
    #: reachable from inside that namespace and through whatever publishes it, never from all the host's.
    NAMESPACE = "netns"


class OwnerStatus(str, enum.Enum):
    """Whether the processes holding a socket could be named, and if not, why."""

    KNOWN = "known"
    #: The socket belongs to a process we may not inspect (not root): sudo reveals it.
    HIDDEN = "hidden"
    #: No process holds it that we can see: another network namespace, the kernel, or it just exited.
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class PortSpan:
    """An inclusive span of ports, e.g. the OS ephemeral range."""

    first: int
    last: int

    def __contains__(self, port: object) -> bool:
        return isinstance(port, int) and self.first <= port <= self.last

    def __str__(self) -> str:
        return f"{self.first}-{self.last}"


@dataclass(frozen=True, slots=True)
class EphemeralRange:
    """The ports this OS hands out automatically, and where that knowledge came from."""

    span: PortSpan
    #: Ports excluded from automatic assignment (Linux ip_local_reserved_ports).
    reserved: tuple[PortSpan, ...] = ()
    #: Where the span was read, e.g. "/proc/sys/net/ipv4/ip_local_port_range", or "default".
    source: str = "default"

    def __contains__(self, port: object) -> bool:
        return port in self.span and not any(port in r for r in self.reserved)


@dataclass(frozen=True, slots=True)
class ExeFacts:
    """What the collector saw of an owner's executable file this scan (it can change at any moment)."""

    #: The path the process was started from ("(deleted)" removed); None when unreadable or a kernel thread.
    path: str | None = None
    #: The file at ``path`` was unlinked after start.
    deleted: bool = False
    #: ...and something else now sits at that path (an upgrade that awaits a restart, or a swap).
    replaced: bool = False
    #: The process runs from an anonymous in-memory file (memfd_create + fexecve): no file on disk at all.
    fileless: bool = False
    #: Why the file's location is one anyone can write to, e.g. "/tmp" or "a world-writable directory".
    risky_place: str | None = None


NO_EXE_FACTS = ExeFacts()


@dataclass(frozen=True, slots=True)
class Owner:
    """One process holding a listening socket, as seen at scan time."""

    pid: int
    name: str
    #: The effective user (what ps and lsof show): whose rights the process acts with.
    user: str | None = None
    exe: str | None = None
    cmdline: tuple[str, ...] = ()
    #: Seconds since the epoch; with pid it identifies the process (pids are reused).
    create_time: float | None = None
    #: The executable file as the collector found it on this scan.
    exe_facts: ExeFacts = NO_EXE_FACTS
    #: The systemd unit of its cgroup; None when it is in none (or not on Linux).
    unit: UnitRef | None = None
    #: The container it runs in (Docker, Podman, containerd, CRI-O); None on the host.
    container: ContainerRef | None = None
    #: The Kubernetes pod it runs in; None outside Kubernetes.
    pod: PodRef | None = None
    #: Its executable's package; None when not looked up (package lookups are asked for: `who`, the TUI).
    package: PackageFacts | None = None
    #: The real user, only where it differs from the effective ``user`` (a daemon that switched its euid).
    real_user: str | None = None

    @property
    def occupant(self) -> str | None:
        """Who this is, as a sysadmin names it: the pod, else the container, else the unit (plain, unsafe)."""
        if self.pod is not None:
            return self.pod.text + (f" · {self.container.name}" if self.container and self.container.name else "")
        if self.container is not None:
            return self.container.text
        return self.unit.text if self.unit is not None else None


class FlagCode(str, enum.Enum):
    """Why a listener deserves a look. The values are stable: scripts, baselines and tests key on them."""

    DYNAMIC_EXPOSED = "dynamic-exposed"
    EXE_DELETED = "exe-deleted"
    NEEDS_RESTART = "needs-restart"
    EXE_MISSING = "exe-missing"
    EXE_IN_TEMP = "exe-in-temp"
    EXE_MODIFIED = "exe-modified"
    NAME_MISMATCH = "name-mismatch"
    OWNER_HIDDEN = "owner-hidden"
    OWNER_UNKNOWN = "owner-unknown"
    NOT_IN_BASELINE = "not-in-baseline"
    UDP_CLIENT = "udp-client"


@dataclass(frozen=True, slots=True)
class Flag:
    """A reason a listener deserves a look, phrased so a human can act on it.

    ``code`` is stable (scripts and tests key on it); ``reason`` is one line, already made safe by
    :func:`portwatch.text.safe` where it quotes process-supplied text (still show it as Text, not markup).
    """

    code: FlagCode
    reason: str
    #: Worth showing but not alarming: `portwatch check` and alerts ignore it (e.g. "udp-client").
    informational: bool = False


class ListenerKey(NamedTuple):
    """A listener's identity across scans: pids change when a service restarts, the address does not.

    Code reads its fields by name, never by position, so a new field (the network namespace) is one change.
    """

    proto: str
    address: str
    port: int
    #: The network namespace (equal by inode; the host's is inode 0 so host keys read as before).
    netns: NetnsRef = HOST_REF

    @property
    def text(self) -> str:
        """``tcp 127.0.0.1:8080``; in another namespace ``[netns web-1] tcp 0.0.0.0:80``."""
        base = f"{self.proto} {host_port(self.address, self.port)}"
        return base if not self.netns.inode else f"[netns {self.netns.label}] {base}"


@dataclass(frozen=True, slots=True)
class Listener:
    """One listening socket address: a TCP socket in LISTEN or a bound, unconnected UDP socket.

    Sockets sharing protocol, address and port (SO_REUSEPORT workers, a pre-fork server's children) are one
    listener with all their owners.
    """

    proto: Proto
    family: Family
    address: str
    port: int
    port_range: PortRange
    os_ephemeral: bool
    exposure: Exposure
    service: str | None = None
    owners: tuple[Owner, ...] = ()
    owner_status: OwnerStatus = OwnerStatus.KNOWN
    #: Why no owner could be named, from what the collector could find out (socket activation, a kernel
    #: socket, unreadable fds, hidepid, a PID namespace); None when an owner is known or nothing was found.
    owner_reason: str | None = None
    #: Name of the socket's owning user, known from the kernel even when its process is hidden.
    socket_user: str | None = None
    #: Socket inodes behind this listener (Linux); empty where the platform does not say.
    inodes: tuple[int, ...] = ()
    #: An IPv6 wildcard ("::") socket that also accepts IPv4 (IPV6_V6ONLY off, Linux's default): it shows
    #: only in the IPv6 table yet serves both. None where the platform cannot tell.
    dual_stack: bool | None = False
    #: UDP: the kernel bound this socket automatically for a client (Linux's sock_diag says exactly);
    #: None where the collector cannot tell.
    autobound: bool | None = None
    #: The RPC program registered with rpcbind on this port and protocol (e.g. "100024 status"): evidence that
    #: a socket the kernel auto-bound serves. None when nothing registered it or no rpcbind answered.
    rpc_program: str | None = None
    #: The network namespace the socket lives in.
    netns: Netns = HOST_NETNS
    #: SO_BINDTODEVICE (or an IPv6 scope): the interface the socket is bound to; ``address`` then ends in
    #: ``%DEV`` as ss writes it. None when bound to no device.
    device: str | None = None
    #: Published-port ties: on a host placeholder/proxy, the container listener it forwards to; on that
    #: inner listener, the host address that publishes it.
    links: tuple[PortLink, ...] = ()
    #: Suspicion flags: empty as collected; portwatch.judge fills them (a JudgedScan's listeners).
    flags: tuple[Flag, ...] = ()

    @property
    def key(self) -> ListenerKey:
        """Identity across scans: pids change when a service restarts, the address does not."""
        return ListenerKey(self.proto.value, self.address, self.port, NetnsRef.of(self.netns))

    @property
    def pids(self) -> tuple[int, ...]:
        return tuple(o.pid for o in self.owners)

    @property
    def process_name(self) -> str | None:
        names = dict.fromkeys(o.name for o in self.owners)
        return ",".join(names) if names else None

    @property
    def user(self) -> str | None:
        users = dict.fromkeys(o.user for o in self.owners if o.user)
        return ",".join(users) if users else self.socket_user


@dataclass(frozen=True, slots=True)
class Scan:
    """Everything one collection pass saw."""

    listeners: tuple[Listener, ...]
    ephemeral: EphemeralRange
    #: True when the scan could inspect every process (root, or the platform needs no privilege).
    privileged: bool
    #: Which collector produced this, e.g. "netlink", "procfs", "psutil".
    source: str
    taken_at: float
    #: Problems worth telling the user that did not stop the scan.
    warnings: tuple[str, ...] = field(default=())
    #: The network namespaces this scan read (host first); empty where the collector does not look.
    namespaces: tuple[Netns, ...] = ()
    #: Namespaces that exist but were not read (another user's, or --netns host), None when not counted.
    unseen_namespaces: int | None = None

    @property
    def hidden_owners(self) -> int:
        return sum(1 for entry in self.listeners if entry.owner_status is OwnerStatus.HIDDEN)
