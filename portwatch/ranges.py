"""Port classes: IANA's ranges, this OS's ephemeral range, exposure and service names. Pure but for OS reads."""

from __future__ import annotations

import functools
import ipaddress
import socket
import sys
from pathlib import Path

from portwatch.model import EphemeralRange, Exposure, PortRange, PortSpan, Proto

WELL_KNOWN_LAST = 1023
REGISTERED_LAST = 49151
PORT_MAX = 65535

#: RFC 6335's dynamic range: what BSD, macOS and Windows use, and our fallback when the OS will not say.
IANA_DYNAMIC = PortSpan(REGISTERED_LAST + 1, PORT_MAX)

LINUX_PORT_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
LINUX_RESERVED_PORTS = Path("/proc/sys/net/ipv4/ip_local_reserved_ports")


def iana_range(port: int) -> PortRange:
    """IANA class of a port: 0-1023 well-known, 1024-49151 registered, 49152-65535 dynamic."""
    if not 0 <= port <= PORT_MAX:
        raise ValueError(f"port {port} is outside 0-{PORT_MAX}")
    if port <= WELL_KNOWN_LAST:
        return PortRange.WELL_KNOWN
    if port <= REGISTERED_LAST:
        return PortRange.REGISTERED
    return PortRange.DYNAMIC


def parse_span_list(text: str) -> tuple[PortSpan, ...]:
    """Parse Linux's "8080,9000-9010" reserved-ports syntax; an empty text is no spans."""
    spans: list[PortSpan] = []
    for part in text.replace("\n", ",").split(","):
        part = part.strip()
        if not part:
            continue
        first, _, last = part.partition("-")
        spans.append(PortSpan(int(first), int(last or first)))
    return tuple(spans)


def _linux_ephemeral() -> EphemeralRange:
    first, last = (int(v) for v in LINUX_PORT_RANGE.read_text().split())
    try:
        reserved = parse_span_list(LINUX_RESERVED_PORTS.read_text())
    except (OSError, ValueError):
        reserved = ()
    return EphemeralRange(PortSpan(first, last), reserved, str(LINUX_PORT_RANGE))


def _command(argv: list[str], timeout: float) -> str:
    """A command's output; its failure as OSError. (subprocess is imported here: Linux never runs one for
    this, and importing it would cost `portwatch list` ~4 ms of its start-up.)"""
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


def parse_netsh_dynamicport(text: str) -> PortSpan:
    """Read `netsh int ipv4 show dynamicport tcp`: "Start Port : 49152" / "Number of Ports : 16384"."""
    numbers = [int(line.rsplit(":", 1)[1]) for line in text.splitlines() if ":" in line
               and line.rsplit(":", 1)[1].strip().isdigit()]
    if len(numbers) < 2:
        raise ValueError("netsh output has no start port and count")
    start, count = numbers[0], numbers[1]
    return PortSpan(start, start + count - 1)


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


@functools.lru_cache(maxsize=4096)
def exposure(address: str) -> Exposure:
    """Loopback only, every interface (0.0.0.0 / ::), or one specific address."""
    host = address.split("%", 1)[0]  # drop an IPv6 zone id such as fe80::1%eth0
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return Exposure.SPECIFIC
    if ip.is_unspecified:
        return Exposure.ALL
    if ip.is_loopback or (isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None
                          and ip.ipv4_mapped.is_loopback):
        return Exposure.LOOPBACK
    return Exposure.SPECIFIC


@functools.lru_cache(maxsize=4096)
def service_name(port: int, proto: Proto) -> str | None:
    """The system services database's name for a port (e.g. 22/tcp -> "ssh"), or None."""
    try:
        return socket.getservbyport(port, proto.value)
    except (OSError, OverflowError):
        return None
