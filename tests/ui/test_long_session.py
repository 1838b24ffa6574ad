"""A long session: thousands of cursor moves leave memory, the widget tree and key latency flat.

Each highlight used to re-evaluate the Footer's bindings, which rebuilt the Footer and kept the old keys
referenced: memory grew with every move and, after a thousand, a key took seconds to show.
"""

from __future__ import annotations

import gc
import statistics
import time

from portwatch.model import (
    EphemeralRange,
    Exposure,
    Family,
    Listener,
    Owner,
    PortRange,
    PortSpan,
    ProcessDetails,
    Proto,
    Scan,
)
from portwatch.tui.app import PortwatchApp

MOVES = 3000


class ManyListeners:
    """A collector of 300 fixed listeners, every fifth one shared by two processes (so `o` comes and goes)."""

    source = "fixed"

    def scan(self) -> Scan:
        listeners = tuple(
            Listener(
                proto=Proto.TCP,
                family=Family.IPV4,
                address="127.0.0.1",
                port=20000 + n,
                port_range=PortRange.REGISTERED,
                os_ephemeral=False,
                exposure=Exposure.LOOPBACK,
                owners=tuple(Owner(pid=1000 + n + k, name=f"srv{n}", user="root") for k in range(1 + (n % 5 == 0))),
            )
            for n in range(300)
        )
        return Scan(listeners, EphemeralRange(PortSpan(32768, 60999)), True, "fixed", time.time())


class NoDetails:
    def inspect(self, pid: int) -> ProcessDetails:
        raise ProcessLookupError(pid)


async def test_thousands_of_cursor_moves_leave_memory_and_key_latency_flat() -> None:
    app = PortwatchApp(collector=ManyListeners(), interval=60, inspector=NoDetails())
    async with app.run_test(size=(160, 45)) as pilot:
        while app.table.row_count < 300:
            await pilot.pause(0.05)

        async def press(count: int) -> list[float]:
            took = []
            for step in range(count):
                start = time.perf_counter()
                await pilot.press("down" if step % 2 == 0 else "up")
                took.append(time.perf_counter() - start)
            return took

        async def move(count: int) -> None:
            """Cursor moves as keys make them (each one highlights a row and the panel follows)."""
            for step in range(count):
                if (step // 150) % 2 == 0:
                    app.table.action_cursor_down()
                else:
                    app.table.action_cursor_up()
                if step % 25 == 0:
                    await pilot.pause()

        await move(600)  # warm-up: the line cache fills, every code path runs once
        early = await press(40)
        gc.collect()
        widgets, objects = len(list(app.query("*"))), len(gc.get_objects())
        await move(MOVES)
        await pilot.pause()
        gc.collect()
        grown = len(gc.get_objects()) - objects
        late = await press(40)
        assert len(list(app.query("*"))) == widgets, "the widget tree grew with cursor moves"
        # Before the fix every move rebuilt the Footer and kept ~100 objects alive: 300,000 here.
        assert grown < 20_000, f"{MOVES} cursor moves kept {grown} more objects alive"
        # Relative, not a timing budget: the last keys of the session cost what the first ones did.
        assert statistics.median(late) < 3 * statistics.median(early) + 0.005
