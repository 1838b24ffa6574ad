"""Real Debian daemons, started by the tests in a network namespace of their own and stopped afterwards.

A private namespace (``ip netns add``) holds nothing but its loopback and the daemons we start there, so a
test may judge the whole of it (``portwatch check`` exits 0 only when *every* listener is expected) and
rpcbind, which insists on 0.0.0.0:111, is reachable from nowhere. portwatch runs inside it through
``ip netns exec``. Every daemon is started in the foreground or with a pid file in our own folder, so only
processes we started are ever signalled. A daemon whose binary is missing or that does not start is
reported with the exact reason, for the test to skip on.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

#: Ports inside the private namespace (nothing else lives there, so fixed ports cannot clash).
NGINX_PORT, VARNISH_PORT, REDIS_PORT, MEMCACHED_PORT, SSHD_PORT = 18090, 18081, 18379, 18211, 12222

#: Waits inside the namespace until every TCP port given is accepting on 127.0.0.1, or 15 s pass.
_WAIT_PORTS = textwrap.dedent("""
    import socket, sys, time
    ports, deadline = [int(p) for p in sys.argv[1:]], time.monotonic() + 15
    while ports and time.monotonic() < deadline:
        for port in list(ports):
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    ports.remove(port)
        time.sleep(0.05)
    print(" ".join(map(str, ports)))
""")


def _run(argv: list[str], timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, errors="surrogateescape")


@dataclass
class Daemon:
    """One daemon we started: its pid file (daemonizing ones) or its process (foreground ones)."""

    name: str
    port: int
    pidfile: Path | None = None
    proc: subprocess.Popen[str] | None = None

    def main_pid(self) -> int | None:
        if self.proc is not None:
            return self.proc.pid
        try:
            return int(self.pidfile.read_text().split()[0]) if self.pidfile else None
        except (OSError, ValueError, IndexError):
            return None

    def stop(self) -> None:
        """SIGTERM to the pid we started (or that our own pid file names), then wait for it."""
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            return
        pid = self.main_pid()
        if pid is None:
            return
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # daemonized: pid 1 reaps it, a second or two later
            try:
                with open(f"/proc/{pid}/stat", "rb") as stat:
                    if stat.read().rsplit(b")", 1)[1].split()[0] == b"Z":
                        return
            except OSError:
                return
            time.sleep(0.05)


@dataclass
class DaemonNetns:
    """A named network namespace with its loopback up, the daemons started in it, and why others are not."""

    name: str
    folder: Path
    daemons: dict[str, Daemon] = field(default_factory=dict)
    #: Daemon name -> the exact reason it is not running (missing binary, failed start).
    missing: dict[str, str] = field(default_factory=dict)

    @property
    def prefix(self) -> list[str]:
        return ["ip", "netns", "exec", self.name]

    def run(self, *argv: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return _run([*self.prefix, *argv], timeout)

    def portwatch(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`python -m portwatch ARGS` inside the namespace."""
        env_python = sys.executable
        return self.run(env_python, "-m", "portwatch", *args)

    def daemon(self, name: str) -> Daemon:
        """The running daemon called ``name``; the caller skips with ``missing[name]`` when it is absent."""
        return self.daemons[name]

    def close(self) -> None:
        for daemon in reversed(list(self.daemons.values())):
            daemon.stop()
        _run(["ip", "netns", "del", self.name])
        shutil.rmtree(self.folder, ignore_errors=True)


def make_netns() -> tuple[DaemonNetns | None, str]:
    """A fresh named namespace, or None and the exact reason it cannot be had."""
    if not sys.platform.startswith("linux"):
        return None, "network namespaces are Linux's"
    if os.geteuid() != 0:
        return None, "needs root to make a network namespace"
    if shutil.which("ip") is None:
        return None, "ip(8) is not installed (iproute2)"
    name = f"pwtest-{uuid.uuid4().hex[:8]}"
    made = _run(["ip", "netns", "add", name])
    if made.returncode != 0:
        return None, f"ip netns add {name}: {made.stderr.strip()}"
    up = _run(["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"])
    if up.returncode != 0:
        _run(["ip", "netns", "del", name])
        return None, f"ip link set lo up in {name}: {up.stderr.strip()}"
    folder = Path(f"/tmp/{name}")  # daemons running as other users (memcached, sshd privsep) must read it
    folder.mkdir(mode=0o755)
    return DaemonNetns(name, folder), ""


def _nginx_conf(folder: Path) -> str:
    temp = " ".join(
        f"{kind}_temp_path {folder}/{kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return textwrap.dedent(f"""
        pid {folder}/nginx.pid;
        error_log {folder}/error.log;
        worker_processes 2;
        events {{ worker_connections 64; }}
        http {{
            access_log off;
            {temp}
            server {{ listen 127.0.0.1:{NGINX_PORT}; location / {{ return 200 "ok\\n"; }} }}
        }}
    """)


def _sshd_conf(folder: Path) -> str:
    return textwrap.dedent(f"""
        HostKey {folder}/hostkey
        PermitRootLogin prohibit-password
        PasswordAuthentication no
        KbdInteractiveAuthentication no
        UsePAM no
        PidFile {folder}/sshd.pid
        StrictModes no
        ListenAddress 127.0.0.1
        Port {SSHD_PORT}
    """)


def start_daemons(ns: DaemonNetns, names: tuple[str, ...]) -> None:
    """Start each daemon in ``names`` (nginx, varnish, redis, memcached, sshd) that is installed; wait for them."""
    folder = ns.folder
    starts: dict[str, tuple[str, list[str], Daemon]] = {}
    nginx = folder / "nginx"
    starts["nginx"] = (
        "nginx",
        ["nginx", "-p", str(nginx), "-c", str(nginx / "nginx.conf"), "-e", str(nginx / "error.log")],
        Daemon("nginx", NGINX_PORT, nginx / "nginx.pid"),
    )
    starts["varnish"] = (
        "varnishd",
        [
            "varnishd",
            "-a",
            f"127.0.0.1:{VARNISH_PORT}",
            "-b",
            f"127.0.0.1:{NGINX_PORT}",
            "-n",
            str(folder / "varnish"),
            "-P",
            str(folder / "varnish.pid"),
            "-s",
            "malloc,16m",
            "-T",
            "none",
        ],
        Daemon("varnish", VARNISH_PORT, folder / "varnish.pid"),
    )
    starts["redis"] = (
        "redis-server",
        [
            "redis-server",
            "--bind",
            "127.0.0.1",
            "--port",
            str(REDIS_PORT),
            "--daemonize",
            "yes",
            "--pidfile",
            str(folder / "redis.pid"),
            "--dir",
            str(folder),
            "--save",
            "",
            "--appendonly",
            "no",
            "--logfile",
            str(folder / "redis.log"),
        ],
        Daemon("redis", REDIS_PORT, folder / "redis.pid"),
    )
    starts["memcached"] = (
        "memcached",
        [
            "memcached",
            "-d",
            "-u",
            "root",
            "-l",
            "127.0.0.1",
            "-p",
            str(MEMCACHED_PORT),
            "-U",
            "0",
            "-P",
            str(folder / "memcached.pid"),
        ],
        Daemon("memcached", MEMCACHED_PORT, folder / "memcached.pid"),
    )
    pending: list[Daemon] = []
    for name in names:
        if name == "sshd":
            daemon = _start_sshd(ns)
            if daemon is not None:
                pending.append(daemon)
            continue
        binary, argv, daemon = starts[name]
        if shutil.which(binary) is None:
            ns.missing[name] = f"{binary} is not installed (.ci/run installs it from Debian)"
            continue
        if name == "nginx":
            nginx.mkdir()
            (nginx / "nginx.conf").write_text(_nginx_conf(nginx))
        started = ns.run(*argv)
        if started.returncode != 0:
            ns.missing[name] = f"{binary} did not start (exit {started.returncode}): {started.stderr.strip()[-300:]}"
            continue
        ns.daemons[name] = daemon
        pending.append(daemon)
    waited = ns.run(sys.executable, "-c", _WAIT_PORTS, *(str(d.port) for d in pending))
    late = {int(port) for port in waited.stdout.split()}
    for daemon in pending:
        if daemon.port in late or waited.returncode != 0:
            ns.missing[daemon.name] = f"{daemon.name} did not listen on 127.0.0.1:{daemon.port} within 15 s"
            ns.daemons.pop(daemon.name, None)
            daemon.stop()


def _start_sshd(ns: DaemonNetns) -> Daemon | None:
    sshd = shutil.which("sshd") or ("/usr/sbin/sshd" if os.path.exists("/usr/sbin/sshd") else None)
    if sshd is None or shutil.which("ssh-keygen") is None:
        ns.missing["sshd"] = "sshd or ssh-keygen is not installed (openssh-server)"
        return None
    keys = _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(ns.folder / "hostkey")])
    if keys.returncode != 0:
        ns.missing["sshd"] = f"ssh-keygen failed: {keys.stderr.strip()}"
        return None
    (ns.folder / "sshd_config").write_text(_sshd_conf(ns.folder))
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # its privilege-separation directory (Debian's)
    proc = subprocess.Popen(
        [*ns.prefix, sshd, "-D", "-f", str(ns.folder / "sshd_config"), "-E", str(ns.folder / "sshd.log")],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    daemon = Daemon("sshd", SSHD_PORT, proc=proc)
    ns.daemons["sshd"] = daemon
    return daemon


def start_rpc(ns: DaemonNetns) -> None:
    """rpcbind and rpc.statd in the foreground (statd binds port-0 sockets and registers them)."""
    for binary in ("rpcbind", "rpc.statd", "rpcinfo"):
        if shutil.which(binary) is None:
            ns.missing["rpc"] = f"{binary} is not installed (.ci/run installs rpcbind and nfs-common)"
            return
    if os.path.exists("/run/rpcbind.sock") and _run(["rpcinfo", "-p", "127.0.0.1"]).returncode == 0:
        ns.missing["rpc"] = "an rpcbind already runs on this host and owns /run/rpcbind.sock"
        return
    log = ns.folder / "rpc.log"
    with log.open("w") as errors:
        rpcbind = subprocess.Popen(
            [*ns.prefix, "rpcbind", "-f", "-w"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=errors,
            text=True,
        )
    ns.daemons["rpcbind"] = Daemon("rpcbind", 111, proc=rpcbind)
    for _ in range(100):
        if ns.run("rpcinfo", "-p", "127.0.0.1", timeout=10).returncode == 0:
            break
        if rpcbind.poll() is not None:
            ns.missing["rpc"] = f"rpcbind exited {rpcbind.returncode}: {log.read_text().strip()[-300:]}"
            return
        time.sleep(0.1)
    else:
        ns.missing["rpc"] = "rpcbind did not answer rpcinfo -p 127.0.0.1 within 10 s"
        return
    with log.open("a") as errors:
        statd = subprocess.Popen(
            [*ns.prefix, "rpc.statd", "-F", "-L"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=errors,
            text=True,
        )
    ns.daemons["rpc.statd"] = Daemon("rpc.statd", 0, proc=statd)
    for _ in range(100):
        if "status" in ns.run("rpcinfo", "-p", "127.0.0.1", timeout=10).stdout:
            return
        if statd.poll() is not None:
            ns.missing["rpc"] = f"rpc.statd exited {statd.returncode}: {log.read_text().strip()[-300:]}"
            return
        time.sleep(0.1)
    ns.missing["rpc"] = "rpc.statd did not register with rpcbind within 10 s"
