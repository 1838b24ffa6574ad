"""`portwatch stop PORT`: end the process listening on a port, from the command line, safely.

Prints what it would signal, asks on a terminal (default no), refuses without one unless --yes, then waits a
bounded time. Exit codes: 0 the listener is gone (or nothing listened there), 1 it is still there (the
signal was ignored, denied, or the service came back), 2 bad input, a refusal, or no confirmation.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from portwatch.model import Listener, Proto
from portwatch.stop_plan import Method, Result, StopPlan, plan_lines, where
from portwatch.text import safe

EXIT_GONE, EXIT_STILL_THERE, EXIT_REFUSED = 0, 1, 2
_EXIT = {
    Result.GONE: EXIT_GONE,
    Result.ALREADY_GONE: EXIT_GONE,
    Result.DRY_RUN: EXIT_GONE,
    Result.IGNORED: EXIT_STILL_THERE,
    Result.STILL_THERE: EXIT_STILL_THERE,
    Result.DENIED: EXIT_STILL_THERE,
    Result.FAILED: EXIT_STILL_THERE,
    Result.CHANGED: EXIT_REFUSED,
    Result.REFUSED: EXIT_REFUSED,
}


def add_parser(
    commands: Any,
    port_type: Callable[[str], int],
    seconds: Callable[[str], float],
    shared: Callable[[argparse.ArgumentParser], None],
) -> None:
    """Register `stop` on the CLI's subcommands (``shared``: the options every subcommand takes)."""
    stop = commands.add_parser(
        "stop",
        help="stop the process listening on PORT (asks first; see --help)",
        description="Signal the process that holds the listening socket on PORT "
        "(for a pre-fork server: its master), after checking it is still "
        "that process. Exit 0: gone; 1: still there; 2: refused.",
    )
    shared(stop)
    stop.add_argument("port", type=port_type, metavar="PORT")
    stop.add_argument("--proto", choices=[p.value for p in Proto], help="only this protocol's listener")
    stop.add_argument("--address", metavar="ADDR", help="only the listener bound to this address")
    stop.add_argument("--signal", choices=("TERM", "KILL"), default="TERM", help="signal to send (default TERM)")
    manager = stop.add_mutually_exclusive_group()
    manager.add_argument("--unit", action="store_true", help="run `systemctl stop UNIT` for its systemd unit")
    manager.add_argument("--container", action="store_true", help="run `podman/docker stop NAME` for its container")
    stop.add_argument("--pid", type=int, metavar="PID", help="signal this holder (e.g. one pre-fork worker) instead")
    stop.add_argument(
        "--wait",
        type=seconds,
        default=5.0,
        metavar="SECONDS",
        help="how long to wait for the listener to go (default 5)",
    )
    stop.add_argument("--dry-run", action="store_true", help="print what would be signalled, and do nothing")
    stop.add_argument("--yes", "-y", action="store_true", help="do not ask (needed without a terminal)")


def _say(message: str) -> None:
    print(f"portwatch: {message}", file=sys.stderr)


def _method(args: argparse.Namespace, plan: StopPlan) -> Method | None:
    if args.unit:
        return Method.SYSTEMCTL
    if args.container:
        target = plan.target
        if target is None or target.container is None:
            return None
        return Method.PODMAN if target.container.engine == "podman" else Method.DOCKER
    return Method.TERM if args.signal == "TERM" else Method.KILL


def _confirm(question: str) -> bool:
    sys.stderr.write(f"{question} [y/N] ")  # stderr: the question reaches the terminal even if stdout is piped
    sys.stderr.flush()
    answer = sys.stdin.readline()
    return answer.strip().lower() in ("y", "yes")


def run_stop(args: argparse.Namespace, listeners: tuple[Listener, ...]) -> int:
    from portwatch.stop import Stopper

    found = [
        entry
        for entry in listeners
        if entry.port == args.port
        and (args.proto is None or entry.proto.value == args.proto)
        and (args.address is None or entry.address == args.address.strip("[]"))
    ]
    proto = f"{args.proto} " if args.proto else ""
    if not found:
        _say(f"nothing is listening on {proto}port {args.port}: nothing to stop")
        return EXIT_GONE
    stopper = Stopper(wait=args.wait)
    plans = [stopper.plan(entry, args.pid) for entry in found]
    refused = next((plan for plan in plans if plan.refusal is not None), None)
    targets = {plan.target.pid for plan in plans if plan.target is not None}
    plan = plans[0]
    print("\n".join(plan_lines(plan, refusal=False)))  # a refusal is the one line on stderr
    for other in plans[1:]:
        print(f"also:     {where(other.listener)}")
    if refused is not None:
        _say(f"refused: {refused.refusal}")
        return EXIT_REFUSED
    if len(targets) > 1:
        _say(
            f"port {args.port} has listeners held by different processes (pids "
            f"{', '.join(map(str, sorted(targets)))}): choose one with --proto, --address or --pid"
        )
        return EXIT_REFUSED
    method = _method(args, plan)
    option = plan.option(method) if method is not None else None
    if method is None or option is None:
        what = "systemd unit" if args.unit else "container"
        _say(f"no {what} is known for pid {plan.target.pid if plan.target else '?'}: nothing was done")
        return EXIT_REFUSED
    if args.dry_run:
        _say(f"dry run: would run `{option.command}`; nothing was signalled")
        return EXIT_GONE
    if not args.yes:
        if not (sys.stdin.isatty() and sys.stderr.isatty()):
            _say("not a terminal: pass --yes to stop without asking; nothing was signalled")
            return EXIT_REFUSED
        if not _confirm(f"Run `{option.command}` to stop {where(plan.listener)}?"):
            _say("not confirmed: nothing was signalled")
            return EXIT_REFUSED
    outcome = stopper.execute(plan, method)
    code = _EXIT[outcome.result]
    if code == EXIT_GONE:
        left = [entry for entry in found[1:] if stopper.lookup(entry) is not None]
        if left:
            _say(f"{outcome.message}; but {', '.join(where(entry) for entry in left)} is still open")
            return EXIT_STILL_THERE
    _say(safe(outcome.message, 600))
    return code
