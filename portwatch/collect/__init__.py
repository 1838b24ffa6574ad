"""Every read of the OS. Outside this package, only these factories and records are used:
:func:`get_collector` picks the best socket reader for this platform, :func:`get_inspector` reads process
details for the panel and `who`; for another host, :func:`get_ssh_transport` runs commands there through the
system ssh client and :func:`get_fallback_collector` reads a host that has no portwatch (ss and /proc);
:func:`get_signaller` reads a stop's facts and sends its signal."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from portwatch.collect.base import Collector, Fingerprint, Inspector, RawSocket, Signaller, build_scan, fingerprint_of
from portwatch.collect.ssh import (
    REFUSED,
    Ran,
    RemoteReadError,
    SshError,
    SshProblem,
    SshTarget,
    SshTransport,
)
from portwatch.collect.ssh import classify as classify_ssh_failure

if TYPE_CHECKING:
    from portwatch.collect.remote_fallback import FallbackCollector

__all__ = [
    "COLLECTOR_NAMES",
    "REFUSED",
    "Collector",
    "Fingerprint",
    "Inspector",
    "Ran",
    "RawSocket",
    "RemoteReadError",
    "Signaller",
    "SshError",
    "SshProblem",
    "SshTarget",
    "SshTransport",
    "build_scan",
    "classify_ssh_failure",
    "fingerprint_of",
    "get_collector",
    "get_fallback_collector",
    "get_inspector",
    "get_signaller",
    "get_ssh_transport",
]

#: Names accepted by ``--collector``; "auto" picks the fastest that works here.
COLLECTOR_NAMES = ("auto", "linux", "psutil")


def get_collector(
    name: str = "auto", netns: str = "auto", *, packages: bool = True, package_budget: int | None = None
) -> Collector:
    """The collector called ``name``; "auto" is the Linux one on Linux and psutil's elsewhere. ``packages``:
    owners also carry their executable's package and whether it still matches it (dpkg/rpm; slower);
    ``package_budget``: at most that many bytes of executables checksummed per scan (the live view).

    ``netns`` ("auto", "all", "host"): which network namespaces the Linux collector reads; "auto" is all of
    them as root and the host's otherwise. psutil sees only its own namespace whatever is asked.
    """
    if name not in COLLECTOR_NAMES:
        raise ValueError(f"unknown collector {name!r} (choose from {', '.join(COLLECTOR_NAMES)})")
    if name == "linux" or (name == "auto" and sys.platform.startswith("linux")):
        from portwatch.collect.linux import LinuxCollector

        return LinuxCollector(netns=netns, packages=packages, package_budget=package_budget)
    from portwatch.collect.psutil_collector import PsutilCollector

    return PsutilCollector(packages=packages, package_budget=package_budget)


def get_inspector() -> Inspector:
    """Process details (exe, cmdline, parents, CPU, sockets); psutil is imported only when this is called."""
    from portwatch.collect.process import ProcessInspector

    return ProcessInspector()


def get_ssh_transport(target: SshTarget) -> SshTransport:
    """Commands on ``target`` over one reused ssh control connection (close() ends it)."""
    from portwatch.collect.ssh import SshTransport

    return SshTransport(target)


def get_fallback_collector(transport: SshTransport) -> FallbackCollector:
    """The listeners of a host without portwatch: `ss` and /proc in one round trip over ``transport``."""
    from portwatch.collect.remote_fallback import FallbackCollector

    return FallbackCollector(transport)


def get_signaller() -> Signaller:
    """Stop facts and signals: /proc and pidfds on Linux, psutil's scan-time process objects elsewhere."""
    from portwatch.collect.signals import ProcSignaller

    return ProcSignaller()
