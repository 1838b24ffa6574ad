"""IANA classes, the OS ephemeral range, exposure and service names."""

from __future__ import annotations

import pytest

from portwatch import ranges
from portwatch.model import EphemeralRange, Exposure, PortRange, PortSpan, Proto


@pytest.mark.parametrize(
    ("port", "expected"),
    [
        (0, PortRange.WELL_KNOWN),
        (1023, PortRange.WELL_KNOWN),
        (1024, PortRange.REGISTERED),
        (49151, PortRange.REGISTERED),
        (49152, PortRange.DYNAMIC),
        (65535, PortRange.DYNAMIC),
    ],
)
def test_iana_range_boundaries_are_exact(port: int, expected: PortRange) -> None:
    assert ranges.iana_range(port) is expected


@pytest.mark.parametrize("port", [-1, 65536])
def test_iana_range_rejects_ports_outside_0_65535(port: int) -> None:
    with pytest.raises(ValueError, match="outside"):
        ranges.iana_range(port)


def test_ephemeral_range_differs_from_iana_at_its_edges() -> None:
    linux_default = EphemeralRange(PortSpan(32768, 60999))
    assert 32768 in linux_default and ranges.iana_range(32768) is PortRange.REGISTERED
    assert 61000 not in linux_default and ranges.iana_range(61000) is PortRange.DYNAMIC


def test_reserved_ports_are_not_ephemeral() -> None:
    span = EphemeralRange(PortSpan(32768, 60999), ranges.parse_span_list("40000,50000-50010\n"))
    assert 40000 not in span and 50005 not in span
    assert 40001 in span and 50011 in span


def test_parse_span_list_accepts_empty_text() -> None:
    assert ranges.parse_span_list("\n") == ()


def test_netsh_dynamicport_output_is_parsed() -> None:
    text = (
        "\nProtocol tcp Dynamic Port Range\n---------------------------------\n"
        "Start Port      : 49152\nNumber of Ports : 16384\n"
    )
    assert ranges.parse_netsh_dynamicport(text) == PortSpan(49152, 65535)


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("127.0.0.1", Exposure.LOOPBACK),
        ("127.0.0.53", Exposure.LOOPBACK),
        ("::1", Exposure.LOOPBACK),
        ("::ffff:127.0.0.1", Exposure.LOOPBACK),
        ("0.0.0.0", Exposure.ALL),
        ("::", Exposure.ALL),
        ("192.0.2.7", Exposure.SPECIFIC),
        ("fe80::1%eth0", Exposure.SPECIFIC),
    ],
)
def test_exposure_is_judged_from_the_bind_address(address: str, expected: Exposure) -> None:
    assert ranges.exposure(address) is expected


def test_service_names_come_from_the_services_database() -> None:
    assert ranges.service_name(22, Proto.TCP) == "ssh"
    assert ranges.service_name(64999, Proto.UDP) is None
