"""The header line: listeners per range, refresh state, hidden owners and scan warnings."""

from __future__ import annotations

import time

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Label, Static

from portwatch.model import NetnsKind, PortRange, Scan
from portwatch.netns_scope import unseen_line
from portwatch.text import safe
from portwatch.tui.table.rows import RANGE_GLYPHS, ViewFilter
from portwatch.tui.widgets import show


class SummaryBar(Vertical):
    """Counts coloured by range (classes in the .tcss), then state; a second line only when there is news."""

    def compose(self) -> ComposeResult:
        with Horizontal(id="summary-counts"):
            yield Label(Content("portwatch"), id="summary-title")
            for port_range in PortRange:
                yield Label(Content(""), id=f"count-{port_range.value}", classes=f"count range-{port_range.value}")
            yield Label(Content(""), id="summary-netns", classes="count")
            with Horizontal(id="summary-alarming"):
                yield Label(Content(""), id="alarming-count")
                yield Label(Content(""), id="alarming-word")
            yield Label(Content(""), id="summary-filter")
            with Horizontal(id="summary-right"):
                yield Label(Content("scanning…"), id="summary-state")
                yield Label(Content(""), id="summary-interval")
        yield Static(Content(""), id="summary-notes")

    def on_mount(self) -> None:
        self.query_one("#summary-notes").display = False
        self.query_one("#summary-netns").display = False

    def show_title(self, title: str) -> None:
        """The first word of the header: "portwatch", or "portwatch @ HOST" (already safe text)."""
        show(self.query_one("#summary-title", Label), Content(title))

    def show_scan(
        self,
        scan: Scan,
        range_counts: dict[PortRange, int],
        hidden_owners: int,
        netns_counts: dict[NetnsKind, int] | None = None,
    ) -> None:
        """The counts come counted (in the scan worker): the header does not walk 5,000 listeners."""
        for port_range in PortRange:
            text = f"{RANGE_GLYPHS[port_range]} {port_range.value} {range_counts.get(port_range, 0)}"
            show(self.query_one(f"#count-{port_range.value}", Label), Content(text))
        netns = self.query_one("#summary-netns", Label)
        counts = netns_counts or {}
        if len(scan.namespaces) > 1 or any(kind is not NetnsKind.HOST for kind in counts):
            parts = [f"{kind.value} {counts[kind]}" for kind in NetnsKind if counts.get(kind)]
            show(netns, Content(f"⧉ {len(scan.namespaces)} netns: " + " · ".join(parts)))
            netns.display = True
        else:
            netns.display = False
        notes: list[Content] = []
        unseen = unseen_line(scan)
        if unseen and scan.unseen_namespaces:
            notes.append(Content(unseen))
        if hidden_owners:
            notes.append(
                Content.assemble((f"{hidden_owners} owner(s) not yours to see", "bold"), ": sudo may reveal them")
            )
        notes += [Content(safe(warning, 300)) for warning in scan.warnings]
        self.show_notes(notes)

    def fit_labels(self) -> None:
        """Give a count or state label laid out narrower than its text another layout pass.

        On a loaded machine Textual can lay a label out at the width of its previous text when the first scan
        lands while the screen is still settling (seen at 80 columns); a later update of the same length
        would then never widen it. Called after each refresh; costs nothing when every label fits.
        """
        for label in (*self.query(".count").results(Label), self.query_one("#summary-state", Label)):
            content = label.content
            if isinstance(content, Content) and label.content_size.width < content.cell_length:
                label.clear_cached_dimensions()
                label.refresh(layout=True)

    def show_alarming(self, count: int, has_baseline: bool) -> None:
        """How many listeners carry an alarming flag: "!" and the word say it, the colour only repeats it."""
        box = self.query_one("#summary-alarming", Horizontal)
        show(self.query_one("#alarming-count", Label), Content(f"! {count}" if count else "✔ 0"))
        show(self.query_one("#alarming-word", Label), Content("unexpected" if has_baseline else "flagged"))
        box.set_class(bool(count), "-alarming")

    @property
    def alarming_text(self) -> str:
        """The count as shown on a wide terminal, e.g. "! 2 unexpected" (narrow ones drop the word)."""
        return " ".join(str(self.query_one(f"#alarming-{part}", Label).content) for part in ("count", "word"))

    def show_notes(self, notes: list[Content]) -> None:
        box = self.query_one("#summary-notes", Static)
        show(box, Content("  ·  ").join(notes))
        box.display = bool(notes)

    def show_state(self, state: str, scan: Scan | None, interval: float) -> None:
        """``state`` is "live", "paused", "scanning", "error" or "stale" (a remote host's data is old)."""
        when = time.strftime("%H:%M:%S", time.localtime(scan.taken_at)) if scan else "-"
        words = {
            "live": f"● live · {when}",
            "paused": f"⏸ paused · {when}",
            "scanning": f"⟳ scanning… · {when}",
            "error": f"✖ scan failed · {when}",
            "stale": f"⚠ stale · {when}",
        }[state]
        show(
            self.query_one("#summary-interval", Label),
            Content("· space resumes" if state == "paused" else f"· every {interval:g}s"),
        )
        label = self.query_one("#summary-state", Label)
        show(label, Content(words))
        label.set_classes(f"state-{state}")

    def show_filter(self, view_filter: ViewFilter, shown: int, total: int) -> None:
        parts: list[str] = []
        if view_filter.text:
            parts.append(f"/{safe(view_filter.text, 40)}")
        if view_filter.proto is not None:
            parts.append(f"{view_filter.proto.value} only")
        if view_filter.port_range is not None:
            parts.append(f"{view_filter.port_range.value} only")
        if view_filter.netns is not None:
            parts.append(f"netns {safe(view_filter.netns_label, 40)} only")
        label = self.query_one("#summary-filter", Label)
        show(label, Content(f"showing {shown}/{total}: " + ", ".join(parts)) if parts else Content(""))
        label.display = bool(parts)
