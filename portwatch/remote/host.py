"""One remote host, one judged refresh: in whichever of two modes the host allows, judged where most is known.

- **portwatch mode**: the host has portwatch. It runs there as `portwatch stream --jsonl` and judges itself:
  the flags, the owners' details and the baseline are the remote host's. Its lines are decoded by
  portwatch.remote.wire; a portwatch without `stream`, or speaking another schema, is "too old" (a state).
- **fallback mode**: no portwatch there. collect/'s fallback collector reads `ss` and /proc in one round trip,
  and the scan is judged here with what can be known from afar (no baseline).

:class:`RemoteHost` fetches one refresh (the CLI); :class:`portwatch.remote.live.RemoteCollector` keeps a
stream open for the live view. Both speak through one ssh transport (collect's). Failures are
:class:`RemoteError` (one line; ``refused``: the user must act before a retry can help).
"""

from __future__ import annotations

import enum
import shlex
from dataclasses import dataclass

from portwatch.collect import REFUSED, Ran, RemoteReadError, SshError, SshTransport, get_fallback_collector
from portwatch.judge import Judge, JudgedScan
from portwatch.model import ProcessDetails, ProcessState, Scan
from portwatch.remote import wire

#: Exit status of a remote shell that did not find the command.
_NOT_FOUND = 127


class RemoteMode(str, enum.Enum):
    AUTO = "auto"
    PORTWATCH = "portwatch"
    FALLBACK = "fallback"


class RemoteError(Exception):
    """A remote refresh that did not happen, in one line; ``refused``: retrying will not help (exit 2)."""

    def __init__(self, message: str, *, refused: bool = False) -> None:
        super().__init__(message)
        self.refused = refused


@dataclass(frozen=True, slots=True)
class RemoteOptions:
    mode: RemoteMode = RemoteMode.AUTO
    #: How to start portwatch on the remote host (shell words), e.g. "portwatch" or "/opt/pw/bin/portwatch".
    command: str = "portwatch"
    #: A baseline file on the remote host (portwatch mode), instead of the remote user's default.
    baseline: str | None = None


@dataclass(frozen=True, slots=True)
class RemoteResult:
    """One judged refresh of a remote host, and what to say about how it was judged."""

    judged: JudgedScan
    mode: RemoteMode
    #: The baseline that judged it, a path on the remote host; None when there was none.
    baseline: str | None
    #: One line on the mode and what it cannot tell (header, stderr).
    mode_note: str
    processes: tuple[ProcessDetails, ...] = ()


def ssh_error(error: SshError) -> RemoteError:
    return RemoteError(str(error), refused=error.problem in REFUSED)


class RemoteHost:
    """One remote host: its transport, the mode asked for and the mode found, the fallback's judge."""

    def __init__(self, transport: SshTransport, options: RemoteOptions | None = None) -> None:
        self.transport = transport
        self.options = options or RemoteOptions()
        #: The mode in use once known (AUTO until the first refresh says).
        self.mode = self.options.mode
        #: Why portwatch mode was not used, when auto mode fell back.
        self.fallback_reason: str | None = None
        self._fallback = get_fallback_collector(transport)
        self._judge = Judge()

    @property
    def label(self) -> str:
        return self.transport.target.label

    def stream_command(self, *, count: int = 0, interval: float = 2.0, details_port: int | None = None) -> str:
        words = ["stream", "--jsonl", "--interval", f"{interval:g}"]
        if count:
            words += ["--count", str(count)]
        if self.options.baseline:
            words += ["--baseline", self.options.baseline]
        if details_port is not None:
            words += ["--details-port", str(details_port)]
        return f"{self.options.command} {shlex.join(words)}"

    def fetch(self, details_port: int | None = None) -> RemoteResult:
        """One judged refresh (RemoteError when none could be had)."""
        try:
            if self.mode is not RemoteMode.FALLBACK:
                ran = self.transport.run(self.stream_command(count=1, details_port=details_port))
                outcome = self.read_portwatch(ran)
                if outcome is not None:
                    return outcome
            return self.fetch_fallback()
        except SshError as error:
            raise ssh_error(error) from None

    def read_portwatch(self, ran: Ran) -> RemoteResult | None:
        """The refresh a remote portwatch printed; None when auto mode must fall back (no or old portwatch)."""
        lines = [line for line in ran.stdout.splitlines() if line.strip()]
        if ran.status == 0 and lines:
            try:
                return self.judged(wire.decode(lines[-1]))
            except wire.WireError as error:
                if not (error.too_old or error.too_new):
                    raise RemoteError(
                        f"{self.label}: the remote portwatch sent a record this one cannot read: {error}"
                    ) from None
                return self.give_up_portwatch(f"remote portwatch too {'old' if error.too_old else 'new'}: {error}")
        if ran.status == _NOT_FOUND or "not found" in ran.stderr or "No such file" in ran.stderr:
            return self.give_up_portwatch(f"no portwatch there ({self.options.command!r} not found)")
        if "invalid choice: 'stream'" in ran.stderr:
            return self.give_up_portwatch("remote portwatch too old: it has no `stream --jsonl` mode")
        last = ran.stderr.strip().splitlines()[-1:] or ["no output"]
        raise RemoteError(
            f"{self.label}: remote portwatch failed (exit {ran.status}): {last[0][:200]}", refused=ran.status == 2
        )

    def give_up_portwatch(self, reason: str) -> RemoteResult | None:
        """Auto mode falls back (None: fetch the fallback); --remote-mode portwatch refuses (exit 2)."""
        if self.options.mode is RemoteMode.PORTWATCH:
            raise RemoteError(f"{self.label}: {reason}", refused=True)
        self.mode, self.fallback_reason = RemoteMode.FALLBACK, reason
        return None

    def judged(self, record: wire.Judged) -> RemoteResult:
        self.mode = RemoteMode.PORTWATCH
        where = f"baseline {record.baseline}" if record.baseline else "no baseline there"
        note = (
            f"{self.label}: judged there by portwatch {record.version} on {record.hostname} "
            f"({where}; process details are the host's)"
        )
        # The remote baseline is a file over there: the judged scan carries its verdicts, not the file.
        judged = JudgedScan(record.scan, None, record.notes)
        return RemoteResult(judged, RemoteMode.PORTWATCH, record.baseline, note, record.processes)

    def fetch_fallback(self) -> RemoteResult:
        """ss and /proc in one round trip, judged here (SshError propagates)."""
        try:
            scan = self._fallback.scan()
        except RemoteReadError as error:
            raise RemoteError(f"{self.label}: fallback failed: {error}") from None
        why = f"{self.fallback_reason}; " if self.fallback_reason else ""
        note = (
            f"{self.label}: {why}fallback mode: ss + /proc over ssh, judged here; "
            f"cannot tell: {', '.join(self._fallback.limits)}"
        )
        return RemoteResult(self._judge.judge(scan, None), RemoteMode.FALLBACK, None, note)

    def close(self) -> None:
        self.transport.close()


def details_from_scan(scan: Scan, pid: int) -> ProcessDetails | None:
    """What the scan itself says about one owner (`who` and the panel in fallback mode)."""
    for entry in scan.listeners:
        for owner in entry.owners:
            if owner.pid == pid:
                listening = tuple(entry.key.text for entry in scan.listeners if any(o.pid == pid for o in entry.owners))
                return ProcessDetails(
                    pid=pid,
                    state=ProcessState.OK,
                    name=owner.name,
                    exe=owner.exe,
                    exe_deleted=owner.exe_facts.deleted,
                    cmdline=owner.cmdline,
                    user=owner.user,
                    create_time=owner.create_time,
                    listening=listening,
                )
    return None
