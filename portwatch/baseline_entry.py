"""One baseline entry and how it matches a listener: every key it has must hold, never a pid.

Process keys (``exe``, ``name``, ``user``) and occupant keys (``unit``, ``container``, ``package``) must hold
for every process sharing the socket. An owner we could not see (hidden, or its package not looked up) leaves
its key unchecked: the match is then ``VISIBLE``, not ``FULL``. A process outside any unit or container, or an
executable no package owns, fails an entry that names one.

- ``unit``: the systemd unit name, e.g. "nginx.service" (a user unit matches by its name too).
- ``container``: the container's name or its image ("nginx:1.27"; an image given without its tag matches
  any tag of it).
- ``netns``: the kind of network namespace: host, container, pod, named or other. Listeners carry it once
  portwatch reads every namespace; until then every listener is on the host.
- ``package``: the package that installed the executable (dpkg/rpm), e.g. "openssh-server".
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from portwatch.model import Exposure, Listener, Owner, PortSpan, Proto

#: The network namespace kinds an entry may name.
NETNS_KINDS = ("host", "container", "pod", "named", "other")


def netns_kind(listener: Listener) -> str:
    """The kind of the listener's network namespace; "host" where the listener carries none."""
    kind = getattr(getattr(listener, "netns", None), "kind", None)
    if kind is None:
        return "host"
    return str(getattr(kind, "value", kind))


def _image_matches(wanted: str, image: str | None) -> bool:
    if not image:
        return False
    if image == wanted:
        return True
    repository = image.split("@", 1)[0]
    if ":" in repository.rsplit("/", 1)[-1]:
        repository = repository.rsplit(":", 1)[0]
    return repository == wanted or repository.rsplit("/", 1)[-1] == wanted


def _container(owner: Owner, wanted: str) -> str | None:
    """The owner's container as the entry sees it: ``wanted`` itself when its name or image matches."""
    found = owner.container
    if found is None:
        return ""
    return wanted if found.name == wanted or _image_matches(wanted, found.image) else found.name or found.id


def _unit(owner: Owner) -> str | None:
    return owner.unit.name if owner.unit is not None else ""


def _package(owner: Owner) -> str | None:
    if owner.package is None:
        return None  # not looked up: unchecked, like a hidden owner's exe
    return owner.package.name or ""


class Match(enum.Enum):
    NONE = "none"
    #: Every key holds.
    FULL = "full"
    #: Every key we could check holds; exe/name/user could not be checked because the owner is hidden.
    VISIBLE = "visible"


@dataclass(frozen=True, slots=True)
class Entry:
    """One allowlist entry; None means "any"."""

    proto: Proto | None = None
    ports: PortSpan | None = None
    exe: str | None = None
    name: str | None = None
    user: str | None = None
    exposure: Exposure | None = None
    note: str | None = None
    #: Where the entry starts in its file, for messages.
    line: int | None = None
    unit: str | None = None
    container: str | None = None
    netns: str | None = None
    package: str | None = None

    def match(self, listener: Listener) -> Match:
        if self.proto is not None and listener.proto is not self.proto:
            return Match.NONE
        if self.ports is not None and listener.port not in self.ports:
            return Match.NONE
        if self.exposure is not None and listener.exposure is not self.exposure:
            return Match.NONE
        if self.netns is not None and netns_kind(listener) != self.netns:
            return Match.NONE
        owners = listener.owners
        users = [o.user for o in owners] if owners else [listener.socket_user]
        checks: list[tuple[str | None, list[str | None]]] = [
            (self.user, users),
            (self.exe, [o.exe for o in owners]),
            (self.name, [o.name or None for o in owners]),
            (self.unit, [_unit(o) for o in owners]),
            (self.package, [_package(o) for o in owners]),
        ]
        if self.container is not None:
            checks.append((self.container, [_container(o, self.container) for o in owners]))
        unseen = False
        for wanted, seen in checks:
            if wanted is None:
                continue
            if any(value is not None and value != wanted for value in seen):
                return Match.NONE
            unseen = unseen or not seen or None in seen
        return Match.VISIBLE if unseen else Match.FULL
