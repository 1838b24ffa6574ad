"""`portwatch metrics` and `portwatch serve --metrics`: wiring a Snapshotter to the exporter.

cli.py imports this module only when one of these commands runs, so prometheus_client never loads for
`list`, `who`, `check` or the TUI.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from portwatch.collect import get_collector
from portwatch.metrics import PerListener, Snapshot
from portwatch.snapshot import Snapshotter
from portwatch.text import safe

#: EXIT_SCAN_FAILED: the metrics were still written (portwatch_scan_success 0), and a timer's unit shows failed.
EXIT_OK, EXIT_SCAN_FAILED, EXIT_USAGE = 0, 1, 2
_MISSING = (
    "portwatch: {command} needs the Prometheus client library: "
    "pip install 'prometheus_client>=0.17' (or portwatch[metrics])"
)


def _missing_library(error: ImportError, command: str) -> int:
    """A one-line error when the optional library is absent; any other ImportError is a bug and propagates."""
    if not error.name or error.name.split(".")[0] != "prometheus_client":
        raise error
    print(_MISSING.format(command=command), file=sys.stderr)
    return EXIT_USAGE


def _problems(snapshot: Snapshot, snapshotter: Snapshotter) -> list[str]:
    lines = []
    if snapshot.baseline.error:
        lines.append(f"portwatch: {snapshot.baseline.error} (reported as portwatch_baseline_error 1)")
    if not snapshot.success:
        lines.append(f"portwatch: the scan failed: {snapshotter.last_error} (reported as portwatch_scan_success 0)")
    return lines


def _logging(snapshotter: Snapshotter) -> Callable[[], Snapshot]:
    """snapshotter.get that tells stderr (the journal) when a problem starts or changes, not at every scrape."""
    told: list[list[str]] = [[]]

    def get() -> Snapshot:
        snapshot = snapshotter.get()
        problems = _problems(snapshot, snapshotter)
        if problems != told[0]:
            for line in problems or ["portwatch: scanning and judging normally again"]:
                print(line, file=sys.stderr, flush=True)
            told[0] = problems
        return snapshot

    return get


def run_metrics(args: argparse.Namespace) -> int:
    try:
        from portwatch import exporter
    except ImportError as error:
        return _missing_library(error, "portwatch metrics")
    if args.textfile is not None:
        try:
            exporter.check_textfile(args.textfile)  # before scanning: a typo fails fast
        except exporter.TextfileError as error:
            print(f"portwatch: {error}", file=sys.stderr)
            return EXIT_USAGE
    snapshotter = Snapshotter(get_collector(args.collector), args.baseline)
    snapshot = _logging(snapshotter)()
    content = exporter.render(snapshot, PerListener(args.per_listener))
    done = EXIT_OK if snapshot.success else EXIT_SCAN_FAILED
    if args.textfile is None:
        sys.stdout.buffer.write(content)
        sys.stdout.flush()
        return done
    try:
        exporter.write_textfile(args.textfile, content)
    except exporter.TextfileError as error:
        print(f"portwatch: {error}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as error:
        print(f"portwatch: {safe(args.textfile)}: {error.strerror or error}", file=sys.stderr)
        return EXIT_USAGE
    return done


def run_serve(args: argparse.Namespace) -> int:
    try:
        from portwatch import exporter
    except ImportError as error:
        return _missing_library(error, "portwatch serve")
    host, port = args.metrics
    snapshotter = Snapshotter(get_collector(args.collector), args.baseline, min_interval=args.min_interval)
    source = _logging(snapshotter)
    registry = exporter.registry_for(source, PerListener(args.per_listener))
    try:
        server = exporter.make_exporter(host, port, registry)
    except OSError as error:
        print(f"portwatch: cannot listen on {safe(host)}:{port}: {error.strerror or error}", file=sys.stderr)
        return EXIT_USAGE
    source()  # the first scan, before the first scrape: a broken baseline shows at once
    exporter.serve(server, lambda line: print(line, file=sys.stderr, flush=True))
    return EXIT_OK
