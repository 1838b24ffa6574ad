"""The judged pipeline: the one way a collector's scan becomes something an output may print.

Every consumer (`list`, `who`, `check`, `baseline save`, the TUI, metrics, remote hosts) takes a
:class:`JudgedScan`, and only :class:`Judge` makes one from a collector's :class:`~portwatch.model.Scan`:
owners named, flags and baseline verdicts filled. An output that prints flags therefore cannot be handed a
scan nobody judged, and the same listener carries the same flags everywhere.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from portwatch.baseline import Baseline, load
from portwatch.baseline_file import default_path, invoking_user
from portwatch.collect import Collector
from portwatch.flags import Flagger, alarming
from portwatch.model import EphemeralRange, Listener, Scan
from portwatch.text import safe


@dataclass(frozen=True, slots=True)
class JudgedScan:
    """A scan whose listeners carry their flags, and the baseline they were judged against."""

    scan: Scan
    baseline: Baseline | None
    #: Things the reader should know about the judging itself (e.g. that there was no baseline).
    notes: tuple[str, ...] = ()

    @property
    def listeners(self) -> tuple[Listener, ...]:
        return self.scan.listeners

    @property
    def ephemeral(self) -> EphemeralRange:
        return self.scan.ephemeral

    @property
    def privileged(self) -> bool:
        return self.scan.privileged

    @property
    def hidden_owners(self) -> int:
        return self.scan.hidden_owners

    @property
    def warnings(self) -> tuple[str, ...]:
        return self.scan.warnings

    @property
    def taken_at(self) -> float:
        return self.scan.taken_at

    @property
    def unexpected(self) -> tuple[Listener, ...]:
        """Listeners with at least one alarming flag, in scan (port) order."""
        return tuple(entry for entry in self.scan.listeners if entry.flags and alarming(entry))

    def only(self, keep: Callable[[Listener], bool]) -> JudgedScan:
        """The same judged scan narrowed to the listeners ``keep`` accepts (a command's --tcp, --range, …)."""
        chosen = tuple(entry for entry in self.scan.listeners if keep(entry))
        return dataclasses.replace(self, scan=dataclasses.replace(self.scan, listeners=chosen))


class Judge:
    """Keeps the Flagger's per-process caches between scans (the TUI judges every refresh)."""

    def __init__(self) -> None:
        self._flagger = Flagger()

    def judge(self, scan: Scan, baseline: Baseline | None = None, notes: tuple[str, ...] = ()) -> JudgedScan:
        return JudgedScan(self._flagger.flag_scan(scan, baseline), baseline, notes)


def find_baseline(path: Path | None) -> tuple[Baseline | None, str | None]:
    """The baseline to judge against, and a note when there is none. An explicit PATH must exist and parse
    (else BaselineError); a missing default file only means "no baseline yet"."""
    if path is not None:
        return load(path), None
    default = default_path()
    if not os.path.lexists(default):  # a dangling symlink is an error to report, not "no baseline yet"
        return None, (
            f"no baseline at {safe(default)}: only suspicion flags were checked; "
            "`portwatch baseline save` records what listens now as expected"
        )
    return load(default, invoking_user()), None  # under sudo: only what the user behind it may read


def judge(scan: Scan, baseline: Baseline | None = None, notes: tuple[str, ...] = ()) -> JudgedScan:
    """Judge one scan with a fresh Judge (a one-shot command)."""
    return Judge().judge(scan, baseline, notes)


def judge_now(collector: Collector, baseline: Baseline | None = None, notes: tuple[str, ...] = ()) -> JudgedScan:
    """Collect and judge once: what `list`, `who`, `check` and `baseline save` run."""
    return judge(collector.scan(), baseline, notes)
