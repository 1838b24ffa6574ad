"""safe(): nothing that could act on a terminal gets through, and everything else is shown as it is."""

from __future__ import annotations

import pytest

from portwatch.text import safe, safe_join


@pytest.mark.parametrize("code", [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)])
def test_every_c0_del_and_c1_control_is_escaped(code: int) -> None:
    shown = safe(f"a{chr(code)}b")
    assert chr(code) not in shown
    assert shown.startswith("a\\") and shown.endswith("b")


def test_escape_sequences_are_shown_not_sent() -> None:
    assert safe("\x1b]52;c;aGk=\x07") == "\\x1b]52;c;aGk=\\x07"
    assert safe("x\x1b[2J") == "x\\x1b[2J"
    assert safe("\x9b31m") == "\\x9b31m"


def test_bidi_overrides_and_line_separators_are_escaped() -> None:
    assert safe("evil\u202egnp.exe") == "evil\\u202egnp.exe"
    assert safe("a\u2028b\u2029") == "a\\u2028b\\u2029"


def test_undecodable_bytes_are_shown_as_bytes() -> None:
    raw = b"caf\xe9\xff".decode("utf-8", "surrogateescape")
    assert safe(raw) == "caf\\xe9\\xff"
    assert safe("\ud800") == "\\ud800"


def test_printable_text_passes_unchanged() -> None:
    for text in ("nginx: master process", "[/]", "[@click=app.quit]", "日本語", "emoji 🚀", "tab-free"):
        assert safe(text) == text


def test_long_text_is_cut_with_a_note() -> None:
    assert safe("x" * 10, limit=4) == "xxxx… (+6 characters)"
    assert safe("x" * 10, limit=None) == "x" * 10


def test_none_is_empty() -> None:
    assert safe(None) == ""


def test_cmdline_join_drops_empty_arguments_and_escapes_newlines() -> None:
    assert safe_join(["python", "", "-c", "a\nb"]) == "python -c a\\nb"  # empty slots dropped, as ps does
