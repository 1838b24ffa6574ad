"""Every read of the OS. Outside this package, only these factories and records are used:
:func:`get_collector` picks the best socket reader for this platform, :func:`get_inspector` reads process
details for the panel and `who`."""

from __future__ import annotations

import sys

from portwatch.collect.base import Collector, Inspector, RawSocket, build_scan

__all__ = ["COLLECTOR_NAMES", "Collector", "Inspector", "RawSocket", "build_scan", "get_collector", "get_inspector"]

#: Names accepted by ``--collector``; "auto" picks the fastest that works here.
COLLECTOR_NAMES = ("auto", "linux", "psutil")


def get_collector(name: str = "auto", netns: str = "auto") -> Collector:
    """The collector called ``name``; "auto" is the Linux one on Linux and psutil's elsewhere.

    ``netns`` ("auto", "all", "host"): which network namespaces the Linux collector reads; "auto" is all of
    them as root and the host's otherwise. psutil sees only its own namespace whatever is asked.
    """
    if name not in COLLECTOR_NAMES:
        raise ValueError(f"unknown collector {name!r} (choose from {', '.join(COLLECTOR_NAMES)})")
    if name == "linux" or (name == "auto" and sys.platform.startswith("linux")):
        from portwatch.collect.linux import LinuxCollector

        return LinuxCollector(netns=netns)
    from portwatch.collect.psutil_collector import PsutilCollector

    return PsutilCollector()


def get_inspector() -> Inspector:
    """Process details (exe, cmdline, parents, CPU, sockets); psutil is imported only when this is called."""
    from portwatch.collect.process import ProcessInspector

    return ProcessInspector()
