"""Invisible characters are shown, names are escaped once, and `list` lines up by screen cells."""

from __future__ import annotations

import pytest

from portwatch import listing
from portwatch.flags import name_mismatch
from portwatch.judge import judge
from portwatch.model import EphemeralRange, Exposure, Family, Listener, Owner, PortRange, PortSpan, Proto, Scan
from portwatch.text import cells, pad, safe

INVISIBLE = [
    0x200B,
    0x200C,
    0x200D,
    0x2060,
    0x2061,
    0x2062,
    0x2063,
    0x2064,
    0xFEFF,
    0x00AD,
    0x180E,
    0xE0001,
    0xE0041,
    0xE007F,
    0xFE00,
    0xFE0F,
    0xE0100,
    0x034F,
    0x115F,
    0x3164,
    0xFFA0,
    0x17B4,
]


@pytest.mark.parametrize("code", INVISIBLE, ids=lambda code: f"U+{code:04X}")
def test_invisible_characters_are_escaped_visibly(code: int) -> None:
    shown = safe(f"ss{chr(code)}hd")
    escape = f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"
    assert shown == f"ss{escape}hd"
    assert shown != "sshd" and shown.isprintable()


def test_a_name_hidden_in_tag_characters_is_spelt_out() -> None:
    hidden = "sshd" + "".join(chr(0xE0000 + ord(c)) for c in "evil")
    assert safe(hidden) == "sshd\\U000e0065\\U000e0076\\U000e0069\\U000e006c"


def test_visible_text_still_passes_unchanged() -> None:
    for text in ("sshd", "nginx: worker process", "日本語", "café", "e\u0301", "😀", "Ωmega"):
        assert safe(text) == text


def test_the_name_mismatch_reason_escapes_once() -> None:
    owner = Owner(pid=7, name="\x1b[31mEV", exe="/usr/bin/app", cmdline=("/usr/bin/app",))
    flag = name_mismatch(owner, owner.exe)
    assert flag is not None
    assert "'\\x1b[31mEV'" in flag.reason and "\\\\x1b" not in flag.reason and "\x1b" not in flag.reason
    line = listing.flag_lines(_listener(flags=(flag,)))[0]  # and printing does not escape it again
    assert "calls itself '\\x1b[31mEV' but runs /usr/bin/app" in line


def _listener(name: str = "app", port: int = 8080, flags: tuple = ()) -> Listener:  # type: ignore[type-arg]
    owner = Owner(pid=100 + port, name=name, user="alice", exe="/usr/bin/app", cmdline=(name,))
    return Listener(
        Proto.TCP,
        Family.IPV4,
        "127.0.0.1",
        port,
        PortRange.REGISTERED,
        False,
        Exposure.LOOPBACK,
        owners=(owner,),
        socket_user="alice",
        flags=flags,
    )


def test_cells_count_wide_and_combining_characters() -> None:
    assert cells("abc") == 3
    assert cells("日本") == 4
    assert cells("e\u0301") == 1
    assert cells("😀x") == 3
    assert pad("日本", 6) == "日本  " and pad("x", 3, right=True) == "  x"


@pytest.mark.parametrize("name", ["日本語サーバ", "e\u0301e\u0301e\u0301", "😀😀", "plain"])
def test_list_lines_up_by_screen_cells(name: str) -> None:
    scan = Scan(
        (_listener("plain-name", 8080), _listener(name, 8081), _listener("x", 8082)),
        EphemeralRange(PortSpan(32768, 60999)),
        True,
        "test",
        0.0,
    )
    table = listing.format_table(judge(scan), colour=False).splitlines()
    users = [cells(line[: line.index("alice")]) for line in table[1:]]  # the USER column's first cell
    assert len(set(users)) == 1, table
    header_user = table[0].index("USER")
    assert users[0] == header_user, table


def test_every_format_character_and_every_printable_invisible_one_is_escaped() -> None:
    import unicodedata

    from portwatch.text import _PRINTABLE_INVISIBLE

    format_chars = [cp for cp in range(0x110000) if unicodedata.category(chr(cp)) == "Cf"]
    for cp in (*format_chars, *_PRINTABLE_INVISIBLE):
        assert chr(cp) not in safe(f"a{chr(cp)}b"), f"U+{cp:04X}"
