"""Metric families from judged scans: names, labels, hostile text, per-listener modes, and the scan cache."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from portwatch.exporter import TextfileError, check_textfile, render, write_textfile
from portwatch.judge import JudgedScan
from portwatch.metrics import (
    LABEL_LIMIT,
    LISTENER_LABELS,
    BaselineState,
    Family,
    PerListener,
    Snapshot,
    families,
    label,
)
from portwatch.model import (
    EphemeralRange,
    Exposure,
    Flag,
    FlagCode,
    Listener,
    Owner,
    OwnerStatus,
    PortRange,
    PortSpan,
    Proto,
    Scan,
)
from portwatch.model import (
    Family as IpFamily,
)
from portwatch.snapshot import Snapshotter

HOSTILE = '\x1b[31mEV\x07"}\n\\ \udcff\u202e[/]'


def listener(
    port: int,
    *,
    name: str = "sshd",
    flags: tuple[Flag, ...] = (),
    address: str = "0.0.0.0",
    pid: int = 4242,
    cmdline: tuple[str, ...] = ("/usr/sbin/sshd", "-D", "--secret=hunter2"),
) -> Listener:
    port_range = PortRange.DYNAMIC if port >= 49152 else PortRange.WELL_KNOWN if port < 1024 else PortRange.REGISTERED
    return Listener(
        Proto.TCP,
        IpFamily.IPV4,
        address,
        port,
        port_range,
        False,
        Exposure.LOOPBACK if address.startswith("127.") else Exposure.ALL,
        owners=(Owner(pid, name, "root", "/usr/sbin/sshd", cmdline),),
        flags=flags,
    )


def scan(*listeners: Listener) -> Scan:
    return Scan(tuple(listeners), EphemeralRange(PortSpan(32768, 60999)), True, "test", 1_800_000_000.5)


ALARM = Flag(FlagCode.DYNAMIC_EXPOSED, "port 61234 is in IANA's dynamic range")
INFO = Flag(FlagCode.UDP_CLIENT, "auto-bound", informational=True)


def by_name(snapshot: Snapshot, per_listener: PerListener = PerListener.UNEXPECTED) -> dict[str, Family]:
    return {family.name: family for family in families(snapshot, per_listener)}


def snapshot(*listeners: Listener, baseline: BaselineState | None = None) -> Snapshot:
    return Snapshot(JudgedScan(scan(*listeners), None), 0.25, baseline or BaselineState(loaded=True, entries=3))


def parsed(content: bytes) -> dict[str, list[tuple[dict[str, str], float]]]:
    """The exposition text read back by prometheus_client's own parser: sample name -> (labels, value)."""
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(content.decode("utf-8")):
        for sample in family.samples:
            out.setdefault(sample.name, []).append((sample.labels, sample.value))
    return out


def test_every_metric_is_prefixed_and_scan_time_is_a_timestamp() -> None:
    samples = parsed(render(snapshot(listener(22))))
    assert all(name.startswith("portwatch_") for name in samples)
    assert samples["portwatch_scan_timestamp_seconds"] == [({}, 1_800_000_000.5)]
    assert samples["portwatch_scan_duration_seconds"] == [({}, 0.25)]
    ((build_labels, one),) = samples["portwatch_build_info"]
    assert one == 1.0 and set(build_labels) == {"version", "python_version"}


def test_only_unexpected_listeners_get_a_series_by_default() -> None:
    samples = parsed(render(snapshot(listener(22), listener(61234, flags=(ALARM,)))))
    ((labels, value),) = samples["portwatch_listener_unexpected"]
    assert value == 1.0 and labels["port"] == "61234" and labels["flags"] == "dynamic-exposed"
    assert set(labels) == set(LISTENER_LABELS)


def test_per_listener_all_gives_expected_ones_a_zero_and_none_gives_no_series() -> None:
    both = snapshot(listener(22, flags=(INFO,)), listener(61234, flags=(ALARM,)))
    every = {
        labels["port"]: value
        for labels, value in parsed(render(both, PerListener.ALL))["portwatch_listener_unexpected"]
    }
    assert every == {"22": 0.0, "61234": 1.0}
    assert "portwatch_listener_unexpected" not in parsed(render(both, PerListener.NONE))


def test_listener_labels_never_carry_pid_or_cmdline() -> None:
    content = render(snapshot(listener(61234, flags=(ALARM,))), PerListener.ALL).decode()
    assert "4242" not in content and "hunter2" not in content and "pid" not in LISTENER_LABELS


def test_counts_cover_every_range_and_exposure_with_zeros() -> None:
    counts = by_name(snapshot(listener(61234, flags=(ALARM,)), listener(22)))
    listeners = {values: value for values, value in counts["portwatch_listeners"].samples}
    assert len(listeners) == len(PortRange) * len(Exposure)
    assert listeners[("host", "dynamic", "all")] == 1.0 and listeners[("host", "well-known", "all")] == 1.0
    assert listeners[("host", "registered", "loopback")] == 0.0
    unexpected = {values: value for values, value in counts["portwatch_unexpected_listeners"].samples}
    assert unexpected[("host", "dynamic", "all")] == 1.0 and unexpected[("host", "well-known", "all")] == 0.0
    assert counts["portwatch_flagged_listeners"].samples == ((("dynamic-exposed",), 1.0),)


def test_hidden_owners_are_counted_and_unnamed() -> None:
    hidden = Listener(
        Proto.TCP,
        IpFamily.IPV4,
        "0.0.0.0",
        61000,
        PortRange.DYNAMIC,
        False,
        Exposure.ALL,
        owner_status=OwnerStatus.HIDDEN,
        socket_user="postgres",
        flags=(Flag(FlagCode.OWNER_HIDDEN, "hidden"),),
    )
    samples = parsed(render(snapshot(hidden)))
    assert samples["portwatch_hidden_owners"] == [({}, 1.0)]
    ((labels, _),) = samples["portwatch_listener_unexpected"]
    assert labels["process"] == "" and labels["user"] == "postgres"


@pytest.mark.parametrize(
    "state, loaded, error, entries",
    [
        (BaselineState(loaded=True, entries=7), 1.0, 0.0, 7.0),
        (BaselineState(), 0.0, 0.0, 0.0),
        (BaselineState(error="baseline.toml:3: unknown key 'prot'"), 0.0, 1.0, 0.0),
    ],
)
def test_baseline_state_is_three_gauges(state: BaselineState, loaded: float, error: float, entries: float) -> None:
    samples = parsed(render(snapshot(listener(22), baseline=state)))
    assert (
        samples["portwatch_baseline_loaded"],
        samples["portwatch_baseline_error"],
        samples["portwatch_baseline_entries"],
    ) == ([({}, loaded)], [({}, error)], [({}, entries)])


def test_hostile_process_name_becomes_a_safe_valid_label() -> None:
    content = render(snapshot(listener(61234, name=HOSTILE, flags=(ALARM,))))
    content.decode("utf-8")  # strict: a lone surrogate would have made the library raise or this fail
    ((labels, _),) = parsed(content)["portwatch_listener_unexpected"]
    assert labels["process"] == label(HOSTILE)
    assert "\x1b" not in labels["process"] and "\n" not in labels["process"] and "\u202e" not in labels["process"]
    assert "\\xff" in labels["process"]  # the undecodable byte is shown, not dropped


def test_long_label_values_are_capped_with_a_visible_note() -> None:
    ((labels, _),) = parsed(render(snapshot(listener(61234, name="x" * 10_000, flags=(ALARM,)))))[
        "portwatch_listener_unexpected"
    ]
    assert labels["process"].startswith("x" * LABEL_LIMIT) and labels["process"].endswith("(+9872 characters)")
    assert len(labels["process"]) < LABEL_LIMIT + 30


def test_a_failed_first_scan_still_reports_success_zero_and_the_baseline() -> None:
    samples = parsed(render(Snapshot(None, 0.1, BaselineState(), success=False)))
    assert samples["portwatch_scan_success"] == [({}, 0.0)]
    assert "portwatch_scan_timestamp_seconds" not in samples  # no scan yet: staleness rules see it absent


# -- the scan cache ------------------------------------------------------------------------------------------


class FakeCollector:
    """Scans of fixed listeners (no owners: no /proc read while judging); fails when told to."""

    source = "fake"

    def __init__(self) -> None:
        self.calls = 0
        self.fail = False

    def scan(self) -> Scan:
        self.calls += 1
        if self.fail:
            raise OSError("netlink went away")
        return scan(
            Listener(
                Proto.TCP, IpFamily.IPV4, "127.0.0.1", 8000 + self.calls, PortRange.REGISTERED, False, Exposure.LOOPBACK
            )
        )


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_snapshotter_scans_at_most_once_per_min_interval(tmp_path: Path) -> None:
    collector, clock = FakeCollector(), Clock()
    source = Snapshotter(collector, tmp_path / "baseline.toml", min_interval=15, clock=clock)
    first = source.get()
    clock.now += 14.9
    assert source.get() is first and collector.calls == 1
    clock.now += 0.1
    assert source.get() is not first and collector.calls == 2


def test_concurrent_scrapes_wait_for_one_scan(tmp_path: Path) -> None:
    collector = FakeCollector()
    started, release = threading.Event(), threading.Event()
    real_scan = collector.scan

    def slow_scan() -> Scan:
        started.set()
        release.wait(10)
        return real_scan()

    collector.scan = slow_scan  # type: ignore[method-assign]
    source = Snapshotter(collector, tmp_path / "baseline.toml", min_interval=60)
    results: list[Snapshot] = []
    threads = [threading.Thread(target=lambda: results.append(source.get())) for _ in range(5)]
    for thread in threads:
        thread.start()
    assert started.wait(10)
    release.set()
    for thread in threads:
        thread.join(10)
    assert collector.calls == 1 and len(results) == 5 and all(result is results[0] for result in results)


def test_snapshotter_without_caching_scans_every_time(tmp_path: Path) -> None:
    collector = FakeCollector()
    source = Snapshotter(collector, tmp_path / "baseline.toml", min_interval=0)
    source.get(), source.get(), source.get()
    assert collector.calls == 3


def test_failed_scan_keeps_the_last_good_one_and_says_so(tmp_path: Path) -> None:
    collector = FakeCollector()
    source = Snapshotter(collector, tmp_path / "missing.toml")
    good = source.get()
    collector.fail = True
    failed = source.get()
    assert good.success and not failed.success and failed.judged is good.judged
    assert source.last_error == "OSError: netlink went away"


def test_missing_or_malformed_explicit_baseline_is_an_error_state(tmp_path: Path) -> None:
    path = tmp_path / "baseline.toml"
    source = Snapshotter(FakeCollector(), path)
    assert source.get().baseline.error and "cannot read" in str(source.get().baseline.error)
    path.write_text("version = 1\n[[listener]]\nprot = 'tcp'\n")
    assert source.get().baseline.error
    path.write_text("version = 1\n[[listener]]\nproto = 'tcp'\nport = 8001\n")
    assert source.get().baseline == BaselineState(loaded=True, entries=1)


# -- the textfile --------------------------------------------------------------------------------------------


def test_textfile_is_written_whole_and_replaced(tmp_path: Path) -> None:
    path = tmp_path / "portwatch.prom"
    write_textfile(path, render(snapshot(listener(22))))
    write_textfile(path, render(snapshot(listener(80))))
    assert "portwatch_build_info" in path.read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["portwatch.prom"]  # no temp file left behind
    assert path.stat().st_mode & 0o777 == 0o644


@pytest.mark.parametrize(
    "name, message",
    [
        ("metrics.txt", "must end in .prom"),
        ("missing/portwatch.prom", "no such directory"),
        ("dir.prom", "not a regular file"),
        ("link.prom", "not a regular file"),
        ("theirs.prom", "not written by portwatch"),
    ],
)
def test_textfile_refuses_paths_it_must_not_write(tmp_path: Path, name: str, message: str) -> None:
    (tmp_path / "dir.prom").mkdir()
    (tmp_path / "target.prom").write_text("# HELP portwatch_build_info x\n")
    (tmp_path / "link.prom").symlink_to(tmp_path / "target.prom")
    (tmp_path / "theirs.prom").write_text("# HELP smartmon_device_info x\n")
    with pytest.raises(TextfileError, match=message):
        check_textfile(tmp_path / name)
    assert (tmp_path / "theirs.prom").read_text().startswith("# HELP smartmon")


@pytest.mark.parametrize("name", ["\ud800", "\udc80x", "a\udfffb", "\udcc3\udca9", "\x00\x7f\x9b", "\u2028\u2029"])
def test_every_lone_surrogate_and_control_is_escaped_into_valid_utf8(name: str) -> None:
    content = render(snapshot(listener(61234, name=name, flags=(ALARM,))))
    ((labels, _),) = parsed(content)["portwatch_listener_unexpected"]
    labels["process"].encode("utf-8")  # strict: raises on a surrogate
    assert labels["process"] == label(name) and labels["process"].isprintable()


def test_a_failed_scan_still_writes_the_textfile_and_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from portwatch import metrics_commands
    from portwatch.cli import build_parser

    failing = FakeCollector()
    failing.fail = True
    monkeypatch.setattr(metrics_commands, "get_collector", lambda _name: failing)
    target = tmp_path / "portwatch.prom"
    args = build_parser().parse_args(["metrics", "--textfile", str(target), "--baseline", str(tmp_path / "b.toml")])
    assert metrics_commands.run_metrics(args) == 1
    assert "portwatch_scan_success 0.0" in target.read_text()
    assert "the scan failed: OSError: netlink went away" in capsys.readouterr().err
