"""The records that name who occupies a port beyond its pid: systemd unit, container, pod, package.

Re-exported by :mod:`portwatch.model` (import them from there). Strings are what the OS and the runtimes'
state files said: untrusted, made safe only where shown.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class UnitRef:
    """The systemd unit a process runs in, read from its cgroup path."""

    #: The unit's name, e.g. "nginx.service", "docker-<id>.scope", "session-3.scope".
    name: str
    #: The unit type: "service", "scope", "socket", "mount", "swap", or "session" for a login session scope.
    kind: str
    #: The uid whose user manager (user@UID.service) runs it; None for a system unit.
    user_uid: int | None = None

    @property
    def text(self) -> str:
        """``nginx.service``, ``pipewire.service (user 1000)``, ``login session 3``."""
        if self.kind == "session":
            return f"login session {self.name.removeprefix('session-').removesuffix('.scope')}"
        return self.name if self.user_uid is None else f"{self.name} (user {self.user_uid})"


@dataclass(frozen=True, slots=True)
class ContainerRef:
    """The container a process runs in: the id from its cgroup, name and image from the runtime's state."""

    #: "docker", "podman", "containerd", "cri-o", or "kubernetes" where only the kubepods path says so.
    runtime: str
    #: The full container id (64 hex digits).
    id: str
    name: str | None = None
    #: The image reference; None when the runtime's state has none (Podman ``--rootfs``) or was unreadable.
    image: str | None = None

    @property
    def text(self) -> str:
        """``pwtest (podman, image nginx:1.27)``, or the short id when the name is unknown."""
        label = self.name or self.id[:12]
        extra = f", image {self.image}" if self.image else ""
        return f"{label} ({self.runtime}{extra})"


@dataclass(frozen=True, slots=True)
class PodRef:
    """The Kubernetes pod a process runs in: the uid from its cgroup, namespace and name from the kubelet."""

    uid: str
    namespace: str | None = None
    name: str | None = None

    @property
    def text(self) -> str:
        """``pod kube-system/coredns-5d78c9869d-abcde``, or ``pod uid …`` when the kubelet's directory is absent."""
        if self.namespace and self.name:
            return f"pod {self.namespace}/{self.name}"
        return f"pod uid {self.uid}"


@dataclass(frozen=True, slots=True)
class PackageFacts:
    """Which package installed an executable, and whether the file still matches what the package recorded."""

    #: "dpkg" or "rpm"; None when no package database was found on this machine.
    manager: str | None
    #: The owning package; None when no package owns the file.
    name: str | None = None
    #: True: matches the recorded checksum; False: differs; None: not checked (see ``note``).
    verified: bool | None = None
    #: Why it was not checked, or what differs (one line).
    note: str | None = None
