"""This OS's ephemeral (automatic) port range: /proc on Linux, sysctl on BSD and macOS, netsh on Windows."""

from __future__ import annotations

import functools
import sys
from pathlib import Path

from portwatch.model import EphemeralRange, PortSpan
from portwatch.ranges import IANA_DYNAMIC, parse_netsh_dynamicport, parse_span_list

LINUX_PORT_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
LINUX_RESERVED_PORTS = Path("/proc/sys/net/ipv4/ip_local_reserved_ports")


def _linux_ephemeral() -> EphemeralRange:
    first, last = (int(v) for v in LINUX_PORT_RANGE.read_text().split())
    try:
        reserved = parse_span_list(LINUX_RESERVED_PORTS.read_text())
    except (OSError, ValueError):
        reserved = ()
    return EphemeralRange(PortSpan(first, last), reserved, str(LINUX_PORT_RANGE))


def namespace_ephemeral() -> EphemeralRange | None:
    """The ephemeral range of the calling thread's network namespace (each namespace has its own; read by a
    thread that entered it), None where unreadable."""
    try:
        return _linux_ephemeral()
    except (OSError, ValueError):
        return None


def _command(argv: list[str], timeout: float) -> str:
    """A command's output; its failure as OSError. (subprocess is imported here: Linux never runs one for
    this, and importing it would add to `portwatch list`'s start-up.)"""
    import subprocess

    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=True).stdout
    except subprocess.SubprocessError as error:
        raise OSError(f"{argv[0]}: {error}") from error


def _bsd_ephemeral() -> EphemeralRange:
    values = []
    for name in ("net.inet.ip.portrange.first", "net.inet.ip.portrange.last"):
        values.append(int(_command(["sysctl", "-n", name], timeout=2).strip()))
    return EphemeralRange(PortSpan(values[0], values[1]), (), "sysctl net.inet.ip.portrange")


def _windows_ephemeral() -> EphemeralRange:
    out = _command(["netsh", "int", "ipv4", "show", "dynamicport", "tcp"], timeout=5)
    return EphemeralRange(parse_netsh_dynamicport(out), (), "netsh int ipv4 show dynamicport tcp")


@functools.lru_cache(maxsize=1)
def os_ephemeral_range() -> EphemeralRange:
    """This OS's automatic (ephemeral) port range, read once; IANA's 49152-65535 when it cannot be read."""
    try:
        if sys.platform.startswith("linux"):
            return _linux_ephemeral()
        if sys.platform == "darwin" or "bsd" in sys.platform:
            return _bsd_ephemeral()
        if sys.platform == "win32":
            return _windows_ephemeral()
    except (OSError, ValueError):
        pass
    return EphemeralRange(IANA_DYNAMIC, (), "default (IANA 49152-65535; the OS range could not be read)")
