"""Reading a host that has no portwatch: `ss -tulpneH` and /proc, in one shell script, one ssh round trip.

Everything a process chose (names, cmdlines, exe paths) and the whole `ss` output travel hex-encoded by `od`,
so no byte of theirs can fake a line of the script's output. The `ss` text is then parsed record by record,
not line by line: ss prints process names raw, newlines included. A name never holds ")" (ss reads it with
``%[^)]`` from /proc/PID/stat), so each ``("NAME",pid=N,fd=N)`` ends at the first ")" and its pid is the last
``",pid=`` inside. Names, users and start times are then taken from /proc as the local collector takes them.
That parsing is in remote_parse.py (re-exported here); this module holds the script and the collector.

What this mode cannot tell (said in the header and on stderr): whether a deleted exe was replaced by an
upgrade, whether the exe's folder is world-writable, which UDP sockets the kernel auto-bound (the
address-and-port guess is used), and no baseline of the remote host; owners' details are what the scan read.
Limit: a cgroup path (printed raw by ``ss -e``) holding " <->" and a newline could end a record early.
"""

from __future__ import annotations

import dataclasses
import re

from portwatch.collect.base import Viewer, build_scan
from portwatch.collect.exeinfo import ExeInspector, temp_place
from portwatch.collect.owners import OwnerResolver
from portwatch.collect.remote_parse import Dump as Dump
from portwatch.collect.remote_parse import FallbackError as FallbackError
from portwatch.collect.remote_parse import decode
from portwatch.collect.remote_parse import parse_owner as parse_owner
from portwatch.collect.remote_parse import parse_ss as parse_ss
from portwatch.collect.remote_parse import split_sections as split_sections
from portwatch.collect.ssh import SshTransport
from portwatch.model import HOST_NETNS, EphemeralRange, ExeFacts, Netns, NetnsKind, Owner, PortSpan, Scan

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
        raise FallbackError(f"{host}: `ss -tulpneH` failed there: {decode(dump.ss).strip()[:200]}")
    names: dict[int, str] = {}
    for line in decode(dump.users).splitlines():
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
            links[pid] = decode(data.split(b"\x00", 1)[0].rstrip(b"\n"))
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
