"""Helpers shared by the test suites: real sockets, child processes (listeners, servers under copied or renamed
interpreters, the hostile process) and the change feed between two scans."""

from __future__ import annotations

import dataclasses
import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from portwatch.changes import ChangeFeed, Changes
from portwatch.collect import Collector
from portwatch.model import Listener, ListenerKey, Scan
from tests.json_contract import parse_json

HAS_IPV6 = socket.has_ipv6
try:
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as _probe:
        _probe.bind(("::1", 0))
except OSError:
    HAS_IPV6 = False

needs_ipv6 = pytest.mark.skipif(not HAS_IPV6, reason="no IPv6 loopback on this machine")


class ManualClock:
    """A clock that moves only when a test says so: pass it where code takes ``clock=`` (the app, the table,
    caches) and :meth:`advance` it instead of sleeping."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def listener_key(proto: str, address: str, port: int) -> ListenerKey:
    """The key the pipeline gives a listener on (proto, address, port): the one place tests build one, so a
    field the key gains (the network namespace) is one change here."""
    return ListenerKey(proto=proto, address=address, port=port)


class OwnListeners:
    """A real collector whose scans keep only the listeners on ``ports``, which the test fills as it opens them:
    a verdict or an alert then depends on the test's own listeners, never on what other programs open."""

    def __init__(self, collector: Collector, ports: set[int] | None = None) -> None:
        self.collector = collector
        self.ports: set[int] = set() if ports is None else ports
        self.source = collector.source

    def scan(self) -> Scan:
        scan = self.collector.scan()
        self.source = self.collector.source
        return dataclasses.replace(scan, listeners=tuple(entry for entry in scan.listeners if entry.port in self.ports))


def changes_between(before: Scan, after: Scan) -> Changes:
    """What the change feed reports for ``after`` when the scan before it was ``before``."""
    feed = ChangeFeed()
    feed.update(before)
    return feed.update(after)


def open_socket(proto: str, host: str, port: int = 0) -> socket.socket:
    """A bound socket: TCP in LISTEN, UDP bound and unconnected."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    sock = socket.socket(family, kind)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    if proto == "tcp":
        sock.listen()
    return sock


def end_child(proc: subprocess.Popen[str]) -> None:
    """Close its stdin (it exits on EOF); kill it only if it does not. Only ever our own children."""
    if proc.poll() is None:
        if proc.stdin:
            proc.stdin.close()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass
class Child:
    """A child process we started; `port` is what it reported after binding."""

    proc: subprocess.Popen[str]
    port: int
    #: The pid of the forked co-owner of the socket, when asked for one.
    forked_pid: int | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        """Close its stdin (it exits on EOF); kill it only if it does not. Only ever our own children."""
        end_child(self.proc)


def start_child(argv: list[str], env: dict[str, str] | None = None) -> Child:
    """Start a child that prints its bound port (and maybe a forked pid) on its first line, then waits."""
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    fields = (proc.stdout.readline() if proc.stdout else "").split()
    if not fields:
        proc.kill()
        proc.wait()
        raise RuntimeError(f"child {argv[0]} did not start")
    return Child(proc, int(fields[0]), int(fields[1]) if len(fields) > 1 else None)


CHILD_SCRIPT = textwrap.dedent("""
    import os, socket, sys
    proto, host, port, fork = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "fork"
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
    sock.bind((host, port))
    if proto == "tcp":
        sock.listen()
    child = os.fork() if fork else None
    if child == 0:
        sys.stdin.read()
        os._exit(0)
    print(sock.getsockname()[1], child or "", flush=True)
    sys.stdin.read()   # run until the test closes our stdin
    if child:
        os.kill(child, 15)
        os.waitpid(child, 0)
""")


#: The hostile process (the ``hostile`` fixture: SERVER renamed to HOSTILE_NAME, argv ending in HOSTILE_ARGS):
#: a name and arguments full of escape sequences, markup and bidi controls. The name is 11 bytes (the
#: kernel keeps 15).
HOSTILE_NAME = "\x1b[31mEV\x07[/]"
HOSTILE_ARGS = ("\x1b]52;c;aGk=\x07", "\x1b[2J", "[@click=app.quit]", "[bold red]x", "\x9bq", "\u202eexe", "[/]", "[b]")


#: argv: MODE HOST PORT NAME [ARG...]. MODE tcp/udp binds and listens; udp-client sends to 127.0.0.1:PORT
#: (closed) without binding. NAME other than "-" is set with prctl(PR_SET_NAME) first; ARGs are only carried
#: in the cmdline. Prints the local port.
SERVER = textwrap.dedent("""
    import ctypes, socket, sys
    mode, host, port, name = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    if name != "-":
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(15, name.encode(), 0, 0, 0) != 0:  # PR_SET_NAME
            raise OSError(ctypes.get_errno(), "prctl")
    kind = socket.SOCK_STREAM if mode == "tcp" else socket.SOCK_DGRAM
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, kind)
    if mode == "udp-client":
        try:
            sock.sendto(b"portwatch test", (host, port))  # loopback only: auto-binds, nothing leaves
        except OSError:
            pass
    else:
        sock.bind((host, port))
        if mode == "tcp":
            sock.listen()
    print(sock.getsockname()[1], flush=True)
    sys.stdin.read()
""")


#: A test server is a Child like any other (tests.support): port, pid, stop().
Server = Child


def real_interpreter() -> str:
    """The interpreter binary itself (a venv's python is a symlink to it)."""
    return os.path.realpath(sys.executable)


def interpreter_env() -> dict[str, str]:
    """What a copy of the interpreter, away from its prefix, needs to find its stdlib and libpython."""
    env = dict(os.environ, PYTHONHOME=sys.base_prefix)
    libdir = sysconfig.get_config_var("LIBDIR")
    if libdir:
        env["LD_LIBRARY_PATH"] = os.pathsep.join(filter(None, [libdir, env.get("LD_LIBRARY_PATH")]))
    return env


def copy_interpreter(folder: Path, name: str = "pwtest-server") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    shutil.copy2(real_interpreter(), target)
    return target


def ours(listeners: tuple[Listener, ...], port: int, pid: int | None = None) -> list[Listener]:
    """Only the listeners on our test port (the machine has other sockets), optionally held by ``pid``."""
    return [entry for entry in listeners if entry.port == port and (pid is None or pid in entry.pids)]


#: Prefix that runs a command in a network namespace of its own, holding nothing but a loopback that is down.
NEW_NETNS = ("unshare", "--net", "--")

#: Python code that brings the namespace's loopback up (what `ip link set lo up` does): one ioctl, no iproute2.
LOOPBACK_UP = textwrap.dedent("""
    import fcntl, socket, struct
    with socket.socket() as _ctl:
        _ifreq = struct.pack("16sH", b"lo", 0)
        _flags = struct.unpack("16sH", fcntl.ioctl(_ctl, 0x8913, _ifreq)[:18])[1]  # SIOCGIFFLAGS
        fcntl.ioctl(_ctl, 0x8914, struct.pack("16sH", b"lo", _flags | 1))  # SIOCSIFFLAGS: IFF_UP
""")


def fresh_netns_or_skip() -> None:
    """Skip, with the exact reason, unless this process may make a network namespace (root and unshare(1))."""
    if not sys.platform.startswith("linux"):
        pytest.skip("network namespaces are Linux's")
    if shutil.which(NEW_NETNS[0]) is None:
        pytest.skip("unshare(1) is not installed (util-linux): cannot make a network namespace")
    try:
        probe = subprocess.run(
            [*NEW_NETNS, sys.executable, "-c", LOOPBACK_UP], capture_output=True, text=True, timeout=30
        )
    except OSError as error:
        pytest.skip(f"cannot run unshare --net: {error}")
    if probe.returncode != 0:
        pytest.skip(f"cannot make a network namespace with its loopback up: {probe.stderr.strip()}")


def run_portwatch(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`python -m portwatch ARGS` as a user runs it: a subprocess, its output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "portwatch", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        errors="surrogateescape",
    )


@dataclass
class Planted:
    """A listener planted to be flagged: a copy of the interpreter in a temporary folder (exe-in-temp) serving
    TCP on every interface on a port of IANA's dynamic range (dynamic-exposed), judged against an empty
    baseline (not-in-baseline)."""

    server: Child
    exe: Path
    baseline: Path

    #: The codes every output must show for it, in any order.
    CODES = frozenset({"dynamic-exposed", "exe-in-temp", "not-in-baseline"})

    @property
    def key(self) -> ListenerKey:
        return listener_key("tcp", "0.0.0.0", self.server.port)


def free_dynamic_port(attempts: int = 50) -> int:
    """A TCP port in IANA's dynamic range (49152-65535) that nothing on the wildcard address holds now."""
    import random

    for port in random.sample(range(49152, 65536), attempts):
        with socket.socket() as probe:
            try:
                probe.bind(("0.0.0.0", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in 49152-65535 after {attempts} tries")


Flags = list[dict[str, Any]]


def planted_record(records: list[dict[str, Any]], planted: Planted) -> dict[str, Any]:
    """The planted listener's record in JSON output (list, who, check), checked to be the planted server's."""
    [record] = [entry for entry in records if entry["port"] == planted.server.port and entry["proto"] == "tcp"]
    assert record["pids"] == [planted.server.pid] and record["owners"][0]["exe"] == str(planted.exe)
    return record


def listed_flags(planted: Planted) -> Flags:
    """The planted listener's flags as `portwatch list --json` reports them."""
    result = run_portwatch("list", "--json", "--baseline", str(planted.baseline))
    assert result.returncode == 0, result.stderr
    flags: Flags = planted_record(parse_json(result.stdout, "list")["listeners"], planted)["flags"]
    return flags
