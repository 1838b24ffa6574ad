"""Port classes: IANA's ranges, exposure and service names, and the parsers of the OS's range settings. Pure."""

from __future__ import annotations

import functools
import ipaddress
import socket

from portwatch.model import Exposure, PortRange, PortSpan, Proto

WELL_KNOWN_LAST = 1023
REGISTERED_LAST = 49151
PORT_MAX = 65535

#: RFC 6335's dynamic range: what BSD, macOS and Windows use, and our fallback when the OS will not say.
IANA_DYNAMIC = PortSpan(REGISTERED_LAST + 1, PORT_MAX)


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


def parse_netsh_dynamicport(text: str) -> PortSpan:
    """Read `netsh int ipv4 show dynamicport tcp`: "Start Port : 49152" / "Number of Ports : 16384"."""
    numbers = [
        int(line.rsplit(":", 1)[1])
        for line in text.splitlines()
        if ":" in line and line.rsplit(":", 1)[1].strip().isdigit()
    ]
    if len(numbers) < 2:
        raise ValueError("netsh output has no start port and count")
    start, count = numbers[0], numbers[1]
    return PortSpan(start, start + count - 1)


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
    if ip.is_loopback or (
        isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None and ip.ipv4_mapped.is_loopback
    ):
        return Exposure.LOOPBACK
    return Exposure.SPECIFIC


def exposure_in(address: str, device: str | None, host_namespace: bool) -> Exposure:
    """Exposure of a socket bound to ``address`` (and to ``device`` when SO_BINDTODEVICE'd or scoped), in the
    host's network namespace or another one: a wildcard inside a container is reachable from that namespace's
    interfaces only; a wildcard bound to one device from that device only (``%lo``: this machine)."""
    if device == "lo":
        return Exposure.LOOPBACK
    reach = exposure(address)
    if reach is Exposure.ALL and not host_namespace:
        return Exposure.NAMESPACE
    if reach is Exposure.ALL and device:
        return Exposure.SPECIFIC
    return reach


@functools.lru_cache(maxsize=4096)
def service_name(port: int, proto: Proto) -> str | None:
    """The system services database's name for a port (e.g. 22/tcp -> "ssh"), or None."""
    try:
        return socket.getservbyport(port, proto.value)
    except (OSError, OverflowError):
        return None
