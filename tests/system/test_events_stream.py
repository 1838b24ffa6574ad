"""`portwatch events` as a real process: short-lived listeners of real children appear with their owner, lines
follow the schema, signals and a closed pipe end it with exit 0, and a reader that never reads costs bounded
memory. PYTHONUNBUFFERED is removed from the child's environment: a stream that forgot to flush must fail here.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest

from tests.system.short_lived import open_briefly, reap

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the sentinel's fingerprint is Linux's")

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "portwatch/schemas/events.schema.json").read_text())


class Stream:
    """A running `portwatch events`, stopped (SIGTERM, then kill) at teardown if still running."""

    def __init__(self, *args: str) -> None:
        env = {key: value for key, value in os.environ.items() if key != "PYTHONUNBUFFERED"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "portwatch", "events", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        self.buffer = b""

    def lines(self, timeout: float) -> Iterator[str]:
        """Lines as they arrive, until ``timeout`` seconds pass."""
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                return
            self.buffer += chunk
            while b"\n" in self.buffer:
                line, self.buffer = self.buffer.split(b"\n", 1)
                yield line.decode()

    def wait_for(self, predicate: object, timeout: float = 8.0) -> list[str]:
        """Lines read until one satisfies ``predicate`` (a callable on the line)."""
        seen: list[str] = []
        for line in self.lines(timeout):
            seen.append(line)
            if predicate(line):  # type: ignore[operator]
                return seen
        raise AssertionError(f"not seen within {timeout} s; got {seen[-5:]}")

    def started(self) -> None:
        """Give it time to import and take its first scan, so a listener opened next is news."""
        time.sleep(1.5)

    def stop(self, signum: int = signal.SIGTERM) -> tuple[int, str]:
        self.proc.send_signal(signum)
        try:
            _out, err = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _out, err = self.proc.communicate()
        return self.proc.returncode, err.decode(errors="replace")


@pytest.fixture
def streams() -> Iterator[list[Stream]]:
    started: list[Stream] = []
    yield started
    for stream in started:
        if stream.proc.poll() is None:
            stream.stop()
    reap()


def for_port(port: int, kind: str):  # type: ignore[no-untyped-def]
    def matches(line: str) -> bool:
        document = json.loads(line)
        return bool(document.get("kind") == kind and document.get("listener", {}).get("port") == port)

    return matches


def test_a_300_ms_listener_is_streamed_opened_and_closed_with_its_owner(streams: list[Stream]) -> None:
    stream = Stream("--jsonl")
    streams.append(stream)
    stream.started()
    brief = open_briefly(0.3)
    lines = stream.wait_for(for_port(brief.port, "closed"))
    documents = [json.loads(line) for line in lines]
    for document in documents:
        jsonschema.validate(document, SCHEMA)
    mine = [d for d in documents if d["kind"] != "dropped" and d["listener"]["port"] == brief.port]
    assert [d["kind"] for d in mine] == ["opened", "closed"]
    for document in mine:
        assert document["listener"]["pids"] == [brief.pid]
        assert document["listener"]["owners"][0]["exe"] == os.path.realpath(sys.executable)
    assert mine[1]["short_lived"] and 0 < mine[1]["lifetime"] < 1.0 and mine[1]["expected"] is None
    assert stream.stop() == (0, "")


def test_readable_lines_name_the_owner(streams: list[Stream]) -> None:
    stream = Stream()
    streams.append(stream)
    stream.started()
    brief = open_briefly(0.3)
    lines = stream.wait_for(lambda line: f":{brief.port} " in line and " closed " in line)
    mine = [line for line in lines if f":{brief.port} " in line]
    assert len(mine) == 2 and all(f"pid {brief.pid}" in line for line in mine) and "short-lived" in mine[1]
    code, err = stream.stop(signal.SIGINT)
    assert (code, err) == (0, "")


#: Opens and closes N listeners in bursts: argv = bursts, listeners per burst, seconds held.
CHURN = textwrap.dedent("""
    import socket, sys, time
    for _ in range(int(sys.argv[1])):
        held = []
        for _ in range(int(sys.argv[2])):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sock.listen()
            held.append(sock)
        time.sleep(float(sys.argv[3]))
        for sock in held:
            sock.close()
        time.sleep(float(sys.argv[3]))
""")


def churn(bursts: int, per_burst: int, hold: float) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", CHURN, str(bursts), str(per_burst), str(hold)])


def test_a_closed_stdout_ends_it_with_exit_0_and_no_traceback(streams: list[Stream]) -> None:
    stream = Stream("--jsonl")
    streams.append(stream)
    stream.started()
    brief = open_briefly(0.3)
    stream.wait_for(for_port(brief.port, "opened"))
    assert stream.proc.stdout is not None
    stream.proc.stdout.close()  # the reader goes away (`portwatch events | head -1`)
    load = churn(bursts=3, per_burst=50, hold=0.3)  # something to write into the closed pipe
    try:
        code = stream.proc.wait(timeout=15)
    finally:
        load.wait(timeout=15)
    assert stream.proc.stderr is not None
    assert (code, stream.proc.stderr.read().decode()) == (0, "")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")


def test_a_reader_that_never_reads_costs_bounded_memory_and_is_told_what_was_dropped(streams: list[Stream]) -> None:
    stream = Stream("--jsonl", "--max-queue", "100")
    streams.append(stream)
    stream.started()
    # One small burst first, read to the end: the first news builds what every later scan reuses (the package
    # index, the owner caches), so the memory measured below is what the flood of events costs, not that.
    churn(bursts=1, per_burst=5, hold=0.4).wait()
    assert any('"opened"' in line for line in stream.lines(timeout=2.0))
    before = rss_kib(stream.proc.pid)
    # 5,000 events; the pipe holds a few dozen lines. Each burst stays a second: the sentinel's CPU budget
    # stretches its interval while it names 250 new listeners, and a 0.4 s burst could then go unseen.
    load = churn(bursts=10, per_burst=250, hold=1.0)
    samples = []
    while load.poll() is None:
        samples.append(rss_kib(stream.proc.pid))
        time.sleep(0.25)
    load.wait()
    # 100 queued events and one scan of 250 listeners: a few MiB. Unbounded, 5,000 events would be ~14 MiB.
    assert max(samples) - before < 8 * 1024, (before, samples)
    documents = [json.loads(line) for line in stream.lines(timeout=3.0)]  # now read what is left
    drops = [document for document in documents if document["kind"] == "dropped"]
    for document in drops:
        jsonschema.validate(document, SCHEMA)
    written = sum(1 for document in documents if document["kind"] != "dropped")
    # What a blocked writer could not write was dropped and counted, not kept: at most the queue and the
    # pipe's few dozen lines were held for the reader. (Over 1,500 dropped, not all: on a busy machine the
    # sentinel's budget may stretch its interval past a burst or two.)
    assert sum(document["count"] for document in drops) > 1500 and written < 400, (len(drops), written)
    assert stream.stop() == (0, "")
