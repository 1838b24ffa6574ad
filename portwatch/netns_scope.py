"""Which network namespaces a command shows (`--netns all|host|NAME|INODE`) and the line that says so. Pure."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable

from portwatch.model import Listener, Netns, NetnsKind, Scan

ALL, HOST = "all", "host"


class NetnsChoiceError(ValueError):
    """--netns named a namespace this scan did not find."""


def collector_scope(choice: str | None) -> str:
    """What the collector must read for ``choice``: "auto" (unset), "host", or "all" (a NAME needs them all)."""
    if choice is None:
        return "auto"
    return HOST if choice == HOST else ALL


def find(choice: str, namespaces: Iterable[Netns]) -> Netns:
    """The namespace ``choice`` names: "host", an inode, a name or a label (``pod ns/name``)."""
    spaces = list(namespaces)
    for netns in spaces:
        if choice == HOST and netns.is_host:
            return netns
        if choice.isdigit() and int(choice) == netns.inode:
            return netns
        if choice in (netns.name, netns.label):
            return netns
    known = ", ".join(netns.label for netns in spaces[:12]) or "none"
    raise NetnsChoiceError(f"no network namespace {choice!r} (known: {known})")


def keep(choice: str | None, scan: Scan) -> Callable[[Listener], bool]:
    """A test of one listener for ``choice``; raises NetnsChoiceError for a NAME/INODE the scan lacks."""
    if choice is None or choice == ALL:
        return lambda _entry: True
    if choice == HOST:
        return lambda entry: entry.netns.is_host
    wanted = find(choice, scan.namespaces).inode
    return lambda entry: entry.netns.inode == wanted


def kind_counts(namespaces: Iterable[Netns]) -> list[tuple[NetnsKind, int]]:
    """How many namespaces of each kind, in NetnsKind order, kinds with none left out."""
    counts = Counter(netns.kind for netns in namespaces)
    return [(kind, counts[kind]) for kind in NetnsKind if counts[kind]]


def unseen_line(scan: Scan) -> str | None:
    """The honest line for a scan that read only the host (no root): what else exists, and how to see it."""
    unseen = scan.unseen_namespaces
    if unseen is None:
        return None
    if not scan.privileged:
        if not unseen:
            return (
                "network namespaces: host only (not root); this user sees no other namespace, but there may "
                "be some: sudo portwatch shows every namespace"
            )
        return (
            f"network namespaces: host only (not root); {unseen} other namespace{'s' if unseen != 1 else ''} "
            "exist that this user can see, maybe more: sudo portwatch shows their listeners"
        )
    return f"network namespaces: host only (--netns host); {unseen} other{'s' if unseen != 1 else ''} not read"


def scope_line(scan: Scan, choice: str | None) -> str | None:
    """One line for stderr saying which namespaces a listing covers; None where the collector does not look."""
    unseen = unseen_line(scan)
    if unseen is not None:
        return unseen
    if not scan.namespaces:
        return None
    counts = ", ".join(f"{kind.value} {count}" for kind, count in kind_counts(scan.namespaces))
    total = len(scan.namespaces)
    if choice in (None, ALL):
        default = " (default as root)" if choice is None else ""
        return f"network namespaces: all {total}{default}: {counts}"
    netns = find(choice, scan.namespaces)
    return f"network namespaces: {netns.label} ({netns.kind.value}, inode {netns.inode}) of {total}: {counts}"
