"""Render the README screenshots from fixed data: screenshots/wide.svg, narrow.svg and events.svg.

    python -m screenshots.make

The data is the snapshot tests' (tests/ui/fixed_data.py), fed through the app's collector and inspector seams
(each fixed owner carries its executable facts as a collector delivers them), judged by the app's own judge
against a baseline that expects everything but the newcomer; time is fixed and the zone is UTC, so the same
code draws the same pictures.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import tempfile
import time
from pathlib import Path

from portwatch.tui.app import PortwatchApp
from tests.ui.fixed_data import (
    NOW,
    FixedCollector,
    FixedInspector,
    expected_listeners,
    listener,
    sample_scan,
    write_baseline,
)

HERE = Path(__file__).resolve().parent

#: Rows above the newcomer in the second scan (the closed node row lingers, dimmed): `down` this many times.
TO_NEWCOMER = 9


def scans() -> FixedCollector:
    """Two scans: a dev server appears from /tmp (flagged, announced) and the node process's listener closes."""
    first = sample_scan(hostile=False)
    newcomer = listener("tcp", "0.0.0.0", 8000, [(7321, "python3", "dev")])
    second = sample_scan(
        listeners=tuple(
            sorted(
                (*(entry for entry in first.listeners if entry.port != 3000), newcomer),
                key=lambda entry: (entry.port, entry.proto.value, entry.address),
            )
        )
    )
    return FixedCollector(first, dataclasses.replace(second, taken_at=NOW + 2))


async def render(name: str, size: tuple[int, int], keys: tuple[str, ...] = ()) -> Path:
    collector = scans()
    app = PortwatchApp(
        collector=collector,
        interval=0.5,
        inspector=FixedInspector(),
        clock=lambda: NOW + 3600,
        baseline_path=Path("baseline.toml"),
    )
    async with app.run_test(size=size, notifications=True) as pilot:
        deadline = time.monotonic() + 10
        # (a folded-away panel loads no details until shown: wait for them only where it shows)
        while collector.calls < 2 or (app.panel.details is None and app.panel.display):
            if time.monotonic() > deadline:
                raise RuntimeError("the app did not settle")
            await pilot.pause(0.05)
        app.paused = True  # hold the picture still
        await pilot.press(*keys)
        await pilot.pause(0.3)
        path = HERE / f"{name}.svg"
        path.write_text(app.export_screenshot(title=f"portwatch ({size[0]}x{size[1]})"))
    return path


async def main() -> None:
    os.environ["TZ"] = "UTC"
    time.tzset()
    with tempfile.TemporaryDirectory() as folder:
        os.chdir(folder)  # flag reasons quote the baseline's path: a relative one draws the same everywhere
        write_baseline(Path("baseline.toml"), expected_listeners())
        shots = (("wide", (160, 45), ("down",) * TO_NEWCOMER), ("narrow", (80, 30), ()), ("events", (120, 30), ("e",)))
        for name, size, keys in shots:
            print(await render(name, size, keys))


if __name__ == "__main__":
    asyncio.run(main())
