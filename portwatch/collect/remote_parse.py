"""Parsing the fallback script's output: its sections, the `ss -tulpneH` records and each process's /proc
files (see remote_fallback.py's docstring for why records, not lines). Apart from the collector that runs it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from portwatch.collect import procfs
from portwatch.collect.base import RawSocket
from portwatch.collect.ssh import RemoteReadError
from portwatch.model import Family, Owner, Proto

_HEAD = re.compile(rb"(tcp|udp)[ \t]+(\S+)[ \t]+\d+[ \t]+\d+[ \t]+(\S+)[ \t]+\S+[ \t]*")
_ENTRY = re.compile(rb'"(.*)",pid=(\d+),fd=(\d+)', re.DOTALL)


#: The script's output is not what it prints (no ss, a shell that is not POSIX, a cut connection).
FallbackError = RemoteReadError


@dataclass
class Dump:
    """The script's sections, decoded."""

    values: dict[str, str] = field(default_factory=dict)
    ss: bytes = b""
    users: bytes = b""
    pids: dict[int, bytes] = field(default_factory=dict)
    ss_failed: bool = False


def split_sections(output: bytes) -> Dump:
    dump = Dump()
    target: bytearray | None = None
    pid: int | None = None
    chunks: dict[str, bytearray] = {"ss": bytearray(), "users": bytearray()}
    pid_chunks: dict[int, bytearray] = {}
    ended = False
    for line in output.split(b"\n"):
        if line.startswith(b"@@"):
            word, _, rest = line[2:].decode("ascii", "replace").partition(" ")
            target, pid = None, None
            if word in chunks:
                target = chunks[word]
            elif word == "pid" and rest.isdigit():
                pid = int(rest)
                target = pid_chunks.setdefault(pid, bytearray())
            elif word == "ss-failed":
                dump.ss_failed = True
            elif word == "end":
                ended = True
            else:
                dump.values[word] = rest.strip()
        elif target is not None:
            try:
                target += bytes.fromhex(line.decode("ascii"))
            except (UnicodeDecodeError, ValueError):
                raise FallbackError("a hex section of the fallback script's output is damaged") from None
    if "portwatch-fallback" not in dump.values or not ended:
        raise FallbackError("the fallback script's output is incomplete (no POSIX sh, or the connection was cut)")
    dump.ss, dump.users = bytes(chunks["ss"]), bytes(chunks["users"])
    dump.pids = {p: bytes(data) for p, data in pid_chunks.items()}
    return dump


def _address(local: bytes) -> tuple[str, int] | None:
    text = local.decode("ascii", "replace")
    host, _, port = text.rpartition(":")
    if not port.isdigit():
        return None
    host = host.split("%", 1)[0]  # 0.0.0.0%lo: bound to a device (the local collectors drop it too)
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif host.startswith("["):
        host = host[1:].split("]", 1)[0]
    if host == "*":
        host = "0.0.0.0"
    return host, int(port)


def parse_ss(text: bytes) -> list[RawSocket]:
    """`ss -tulpneH` output into sockets, record by record (see the module docstring)."""
    found: list[RawSocket] = []
    pos, size = 0, len(text)
    while pos < size:
        head = _HEAD.match(text, pos)
        if head is None:  # not a record start: skip this line (a warning ss printed)
            newline = text.find(b"\n", pos)
            pos = size if newline < 0 else newline + 1
            continue
        proto = Proto(head.group(1).decode())
        where = _address(head.group(3))
        pos = head.end()
        pids: list[int] = []
        if text.startswith(b"users:(", pos):
            pos += len(b"users:(")
            while pos < size and text[pos : pos + 1] == b"(":
                close = text.find(b")", pos)
                if close < 0:
                    close = size
                entry = _ENTRY.fullmatch(text, pos + 1, close)
                if entry is not None:
                    pids.append(int(entry.group(2)))
                pos = close + 1
                if text[pos : pos + 1] == b",":
                    pos += 1
            if text[pos : pos + 1] == b")":
                pos += 1
        end = text.find(b" <->", pos)
        newline = text.find(b"\n", pos if end < 0 else end)
        stop = size if newline < 0 else newline
        extended = text[pos:stop].decode("ascii", "replace")
        pos = stop + 1
        if where is None:
            continue
        address, port = where
        uid = re.search(r"\buid:(\d+)", extended)
        ino = re.search(r"\bino:(\d+)", extended)
        v6only = re.search(r"\bv6only:([01])", extended)
        family = Family.IPV6 if ":" in address else Family.IPV4
        found.append(
            RawSocket(
                proto,
                family,
                address,
                port,
                tuple(sorted(set(pids))),
                int(uid.group(1)) if uid else 0,
                int(ino.group(1)) if ino else None,
                (v6only.group(1) == "1") if v6only and family is Family.IPV6 else None,
            )
        )
    return found


def decode(raw: bytes) -> str:
    """Remote bytes as text, undecodable bytes kept (surrogateescape), as the local collector reads /proc."""
    return raw.decode("utf-8", "surrogateescape")


def parse_owner(pid: int, data: bytes, boot: float, clock_ticks: int, names: dict[int, str]) -> Owner | None:
    """One process from its exe link, stat, status and cmdline (the local procfs rules); None if it exited."""
    parts = data.split(b"\x00", 3)
    if len(parts) < 4 or not parts[1]:
        return None
    link, stat, status, raw_argv = parts
    fields = procfs.parse_stat(stat)
    if fields is None or fields.state == b"Z":
        return None
    argv = procfs.split_cmdline(decode(raw_argv))
    name = procfs.complete_name(decode(fields.name), argv)
    exe = decode(link.rstrip(b"\n")).removesuffix(procfs.DELETED_SUFFIX)  # the remote file: not ours to stat
    real, effective = procfs.uids(status)  # the effective user is shown, as locally; the real one where it differs
    user = (names.get(effective) or str(effective)) if effective is not None else None
    real_user = (names.get(real) or str(real)) if real is not None and real != effective else None
    return Owner(
        pid=pid,
        name=name,
        user=user,
        exe=exe or None,
        cmdline=argv,
        create_time=int(fields.start_ticks) / clock_ticks + boot,
        real_user=real_user,
    )
