"""Namespaces in the model and the pure choices around them: keys, exposure, --netns, published links."""

from __future__ import annotations

import pytest

from portwatch import netns_scope, ranges
from portwatch.model import (
    HOST_NETNS,
    EphemeralRange,
    Exposure,
    Family,
    LinkDirection,
    Listener,
    ListenerKey,
    Netns,
    NetnsKind,
    NetnsRef,
    PortLink,
    PortRange,
    PortSpan,
    Proto,
    Scan,
)

HOST = Netns(4026531833, NetnsKind.HOST, "host")
WEB = Netns(4026532301, NetnsKind.CONTAINER, "web-1")
API = Netns(4026532400, NetnsKind.POD, "default/api")
LAB = Netns(4026532500, NetnsKind.NAMED, "lab")


def listener(netns: Netns, address: str = "0.0.0.0", port: int = 80) -> Listener:
    return Listener(
        Proto.TCP,
        Family.IPV4,
        address,
        port,
        PortRange.WELL_KNOWN,
        False,
        ranges.exposure_in(address, None, netns.is_host),
        netns=netns,
    )


def scan(*listeners: Listener, unseen: int | None = None, privileged: bool = True) -> Scan:
    return Scan(
        listeners,
        EphemeralRange(PortSpan(32768, 60999)),
        privileged,
        "netlink",
        0.0,
        namespaces=(HOST, WEB, API, LAB),
        unseen_namespaces=unseen,
    )


def test_host_keys_read_as_before_and_others_carry_their_namespace() -> None:
    assert listener(HOST).key == ListenerKey("tcp", "0.0.0.0", 80)
    assert listener(HOST).key.text == "tcp 0.0.0.0:80"
    assert listener(WEB).key.text == "[netns web-1] tcp 0.0.0.0:80"
    assert listener(API).key.text == "[netns pod default/api] tcp 0.0.0.0:80"


def test_same_address_in_two_namespaces_is_two_keys_and_a_rename_keeps_the_key() -> None:
    assert listener(WEB).key != listener(LAB).key
    renamed = Netns(WEB.inode, NetnsKind.CONTAINER, "web-renamed")
    assert listener(renamed).key == listener(WEB).key
    assert NetnsRef(WEB.inode, "a") == NetnsRef(WEB.inode, "b")


def test_wildcard_inside_a_namespace_is_netns_and_loopback_stays_loopback() -> None:
    assert ranges.exposure_in("0.0.0.0", None, host_namespace=False) is Exposure.NAMESPACE
    assert ranges.exposure_in("::", None, host_namespace=False) is Exposure.NAMESPACE
    assert ranges.exposure_in("0.0.0.0", None, host_namespace=True) is Exposure.ALL
    assert ranges.exposure_in("127.0.0.1", None, host_namespace=False) is Exposure.LOOPBACK


def test_exposure_follows_the_bound_device() -> None:
    assert ranges.exposure_in("0.0.0.0%lo", "lo", host_namespace=True) is Exposure.LOOPBACK
    assert ranges.exposure_in("0.0.0.0%eth0", "eth0", host_namespace=True) is Exposure.SPECIFIC
    assert ranges.exposure_in("fe80::1%eth0", "eth0", host_namespace=True) is Exposure.SPECIFIC


def test_netns_choice_selects_by_host_name_label_or_inode() -> None:
    found = scan(listener(HOST), listener(WEB), listener(API))
    for choice, wanted in (
        ("host", HOST),
        ("web-1", WEB),
        ("default/api", API),
        ("pod default/api", API),
        (str(WEB.inode), WEB),
    ):
        keep = netns_scope.keep(choice, found)
        assert [entry.netns for entry in found.listeners if keep(entry)] == [wanted]
    assert all(netns_scope.keep("all", found)(entry) for entry in found.listeners)


def test_unknown_netns_choice_is_an_error_naming_the_known_ones() -> None:
    with pytest.raises(netns_scope.NetnsChoiceError, match=r"no network namespace .nope. \(known: host, web-1"):
        netns_scope.keep("nope", scan())


def test_scope_line_counts_namespaces_by_kind() -> None:
    line = netns_scope.scope_line(scan(), None)
    assert line == "network namespaces: all 4 (default as root): host 1, container 1, pod 1, named 1"


def test_without_root_the_line_says_how_many_others_and_that_sudo_shows_them() -> None:
    line = netns_scope.scope_line(scan(unseen=3, privileged=False), None)
    assert line == (
        "network namespaces: host only (not root); 3 other namespaces exist that this user can see, "
        "maybe more: sudo portwatch shows their listeners"
    )


def test_collector_scope_reads_everything_for_a_name() -> None:
    assert [netns_scope.collector_scope(c) for c in (None, "all", "host", "web-1", "42")] == [
        "auto",
        "all",
        "host",
        "all",
        "all",
    ]


def test_published_links_read_both_ways() -> None:
    out = PortLink(LinkDirection.TO_CONTAINER, WEB, "::", 8080, "conmon", "web-1")
    back = PortLink(LinkDirection.FROM_HOST, HOST_NETNS, "127.0.0.1", 18080, "conmon", "web-1")
    assert out.text == "published by container web-1 → its port 8080"
    assert back.text == "published on host 127.0.0.1:18080"
    assert PortLink(LinkDirection.FROM_HOST, HOST_NETNS, "::1", 9, "dnat").text == "published on host [::1]:9"
