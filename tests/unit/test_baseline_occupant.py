"""Baseline entries on unit, container, netns kind and package; save records them; exe-modified is a flag."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from portwatch.baseline import Baseline, BaselineError, Entry, Match, parse
from portwatch.baseline_file import entry_for, render_entry
from portwatch.flags import Flagger, alarming
from portwatch.model import (
    ContainerRef,
    EphemeralRange,
    ExeFacts,
    Exposure,
    Family,
    FlagCode,
    Listener,
    Owner,
    OwnerStatus,
    PackageFacts,
    PodRef,
    PortRange,
    PortSpan,
    Proto,
    Scan,
    UnitRef,
)

WEB = ContainerRef("podman", "a" * 64, "web-1", "docker.io/library/nginx:1.27")
NGINX = PackageFacts("dpkg", "nginx", True)


def owner(
    unit: UnitRef | None = None,
    container: ContainerRef | None = None,
    package: PackageFacts | None = None,
    pid: int = 100,
) -> Owner:
    return Owner(
        pid,
        "nginx",
        "root",
        "/usr/sbin/nginx",
        ("nginx",),
        1.0,
        ExeFacts("/usr/sbin/nginx"),
        unit,
        container,
        None,
        package,
    )


def listener(*owners: Owner, port: int = 8080) -> Listener:
    return Listener(
        Proto.TCP,
        Family.IPV4,
        "127.0.0.1",
        port,
        PortRange.REGISTERED,
        False,
        Exposure.LOOPBACK,
        owners=owners,
        owner_status=OwnerStatus.KNOWN if owners else OwnerStatus.HIDDEN,
        socket_user="root",
    )


def port_span(port: int) -> PortSpan:
    return PortSpan(port, port)


def test_unit_entry_matches_that_unit_only() -> None:
    entry = Entry(ports=port_span(8080), unit="nginx.service")
    assert entry.match(listener(owner(UnitRef("nginx.service", "service")))) is Match.FULL
    assert entry.match(listener(owner(UnitRef("other.service", "service")))) is Match.NONE
    assert entry.match(listener(owner())) is Match.NONE  # in no unit at all
    assert entry.match(listener()) is Match.VISIBLE  # hidden owner: unchecked, like exe


def test_container_entry_matches_name_or_image() -> None:
    inside = listener(owner(container=WEB))
    assert Entry(container="web-1").match(inside) is Match.FULL
    assert Entry(container="docker.io/library/nginx:1.27").match(inside) is Match.FULL
    assert Entry(container="docker.io/library/nginx").match(inside) is Match.FULL  # any tag of the image
    assert Entry(container="nginx").match(inside) is Match.FULL
    assert Entry(container="web-2").match(inside) is Match.NONE
    assert Entry(container="web-1").match(listener(owner())) is Match.NONE  # on the host


def test_a_listener_in_a_new_container_is_judged_like_any_other() -> None:
    baseline = Baseline((Entry(ports=port_span(8080), container="web-1"),))
    new = listener(owner(container=ContainerRef("podman", "b" * 64, "web-2", WEB.image)))
    [judged] = Flagger().flag_scan(scan(new), baseline).listeners
    assert [flag.code for flag in judged.flags] == [FlagCode.NOT_IN_BASELINE]
    [same] = Flagger().flag_scan(scan(listener(owner(container=WEB))), baseline).listeners
    assert same.flags == ()


def test_package_entry_and_packages_not_looked_up() -> None:
    entry = Entry(package="nginx")
    assert entry.match(listener(owner(package=NGINX))) is Match.FULL
    assert entry.match(listener(owner(package=PackageFacts("dpkg", None)))) is Match.NONE  # no package owns it
    assert entry.match(listener(owner())) is Match.VISIBLE  # not looked up: unchecked
    assert Baseline((entry,)).needs_packages and not Baseline((Entry(unit="x.service"),)).needs_packages


@dataclass(frozen=True)
class _Netns:
    kind: str


@dataclass(frozen=True)
class _WithNetns:
    """A listener as the namespace branch makes them: a ``netns`` with a ``kind``."""

    inner: Listener
    netns: _Netns

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


def test_netns_entry_reads_the_listeners_namespace_kind_or_host() -> None:
    plain = listener(owner())
    assert Entry(netns="host").match(plain) is Match.FULL  # before namespaces: everything is the host's
    assert Entry(netns="container").match(plain) is Match.NONE
    contained = _WithNetns(plain, _Netns("container"))
    assert Entry(netns="container").match(contained) is Match.FULL  # type: ignore[arg-type]
    assert Entry(netns="host").match(contained) is Match.NONE  # type: ignore[arg-type]


def test_new_keys_parse_and_round_trip() -> None:
    text = (
        'version = 1\n[[listener]]\nport = 80\nunit = "nginx.service"\ncontainer = "web-1"\n'
        'netns = "Container"\npackage = "nginx"\n'
    )
    [entry] = parse(text).entries
    assert (entry.unit, entry.container, entry.netns, entry.package) == ("nginx.service", "web-1", "container", "nginx")
    assert parse("version = 1\n" + render_entry(entry)).entries[0].package == "nginx"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('netns = "vm"', "netns 'vm' is not one of host, container, pod, named, other"),
        ("unit = 5", "unit must be a string"),
        ('package = ["a"]', "package must be a string"),
    ],
)
def test_bad_new_keys_are_named_with_their_line(line: str, message: str) -> None:
    with pytest.raises(BaselineError, match="baseline.toml:4: listener entry 1: " + message.replace("[", r"\[")):
        parse(f"version = 1\n[[listener]]\nport = 1\n{line}\n")


def test_save_records_unit_container_and_package_but_not_a_login_session() -> None:
    entry, _ = entry_for(listener(owner(UnitRef("nginx.service", "service"), WEB, NGINX)))
    assert (entry.unit, entry.container, entry.package, entry.netns) == ("nginx.service", "web-1", "nginx", None)
    session, _ = entry_for(listener(owner(UnitRef("session-3.scope", "session"))))
    assert session.unit is None
    mixed, _ = entry_for(
        listener(owner(UnitRef("a.service", "service")), owner(UnitRef("b.service", "service"), pid=7))
    )
    assert mixed.unit is None  # owners disagree: nothing one value could expect
    nameless, _ = entry_for(listener(owner(container=ContainerRef("podman", "c" * 64, None, "alpine:3"))))
    assert nameless.container == "alpine:3"
    text = render_entry(entry)
    assert 'unit = "nginx.service"\ncontainer = "web-1"\npackage = "nginx"' in text


def scan(*listeners: Listener) -> Scan:
    return Scan(listeners, EphemeralRange(PortSpan(32768, 60999)), True, "test", 0.0)


def test_an_executable_changed_since_install_is_an_alarming_flag() -> None:
    changed = PackageFacts("dpkg", "nginx", False, "md5 1 differs from the 2 that nginx recorded at install")
    [judged] = Flagger().flag_scan(scan(listener(owner(package=changed)))).listeners
    [flag] = [flag for flag in judged.flags if flag.code is FlagCode.EXE_MODIFIED]
    assert flag in alarming(judged)
    assert flag.reason == (
        "/usr/sbin/nginx no longer matches the checksum package nginx recorded at install: "
        "someone changed the installed program; `dpkg --verify nginx` shows what else changed; "
        "`apt-get install --reinstall nginx` restores it"
    )
    # Approving the listener does not silence it: it is about the program, not the place.
    baseline = Baseline((Entry(ports=port_span(8080)),))
    [approved] = Flagger().flag_scan(scan(listener(owner(package=changed))), baseline).listeners
    assert [flag.code for flag in approved.flags] == [FlagCode.EXE_MODIFIED]
    for fine in (NGINX, PackageFacts("dpkg", "nginx", None, "not checked"), PackageFacts("dpkg", None)):
        [quiet] = Flagger().flag_scan(scan(listener(owner(package=fine)))).listeners
        assert quiet.flags == ()


def test_owner_unknown_gives_the_collectors_reason() -> None:
    unowned = Listener(
        Proto.UDP,
        Family.IPV4,
        "0.0.0.0",
        4789,
        PortRange.REGISTERED,
        False,
        Exposure.ALL,
        owner_status=OwnerStatus.UNKNOWN,
        owner_reason="a kernel socket: the kernel's VXLAN device vx0 (VNI 42) listens on udp port 4789",
    )
    [judged] = Flagger().flag_scan(scan(unowned)).listeners
    assert judged.flags[0].reason == (
        "no process holds it that portwatch can see: a kernel socket: the kernel's "
        "VXLAN device vx0 (VNI 42) listens on udp port 4789"
    )


def test_occupant_text() -> None:
    assert owner(UnitRef("nginx.service", "service")).occupant == "nginx.service"
    assert owner(container=WEB).occupant == "web-1 (podman, image docker.io/library/nginx:1.27)"
    pod = Owner(1, "x", pod=PodRef("u", "kube-system", "coredns"), container=WEB)
    assert pod.occupant == "pod kube-system/coredns · web-1"
    assert Owner(1, "x", pod=PodRef("1234")).occupant == "pod uid 1234"
    assert owner().occupant is None
