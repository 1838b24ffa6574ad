"""Child listeners for the issue-10 answers: renamed, with switched uids, with empty argv slots, or run from
a copied interpreter whose file the test then replaces or deletes. The ``listener`` fixture
(tests/system/conftest.py) starts them and stops them at teardown."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tests.json_contract import parse_json
from tests.support import Child, interpreter_env, start_child

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
    document = parse_json(result.stdout, args[0])  # list/who: their listeners; check: the report
    return document["listeners"] if args[0] in ("list", "who") else document


def record_of(records: list[dict[str, Any]], port: int) -> dict[str, Any]:
    [record] = [entry for entry in records if entry["port"] == port and entry["proto"] == "tcp"]
    return record
