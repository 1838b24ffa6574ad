"""`portwatch events`: the sentinel's events written as they happen, one line each, until stopped.

Two threads. The capture thread runs the :class:`~portwatch.sentinel.Sentinel` and puts events in a bounded
queue; the main thread takes them out and writes them, flushing after each. A reader that stops reading
blocks only the writer: capture goes on, and when the queue is full its oldest events are dropped and
counted, and the next thing written says how many ("dropped"). So memory stays bounded however slow the
reader. The writer is the main thread so SIGINT and SIGTERM reach it even inside a blocked write: both end the
stream with exit 0. A closed pipe (`portwatch events | head -3`) ends it with exit 0 and no traceback: stdout is
pointed at /dev/null first (streams.discard_stdout), so the interpreter's last flush has nowhere to fail (as
Python's signal docs advise).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from types import FrameType
from typing import IO

from portwatch.baseline import Baseline, BaselineError
from portwatch.collect import Collector, get_collector
from portwatch.event_json import dropped_json, dropped_line, event_json, event_line
from portwatch.events import Event
from portwatch.judge import find_baseline
from portwatch.sentinel import DEFAULT_CAPTURE_INTERVAL, Captured, Sentinel
from portwatch.streams import OutputFailed, discard_stdout
from portwatch.text import safe

#: Events held for a reader that is behind; beyond this the oldest go (about 2 KiB each).
DEFAULT_QUEUE = 4096


class EventQueue:
    """A bounded FIFO between the capture thread and the writer; full, it drops the oldest and counts them."""

    def __init__(self, limit: int = DEFAULT_QUEUE) -> None:
        self.limit = max(1, limit)
        self._items: deque[Event] = deque()
        self._ready = threading.Condition()
        self._dropped = 0
        #: Most events ever waiting at once (a public stat for tests and the benchmark).
        self.high_water = 0

    def put(self, events: Iterable[Event]) -> None:
        with self._ready:
            for event in events:
                if len(self._items) >= self.limit:
                    self._items.popleft()
                    self._dropped += 1
                self._items.append(event)
            self.high_water = max(self.high_water, len(self._items))
            self._ready.notify()

    def take(self, timeout: float) -> tuple[list[Event], int]:
        """Everything waiting (up to ``timeout`` s for something), and how many were dropped since last time."""
        with self._ready:
            if not self._items and not self._dropped:
                self._ready.wait(timeout)
            items, self._items = list(self._items), deque()
            dropped, self._dropped = self._dropped, 0
            return items, dropped

    def __len__(self) -> int:
        return len(self._items)


class _Stopped(Exception):
    """SIGTERM arrived (SIGINT arrives as KeyboardInterrupt)."""


def _stop(signum: int, frame: FrameType | None) -> None:
    raise _Stopped


def run_stream(
    collector: Collector,
    baseline: Baseline | None,
    *,
    interval: float,
    jsonl: bool,
    out: IO[str] = sys.stdout,
    queue_limit: int = DEFAULT_QUEUE,
    on_start: Callable[[int], None] | None = None,
) -> int:
    """Capture and write until SIGINT/SIGTERM or a closed pipe; the exit status (0). ``out``: default stdout
    (as the CLI has wrapped it: a failed write raises streams.OutputFailed, a full disk goes up to the CLI)."""
    if out is None:
        out = sys.stdout
    sentinel = Sentinel(collector, interval=interval, baseline=lambda: baseline, max_events=16, short_lived_under=2.0)
    queue = EventQueue(queue_limit)
    stop = threading.Event()
    has_baseline = baseline is not None

    def deliver(captured: Captured) -> None:
        if captured.events:
            queue.put(captured.events)
        elif captured.judged is not None and on_start is not None:
            on_start(len(captured.judged.listeners))

    def failed(error: Exception) -> None:
        print(f"portwatch: scan failed: {safe(f'{type(error).__name__}: {error}', 300)}", file=sys.stderr)

    previous = signal.signal(signal.SIGTERM, _stop) if threading.current_thread() is threading.main_thread() else None
    capture = threading.Thread(target=sentinel.run, args=(stop, deliver, failed), name="portwatch-capture", daemon=True)
    capture.start()
    writing = False
    try:
        while True:
            events, dropped = queue.take(timeout=1.0)
            writing = True
            if dropped:
                now = time.time()
                out.write((json.dumps(dropped_json(dropped, now)) if jsonl else dropped_line(dropped, now)) + "\n")
            for event in events:
                text = json.dumps(event_json(event, has_baseline)) if jsonl else event_line(event, has_baseline)
                out.write(text + "\n")
                out.flush()
            out.flush()
            writing = False
    except BrokenPipeError:
        discard_stdout()
    except OutputFailed as error:
        if not error.broken_pipe:
            raise  # stdout full or closed before start: the CLI says so and exits 3
        discard_stdout()
    except (_Stopped, KeyboardInterrupt):
        if writing:  # stopped inside a blocked write: what is still buffered would block the exit again
            discard_stdout()
    finally:
        stop.set()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return 0


def run_command(args: argparse.Namespace) -> int:
    """`portwatch events`: --baseline (an explicit file must parse), --capture-interval, --jsonl, --collector."""
    try:
        baseline, _note = find_baseline(args.baseline)
    except BaselineError as error:
        print(f"portwatch: {error}", file=sys.stderr)
        return 2
    if args.capture_interval == 0:
        print(
            "portwatch: error: events needs the sentinel: --capture-interval 0 would capture nothing", file=sys.stderr
        )
        return 2
    interval = args.capture_interval or DEFAULT_CAPTURE_INTERVAL

    def started(count: int) -> None:
        if sys.stderr.isatty():
            print(f"portwatch: watching {count} listeners every {interval:g} s; Ctrl-C stops", file=sys.stderr)

    return run_stream(
        get_collector(args.collector),
        baseline,
        interval=interval,
        jsonl=args.jsonl,
        queue_limit=args.max_queue or DEFAULT_QUEUE,
        on_start=started,
    )
