"""Real network namespaces for tests: `ip netns add` and `unshare -n`, each with listeners inside, removed after.

A listener child binds every (proto, host, port) it is given inside its namespace, prints "ready" and runs
until its stdin closes. Everything created here is removed by the fixture that made it, pass or fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

from tests.support import end_child

LISTENER_SCRIPT = textwrap.dedent("""
    import socket, sys
    keep = []
    for spec in sys.argv[1:]:
        proto, host, port = spec.split(",")
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        host, _, device = host.partition("%")
        if device and family == socket.AF_INET6 and host.startswith("fe80"):
            sock.bind((host, int(port), 0, socket.if_nametoindex(device)))   # a link-local scope
        else:
            if device:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, device.encode())
            sock.bind((host, int(port)))
        if proto == "tcp":
            sock.listen()
        keep.append(sock)
    print("ready", flush=True)
    sys.stdin.read()
""")


def require_root() -> None:
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root (setns, ip netns add)")
    if shutil.which("ip") is None:
        pytest.skip("iproute2's `ip` is not installed (apt-get install iproute2)")


def run(argv: list[str]) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: {done.stderr.strip() or done.returncode}")


@dataclass
class InNamespace:
    """A listener child running inside a namespace."""

    proc: subprocess.Popen[str]

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        end_child(self.proc)


def start_listeners(prefix: list[str], specs: list[str]) -> InNamespace:
    """Run the listener script under ``prefix`` (e.g. ``ip netns exec NAME``), wait until it has bound."""
    proc = subprocess.Popen(
        [*prefix, sys.executable, "-c", LISTENER_SCRIPT, *specs],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline() if proc.stdout else ""
    if line.strip() != "ready":
        proc.kill()
        _out, err = proc.communicate()
        raise RuntimeError(f"listener in namespace did not start: {err.strip()}")
    return InNamespace(proc)


@contextmanager
def named_netns(specs: list[str], setup: tuple[tuple[str, ...], ...] = ()) -> Iterator[tuple[str, InNamespace]]:
    """`ip netns add pwt-XXXX` with lo up (then each ``setup`` command run inside) and a listener child
    binding ``specs``; all removed afterwards."""
    name = f"pwt-{uuid.uuid4().hex[:8]}"
    try:
        run(["ip", "netns", "add", name])
    except RuntimeError as error:
        pytest.skip(f"cannot create a network namespace here: {error}")
    child: InNamespace | None = None
    try:
        run(["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"])
        for command in setup:
            run(["ip", "netns", "exec", name, *command])
        child = start_listeners(["ip", "netns", "exec", name], specs)
        yield name, child
    finally:
        if child is not None:
            child.stop()
        run(["ip", "netns", "del", name])


@contextmanager
def unshared_netns(specs: list[str]) -> Iterator[InNamespace]:
    """`unshare -n` (no bind mount: alive only through its process), lo up, listeners bound; stopped after."""
    if shutil.which("unshare") is None:
        pytest.skip("util-linux's `unshare` is not installed")
    script = 'ip link set lo up && exec "$0" "$@"'
    child = start_listeners(["unshare", "-n", "sh", "-c", script], specs)
    try:
        yield child
    finally:
        child.stop()
