"""The table's pure parts: row life across scans, filters, and cells that always hold safe plain text."""

from __future__ import annotations

from collections.abc import Iterable

from rich.style import Style

from portwatch.changes import ChangeFeed
from portwatch.model import Listener, ListenerKey, OwnerStatus, PortRange, Proto, Scan
from portwatch.tui.table.rows import COLUMN_KEYS, Cell, RowState, RowTracker, ViewFilter, row_cells
from tests.ui.fixed_data import EPHEMERAL, HOSTILE_NAME, listener


def no_palette(name: str) -> Style:
    return Style()


class Scans:
    """Feeds a tracker scan by scan through the change feed, as the app's worker does."""

    def __init__(self, tracker: RowTracker) -> None:
        self.tracker, self.feed = tracker, ChangeFeed()

    def __call__(self, listeners: Iterable[Listener], now: float) -> set[ListenerKey]:
        scan = Scan(tuple(listeners), EPHEMERAL, True, "test", now)
        return self.tracker.apply(self.feed.update(scan), now)


def test_rows_present_at_start_are_not_new_later_ones_are_and_closed_ones_linger() -> None:
    ssh, web = listener("tcp", "0.0.0.0", 22), listener("tcp", "0.0.0.0", 8080)
    tracker = RowTracker(new_for=10, gone_for=5)
    update = Scans(tracker)
    update([ssh], now=100)
    assert tracker.rows[ssh.key].state(100) is RowState.STEADY
    update([web], now=102)
    assert tracker.rows[web.key].state(102) is RowState.NEW
    assert tracker.rows[ssh.key].state(102) is RowState.GONE
    tracker.expire(107)
    assert ssh.key not in tracker.rows
    tracker.expire(112)
    assert tracker.rows[web.key].state(112) is RowState.STEADY
    assert not tracker.pending()


def test_a_listener_that_comes_back_while_dimmed_is_new_again() -> None:
    web = listener("tcp", "0.0.0.0", 8080)
    tracker = RowTracker()
    update = Scans(tracker)
    update([web], now=0)
    update([], now=1)
    update([web], now=2)
    assert tracker.rows[web.key].state(2) is RowState.NEW


def test_filter_matches_port_address_process_user_service_protocol_and_range() -> None:
    ssh = listener("tcp", "0.0.0.0", 22, [(812, "sshd", "root")])
    dns = listener("udp", "127.0.0.53", 53, [(640, "systemd-resolve", "systemd-resolve")])
    assert ViewFilter("ssh").matches(ssh) and not ViewFilter("ssh").matches(dns)  # service and process
    assert ViewFilter("127.0.0").matches(dns) and ViewFilter("ROOT").matches(ssh)
    assert ViewFilter("22").matches(ssh) and not ViewFilter("22").matches(dns)
    assert ViewFilter(proto=Proto.UDP).matches(dns) and not ViewFilter(proto=Proto.UDP).matches(ssh)
    assert ViewFilter(port_range=PortRange.WELL_KNOWN).matches(dns)
    assert not ViewFilter(port_range=PortRange.DYNAMIC).matches(ssh)


def test_cells_are_plain_text_with_hostile_names_made_visible() -> None:
    hostile = listener("tcp", "127.0.0.1", 31337, [(6666, HOSTILE_NAME, "[b]mallory")])
    cells = row_cells(hostile, RowState.NEW, no_palette)
    assert len(cells) == len(COLUMN_KEYS)
    assert all(isinstance(cell, Cell) and isinstance(cell.plain, str) for cell in cells)
    by_key = dict(zip(COLUMN_KEYS, (cell.plain for cell in cells), strict=True))
    assert "\x1b" not in by_key["process"] and by_key["process"].startswith("[/]\\x1b]52")
    assert by_key["user"] == "[b]mallory"
    assert by_key["state"] == "new" and "registered" in by_key["range"]


def test_hidden_owner_says_in_words_it_is_not_yours_to_see() -> None:
    hidden = listener("udp", "0.0.0.0", 5353, status=OwnerStatus.HIDDEN, socket_user="avahi")
    by_key = dict(zip(COLUMN_KEYS, (c.plain for c in row_cells(hidden, RowState.STEADY, no_palette)), strict=True))
    assert by_key["pids"] == "?" and by_key["process"] == "(not yours)" and by_key["user"] == "avahi"


def test_dual_stack_wildcard_says_it_takes_ipv4_too() -> None:
    import dataclasses

    v6_any = listener("tcp", "::", 8080, [(4242, "server", "www")])
    exposure = COLUMN_KEYS.index("exposure")
    assert row_cells(v6_any, RowState.STEADY, no_palette)[exposure].plain == "ALL"
    dual = dataclasses.replace(v6_any, dual_stack=True)
    assert row_cells(dual, RowState.STEADY, no_palette)[exposure].plain == "ALL+v4"


def test_the_change_feed_leaves_the_rows_of_each_whole_scan_and_touches_only_what_changed() -> None:
    ssh, web = listener("tcp", "0.0.0.0", 22, [(812, "sshd", "root")]), listener("tcp", "0.0.0.0", 8080)
    restarted = listener("tcp", "0.0.0.0", 22, [(999, "sshd", "root")])
    scans = [(ssh,), (ssh, web), (restarted, web), (web,), (web,), ()]
    tracker = RowTracker(new_for=3, gone_for=2)
    update = Scans(tracker)
    before: tuple[Listener, ...] = ()
    for now, listeners in enumerate(scans):
        touched = update(listeners, now)
        live = {key: row.listener for key, row in tracker.rows.items() if row.state(now) is not RowState.GONE}
        assert live == {entry.key: entry for entry in listeners}  # what a whole scan would leave
        assert {entry.key for entry in set(listeners) ^ set(before)} <= touched  # opened, changed, closed
        before = listeners
    assert tracker.rows == {} or all(row.gone_since is not None for row in tracker.rows.values())


def test_only_rows_that_time_changes_are_pending_and_expire_touches_only_them() -> None:
    ssh, web = listener("tcp", "0.0.0.0", 22), listener("tcp", "0.0.0.0", 8080)
    tracker = RowTracker(new_for=10, gone_for=5)
    update = Scans(tracker)
    update([ssh], now=0)
    assert not tracker.pending()  # present at start: not news
    assert update([ssh, web], now=1) == {web.key}
    assert tracker.expire(5) == set()
    assert tracker.expire(11) == {web.key}  # its mark came off
    assert not tracker.pending()


def test_wide_characters_are_clipped_by_the_cells_they_take_not_by_count() -> None:
    from rich.cells import cell_len

    wide = listener("tcp", "127.0.0.1", 8080, [(77, "服务器进程名字很长很长很长很长", "dev")])
    process = dict(zip(COLUMN_KEYS, row_cells(wide, RowState.STEADY, no_palette), strict=True))["process"]
    assert process.plain.endswith("…") and cell_len(process.plain) <= 20 and process.cell_len <= 20
