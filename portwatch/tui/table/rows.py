"""What the listener table shows, without the widget: filters, sort orders and cells (row life, new and gone,
is in row_tracker.py and re-exported here).

Every string from a process goes through :func:`portwatch.text.safe` into a :class:`Cell` here: plain text
that the table draws as it is, never parsed as markup.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.cells import cell_len, set_cell_size
from rich.style import Style
from rich.text import Text

from portwatch.model import Exposure, Listener, OwnerStatus, PortRange, Proto
from portwatch.text import safe
from portwatch.tui.table.row_tracker import Row as Row
from portwatch.tui.table.row_tracker import RowState as RowState
from portwatch.tui.table.row_tracker import RowTracker as RowTracker


@dataclass(frozen=True)
class ViewFilter:
    """Which listeners the table shows: a substring, one protocol, one IANA range, one network namespace
    (None = all; HOST_ONLY = the host's; else that namespace's inode)."""

    text: str = ""
    proto: Proto | None = None
    port_range: PortRange | None = None
    netns: int | None = None
    #: The label of the namespace chosen by ``netns``, for the header.
    netns_label: str = ""

    def matches(self, listener: Listener) -> bool:
        if self.proto is not None and listener.proto is not self.proto:
            return False
        if (
            self.netns is not None
            and (listener.netns.is_host if self.netns == HOST_ONLY else listener.netns.inode == self.netns) is False
        ):
            return False
        if self.port_range is not None and listener.port_range is not self.port_range:
            return False
        needle = self.text.strip().lower()
        if not needle:
            return True
        if needle == "!":  # "!" alone: only what the flags column marks "!"
            return bool(flag_rank(listener) == 0)
        haystack = (
            str(listener.port),
            listener.address,
            listener.process_name or "",
            listener.user or "",
            listener.service or "",
            occupant(listener) or "",
            *map(str, listener.pids),
            *(flag.code.value for flag in listener.flags),
            listener.netns.label,
        )
        return any(needle in part.lower() for part in haystack)


def flag_rank(listener: Listener) -> int:
    """0: some flag is alarming; 1: only informational flags; 2: none. (The flags column's sort order.)"""
    if any(not flag.informational for flag in listener.flags):
        return 0
    return 1 if listener.flags else 2


#: The flags column: "!" something to look at, "·" only informational notes, blank nothing.
FLAG_MARKS = ("!", "·", "")

RANGE_GLYPHS = {PortRange.WELL_KNOWN: "■", PortRange.REGISTERED: "●", PortRange.DYNAMIC: "▲"}
EXPOSURE_WORDS = {
    Exposure.LOOPBACK: "local",
    Exposure.SPECIFIC: "addr",
    Exposure.ALL: "ALL",
    Exposure.NAMESPACE: "netns",
}
#: ViewFilter.netns for "the host's namespace only" (a real namespace's inode is never 0).
HOST_ONLY = 0

#: Style lookup by component-class name; the table supplies one that reads its .tcss.
Palette = Callable[[str], Style]


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    sort_value: Callable[[Listener], Any]
    #: Takes no room (label included) until some shown row has something in it: on a host without units or
    #: containers the Unit/Container column would only push the other columns off an 80-160 column screen.
    collapses: bool = False
    #: A collapsed column that also gives up its padding (the Namespace column: on a host-only machine the
    #: table keeps exactly the layout it had before namespaces were shown).
    vanishes: bool = False


def occupant(listener: Listener) -> str | None:
    """Who the first owner is beyond its pid, briefly (raw text): the pod, the container's name (or short id),
    or the systemd unit; None when it is in none of them."""
    for owner in listener.owners:
        if owner.pod is not None:
            return owner.pod.text
        if owner.container is not None:
            return owner.container.name or owner.container.id[:12]
        if owner.unit is not None:
            return owner.unit.text if owner.unit.kind == "session" else owner.unit.name
    return None


def _owner_sort(listener: Listener) -> tuple[int, str]:
    return (0, (listener.process_name or "").lower()) if listener.owners else (1, "")


COLUMNS: tuple[Column, ...] = (
    # Who holds the port comes before the port's classification: at 80 columns the owner is on screen and
    # Range, Eph and Service are a scroll away (the port cell keeps the range's glyph, so colour is never the
    # only sign of it).
    Column("flags", "!", flag_rank),
    Column("state", "", lambda entry: 0),
    Column("proto", "Proto", lambda entry: entry.proto.value),
    Column("address", "Address", lambda entry: (entry.family.value, entry.address)),
    Column("exposure", "Exp", lambda entry: list(Exposure).index(entry.exposure)),
    Column("port", "Port", lambda entry: entry.port),
    Column("process", "Process", _owner_sort),
    Column("pids", "PID", lambda entry: entry.pids or (1 << 31,)),
    Column("user", "User", lambda entry: (entry.user is None, entry.user or "")),
    Column(
        "occupant", "Unit/Container", lambda entry: (occupant(entry) is None, occupant(entry) or ""), collapses=True
    ),
    Column(
        "netns", "Namespace", lambda entry: (not entry.netns.is_host, entry.netns.label), collapses=True, vanishes=True
    ),
    Column("range", "Range", lambda entry: list(PortRange).index(entry.port_range)),
    Column("ephemeral", "Eph", lambda entry: not entry.os_ephemeral),
    Column("service", "Service", lambda entry: (entry.service is None, entry.service or "")),
)
COLUMN_KEYS = tuple(column.key for column in COLUMNS)


_SORT_VALUES = {column.key: column.sort_value for column in COLUMNS}


def sort_value(column_key: str, listener: Listener, state: RowState) -> tuple[Any, ...]:
    """Sort by one column, then by port, protocol and address so equal values keep a stable order."""
    primary = ("new", "", "gone").index(state.value) if column_key == "state" else _SORT_VALUES[column_key](listener)
    return (primary, listener.port, listener.proto.value, listener.family.value, listener.address)


class SortableText(Text):
    """A cell that also carries the value it sorts by (the events view's DataTable sorts cells)."""

    sort_key: tuple[Any, ...] = ()


def clip(text: str, width: int) -> str:
    """Shorten an already safe string to ``width`` terminal cells, marking the cut (a CJK character takes
    two cells: cutting by characters would let a name in Chinese take twice its column)."""
    if len(text) <= width // 2 or cell_len(text) <= width:
        return text
    return set_cell_size(text, width - 1).rstrip(" ") + "…"


def _pids(listener: Listener) -> str:
    """The first owner's pid, and how many more (the panel lists them all)."""
    if not listener.pids:
        return "?" if listener.owner_status is OwnerStatus.HIDDEN else "-"
    more = len(listener.pids) - 1
    return f"{listener.pids[0]} +{more}" if more else str(listener.pids[0])


def _process(listener: Listener) -> tuple[str, str]:
    """The process cell's text and the component class that styles it."""
    if listener.owner_status is OwnerStatus.HIDDEN:
        return "(not yours)", "listeners--muted"
    if not listener.owners:
        return "(no process)", "listeners--muted"
    return clip(safe(listener.process_name, 256), 20), ""


@dataclass(frozen=True, slots=True)
class Cell:
    """One table cell: text already made safe (drawn literally, never parsed as markup) and its style.

    Not a rich Text: the table builds ~100 rows a refresh at 5,000 listeners, and a Text costs a control-code
    scan on creation and a width measurement on each use; a Cell is measured once.
    """

    plain: str
    style: Style
    cell_len: int

    @classmethod
    def of(cls, text: str, style: Style) -> Cell:
        return cls(text, style, cell_len(text))


def row_cells(listener: Listener, state: RowState, palette: Palette, namespaces: bool = True) -> tuple[Cell, ...]:
    """The cells of one row, styled by range and state from the palette (which reads the .tcss).

    ``namespaces``: the table shows the Namespace column (some row is outside the host's); until then the
    column is blank and takes no room."""
    base = palette(f"listeners--{listener.port_range.value}")
    rank = flag_rank(listener)
    if state is RowState.NEW:
        base += palette("listeners--new")
    if rank == 0 and state is not RowState.GONE:
        base += palette("listeners--alarming")
    if state is RowState.GONE:
        base = palette("listeners--gone")
    process, process_class = _process(listener)
    values: dict[str, tuple[str, str]] = {
        "flags": (FLAG_MARKS[rank], "listeners--flag-mark" if rank == 0 else ""),
        "state": (state.value, ""),
        "proto": (listener.proto.value, ""),
        "address": (clip(safe(listener.address, 256), 28), ""),
        "port": (f"{RANGE_GLYPHS[listener.port_range]} {listener.port}", ""),
        "range": (listener.port_range.value, ""),
        "ephemeral": ("eph" if listener.os_ephemeral else "", ""),
        "service": (clip(safe(listener.service, 256), 14), ""),
        "pids": (_pids(listener), ""),
        "process": (process, process_class),
        "user": (clip(safe(listener.user, 256), 12), ""),
        "netns": ("", "")
        if not namespaces
        else ("host", "listeners--muted")
        if listener.netns.is_host
        else (clip(safe(listener.netns.label, 256), 18), ""),
        "occupant": (clip(safe(occupant(listener) or "", 256), 24), ""),
        "exposure": (
            EXPOSURE_WORDS[listener.exposure] + ("+v4" if listener.dual_stack else ""),
            "listeners--exposed" if listener.exposure is Exposure.ALL else "",
        ),
    }
    cells: list[Cell] = []
    for key in COLUMN_KEYS:
        text, extra = values[key]
        style = base + palette(extra) if extra and state is not RowState.GONE else base
        cells.append(Cell.of(text, style))
    return tuple(cells)
