"""`portwatch stream --jsonl` flushes each line as it is made, even when Python buffers its output."""

from __future__ import annotations

import os
import subprocess
import sys

from portwatch.remote import wire
from tests.support import Child


def test_each_line_arrives_while_the_stream_still_runs(spawn: object) -> None:
    assert callable(spawn)
    child: Child = spawn()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # set on this machine: unset it
    proc = subprocess.Popen(
        [sys.executable, "-m", "portwatch", "stream", "--jsonl", "--interval", "1"],
        stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=env,
    )
    try:
        assert proc.stdout is not None
        first = wire.decode(proc.stdout.readline())
        second = wire.decode(proc.stdout.readline())
        assert proc.poll() is None  # still running: the lines were flushed, not written at exit
        assert any(entry.port == child.port and entry.pids == (child.pid,) for entry in first.scan.listeners)
        assert second.scan.taken_at > first.scan.taken_at
    finally:
        proc.terminate()
        proc.wait(timeout=10)
