"""One place that makes untrusted text safe to show.

Any process can name itself anything (prctl(PR_SET_NAME), argv rewriting, a crafted exe path), so every
string a process reports is hostile until it has passed through :func:`safe`. Control characters are not
dropped silently but shown as visible escapes, so the user sees that something odd is there:

- C0 controls, DEL and C1 controls (ESC sequences, OSC 52 clipboard writes, terminal resets),
- Unicode bidirectional overrides and isolates (the "Trojan Source" trick: text that reads backwards),
- invisible characters, which make ``ss\u200bhd`` look like ``sshd``: every format character (category Cf:
  zero-width space/joiners, word joiner, invisible operators, BOM, soft hyphen, tag characters) and the
  invisible ones Python calls printable (variation selectors, the combining grapheme joiner, Hangul
  fillers, Khmer inherent vowels, Mongolian free variation selectors),
- line and paragraph separators,
- lone surrogates, which is how Python carries bytes that were not valid UTF-8 (shown as the byte).

Markup is a separate danger: widgets must receive the result as ``rich.text.Text``/``Content``, never as a
``str`` that Textual would parse. That rule lives with the widgets; this module knows nothing of Textual.
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from portwatch.model import Listener

_NAMED = {0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"}
_BIDI = (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))


def _build_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for cp in (*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)):
        table[cp] = _NAMED.get(cp, f"\\x{cp:02x}")
    for cp in (*_BIDI, 0x2028, 0x2029):
        table[cp] = f"\\u{cp:04x}"
    for cp in range(0xD800, 0xE000):
        # os.fsdecode() maps an undecodable byte b to U+DC00+b (surrogateescape): show the byte itself.
        table[cp] = f"\\x{cp - 0xDC00:02x}" if 0xDC80 <= cp <= 0xDCFF else f"\\u{cp:04x}"
    return table


class _Escapes(dict[int, str]):
    """The table, completed on first sight of a format character (Cf, about 170 code points): every one is
    escaped, without listing the whole of Unicode at import. Others are not kept (the table stays small)."""

    def __missing__(self, cp: int) -> str:
        char = chr(cp)
        if unicodedata.category(char) != "Cf":
            return char
        self[cp] = value = _escape(cp)
        return value


def _escape(cp: int) -> str:
    return f"\\u{cp:04x}" if cp <= 0xFFFF else f"\\U{cp:08x}"


#: Invisible characters that str.isprintable() accepts (category Mn/Lo): the fast path must look for them.
_PRINTABLE_INVISIBLE = (
    0x034F,
    0x115F,
    0x1160,
    0x17B4,
    0x17B5,
    *range(0x180B, 0x1810),
    0x3164,
    *range(0xFE00, 0xFE10),
    0xFFA0,
    *range(0xE0100, 0xE01F0),
)
_HAS_INVISIBLE = re.compile(
    "[\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u3164\ufe00-\ufe0f\uffa0\U000e0100-\U000e01ef]"
)

_TABLE = _Escapes(_build_table())
_TABLE.update({cp: _escape(cp) for cp in (*_PRINTABLE_INVISIBLE, *range(0xE0000, 0xE0080))})

#: Longest string shown anywhere by default; beyond it a note says how much was cut.
DEFAULT_LIMIT = 4096


def safe(value: object, limit: int | None = DEFAULT_LIMIT) -> str:
    """Return ``value`` as a string with no character that could act on a terminal, cut to ``limit``.

    ``None`` becomes the empty string. Cutting happens before escaping, so a huge hostile string costs
    no more than ``limit`` characters of work.
    """
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    cut = 0
    if limit is not None and len(text) > limit:
        cut = len(text) - limit
        text = text[:limit]
    # Every escaped code point is non-printable except the few in _PRINTABLE_INVISIBLE: a sound fast path.
    if not text.isprintable() or (not text.isascii() and _HAS_INVISIBLE.search(text)):
        text = text.translate(_TABLE)
    if cut:
        text += f"… (+{cut} characters)"
    return text


def cells(text: str) -> int:
    """How many terminal cells ``text`` takes: wide (CJK, most emoji) 2, combining marks 0, the rest 1.

    For text that went through :func:`safe` (no controls, no invisible characters left).
    """
    if text.isascii():
        return len(text)
    width = 0
    for char in text:
        if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me"):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def pad(text: str, width: int, right: bool = False) -> str:
    """``text`` padded with spaces to ``width`` cells (str.ljust counts characters, not cells)."""
    fill = " " * max(0, width - cells(text))
    return fill + text if right else text + fill


def safe_join(parts: tuple[str, ...] | list[str], limit: int | None = DEFAULT_LIMIT) -> str:
    """A cmdline for display: its non-empty arguments joined by spaces, then made safe.

    Empty arguments are dropped, as ps drops them: daemons that overwrite their argv to retitle themselves
    (nginx, redis, postgres) leave the old slots empty, and ``'' '' ''…`` says nothing. JSON keeps them.
    """
    return safe(" ".join(part for part in parts if part), limit)


def bracket(address: str) -> str:
    """An IPv6 address in brackets (``[::1]``), as ss and browsers write it before a port; others unchanged."""
    return f"[{address}]" if ":" in address else address


def host_port(address: str, port: int) -> str:
    """``127.0.0.1:8080`` / ``[::1]:8080``."""
    return f"{bracket(address)}:{port}"


def age(seconds: float) -> str:
    """A compact duration: 45s, 12m 3s, 3h 5m, 2d 4h."""
    seconds = max(0, int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {secs}s" if minutes else f"{secs}s"


def duration(seconds: float) -> str:
    """A lifetime: tenths of a second below 10 s (0.3s, 2.5s: what the sentinel can tell apart), else age()."""
    return f"{max(0.0, seconds):.1f}s" if seconds < 10 else age(seconds)


def describe(listener: Listener) -> str:
    """``tcp 0.0.0.0:8000 (python3, pid 4242)``, made safe (plain text: show it without markup)."""
    owner = f" ({listener.process_name}, pid {listener.pids[0]})" if listener.pids else ""
    return safe(f"{listener.key.text}{owner}", 200)
