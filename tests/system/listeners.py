"""Child listeners for the issue-10 answers: renamed, with switched uids, with empty argv slots, or run from
a copied interpreter whose file the test then replaces or deletes. The ``listener`` fixture
(tests/system/conftest.py) starts them and stops them at teardown."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tests.support import Child, start_child

#: argv: HOST PORT NAME RUID EUID [ARG...]. NAME other than "-" is set with prctl(PR_SET_NAME); RUID/EUID other
#: than "-" are set with setresuid (saved uid = real) before binding. ARGs only sit in the cmdline (they
#: may be empty strings: empty argv slots). Prints the bound TCP port, then waits for stdin to close.
LISTENER = textwrap.dedent("""
    import ctypes, os, socket, sys
    host, port, name, ruid, euid = sys.argv[1:6]
    if name != "-":
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(15, name.encode(), 0, 0, 0) != 0:  # PR_SET_NAME
            raise OSError(ctypes.get_errno(), "prctl")
    if euid != "-":
        os.setresgid(int(ruid), int(euid), int(ruid))
        os.setresuid(int(ruid), int(euid), int(ruid))
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.bind((host, int(port)))
    sock.listen()
    print(sock.getsockname()[1], flush=True)
    sys.stdin.read()
""")


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
    shutil.copy2(os.path.realpath(sys.executable), target)
    return target


StartListener = Callable[..., Child]


def start_listener(
    started: list[Child],
    name: str = "-",
    ruid: int | None = None,
    euid: int | None = None,
    args: Sequence[str] = (),
    exe: Path | None = None,
    host: str = "127.0.0.1",
) -> Child:
    """Start LISTENER, appended to ``started`` (the fixture stops them)."""
    ids = ("-", "-") if euid is None else (str(ruid if ruid is not None else os.getuid()), str(euid))
    argv = [str(exe or sys.executable), "-c", LISTENER, host, "0", name, *ids, *args]
    child = start_child(argv, env=interpreter_env() if exe else None)
    started.append(child)
    return child


def run_portwatch(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "portwatch", *args], capture_output=True, text=True, timeout=60, errors="surrogateescape"
    )


def json_of(*args: str) -> Any:
    result = run_portwatch(*args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def record_of(records: list[dict[str, Any]], port: int) -> dict[str, Any]:
    [record] = [entry for entry in records if entry["port"] == port and entry["proto"] == "tcp"]
    return record
