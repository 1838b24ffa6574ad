"""What `portwatch metrics` and `portwatch serve --metrics` expose: metric families built from a judged scan.

Pure: no OS reads and no prometheus_client (portwatch.exporter turns these records into the library's
families), so the design is tested without either. Metric names carry the ``portwatch_`` prefix and their
unit; every family is a gauge (a snapshot of now), except build info.

Per-listener series (``portwatch_listener_unexpected``) are labelled by what identifies a listener to a
human across restarts: proto, address, port, exposure, range, netns, process, user, unit, container and its
flag codes; never pid or cmdline (they change on every restart, which would end the series and reset an
alert's ``for:``). By default only unexpected listeners get one (``PerListener.UNEXPECTED``): the rest of a
fleet's listeners are counted, not listed, which keeps the series count bounded by what needs a look.

Label values are process-supplied text: they pass through :func:`portwatch.text.safe` (controls, bidi
overrides and lone surrogates become visible escapes, so the value is valid UTF-8, which prometheus_client
requires) and are cut to :data:`LABEL_LIMIT` characters.
"""

from __future__ import annotations

import enum
import platform
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from portwatch import __version__
from portwatch.flags import alarming
from portwatch.judge import JudgedScan
from portwatch.model import Exposure, Listener, OwnerStatus, PortRange
from portwatch.text import safe

#: Longest label value; safe() appends "… (+N characters)" to a cut one, so the cut stays visible.
LABEL_LIMIT = 128

#: The host namespace's label value (every other namespace is labelled with its name).
HOST_NETNS = "host"

LISTENER_LABELS = (
    "proto",
    "address",
    "port",
    "exposure",
    "range",
    "netns",
    "process",
    "user",
    "unit",
    "container",
    "flags",
)


class PerListener(str, enum.Enum):
    """Which listeners get a series of their own."""

    ALL = "all"
    UNEXPECTED = "unexpected"
    NONE = "none"


class Kind(str, enum.Enum):
    GAUGE = "gauge"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Family:
    """One metric family: for INFO, ``name`` is without the ``_info`` suffix (the library adds it)."""

    name: str
    kind: Kind
    help: str
    labels: tuple[str, ...] = ()
    samples: tuple[tuple[tuple[str, ...], float], ...] = ()


@dataclass(frozen=True, slots=True)
class BaselineState:
    """The baseline as the metrics see it: loaded, absent, or broken (then ``error`` says why)."""

    loaded: bool = False
    entries: int = 0
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One judged scan and what it cost. ``judged`` is None when no scan has succeeded yet."""

    judged: JudgedScan | None
    duration_seconds: float
    baseline: BaselineState
    #: False when the latest attempt failed: ``judged`` (if any) is then an older one, and its timestamp says so.
    success: bool = True


def label(value: object) -> str:
    """A label value from untrusted text: safe, valid UTF-8, at most LABEL_LIMIT characters plus a cut note."""
    return safe(value, LABEL_LIMIT)


def placement(listener: Listener) -> tuple[str, str, str]:
    """(netns, unit, container): the namespace as rows name it ("host", a container's name, "pod NS/NAME",
    an `ip netns` name, an inode), and the first owner's systemd unit and container ("" where none)."""
    netns = HOST_NETNS if listener.netns.is_host else listener.netns.label
    owner = listener.owners[0] if listener.owners else None
    unit = owner.unit.name if owner is not None and owner.unit is not None else ""
    container = ""
    if owner is not None and owner.container is not None:
        container = owner.container.name or owner.container.id[:12]
    return netns, unit, container


def listener_labels(listener: Listener) -> tuple[str, ...]:
    """Values for LISTENER_LABELS, in order. Flag codes are sorted so the series keeps its identity."""
    netns, unit, container = placement(listener)
    known = listener.owner_status is OwnerStatus.KNOWN
    flags = ",".join(sorted({flag.code.value for flag in listener.flags}))
    return (
        listener.proto.value,
        label(listener.address),
        str(listener.port),
        listener.exposure.value,
        listener.port_range.value,
        label(netns),
        label(listener.process_name if known else ""),
        label(listener.user),
        label(unit),
        label(container),
        label(flags),
    )


def _gauge(name: str, help_text: str, value: float) -> Family:
    return Family(name, Kind.GAUGE, help_text, (), (((), value),))


def _counts(listeners: Iterable[Listener]) -> tuple[tuple[tuple[str, ...], float], ...]:
    """Per (netns, range, exposure); the host namespace's nine combinations are always present (zeros too),
    so a rule comparing them never meets a missing series."""
    counted = Counter((placement(entry)[0], entry.port_range.value, entry.exposure.value) for entry in listeners)
    for port_range in PortRange:
        for exposure in Exposure:
            counted.setdefault((HOST_NETNS, port_range.value, exposure.value), 0)
    return tuple(
        ((label(netns), port_range, exposure), float(count))
        for (netns, port_range, exposure), count in sorted(counted.items())
    )


def scan_families(judged: JudgedScan, per_listener: PerListener) -> list[Family]:
    """The families that describe the listeners of one judged scan."""
    unexpected = judged.unexpected
    flag_counts = Counter(code for entry in judged.listeners for code in {flag.code.value for flag in alarming(entry)})
    shown = {PerListener.ALL: judged.listeners, PerListener.UNEXPECTED: unexpected, PerListener.NONE: ()}[per_listener]
    series: dict[tuple[str, ...], float] = {}
    for entry in shown:
        values = listener_labels(entry)
        # Two listeners alike in every label (e.g. IPv4 and IPv6 twins are not: their address differs) merge.
        series[values] = max(series.get(values, 0.0), 1.0 if alarming(entry) else 0.0)
    return [
        _gauge(
            "portwatch_scan_timestamp_seconds",
            "When the scan these metrics describe was taken (Unix time); "
            "node_exporter serves an old textfile forever, so compare with time()",
            judged.taken_at,
        ),
        _gauge(
            "portwatch_scan_privileged",
            "1 if the scan could inspect every process (root), 0 if some owners were hidden",
            1.0 if judged.privileged else 0.0,
        ),
        Family(
            "portwatch_listeners",
            Kind.GAUGE,
            "Listening sockets by network namespace, IANA port range and exposure",
            ("netns", "range", "exposure"),
            _counts(judged.listeners),
        ),
        Family(
            "portwatch_unexpected_listeners",
            Kind.GAUGE,
            "Listeners with at least one alarming flag (not in the baseline, exposed dynamic port, deleted exe, ...)",
            ("netns", "range", "exposure"),
            _counts(unexpected),
        ),
        Family(
            "portwatch_flagged_listeners",
            Kind.GAUGE,
            "Listeners carrying an alarming flag, by flag code",
            ("flag",),
            tuple(((label(code),), float(count)) for code, count in sorted(flag_counts.items())),
        ),
        _gauge(
            "portwatch_hidden_owners",
            "Listeners whose owning process is hidden from portwatch (run it as root)",
            float(judged.hidden_owners),
        ),
        Family(
            "portwatch_listener_unexpected",
            Kind.GAUGE,
            "One series per listener shown (--per-listener): 1 if it carries an alarming flag, 0 if not",
            LISTENER_LABELS,
            tuple(series.items()),
        ),
    ]


def families(snapshot: Snapshot, per_listener: PerListener = PerListener.UNEXPECTED) -> list[Family]:
    """Every family for one snapshot, build info first."""
    baseline = snapshot.baseline
    out = [
        Family(
            "portwatch_build",
            Kind.INFO,
            "portwatch's version and the Python it runs on",
            ("version", "python_version"),
            (((__version__, platform.python_version()), 1.0),),
        ),
        _gauge(
            "portwatch_scan_success",
            "1 if the latest scan succeeded, 0 if it failed (the data below is then from an earlier scan, or absent)",
            1.0 if snapshot.success else 0.0,
        ),
        _gauge(
            "portwatch_scan_duration_seconds",
            "How long the latest scan took: collecting sockets and owners and judging them",
            snapshot.duration_seconds,
        ),
        _gauge(
            "portwatch_baseline_loaded",
            "1 if a baseline file was read and listeners were judged against it",
            1.0 if baseline.loaded else 0.0,
        ),
        _gauge(
            "portwatch_baseline_error",
            "1 if the baseline file could not be read or is malformed (listeners "
            "are then judged by suspicion flags only)",
            1.0 if baseline.error else 0.0,
        ),
        _gauge("portwatch_baseline_entries", "Entries in the loaded baseline", float(baseline.entries)),
    ]
    if snapshot.judged is not None:
        out.extend(scan_families(snapshot.judged, per_listener))
    return out
