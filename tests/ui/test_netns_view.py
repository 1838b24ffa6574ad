"""Network namespaces in the live view: the Namespace column, the header's counts, `n` and the `/` filter.

Fixed listeners in three namespaces go through the collector seam the app uses in production.
"""

from __future__ import annotations

import dataclasses

from textual.widgets import Label

from portwatch import ranges
from portwatch.model import Listener, ListenerKey, Netns, NetnsKind, NetnsRef, Scan
from portwatch.tui.app import PortwatchApp
from tests.ui.fixed_data import NOW, FixedCollector, FixedInspector, listener, sample_scan
from tests.ui.ui_helpers import wait_for

HOST = Netns(4026531833, NetnsKind.HOST, "host")
WEB = Netns(4026532301, NetnsKind.CONTAINER, "web-1")
LAB = Netns(4026532500, NetnsKind.NAMED, "lab")


def inside(netns: Netns, entry: Listener) -> Listener:
    exposure = ranges.exposure_in(entry.address, None, netns.is_host)
    return dataclasses.replace(entry, netns=netns, exposure=exposure)


def namespace_scan() -> Scan:
    rows = (
        inside(HOST, listener("tcp", "0.0.0.0", 22, [(812, "sshd", "root")])),
        inside(WEB, listener("tcp", "0.0.0.0", 80, [(900, "nginx", "root")])),
        inside(LAB, listener("tcp", "0.0.0.0", 80, [(950, "python3", "root")])),
        inside(LAB, listener("udp", "127.0.0.1", 5353, [(950, "python3", "root")])),
    )
    return dataclasses.replace(sample_scan(listeners=rows), privileged=True, namespaces=(HOST, WEB, LAB))


def app_with(scan: Scan) -> PortwatchApp:
    return PortwatchApp(collector=FixedCollector(scan), interval=3600, inspector=FixedInspector(), clock=lambda: NOW)


def cell(app: PortwatchApp, key: ListenerKey, column: str) -> str:
    return app.table.get_cell(key, column).plain


async def test_namespace_column_names_each_row_and_wildcards_inside_are_netns() -> None:
    app = app_with(namespace_scan())
    async with app.run_test(size=(160, 30)) as pilot:
        await wait_for(pilot, lambda: app.table.row_count == 4)
        web = ListenerKey("tcp", "0.0.0.0", 80, NetnsRef(WEB.inode))
        lab = ListenerKey("tcp", "0.0.0.0", 80, NetnsRef(LAB.inode))
        assert cell(app, web, "netns") == "web-1" and cell(app, lab, "netns") == "lab"
        assert cell(app, ListenerKey("tcp", "0.0.0.0", 22), "netns") == "host"
        assert (
            cell(app, web, "exposure") == "netns" and cell(app, ListenerKey("tcp", "0.0.0.0", 22), "exposure") == "ALL"
        )
        header = str(app.summary.query_one("#summary-netns", Label).content)
        assert header == "⧉ 3 netns: host 1 · container 1 · named 2"


async def test_n_cycles_all_host_then_each_namespace_and_back() -> None:
    app = app_with(namespace_scan())
    async with app.run_test(size=(160, 30)) as pilot:
        await wait_for(pilot, lambda: app.table.row_count == 4)
        seen = []
        for _ in range(4):
            await pilot.press("n")
            await pilot.pause()
            seen.append(app.table.row_count)
        assert seen == [1, 1, 2, 4]  # host only, web-1 (container), lab (named), all again


async def test_slash_filter_matches_the_namespace_name() -> None:
    app = app_with(namespace_scan())
    async with app.run_test(size=(160, 30)) as pilot:
        await wait_for(pilot, lambda: app.table.row_count == 4)
        await pilot.press("slash", "w", "e", "b", "-", "1", "enter")
        await wait_for(pilot, lambda: app.table.row_count == 1)
        assert app.table.highlighted_key == ListenerKey("tcp", "0.0.0.0", 80, NetnsRef(WEB.inode))


async def test_host_only_machine_has_no_namespace_column() -> None:
    app = app_with(sample_scan())
    async with app.run_test(size=(160, 30)) as pilot:
        await wait_for(pilot, lambda: app.table.row_count > 0)
        assert not app.table.model.namespaces_shown
        assert {app.table.get_cell(key, "netns").plain for key in app.table.model.order} == {""}
        assert not app.summary.query_one("#summary-netns", Label).display


async def test_netns_option_opens_on_that_namespace() -> None:
    app = PortwatchApp(
        collector=FixedCollector(namespace_scan()),
        interval=3600,
        inspector=FixedInspector(),
        clock=lambda: NOW,
        netns="lab",
    )
    async with app.run_test(size=(160, 30)) as pilot:
        await wait_for(pilot, lambda: app.table.row_count == 2)
        assert {app.table.model.rows[key].listener.netns.name for key in app.table.model.order} == {"lab"}
