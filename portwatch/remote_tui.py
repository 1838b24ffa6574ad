"""`portwatch --host HOST`: the live view of one remote host.

One host per view: the table's keys, the panel and the event log are one machine's, and a fleet is better
asked with `portwatch list --host A --host B` (one table, a HOST column). The first refresh happens before
the terminal is taken over, so a refused host key or an unreachable host is one line and an exit code, as
with the CLI commands; after that, failures are states in the header and the view reconnects.
"""

from __future__ import annotations

import argparse
import sys

from portwatch import remote_cli
from portwatch.text import safe


def run(args: argparse.Namespace) -> int:
    from portwatch.collect.remote import RemoteError
    from portwatch.collect.remote_stream import Prejudged, RemoteCollector, RemoteInspector

    refused = remote_cli.local_baseline_refused(args.tui_baseline)
    if refused is not None:
        return refused
    hosts = remote_cli.hosts(args)
    if len(hosts) != 1:
        print(
            "portwatch: the live view watches one --host; `portwatch list --host A --host B` lists several",
            file=sys.stderr,
        )
        return remote_cli.EXIT_REFUSED
    collector = RemoteCollector(hosts[0], args.interval)
    try:
        collector.scan()  # before the terminal is taken over: a refusal is one line and an exit code
    except RemoteError as error:
        print(f"portwatch: {safe(str(error), 500)}", file=sys.stderr)
        collector.close()
        return remote_cli.EXIT_REFUSED if error.refused else remote_cli.EXIT_UNREACHABLE
    from portwatch.tui.app import PortwatchApp

    try:
        PortwatchApp(
            collector=collector,
            interval=args.interval,
            inspector=RemoteInspector(collector),
            flagger=Prejudged(),
            baseline_path=None,
            bell=args.bell,
            host=hosts[0].label,
        ).run()
    finally:
        collector.close()
    return 0
