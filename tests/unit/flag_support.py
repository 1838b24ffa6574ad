"""Child processes for the flag, baseline and check tests: real interpreters, copied, renamed or deleted."""

from __future__ import annotations

import os
import shutil
import sys
import sysconfig
import textwrap
from pathlib import Path

from portwatch.model import Listener
from tests.support import Child

#: argv: MODE HOST PORT NAME. MODE tcp/udp binds and listens; udp-client sends to 127.0.0.1:PORT (closed)
#: without binding. NAME other than "-" is set with prctl(PR_SET_NAME) first. Prints the local port.
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
