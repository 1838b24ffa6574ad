"""Network namespaces in the model: what a namespace is and is called, its key part, and published-port ties.

Re-exported by :mod:`portwatch.model` (import them from there); a module of their own keeps model.py short.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from portwatch.text import host_port


class NetnsKind(str, enum.Enum):
    """What keeps a network namespace, as users name it."""

    HOST = "host"
    CONTAINER = "container"
    POD = "pod"
    #: An `ip netns` name (a bind mount under /run/netns).
    NAMED = "named"
    #: Nothing names it (e.g. `unshare -n`): shown by its inode.
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Netns:
    """A network namespace: its nsfs inode (its identity while it lives), what it is and its name."""

    inode: int
    kind: NetnsKind
    #: "host", the `ip netns` name, the container's name, "NAMESPACE/POD", or the inode as text.
    name: str

    @property
    def is_host(self) -> bool:
        return self.kind is NetnsKind.HOST

    @property
    def label(self) -> str:
        """How a row names it: ``host``, ``web-1``, ``pod default/api``, ``4026532301``."""
        return f"pod {self.name}" if self.kind is NetnsKind.POD else self.name


#: The namespace of a listener whose collector does not look at namespaces (psutil, /proc/net, fixed data).
HOST_NETNS = Netns(0, NetnsKind.HOST, "host")


@dataclass(frozen=True, slots=True)
class NetnsRef:
    """A namespace inside a ListenerKey: equal by inode alone (0 = the host), carrying the label to print."""

    inode: int = 0
    label: str = field(default="host", compare=False)

    @classmethod
    def of(cls, netns: Netns) -> NetnsRef:
        return HOST_REF if netns.is_host else cls(netns.inode, netns.label)


HOST_REF = NetnsRef()


class LinkDirection(str, enum.Enum):
    """Which end of a published port a row is."""

    #: This row is the host side (a placeholder such as conmon, or a proxy): it forwards into a container.
    TO_CONTAINER = "to-container"
    #: This row is the listener inside the container; the host publishes it.
    FROM_HOST = "from-host"


@dataclass(frozen=True, slots=True)
class PortLink:
    """A published port seen from one end: where the other end is, and what told us."""

    direction: LinkDirection
    #: The other end's namespace (the container's for TO_CONTAINER, the host's for FROM_HOST).
    netns: Netns
    address: str
    port: int
    #: What ties the two: "conmon" (Podman's port placeholder), "docker-proxy", "dnat" (a nat rule).
    via: str
    #: The container's name (as its runtime names it), where known.
    container: str | None = None

    @property
    def text(self) -> str:
        """``published by container web-1 → its port 8080`` / ``published on host 127.0.0.1:18080``."""
        if self.direction is LinkDirection.TO_CONTAINER:
            who = f"container {self.container}" if self.container else f"netns {self.netns.label}"
            return f"published by {who} → its port {self.port}"
        return f"published on host {host_port(self.address, self.port)}"
