"""The `?` screen: every key in one place. Esc, `q` or `?` close it."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

HELP = """\
[b]portwatch[/b]: what is listening on this machine, and should it be?

[b]Keys[/b]
  ↑ ↓ PgUp PgDn   move; the process panel follows the highlighted row
  /               filter by port, address, process, user, unit/container, service or flag code
                  (! alone: unexpected only; Enter keeps the filter, Esc clears it)
  s               sort by the next column (click a header to sort by it; again to reverse)
  t               show TCP and UDP / TCP only / UDP only
  r               show all ranges / one IANA range only
  p               show or hide the process panel (on narrow terminals: swap table and panel)
  o               next owner process, when several share a socket
  a               approve: add the highlighted listener to the baseline file. No confirmation:
                  it only adds an entry (the old file is kept as .bak; delete the entry to undo)
  k, F9           stop the highlighted listener's process: a dialog names the target (a pre-fork
                  server's master), its exe, user, unit or container, and each choice's command;
                  Cancel is focused (Enter cancels). The process is re-checked before the signal
  c / C           copy the row / the owner's full command line (OSC 52; tmux: set-clipboard on)
  x               export the rows shown (filter and sort applied) as CSV or JSON
  e               events: every listener opened / closed / re-owned since start, how long it lived
  space           pause / resume refreshing
  ctrl+r, F5      refresh now
  ctrl+p          command palette
  ?               this help        q   quit

[b]Columns[/b]
  !               ! something to look at (the panel gives each flag's reason) · · notes only
  new / gone      appeared since start (marked ~10 s) / closed (kept dimmed ~5 s)
  Exp             who can connect: local (loopback) · addr (one address) · ALL (every interface);
                  ALL+v4: an IPv6 [::] socket that takes IPv4 connections too
  Port            its glyph is its IANA class: ■ well-known · ● registered · ▲ dynamic
  Process / PID   (not yours) and ?: another user's socket, its process not yours to see; sudo may reveal it
  Unit/Container  the owner's Kubernetes pod, container (name, or short id) or systemd unit, from its
                  cgroup; the panel adds the image, the package and whether the binary still matches it
  Range           IANA class: well-known 0-1023 · registered 1024-49151 · dynamic 49152-65535
  Eph             inside this OS's ephemeral (automatic) port range: often a client, not a server
  ← →             at 80 columns, Unit/Container, Range, Eph and Service are a scroll to the right

[b]Alerts[/b]
  A listener that opens with a "!" flag, or an address another flagged program took over, raises one
  notification (and a bell with --bell); the header counts them. Listeners present at start are
  counted, not announced. --baseline PATH picks the file.

Press Esc to close."""


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "close", "Close"),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            # Our own constant text: markup here is ours, never a process's.
            yield Static(Content.from_markup(HELP), id="help-text")

    def action_close(self) -> None:
        self.dismiss(None)
