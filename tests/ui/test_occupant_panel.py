"""The real app on the real collector: a child in a unit cgroup shows its unit in the table, and the panel adds
its package and SHA-256 (looked up in the workers, never on the event loop)."""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from textual.widgets import Static
from ui_helpers import wait_for

from portwatch.collect import get_collector
from portwatch.model import ListenerKey
from portwatch.tui.app import PortwatchApp
from tests.support import Child
from tests.system.occupant_support import PlacedCgroup


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
