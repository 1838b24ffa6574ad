"""Reading a host that has no portwatch: `ss -tulpneH` and /proc, in one shell script, one ssh round trip.

Everything a process chose (names, cmdlines, exe paths) and the whole `ss` output travel hex-encoded by `od`,
so no byte of theirs can fake a line of the script's output. The `ss` text is then parsed record by record,
not line by line: ss prints process names raw, newlines included. A name never holds ")" (ss reads it with
``%[^)]`` from /proc/PID/stat), so each ``("NAME",pid=N,fd=N)`` ends at the first ")" and its pid is the last
``",pid=`` inside. Names, users and start times are then taken from /proc as the local collector takes them.

What this mode cannot tell (said in the header and on stderr): whether a deleted exe was replaced by an
upgrade, whether the exe's folder is world-writable, which UDP sockets the kernel auto-bound (the
address-and-port guess is used), and no baseline of the remote host; owners' details are what the scan read.
Limit: a cgroup path (printed raw by ``ss -e``) holding " <->" and a newline could end a record early.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field

from portwatch.collect import procfs
from portwatch.collect.base import RawSocket, Viewer, build_scan
from portwatch.collect.exeinfo import ExeInspector, temp_place
from portwatch.collect.owners import OwnerResolver
from portwatch.collect.ssh import RemoteReadError, SshTransport
from portwatch.model import HOST_NETNS, EphemeralRange, ExeFacts, Family, Netns, NetnsKind, Owner, PortSpan, Proto, Scan

#: What the fallback cannot know, for the header and stderr.
LIMITS = (
    "no exe facts beyond the path (deleted vs upgraded, world-writable folder)",
    "UDP clients guessed",
    "no baseline of the remote host",
    "no parent chain or cwd",
)

SCRIPT = r"""
LC_ALL=C; export LC_ALL
PATH=$PATH:/usr/sbin:/sbin; export PATH
echo "@@portwatch-fallback 1"
echo "@@uid $(id -u)"
echo "@@clk $(getconf CLK_TCK 2>/dev/null || echo 100)"
echo "@@btime $(sed -n 's/^btime //p' /proc/stat)"
echo "@@range $(cat /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null)"
echo "@@netns $(readlink /proc/self/ns/net 2>/dev/null)"
echo "@@reserved $(cat /proc/sys/net/ipv4/ip_local_reserved_ports 2>/dev/null)"
out=$(ss -tulpneH 2>&1) || { echo "@@ss-failed"; }
echo "@@ss"
printf '%s\n' "$out" | od -An -v -tx1
echo "@@users"
cut -d: -f1,3 /etc/passwd | od -An -v -tx1
for p in $(printf '%s\n' "$out" | grep -o 'pid=[0-9]*,fd=' | sed 's/[^0-9]//g' | sort -un); do
  echo "@@pid $p"
  { readlink /proc/$p/exe; printf '\000'; cat /proc/$p/stat; printf '\000'; cat /proc/$p/status
    printf '\000'; cat /proc/$p/cmdline; } 2>/dev/null | od -An -v -tx1
done
echo "@@end"
"""

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


def _decode(raw: bytes) -> str:
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
    argv = procfs.split_cmdline(_decode(raw_argv))
    name = procfs.complete_name(_decode(fields.name), argv)
    exe = _decode(link.rstrip(b"\n")).removesuffix(procfs.DELETED_SUFFIX)  # the remote file: not ours to stat
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


class _FixedOwners(OwnerResolver):
    """The owners the script read, for build_scan."""

    def __init__(self, owners: dict[int, Owner]) -> None:
        super().__init__()
        self._fixed = owners

    def owner(self, pid: int) -> Owner | None:
        return self._fixed.get(pid)

    def forget_except(self, live_pids: set[int]) -> None:
        return None


def _span(text: str) -> PortSpan | None:
    first, _, last = text.strip().partition("-")
    if not first.isdigit():
        return None
    return PortSpan(int(first), int(last) if last.isdigit() else int(first))


class _LinkFacts(ExeInspector):
    """Exe facts from the remote /proc/PID/exe links the script read (no remote file can be stat'ed here)."""

    def __init__(self, links: dict[int, str]) -> None:
        super().__init__()
        self.links = links

    def facts(self, owner: Owner) -> ExeFacts:
        link = self.links.get(owner.pid)
        if not link:
            return ExeFacts()
        deleted = link.endswith(" (deleted)")
        path = link.removesuffix(" (deleted)")
        if deleted and path.startswith("/memfd:"):
            return ExeFacts(path=path, deleted=True, fileless=True)
        return ExeFacts(path, deleted, False, False, temp_place(path))


def parse(output: bytes, host: str) -> Scan:
    """The whole script output into a Scan of the remote host, with the facts the judge needs."""
    dump = split_sections(output)
    if dump.ss_failed:
        raise FallbackError(f"{host}: `ss -tulpneH` failed there: {_decode(dump.ss).strip()[:200]}")
    names: dict[int, str] = {}
    for line in _decode(dump.users).splitlines():
        name, _, uid = line.partition(":")
        if uid.isdigit():
            names.setdefault(int(uid), name)
    try:
        boot, ticks = float(dump.values["btime"]), int(dump.values.get("clk") or 100)
        viewer_uid = int(dump.values["uid"])
    except (KeyError, ValueError):
        raise FallbackError(f"{host}: could not read the boot time or uid there") from None
    owners: dict[int, Owner] = {}
    links: dict[int, str] = {}
    for pid, data in dump.pids.items():
        owner = parse_owner(pid, data, boot, ticks, names)
        if owner is not None:
            owners[pid] = owner
            links[pid] = _decode(data.split(b"\x00", 1)[0].rstrip(b"\n"))
    span = _span(dump.values.get("range", "").replace("\t", "-").replace(" ", "-"))
    reserved = tuple(s for s in (_span(part) for part in dump.values.get("reserved", "").split(",")) if s)
    ephemeral = (
        EphemeralRange(span, reserved, f"{host}:/proc/sys/net/ipv4/ip_local_port_range")
        if span
        else EphemeralRange(PortSpan(32768, 60999), (), "default")
    )
    viewer = Viewer(
        privileged=viewer_uid == 0, uid=viewer_uid, user_name=lambda number: names.get(number) or str(number)
    )
    # autobound None: the kernel's word on client UDP sockets is not in `ss` output, so the judge guesses
    # ss reads the namespace it runs in: the remote host's own (the fallback sees no other namespace)
    link = dump.values.get("netns", "").strip()
    netns = Netns(int(link[5:-1]), NetnsKind.HOST, "host") if re.fullmatch(r"net:\[\d+\]", link) else HOST_NETNS
    sockets = parse_ss(dump.ss)
    if netns.inode:
        sockets = [dataclasses.replace(sock, netns=netns) for sock in sockets]
    return build_scan(
        sockets,
        _FixedOwners(owners),
        ephemeral,
        "ssh+ss",
        exe_inspector=_LinkFacts(links),
        autobound=None,
        viewer=viewer,
        namespaces=(netns,),
    )


class FallbackCollector:
    """A host without portwatch, as a Collector: each scan() is one round trip over the transport."""

    #: What this way of reading cannot tell (for the header and stderr).
    limits = LIMITS

    def __init__(self, transport: SshTransport) -> None:
        self.transport = transport
        self.source = f"ssh+ss:{transport.target.label}"

    def scan(self) -> Scan:
        """SshError when ssh failed, FallbackError when the host's answer is not the script's."""
        ran = self.transport.run("sh -s", stdin=SCRIPT.encode())
        return parse(ran.stdout, self.transport.target.label)
