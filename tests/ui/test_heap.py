"""Full garbage collections wait for the app's timer once the first screen is up, and the interpreter's
settings come back when the app ends (the suite runs many apps in one process)."""

from __future__ import annotations

import gc

from portwatch.collect import get_collector
from portwatch.tui.app import PortwatchApp
from tests.ui.ui_helpers import wait_for


async def test_after_the_first_screen_full_collections_wait_and_are_restored_at_exit() -> None:
    before = gc.get_threshold()
    app = PortwatchApp(get_collector(), interval=30, baseline_path=None)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: app.heap.active)
        assert gc.get_threshold()[2] > 100_000 and gc.get_freeze_count() > 0
        app.heap.collect()  # what the timer runs
        assert app.heap.collections == 1 and app.heap.worst > 0
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
