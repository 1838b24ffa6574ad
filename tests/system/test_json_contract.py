"""The JSON contract with a hostile process: bytes that are not UTF-8 in its name, argv, exe path and cwd.

Every document must still be valid UTF-8 and valid Unicode (no lone surrogates), validate against its schema,
and carry the exact bytes in the ``<field>_b64`` siblings (portwatch.json_text). `list` cuts a long cmdline
and says so; `who` carries it whole.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from portwatch.json_text import recover
from tests.json_contract import parse_json
from tests.support import interpreter_env, real_interpreter

#: argv: NAME: sets the name with prctl(PR_SET_NAME) from the raw bytes, listens on 127.0.0.1, prints the port.
BYTES_SERVER = textwrap.dedent("""
    import ctypes, os, socket, sys
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(15, os.fsencode(sys.argv[1]), 0, 0, 0) != 0:  # PR_SET_NAME
        raise OSError(ctypes.get_errno(), "prctl")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    print(sock.getsockname()[1], flush=True)
    sys.stdin.read()
""")

NAME = b"pw\xff\xfename"
ODD_ARG = b"\xff\xfe"
LONG_ARG = b"x" * 3000


@dataclass
class BytesServer:
    proc: subprocess.Popen[bytes]
    port: int
    exe: bytes
    cwd: bytes
    argv: list[bytes]


@pytest.fixture
def bytes_server(tmp_path: Path) -> Iterator[BytesServer]:
    folder = os.fsencode(tmp_path) + b"/dir\xfe"
    os.mkdir(folder)
    exe = folder + b"/py\xff-server"
    with open(real_interpreter(), "rb") as source, open(exe, "wb") as target:
        target.write(source.read())
    os.chmod(exe, 0o755)
    argv = [exe, b"-c", BYTES_SERVER.encode(), NAME, ODD_ARG, LONG_ARG]
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=folder, env=interpreter_env())
    line = proc.stdout.readline() if proc.stdout else b""
    if not line.strip():
        proc.kill()
        proc.wait()
        pytest.fail(f"the bytes server did not start (exit {proc.poll()})")
    yield BytesServer(proc, int(line), exe, folder, argv)
    if proc.stdin:
        proc.stdin.close()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def portwatch_bytes(*args: str) -> bytes:
    """stdout as bytes, exactly as written: the test judges the encoding itself."""
    result = subprocess.run([sys.executable, "-m", "portwatch", *args], capture_output=True, timeout=60)
    assert result.returncode in (0, 1), result.stderr
    return result.stdout


def ours(records: list[dict[str, Any]], port: int) -> dict[str, Any]:
    [record] = [r for r in records if r["port"] == port and r["proto"] == "tcp"]
    return record


def b64(text: str) -> bytes:
    return base64.b64decode(text)


def test_list_json_is_valid_utf8_and_carries_the_exact_bytes(bytes_server: BytesServer) -> None:
    record = ours(parse_json(portwatch_bytes("list", "--json"), "list")["listeners"], bytes_server.port)
    [owner] = record["owners"]
    assert b64(record["process_b64"]) == NAME and "\ufffd" in record["process"]
    assert b64(owner["name_b64"]) == NAME
    assert b64(owner["exe_b64"]) == bytes_server.exe
    assert b64(owner["cmdline_b64"][4]) == ODD_ARG and owner["cmdline"][4] == "\ufffd\ufffd"
    assert os.fsencode(recover(owner, "exe")) == bytes_server.exe


def test_list_cuts_a_long_cmdline_and_says_so(bytes_server: BytesServer) -> None:
    [owner] = ours(parse_json(portwatch_bytes("list", "--json"), "list")["listeners"], bytes_server.port)["owners"]
    assert owner["cmdline_truncated"] is True and owner["cmdline_args"] == len(bytes_server.argv)
    assert sum(len(arg) for arg in owner["cmdline"]) == 1024


def test_who_json_carries_the_whole_cmdline_byte_for_byte(bytes_server: BytesServer) -> None:
    document = parse_json(portwatch_bytes("who", str(bytes_server.port), "--json"), "who")
    assert document["port"] == bytes_server.port
    [record] = document["listeners"]
    [owner] = record["owners"]
    assert owner["cmdline_truncated"] is False
    assert [os.fsencode(arg) for arg in recover(owner, "cmdline")] == bytes_server.argv
    [process] = record["processes"]
    assert [b64(arg) for arg in process["cmdline_b64"]] == bytes_server.argv
    assert b64(process["cwd_b64"]) == bytes_server.cwd and b64(process["exe_b64"]) == bytes_server.exe


def test_check_json_lists_it_valid_and_exact(bytes_server: BytesServer, tmp_path: Path) -> None:
    baseline = tmp_path / "empty.toml"
    baseline.write_text("version = 1\n")
    report = parse_json(portwatch_bytes("check", "--json", "--baseline", str(baseline)), "check")
    assert report["ok"] is False and report["schema_version"] == 1
    record = ours(report["unexpected"], bytes_server.port)
    assert b64(record["owners"][0]["exe_b64"]) == bytes_server.exe
