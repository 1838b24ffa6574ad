"""Running commands on another host through the system `ssh` client, over one reused control connection.

The system client, not a Python SSH library: the user's ~/.ssh/config, agent, ProxyJump and known_hosts apply
as they do for `ssh HOST`, and nothing heavy is imported. Every command runs with BatchMode=yes (never a
password prompt in the middle of a TUI) and StrictHostKeyChecking=yes (portwatch never adds a host key, and an
ssh client refuses a changed one): a host you have not connected to yet must be accepted with plain `ssh`
first. The first command opens a control master (ControlMaster=auto) whose socket lives in a private 0700
temporary folder; later commands reuse it, so each costs a round trip rather than a handshake.

ssh's own failures (exit status 255) become :class:`SshError` with a :class:`SshProblem` and one line to show.
"""

from __future__ import annotations

import contextlib
import enum
import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import subprocess

#: ssh exits 255 when it, not the remote command, failed.
SSH_FAILED = 255
#: How long the control master outlives its last command (seconds): a TUI refresh keeps it alive.
CONTROL_PERSIST = 60


class SshProblem(str, enum.Enum):
    HOST_KEY_CHANGED = "host-key-changed"
    HOST_KEY_UNKNOWN = "host-key-unknown"
    AUTH_FAILED = "auth-failed"
    UNREACHABLE = "unreachable"
    LOST = "connection-lost"
    NO_SSH = "no-ssh-client"


#: Whether the problem is the user's to fix before trying again (exit 2), rather than the network's (exit 3).
REFUSED = frozenset(
    {SshProblem.HOST_KEY_CHANGED, SshProblem.HOST_KEY_UNKNOWN, SshProblem.AUTH_FAILED, SshProblem.NO_SSH}
)

_PATTERNS: tuple[tuple[SshProblem, re.Pattern[str]], ...] = (
    (SshProblem.HOST_KEY_CHANGED, re.compile(r"REMOTE HOST IDENTIFICATION HAS CHANGED|Host key for .* has changed")),
    (SshProblem.HOST_KEY_UNKNOWN, re.compile(r"No \S+ host key is known|Host key verification failed")),
    (SshProblem.AUTH_FAILED, re.compile(r"Permission denied|Too many authentication failures")),
    (
        SshProblem.UNREACHABLE,
        re.compile(
            r"Could not resolve hostname|Connection refused|Connection timed out|"
            r"No route to host|Network is unreachable|Connection closed by|"
            r"kex_exchange_identification|Operation timed out"
        ),
    ),
)


class SshError(Exception):
    """ssh could not run the command; ``problem`` says why, ``str()`` is one line for the user."""

    def __init__(self, problem: SshProblem, message: str) -> None:
        super().__init__(message)
        self.problem = problem


def classify(destination: str, stderr: str) -> SshError:
    """Turn ssh's stderr (exit 255) into one problem and one line naming the host and what to do."""
    problem = next((p for p, pattern in _PATTERNS if pattern.search(stderr)), SshProblem.LOST)
    last = next((line.strip() for line in reversed(stderr.splitlines()) if line.strip()), "no message")
    advice = {
        SshProblem.HOST_KEY_CHANGED: "refusing to connect: the host key changed (check it, then fix known_hosts "
        "yourself; portwatch never accepts a changed key)",
        SshProblem.HOST_KEY_UNKNOWN: "refusing to connect: its host key is not in known_hosts (connect once "
        "with plain ssh to check and accept it)",
        SshProblem.AUTH_FAILED: "authentication failed (portwatch uses BatchMode: a key or agent, no password)",
        SshProblem.UNREACHABLE: "host unreachable",
        SshProblem.LOST: "connection lost",
    }.get(problem, problem.value)
    return SshError(problem, f"{destination}: {advice} [ssh: {last[:200]}]")


@dataclass(frozen=True, slots=True)
class Ran:
    """A remote command's exit status and output."""

    status: int
    stdout: bytes
    stderr: str


@dataclass(frozen=True, slots=True)
class SshTarget:
    """Where to connect and how: the ssh destination and the options the user passed through portwatch."""

    destination: str
    #: Each becomes ``-o OPTION`` (e.g. "UserKnownHostsFile=/path"), in this order.
    options: tuple[str, ...] = ()
    #: ``-F FILE``: a config file instead of ~/.ssh/config.
    config_file: str | None = None
    port: int | None = None
    connect_timeout: int = 10

    @property
    def label(self) -> str:
        """The host as the user typed it (for headers and row prefixes)."""
        return self.destination


class SshTransport:
    """One host's control connection: run commands through it; close() ends the master and its folder."""

    def __init__(self, target: SshTarget, ssh: str = "ssh") -> None:
        self.target = target
        self._ssh = ssh
        self._control_dir: str | None = None

    def _control_path(self) -> str:
        if self._control_dir is None:
            self._control_dir = tempfile.mkdtemp(prefix="portwatch-ssh-")  # mkdtemp makes it 0700
        return os.path.join(self._control_dir, "%C")

    def argv(self, command: str, *, tty: bool = False) -> list[str]:
        """The ssh command line running ``command`` (one remote shell string) on the target."""
        target = self.target
        argv = [self._ssh]
        if target.config_file:
            argv += ["-F", target.config_file]
        # First value wins in ssh: these cannot be overridden by the config file or --ssh-option.
        argv += [
            "-o",
            "BatchMode=yes",
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "ControlMaster=auto",
            "-o",
            f"ControlPath={self._control_path()}",
            "-o",
            f"ControlPersist={CONTROL_PERSIST}",
            "-o",
            f"ConnectTimeout={target.connect_timeout}",
            "-o",
            "ServerAliveInterval=5",
            "-o",
            "ServerAliveCountMax=2",
            "-o",
            "LogLevel=ERROR",
        ]
        for option in target.options:
            argv += ["-o", option]
        if target.port is not None:
            argv += ["-p", str(target.port)]
        argv += ["-T" if not tty else "-t", "--", target.destination, command]
        return argv

    def run(self, command: str, timeout: float = 60.0, stdin: bytes | None = None) -> Ran:
        """Run ``command`` remotely; SshError when ssh itself failed.

        A remote command's own non-zero status is not an error here: callers read what it printed.
        """
        import subprocess  # here: `portwatch list` on this machine never loads it

        try:
            if stdin is None:
                done = subprocess.run(
                    self.argv(command), stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout, check=False
                )
            else:
                done = subprocess.run(
                    self.argv(command), input=stdin, capture_output=True, timeout=timeout, check=False
                )
        except FileNotFoundError:
            raise SshError(SshProblem.NO_SSH, f"no ssh client ({self._ssh}) on this machine") from None
        except subprocess.TimeoutExpired:
            raise SshError(SshProblem.UNREACHABLE, f"{self.target.label}: no answer within {timeout:g} s") from None
        if done.returncode == SSH_FAILED:
            raise classify(self.target.label, done.stderr.decode("utf-8", "replace"))
        return Ran(done.returncode, done.stdout, done.stderr.decode("utf-8", "replace"))

    def start(self, command: str) -> subprocess.Popen[bytes]:
        """Start ``command`` remotely with its stdout as a pipe (a stream); stderr is kept for classify()."""
        import subprocess

        try:
            return subprocess.Popen(
                self.argv(command), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
        except FileNotFoundError:
            raise SshError(SshProblem.NO_SSH, f"no ssh client ({self._ssh}) on this machine") from None

    def close(self) -> None:
        """Stop the control master (if one runs) and remove the private folder."""
        import subprocess

        if self._control_dir is None:
            return
        if os.listdir(self._control_dir):  # a master's socket: ask it to exit
            with contextlib.suppress(OSError, subprocess.TimeoutExpired):
                subprocess.run(
                    [*self.argv("true")[:-3], "-O", "exit", "--", self.target.destination],
                    stdin=subprocess.DEVNULL,
                    capture_output=True,
                    timeout=10,
                    check=False,
                )
        shutil.rmtree(self._control_dir, ignore_errors=True)
        self._control_dir = None


def quote_words(words: Sequence[str]) -> str:
    """A remote shell command line from words (the remote login shell parses it)."""
    import shlex

    return " ".join(shlex.quote(word) for word in words)


class RemoteReadError(ValueError):
    """A host answered, but not with what was asked for (a cut connection, a shell that is not POSIX)."""
