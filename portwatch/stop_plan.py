"""Which process a stop may touch, and how: decided from facts, without reading the OS.

The facts (:class:`StopRequest`) are gathered just before the plan by ``portwatch.collect.signals``: one
:class:`Holder` per scan owner that is still the same process (same start time) and still holds the
listener's socket. Everything else here is pure, so every refusal is a unit test:

- only the listener's holders are candidates, never a client of the port (the scan names holders only);
- a socket shared by a pre-fork group is stopped through its master, the one holder whose parent holds no
  copy and from which every other holder descends; a worker only when the user picks it;
- never pid 1, a kernel thread, portwatch itself or any of its ancestors (its parent first);
- a hidden or unknown owner gets the reason, not an attempt;
- the manager's stop (``systemctl stop UNIT``, ``podman``/``docker stop NAME``) is offered only when the
  holder's unit or container is known (:attr:`Holder.unit`, :attr:`Holder.container`).
"""

from __future__ import annotations

import enum
import shlex
from dataclasses import dataclass

from portwatch.model import Listener, OwnerStatus
from portwatch.stop_facts import Container, Holder, StopRequest
from portwatch.text import safe

__all__ = [
    "Container",
    "Holder",
    "Method",
    "Outcome",
    "Result",
    "StopOption",
    "StopPlan",
    "StopRequest",
    "holder_text",
    "master_of",
    "plan_lines",
    "plan_stop",
    "where",
]

#: Longest process text quoted in a plan or an outcome.
NAME_LIMIT = 120


class Method(str, enum.Enum):
    TERM = "SIGTERM"
    KILL = "SIGKILL"
    SYSTEMCTL = "systemctl"
    PODMAN = "podman"
    DOCKER = "docker"

    @property
    def is_signal(self) -> bool:
        return self in (Method.TERM, Method.KILL)


@dataclass(frozen=True, slots=True)
class StopOption:
    """One way to stop the target, and the exact command it amounts to."""

    method: Method
    #: What runs: a manager's command line, or for a signal the `kill` that it amounts to (sent by pidfd).
    argv: tuple[str, ...]

    @property
    def command(self) -> str:
        """The command as a shell would read it, made safe to show."""
        return safe(shlex.join(self.argv), 400)


@dataclass(frozen=True, slots=True)
class StopPlan:
    """What a stop would do: a target and its options, or a refusal saying why not."""

    listener: Listener
    target: Holder | None
    options: tuple[StopOption, ...] = ()
    refusal: str | None = None
    #: Lines worth saying before the choice (the master of a pre-fork group was chosen; an owner changed).
    notes: tuple[str, ...] = ()
    #: Every holder; the others than the target may be picked on request.
    holders: tuple[Holder, ...] = ()

    @property
    def others(self) -> tuple[Holder, ...]:
        return tuple(h for h in self.holders if self.target is None or h.pid != self.target.pid)

    def option(self, method: Method) -> StopOption | None:
        return next((option for option in self.options if option.method is method), None)


def where(listener: Listener) -> str:
    """``tcp 127.0.0.1:8080`` / ``tcp [::]:80``."""
    host = f"[{listener.address}]" if ":" in listener.address else listener.address
    return f"{listener.proto.value} {host}:{listener.port}"


def holder_text(holder: Holder) -> str:
    """``python3 (pid 4242, user dev)``, made safe."""
    user = f", user {safe(holder.user, NAME_LIMIT)}" if holder.user else ""
    return f"{safe(holder.name, NAME_LIMIT) or '?'} (pid {holder.pid}{user})"


def _pids(holders: tuple[Holder, ...] | list[Holder]) -> str:
    return ", ".join(str(h.pid) for h in holders)


def master_of(holders: tuple[Holder, ...]) -> Holder | None:
    """The one holder every other holder descends from through holders (a pre-fork master), if any."""
    by_pid = {h.pid: h for h in holders}
    roots = [h for h in holders if h.ppid not in by_pid]
    if len(roots) != 1:
        return None
    root = roots[0]
    for holder in holders:
        seen: set[int] = set()
        current: Holder | None = holder
        while current is not None and current.pid != root.pid and current.pid not in seen:
            seen.add(current.pid)
            current = by_pid.get(current.ppid) if current.ppid is not None else None
        if current is None or current.pid != root.pid:
            return None
    return root


def _refusal(target: Holder, request: StopRequest) -> str | None:
    if target.pid <= 1:
        return f"pid {target.pid} is the init process: portwatch never signals it"
    if target.kernel_thread:
        return f"pid {target.pid} is a kernel thread: it cannot be stopped by a signal"
    if target.pid == request.own_pid:
        return f"pid {target.pid} is portwatch itself"
    if target.pid in request.ancestors:
        which = "portwatch's parent" if request.ancestors[0] == target.pid else "an ancestor of portwatch"
        return f"pid {target.pid} is {which}: stopping it would end portwatch too"
    return None


def _options(target: Holder) -> tuple[StopOption, ...]:
    options = [
        StopOption(Method.TERM, ("kill", "-TERM", str(target.pid))),
        StopOption(Method.KILL, ("kill", "-KILL", str(target.pid))),
    ]
    if target.unit:
        options.append(StopOption(Method.SYSTEMCTL, ("systemctl", "stop", target.unit)))
    if target.container is not None and target.container.engine in ("podman", "docker"):
        method = Method.PODMAN if target.container.engine == "podman" else Method.DOCKER
        options.append(StopOption(method, (target.container.engine, "stop", target.container.name)))
    return tuple(options)


def plan_stop(request: StopRequest, pick: int | None = None) -> StopPlan:
    """Decide the target and its options; ``pick``: the pid the user chose among the holders."""
    listener, holders = request.listener, request.holders
    what = where(listener)
    if listener.owner_status is OwnerStatus.HIDDEN:
        return StopPlan(
            listener,
            None,
            refusal=f"the owner of {what} is hidden from portwatch (another user's "
            "process): run portwatch with sudo to stop it",
        )
    if not listener.owners:
        return StopPlan(
            listener,
            None,
            refusal=f"no process that portwatch can see holds {what} (another "
            "network namespace, the kernel, or it has just closed)",
        )
    notes: list[str] = []
    if request.changed:
        notes.append(
            "no longer the same process holding the socket as at the scan: pid "
            + ", ".join(str(pid) for pid in request.changed)
        )
    if not holders:
        return StopPlan(
            listener,
            None,
            refusal=f"{what} changed hands since the scan: pid "
            f"{', '.join(str(p) for p in request.changed)} exited or no "
            "longer holds it; nothing was signalled",
        )
    if pick is not None:
        target = next((h for h in holders if h.pid == pick), None)
        if target is None:
            return StopPlan(
                listener, None, refusal=f"pid {pick} does not hold {what} (holders: {_pids(holders)})", holders=holders
            )
        if len(holders) > 1:
            rest = _pids([h for h in holders if h.pid != pick])
            notes.append(f"only pid {pick} is signalled, as asked; the other holders ({rest}) keep the socket open")
    elif len(holders) == 1:
        target = holders[0]
    else:
        master = master_of(holders)
        if master is None:
            return StopPlan(
                listener,
                None,
                refusal=f"{len(holders)} unrelated processes hold {what} (pids {_pids(holders)}): pick the one to stop",
                notes=tuple(notes),
                holders=holders,
            )
        target = master
        workers = [h for h in holders if h.pid != master.pid]
        notes.append(
            f"pre-fork group: pid {master.pid} is the master of {_pids(workers)}; the master is signalled "
            "(a worker alone would just be replaced)"
        )
    if target.container is not None and target.container.placeholder:
        notes.append(
            f"{safe(target.name, NAME_LIMIT)} only holds the port for {target.container.engine} container "
            f"{safe(target.container.name, NAME_LIMIT)}: a signal leaves the port dead while the container "
            f"runs on; `{target.container.engine} stop` stops the container itself"
        )
    refusal = _refusal(target, request)
    if refusal is not None:
        return StopPlan(listener, target, refusal=refusal, notes=tuple(notes), holders=holders)
    return StopPlan(listener, target, _options(target), None, tuple(notes), holders)


class Result(str, enum.Enum):
    """What came of a stop."""

    GONE = "gone"
    #: The target is still running after the wait (SIGTERM ignored or slow): SIGKILL is offered.
    IGNORED = "ignored"
    #: The target ended but the listener is back or still held (a supervisor restarted it, workers).
    STILL_THERE = "still-there"
    DENIED = "denied"
    #: The target had exited before the signal: nothing was sent.
    ALREADY_GONE = "already-gone"
    #: Its pid names another process now, or it no longer holds the socket: refused, nothing sent.
    CHANGED = "changed"
    REFUSED = "refused"
    FAILED = "failed"
    DRY_RUN = "dry-run"


@dataclass(frozen=True, slots=True)
class Outcome:
    result: Result
    #: One line for the user, already safe.
    message: str

    @property
    def offer_kill(self) -> bool:
        return self.result is Result.IGNORED

    @property
    def gone(self) -> bool:
        return self.result in (Result.GONE, Result.ALREADY_GONE)


def plan_lines(plan: StopPlan, refusal: bool = True) -> list[str]:
    """What a stop would do, in lines already safe to print: the listener, the target, its notes, options
    (and the refusal, unless ``refusal`` is False because the caller says it on its own line)."""
    lines = [f"listener: {where(plan.listener)}"]
    for holder in plan.holders:
        mark = "target" if plan.target is not None and holder.pid == plan.target.pid else "holder"
        lines.append(f"{mark}:   {holder_text(holder)}")
        if holder.exe:
            lines.append(f"          exe {safe(holder.exe, NAME_LIMIT)}")
        if holder.unit:
            lines.append(f"          unit {safe(holder.unit, NAME_LIMIT)}")
        if holder.container is not None:
            lines.append(f"          {holder.container.engine} container {safe(holder.container.name, NAME_LIMIT)}")
    if refusal and plan.refusal is not None:
        lines.append(f"refused:  {plan.refusal}")
    for option in plan.options:
        lines.append(f"{option.method.value + ':':<10}{option.command}")
    lines.extend(f"note:     {note}" for note in plan.notes)
    return lines
