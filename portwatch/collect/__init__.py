"""Every read of the OS. Outside this package, only these factories and records are used:
:func:`get_collector` picks the best socket reader for this platform, :func:`get_inspector` reads process
details for the panel and `who`."""

from __future__ import annotations

import sys

from portwatch.collect.base import Collector, Fingerprint, Inspector, RawSocket, build_scan, fingerprint_of

__all__ = ["COLLECTOR_NAMES", "Collector", "Fingerprint", "Inspector", "RawSocket", "build_scan", "fingerprint_of",
           "get_collector", "get_inspector"]

#: Names accepted by ``--collector``; "auto" picks the fastest that works here.
COLLECTOR_NAMES = ("auto", "linux", "psutil")


def get_collector(name: str = "auto") -> Collector:
    """The collector called ``name``; "auto" is the Linux one on Linux and psutil's elsewhere."""
    if name not in COLLECTOR_NAMES:
        raise ValueError(f"unknown collector {name!r} (choose from {', '.join(COLLECTOR_NAMES)})")
    if name == "linux" or (name == "auto" and sys.platform.startswith("linux")):
        from portwatch.collect.linux import LinuxCollector

        return LinuxCollector()
    from portwatch.collect.psutil_collector import PsutilCollector

    return PsutilCollector()


def get_inspector() -> Inspector:
    """Process details (exe, cmdline, parents, CPU, sockets); psutil is imported only when this is called."""
    from portwatch.collect.process import ProcessInspector

    return ProcessInspector()
