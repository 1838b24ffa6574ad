"""/proc/PID/cmdline split the way psutil splits it, read from a fake proc tree."""

from __future__ import annotations

from pathlib import Path

import pytest

from portwatch.collect import procfs


@pytest.mark.parametrize(
    ("raw", "argv"),
    [
        (b"/usr/bin/python3\x00-m\x00http.server\x00", ("/usr/bin/python3", "-m", "http.server")),
        (b"nginx: worker process", ("nginx:", "worker", "process")),  # rewritten in place, spaces, no NUL
        (b"postgres: checkpointer \x00", ("postgres:", "checkpointer", "")),  # NUL-ended, spaces inside: as psutil
        (b"", ()),
    ],
)
def test_cmdline_is_split_the_way_psutil_splits_it(tmp_path: Path, raw: bytes, argv: tuple[str, ...]) -> None:
    (tmp_path / "4242").mkdir()
    (tmp_path / "4242" / "cmdline").write_bytes(raw)
    assert procfs.cmdline(4242, str(tmp_path)) == argv
