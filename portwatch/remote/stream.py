"""`portwatch stream --jsonl`: one judged scan per line, every interval, for another portwatch reading over ssh.

This is the machine mode behind `--host`: the host being watched collects and judges (its flags, its
process details, its baseline), and prints each refresh as one line in the portwatch.remote.wire format, flushed at
once (a pipe is block-buffered unless Python is told otherwise). It ends when its reader goes away.
"""

from __future__ import annotations

import argparse
import socket
import sys
import time
from typing import IO

from portwatch import __version__
from portwatch.baseline_file import default_path
from portwatch.collect import get_collector, get_inspector
from portwatch.model import ProcessDetails
from portwatch.remote import wire
from portwatch.watch import Watcher


def run(args: argparse.Namespace, out: IO[str] | None = None) -> int:
    if args.baseline is not None and not args.baseline.exists():
        print(f"portwatch: no baseline at {args.baseline}", file=sys.stderr)
        return 2
    watcher = Watcher(get_collector(args.collector), args.baseline or default_path())
    inspector = get_inspector() if args.details_port is not None else None
    out = out or sys.stdout
    hostname = socket.gethostname()
    sent = 0
    while True:
        started = time.monotonic()
        polled = watcher.poll()
        notes = (polled.baseline_notice,) if polled.baseline_notice else ()
        details: tuple[ProcessDetails, ...] = ()
        if inspector is not None:
            pids = sorted({pid for e in polled.scan.listeners if e.port == args.details_port for pid in e.pids})
            details = tuple(inspector.inspect(pid) for pid in pids)
        baseline = watcher.baseline.path if watcher.baseline is not None else None
        out.write(
            wire.encode(
                polled.scan,
                baseline=str(baseline) if baseline else None,
                hostname=hostname,
                version=__version__,
                notes=notes,
                processes=details,
                elapsed=time.monotonic() - started,
            )
            + "\n"
        )
        out.flush()  # the reader waits for this line; never leave it in a buffer
        sent += 1
        if args.count and sent >= args.count:
            return 0
        time.sleep(max(0.0, args.interval - (time.monotonic() - started)))
