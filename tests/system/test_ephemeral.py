"""The OS ephemeral range as the collector reads it from this machine."""

from __future__ import annotations

import sys

import pytest

from portwatch.collect import ephemeral


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/sys/net is Linux's")
def test_linux_ephemeral_range_is_read_from_proc() -> None:
    first, last = (int(v) for v in ephemeral.LINUX_PORT_RANGE.read_text().split())
    found = ephemeral.os_ephemeral_range()
    assert (found.span.first, found.span.last) == (first, last)
    assert found.source == str(ephemeral.LINUX_PORT_RANGE)
