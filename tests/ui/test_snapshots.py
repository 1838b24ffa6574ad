"""The app drawn from fixed data at two terminal sizes (pytest --snapshot-update to accept a change)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from textual.content import Content
from textual.pilot import Pilot
from textual.widgets import Label

from portwatch.tui.app import PortwatchApp
from tests.support import listener_key
from tests.ui.fixed_data import (
    NOW,
    FixedCollector,
    FixedInspector,
    expected_listeners,
    sample_scan,
    write_baseline,
)
from tests.ui.ui_helpers import wait_for

SnapCompare = Callable[..., bool]


@pytest.fixture(autouse=True)
def baseline_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A baseline expecting all but the hostile listener, at a relative path: reasons quote it, so it is fixed."""
    monkeypatch.chdir(tmp_path)
    write_baseline(tmp_path / "baseline.toml", expected_listeners())
    yield


def fixed_app() -> PortwatchApp:
    # A long interval: one scan, then nothing moves while the snapshot is taken.
    return PortwatchApp(
        collector=FixedCollector(sample_scan(hostile=True)),
        interval=3600,
        inspector=FixedInspector(),
        clock=lambda: NOW + 3600,
        baseline_path=Path("baseline.toml"),
    )


def laid_out(app: PortwatchApp) -> bool:
    """The header's counts and state are as wide as their text: the layout pass their last update asked for
    has run (on a loaded machine a screenshot could otherwise catch new text at a label's old width)."""
    labels = [*app.summary.query(".count").results(Label), app.summary.query_one("#summary-state", Label)]
    return all(label.region.width >= text_width(label) for label in labels)


def text_width(label: Label) -> int:
    content = label.content
    assert isinstance(content, Content), content  # the summary bar's labels hold Content, never markup
    return content.cell_length


async def settled(pilot: Pilot[None]) -> None:
    app = pilot.app
    assert isinstance(app, PortwatchApp)
    # A folded-away panel (narrow) loads no details until it is shown: wait for them only where it shows.
    await wait_for(pilot, lambda: app.table.row_count > 0 and (app.panel.details is not None or not app.panel.display))
    await wait_for(pilot, lambda: laid_out(app))
    await pilot.pause()


def test_wide_terminal_shows_table_and_panel(snap_compare: SnapCompare, utc: None) -> None:
    assert snap_compare(fixed_app(), terminal_size=(160, 45), run_before=settled)


def test_narrow_terminal_collapses_the_panel(snap_compare: SnapCompare, utc: None) -> None:
    assert snap_compare(fixed_app(), terminal_size=(80, 30), run_before=settled)


def test_narrow_terminal_p_shows_the_hostile_process_literally(snap_compare: SnapCompare, utc: None) -> None:
    async def to_hostile(pilot: Pilot[None]) -> None:
        await settled(pilot)
        app = pilot.app
        assert isinstance(app, PortwatchApp)
        app.table.move_cursor(row=app.table.get_row_index(listener_key("tcp", "127.0.0.1", 31337)))
        await pilot.press("p")  # the panel, folded away until now, loads the highlighted row's details
        await wait_for(pilot, lambda: app.panel.details is not None and app.panel.details.pid == 6666)
        await pilot.pause()

    assert snap_compare(fixed_app(), terminal_size=(80, 30), run_before=to_hostile)
