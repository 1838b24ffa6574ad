"""Suspicion flags: why a listener deserves a look, each with a stable code and a one-line reason.

Codes (stable; scripts and tests key on them):

- ``dynamic-exposed``: a port from IANA's dynamic range or the OS ephemeral range, reachable beyond loopback.
  Those ports are handed out to clients; a service there is ad hoc, and nobody firewalls for it.
- ``exe-deleted``: the executable was deleted after the process started, and nothing took its place: the
  program runs from memory (a program that erased itself, or an uninstall).
- ``needs-restart`` (informational): the executable was replaced on disk after the process started (the path
  exists again with a new inode: a package upgrade); the process still runs the old file until restarted.
- ``exe-missing``: the process runs from no file at all (memfd: fileless execution).
- ``exe-in-temp``: the executable lives in /tmp, /var/tmp, /dev/shm, a downloads folder or a world-writable
  directory.
- ``exe-modified``: the executable differs from the checksum its package recorded at install (dpkg's
  md5sums, rpm -V): a binary changed in place, by hand or by an intruder.
- ``name-mismatch``: the process name claims to be another program (see Masquerading).
- ``owner-hidden`` / ``owner-unknown``: who holds the socket cannot be seen, and what is known instead.
- ``not-in-baseline``: a baseline exists and no entry expects this listener.
- ``udp-client`` (informational): an unconnected UDP socket a client was auto-bound to, not a server.

UDP clients. Linux tells us exactly which UDP sockets the kernel auto-bound (see portwatch.collect.autobound); those
are clients' reply sockets (resolvers, mDNS and NTP clients, games, WebRTC). Elsewhere we guess: UDP, on the
wildcard address, on a port inside the OS ephemeral range, with no service name for the port. Either way the
socket gets ``udp-client`` instead of ``dynamic-exposed`` and is exempt from the baseline (its port is
random, so there is nothing to approve); the flags about the program itself still apply. Evidence that such a
socket serves overrides both: an RPC program registered with rpcbind on its port (``Listener.rpc_program``,
read by portwatch.collect.rpcbind) makes it a server, judged as any other. Limits: a server that binds port 0
and advertises its port elsewhere than rpcbind (WebRTC media, P2P) still looks auto-bound; where we guess, a
server that explicitly binds a wildcard ephemeral port (mosh-server binds 60001+) looks like a client.

Masquerading. A rename is not a masquerade: daemons retitle themselves in many styles ("nginx: worker
process", "postgres: checkpointer", "sshd: [listener]", redis-server whose file is redis-check-rdb), so a
name that merely differs from its file says nothing. A name is flagged when it claims to be *another*
program: a kernel thread's name (``[kworker/0:1]``, ``ksoftirqd/0``) from a userland executable; the name of a
well-known daemon (:data:`WELL_KNOWN`, a curated list of native daemons) from an executable that is not that
daemon's nor one of its known aliases (a multi-call binary such as busybox may carry any name); or a name
with terminal controls or invisible characters (``ss\u200bhd`` reads "sshd"). On Linux the name is the
15-byte ``comm`` (set by prctl, or at exec from the file name the program was started by). Processes without
an executable (kernel threads) and owners we may not read are skipped. Limits: a program renamed to a word
off the list is not caught, nor is one whose file was itself renamed to the daemon's name (the exe-in-temp
and baseline checks still see where it runs from).
"""

from __future__ import annotations

import dataclasses
import os
import re

from portwatch.baseline import Baseline, Match
from portwatch.model import ExeFacts, Exposure, Flag, FlagCode, Listener, Owner, OwnerStatus, PortRange, Proto, Scan
from portwatch.text import safe

_QUOTE = 120  # longest piece of process-supplied text quoted in a reason
_COMM_LEN = 15  # Linux TASK_COMM_LEN - 1

#: Names of well-known native daemons and system programs, each with the executables that rightly carry it
#: beyond the file of that very name (a symlink's name becomes the comm at exec: redis-server is a link to
#: redis-check-rdb, Debian's mysqld to mariadbd). Programs written in an interpreted language (fail2ban,
#: firewalld, supervisord) are left out: their exe is the interpreter, so the name proves nothing.
WELL_KNOWN: dict[str, frozenset[str]] = {
    name: frozenset(aliases)
    for name, aliases in {
        "sshd": (),
        "sshd-session": (),
        "systemd": (),
        "systemd-journald": (),
        "systemd-logind": (),
        "systemd-resolved": (),
        "systemd-networkd": (),
        "systemd-timesyncd": (),
        "systemd-udevd": ("udevadm",),
        "init": ("systemd", "busybox", "upstart", "runit", "openrc-init", "tini", "dumb-init"),
        "cron": (),
        "crond": ("cronie",),
        "atd": (),
        "anacron": (),
        "rsyslogd": (),
        "syslogd": (),
        "syslog-ng": (),
        "dbus-daemon": ("dbus-broker",),
        "polkitd": (),
        "udevd": ("systemd-udevd",),
        "nginx": (),
        "apache2": (),
        "httpd": (),
        "lighttpd": (),
        "caddy": (),
        "haproxy": (),
        "squid": (),
        "varnishd": (),
        "named": (),
        "unbound": (),
        "dnsmasq": (),
        "chronyd": (),
        "ntpd": ("ntpsec",),
        "postgres": (),
        "mysqld": ("mariadbd",),
        "mariadbd": ("mysqld",),
        "mongod": (),
        "redis-server": ("redis-check-rdb", "redis-check-aof"),
        "memcached": (),
        "slapd": (),
        "exim4": (),
        "exim": (),
        "dovecot": (),
        "smtpd": (),
        "cupsd": (),
        "avahi-daemon": (),
        "NetworkManager": (),
        "wpa_supplicant": (),
        "dhclient": (),
        "dockerd": (),
        "containerd": (),
        "kubelet": (),
        "rpcbind": (),
        "rpc.statd": (),
        "rpc.mountd": (),
        "snmpd": (),
        "vsftpd": (),
        "proftpd": (),
        "openvpn": (),
        "tailscaled": (),
        "sudo": (),
        "su": (),
        "login": (),
        "agetty": (),
        "getty": ("agetty",),
    }.items()
}
#: Executables that are many programs at once: any name may be theirs (an applet's symlink names the comm).
MULTI_CALL = frozenset({"busybox", "toybox", "systemd-executor"})
#: Kernel threads' own names (ps shows them in brackets): no userland program has a reason to take them.
KERNEL_THREAD = re.compile(
    r"(?:kworker|ksoftirqd|kthreadd|kswapd\d+|rcu_\w+|kcompactd\d+|khugepaged|kauditd|kblockd"
    r"|oom_reaper|writeback|ksmd|kdevtmpfs|kintegrityd|kthrotld|khungtaskd|kpsmoused"
    r"|scsi_eh_\d+|scsi_tmf_\d+)(?:[/:_-].*)?"
    r"|(?:watchdog|migration|cpuhp|irq|idle_inject|jbd2)/.*"
)
#: Characters no program name needs: terminal controls, and invisible ones that make "ss\u200bhd" read "sshd".
_HIDING = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff\U000e0000-\U000e007f]"
)


def _q(value: object) -> str:
    """Process-supplied text for a reason, escaped once here: reasons are stored safe, and quoted with ' '
    rather than !r (repr would escape safe()'s backslashes again: ``\\x1b`` instead of ``\x1b``)."""
    return safe(value, _QUOTE)


def _q_long(value: object) -> str:
    return safe(value, 400)


def _stem(token: str) -> str:
    """The program name inside a name or argv word: "/usr/bin/python3" -> "python3", "nginx: master" -> "nginx"."""
    token = token.strip()
    if " " in token or ":" in token:
        token = re.split(r"[ :]", token, maxsplit=1)[0]
    return os.path.basename(token).lstrip("-")


def _derives(name: str, candidate: str, truncated: bool) -> bool:
    """``name`` is ``candidate``, its 15-byte cut, or one of them plus a non-letter suffix (python3.11)."""
    name, candidate = name.lower(), candidate.lower()
    if not name or not candidate:
        return False
    if name == candidate or (truncated and candidate.startswith(name)):
        return True
    short, long = sorted((name, candidate), key=len)
    return len(short) >= 2 and long.startswith(short) and not long[len(short)].isalpha()


def _is_file_of(exe_stem: str, program: str) -> bool:
    """Whether an executable's file name is ``program``'s, maybe versioned (php-fpm8.2, postgres-15)."""
    return exe_stem == program or bool(
        exe_stem.startswith(program) and re.fullmatch(r"[-._]?[\d.]+", exe_stem[len(program) :])
    )


def claimed_program(name: str, truncated: bool) -> str | None:
    """The well-known program a process name claims to be, or None (most names claim nothing)."""
    stem = _stem(name)
    if stem in WELL_KNOWN:
        return stem
    if truncated:
        whole = [known for known in WELL_KNOWN if len(known) > len(stem) and known.startswith(stem)]
        if len(whole) == 1:
            return whole[0]
    return None


def masquerade(name: str, exe: str) -> str | None:
    """Why a process called ``name`` running ``exe`` pretends to be another program; None when it does not.

    A rename is not a masquerade (daemons retitle themselves: "nginx: worker process", "postgres:
    checkpointer", "sshd: [listener]", redis's "redis-server 127.0.0.1:6379"). Three claims are:

    - a kernel thread's name (``[kworker/0:1]``, ``ksoftirqd/0``) from a userland executable: kernel threads
      have no executable at all;
    - the name of a well-known daemon (:data:`WELL_KNOWN`) from an executable that is not that daemon's;
    - a name carrying terminal controls or invisible characters: built to fool whoever reads it.
    """
    exe_stem = os.path.basename(exe)
    truncated = len(name.encode("utf-8", "surrogateescape")) == _COMM_LEN
    if _HIDING.search(name):
        return "a name with hidden or control characters"
    bare = name[1:-1] if name.startswith("[") and name.endswith("]") else None
    if bare is not None or KERNEL_THREAD.fullmatch(name):
        return "a kernel thread's name"
    claimed = claimed_program(name, truncated)
    if claimed is None or exe_stem in MULTI_CALL:
        return None
    if any(_is_file_of(exe_stem, rightful) for rightful in (claimed, *WELL_KNOWN[claimed])):
        return None
    return f"the name of {claimed}"


def name_mismatch(owner: Owner, exe: str | None) -> Flag | None:
    """A masquerade flag when the process name claims another program (see :func:`masquerade`)."""
    if not owner.name or not exe:
        return None  # kernel threads (no exe) and processes we may not read
    claim = masquerade(owner.name, exe)
    if claim is None:
        return None
    return Flag(
        FlagCode.NAME_MISMATCH,
        f"pid {owner.pid} calls itself '{_q(owner.name)}' but runs {_q(exe)} "
        f"({claim}): a process named after another program may be hiding; check "
        "what that file is",
    )


_UNSET = Flag(FlagCode.NAME_MISMATCH, "")


def exe_flags(owner: Owner, facts: ExeFacts, mismatch: Flag | None = _UNSET) -> list[Flag]:
    """Flags about the program file itself, from facts read this scan (``mismatch``: a cached answer)."""
    flags: list[Flag] = []
    pid = owner.pid
    if facts.fileless:
        flags.append(
            Flag(
                FlagCode.EXE_MISSING,
                f"pid {pid} runs from memory ({_q(facts.path)}), with no file on disk: "
                "fileless execution is a malware technique; inspect it before killing",
            )
        )
    elif facts.replaced:
        flags.append(
            Flag(
                FlagCode.NEEDS_RESTART,
                f"needs restart: {_q(facts.path)} was replaced on disk after pid "
                f"{pid} started (a package upgrade?), so it still runs the old "
                "file; restart it to run the current one",
                informational=True,
            )
        )
    elif facts.deleted:
        flags.append(
            Flag(
                FlagCode.EXE_DELETED,
                f"{_q(facts.path)} was deleted after pid {pid} started: a program "
                f"that erased itself, or an uninstall; inspect pid {pid}",
            )
        )
    package = owner.package
    if package is not None and package.verified is False:
        fix = (
            (
                f"`dpkg --verify {package.name}` shows what else changed; `apt-get install --reinstall "
                f"{package.name}` restores it"
            )
            if package.manager == "dpkg"
            else f"`rpm -V {package.name}` shows what else changed; reinstall the package to restore it"
        )
        flags.append(
            Flag(
                FlagCode.EXE_MODIFIED,
                f"{_q(facts.path or owner.exe)} no longer matches the checksum "
                f"package {_q(package.name)} recorded at install: someone changed "
                f"the installed program; {fix}",
            )
        )
    if facts.risky_place:
        flags.append(
            Flag(
                FlagCode.EXE_IN_TEMP,
                f"{_q(facts.path)} runs from {facts.risky_place}, where any user or "
                "download can drop files: find out who put it there",
            )
        )
    if mismatch is _UNSET:
        mismatch = name_mismatch(owner, facts.path or owner.exe)
    if mismatch:
        flags.append(mismatch)
    return flags


def looks_like_udp_client(listener: Listener, in_ephemeral: bool) -> bool:
    """The fallback guess where the kernel cannot tell (see module docstring)."""
    return (
        listener.proto is Proto.UDP
        and listener.exposure in (Exposure.ALL, Exposure.NAMESPACE)
        and in_ephemeral
        and listener.service is None
    )


def place_flags(listener: Listener, approved: bool, client: str | None) -> list[Flag]:
    """Flags about where the listener sits and who may reach it; ``approved`` makes them informational."""
    flags: list[Flag] = []
    if client:
        flags.append(Flag(FlagCode.UDP_CLIENT, client, informational=True))
    elif (
        listener.port_range is PortRange.DYNAMIC or listener.os_ephemeral
    ) and listener.exposure is not Exposure.LOOPBACK:
        where = "the OS ephemeral range" if listener.os_ephemeral else "IANA's dynamic range"
        reach = (
            "every interface"
            if listener.exposure is Exposure.ALL
            else f"every interface of network namespace {_q(listener.netns.label)}"
            if listener.exposure is Exposure.NAMESPACE
            else f"address {_q(listener.address)}"
        )
        flags.append(
            Flag(
                FlagCode.DYNAMIC_EXPOSED,
                f"port {listener.port} is in {where}, meant for clients, yet it "
                f"is open on {reach}: give the service a fixed port or bind it to "
                "127.0.0.1",
                informational=approved,
            )
        )
    quiet = approved or client is not None
    if listener.owner_status is OwnerStatus.HIDDEN:
        who = f"user {_q(listener.socket_user)}" if listener.socket_user else "another user"
        flags.append(
            Flag(
                FlagCode.OWNER_HIDDEN,
                f"the socket belongs to {who}; which process holds it is not yours to "
                "see (sudo may reveal it, unless the kernel or another network "
                "namespace holds it)",
                informational=quiet,
            )
        )
    elif listener.owner_status is OwnerStatus.UNKNOWN:
        why = (
            _q_long(listener.owner_reason)
            if listener.owner_reason
            else (
                "a kernel socket (NFS, WireGuard), one handed in from another network namespace, or a process that "
                "just exited"
            )
        )
        flags.append(
            Flag(FlagCode.OWNER_UNKNOWN, f"no process holds it that portwatch can see: {why}", informational=quiet)
        )
    return flags


class Flagger:
    """Fills ``Listener.flags`` scan by scan from the facts the collector delivered; pure but for its cache.

    Reads nothing from the OS: executable facts come on each Owner, and whether the kernel auto-bound a UDP
    socket on each Listener (None where the OS cannot say: then the address-and-port guess is used).
    """

    def __init__(self) -> None:
        #: name_mismatch answers: an Owner record is fixed per process, so its answer is too.
        self._names: dict[Owner, Flag | None] = {}

    def flag_scan(self, scan: Scan, baseline: Baseline | None = None) -> Scan:
        listeners = tuple(self._flag(entry, scan, baseline) for entry in scan.listeners)
        if len(self._names) > 4 * len(listeners) + 64:
            live = {pid for entry in listeners for pid in entry.pids}
            self._names = {owner: flag for owner, flag in self._names.items() if owner.pid in live}
        return dataclasses.replace(scan, listeners=listeners)

    def _flag(self, listener: Listener, scan: Scan, baseline: Baseline | None) -> Listener:
        client: str | None = None
        if listener.proto is Proto.UDP:
            if listener.rpc_program is not None:
                pass  # registered with rpcbind: it serves, whoever picked its port
            elif listener.autobound is not None:
                if listener.autobound:
                    client = (
                        "the kernel bound this UDP socket to a free port on a client's behalf (no explicit "
                        "bind): a reply socket of a resolver, mDNS or NTP client, not a server"
                    )
            elif looks_like_udp_client(listener, listener.port in scan.ephemeral):
                client = (
                    "looks like a UDP client's auto-bound reply socket (wildcard address, OS ephemeral "
                    "port, no service name), so it is not treated as a server"
                )
        match = baseline.match(listener) if baseline is not None and client is None else Match.NONE
        flags = place_flags(listener, match is not Match.NONE, client)
        seen: set[FlagCode] = set()
        for owner in listener.owners:
            for flag in self._exe_flags(owner, owner.exe_facts):
                if flag.code not in seen:  # co-owners of one program would repeat it
                    seen.add(flag.code)
                    flags.append(flag)
        if baseline is not None and client is None and match is Match.NONE:
            where = f" ({_q(baseline.path)})" if baseline.path else ""
            flags.append(
                Flag(
                    FlagCode.NOT_IN_BASELINE,
                    f"no baseline entry{where} expects it: approve it if it belongs, or find out what started it",
                )
            )
        return dataclasses.replace(listener, flags=tuple(flags)) if flags or listener.flags else listener

    def _exe_flags(self, owner: Owner, facts: ExeFacts) -> list[Flag]:
        if owner not in self._names:
            self._names[owner] = name_mismatch(owner, facts.path or owner.exe)
        return exe_flags(owner, facts, self._names[owner])


def alarming(listener: Listener) -> tuple[Flag, ...]:
    """The flags that should make `check` fail and the TUI raise an alert (informational ones do not)."""
    return tuple(flag for flag in listener.flags if not flag.informational)
