"""The real app on the real collector: a child in a unit cgroup shows its unit in the table, and the panel adds
its package and SHA-256 (looked up in the workers, never on the event loop)."""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from rich.style import Style
from textual.widgets import Static

from portwatch.changes import ChangeFeed
from portwatch.collect import get_collector
from portwatch.model import (
    EphemeralRange,
    Exposure,
    Family,
    Listener,
    ListenerKey,
    Owner,
    PortRange,
    PortSpan,
    Proto,
    Scan,
    UnitRef,
)
from portwatch.tui.app import PortwatchApp
from portwatch.tui.table.rows import COLUMN_KEYS, RowTracker
from portwatch.tui.table.table_model import TableModel
from tests.support import Child
from tests.system.occupant_support import PlacedCgroup
from tests.ui.ui_helpers import wait_for


@pytest.fixture
def unit_child(spawn: Callable[..., Child]) -> Iterator[tuple[Child, str]]:
    unit = f"pwat-{secrets.token_hex(4)}.service"
    child = spawn("tcp", "127.0.0.1")
    group = PlacedCgroup(f"system.slice/{unit}")
    group.add(child.pid)
    yield child, unit
    group.close()


def field(app: PortwatchApp, name: str) -> str:
    return str(app.panel.query_one(f"#field-{name}", Static).content)


async def test_unit_column_and_panel_name_the_occupant(unit_child: tuple[Child, str]) -> None:
    child, unit = unit_child
    key = ListenerKey("tcp", "127.0.0.1", child.port)
    app = PortwatchApp(collector=get_collector(packages=True), interval=0.5)
    async with app.run_test(size=(200, 50)) as pilot:
        await wait_for(pilot, lambda: key in app.table.model.rows and app.table.get_cell(key, "occupant").plain)
        assert app.table.get_cell(key, "occupant").plain == unit
        app.table.move_cursor(row=app.table.get_row_index(key))
        await wait_for(pilot, lambda: app.panel.details is not None and app.panel.details.pid == child.pid)
        assert field(app, "unit") == unit
        assert field(app, "container") == "-"
        digest = hashlib.sha256(Path(os.path.realpath(f"/proc/{child.pid}/exe")).read_bytes()).hexdigest()
        assert field(app, "sha256") == digest
        package = field(app, "package")  # the child's python: packaged by dpkg, or by nobody, and said so
        assert "matches its recorded checksum" in package or package == "no installed package owns this file"


def test_unit_container_column_takes_no_room_until_a_row_fills_it() -> None:
    def scan(*owners: Owner) -> Scan:
        listeners = tuple(
            Listener(
                Proto.TCP,
                Family.IPV4,
                "127.0.0.1",
                8000 + index,
                PortRange.REGISTERED,
                False,
                Exposure.LOOPBACK,
                owners=(owner,),
            )
            for index, owner in enumerate(owners)
        )
        return Scan(listeners, EphemeralRange(PortSpan(32768, 60999)), True, "test", 0.0)

    at = COLUMN_KEYS.index("occupant")
    tracker, feed = RowTracker(), ChangeFeed()
    model = TableModel(tracker)
    tracker.apply(feed.update(scan(Owner(1, "plain"))), 0.0)
    model.update(0.0, None, lambda name: Style.null())
    assert model.widths[at] == 0 and model.header_cells()[at].plain == ""
    tracker.apply(feed.update(scan(Owner(1, "plain"), Owner(2, "web", unit=UnitRef("web.service", "service")))), 1.0)
    change = model.update(1.0, None, lambda name: Style.null())
    assert change.widened and model.widths[at] == len("Unit/Container")
    assert model.header_cells()[at].plain == "Unit/Container"


def test_hostile_container_and_unit_names_are_shown_literally() -> None:
    from portwatch.model import ContainerRef, PackageFacts, ProcessDetails, ProcessState
    from portwatch.tui.table.rows import RowState, row_cells
    from portwatch.tui.widgets import process_view

    hostile = "[/]\x1b]52;c;aGk=\x07[@click=app.quit]\u202e"
    owner = Owner(
        9,
        "x",
        unit=UnitRef(hostile + ".service", "service"),
        container=ContainerRef("docker", "d" * 64, hostile, hostile),
        package=PackageFacts("dpkg", hostile, False, hostile),
    )
    row = Listener(
        Proto.TCP, Family.IPV4, "127.0.0.1", 8080, PortRange.REGISTERED, False, Exposure.LOOPBACK, owners=(owner,)
    )
    cell = row_cells(row, RowState.STEADY, lambda name: Style.null())[COLUMN_KEYS.index("occupant")].plain
    shown = process_view.occupant_fields(owner, ProcessDetails(9, ProcessState.OK))
    for text in (cell, *(str(content) for content in shown.values())):
        assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    assert "[/]" in cell and "[@click=app.quit]" in str(shown["container"])  # literally, not as markup
