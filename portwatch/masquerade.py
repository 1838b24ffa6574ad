"""Masquerade rules: when a process name claims to be another program (kernel threads, well-known daemons,
hidden characters). Kept apart from portwatch.flags because the curated daemon list and the name rules are one
topic of their own; flags.py turns their verdict into the ``name-mismatch`` flag.

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

import os
import re

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
