"""Load for the benchmark, on loopback only: listeners, established connections, idle processes holding fds.

Every helper is a child started in its own session, so :meth:`Load.stop` can end it and everything it forked
by its process group id, which is its own pid; nothing else is signalled.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field

#: L listeners: TCP and UDP on 127.0.0.1 and ::1 (when it exists), never a routable address.
LISTENERS = textwrap.dedent("""
    import socket, sys
    tcp, udp = int(sys.argv[1]), int(sys.argv[2])
    hosts = [(socket.AF_INET, "127.0.0.1")]
    try:
        socket.socket(socket.AF_INET6, socket.SOCK_DGRAM).bind(("::1", 0))
        hosts.append((socket.AF_INET6, "::1"))
    except OSError:
        pass
    held = []
    for i in range(tcp + udp):
        family, host = hosts[i % len(hosts)]
        sock = socket.socket(family, socket.SOCK_STREAM if i < tcp else socket.SOCK_DGRAM)
        sock.bind((host, 0))
        if i < tcp:
            sock.listen()
        held.append(sock)
    print("ready", flush=True)
    sys.stdin.read()
""")

#: C established loopback connections, both ends held here; closed with RST (linger 0) so no TIME_WAIT
#: is left behind to weigh on the next configuration.
CONNECTIONS = textwrap.dedent("""
    import resource, socket, struct, sys
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    wanted = int(sys.argv[1])
    linger = struct.pack("ii", 1, 0)
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4096)
    held = []
    while len(held) < 2 * wanted:
        batch = min(1000, wanted - len(held) // 2)
        clients = []
        for _ in range(batch):
            client = socket.socket()
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
            client.connect(server.getsockname())
            clients.append(client)
        for _ in range(batch):
            accepted, _ = server.accept()
            accepted.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
            held.append(accepted)
        held.extend(clients)
    print("ready", flush=True)
    sys.stdin.read()
""")

#: P idle processes, forked from one parent, each holding a few files and a socket pair, asleep on a pipe.
IDLE = textwrap.dedent("""
    import os, socket, sys
    count, files = int(sys.argv[1]), int(sys.argv[2])
    wake_read, wake_write = os.pipe()
    children = []
    for _ in range(count):
        pid = os.fork()
        if pid == 0:
            os.close(wake_write)
            held = [os.open("/dev/null", os.O_RDONLY) for _ in range(files)]
            pair = socket.socketpair()
            os.read(wake_read, 1)  # returns when the parent closes its end
            os._exit(0)
        children.append(pid)
    print("ready", flush=True)
    sys.stdin.read()
    os.close(wake_write)
    for pid in children:
        os.waitpid(pid, 0)
""")

#: One new server process: binds, reports its port, waits.
NEW_LISTENER = textwrap.dedent("""
    import socket, sys
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    print(sock.getsockname()[1], flush=True)
    sys.stdin.read()
""")


#: A long-lived server that opens one more listener for each line it reads, saying the port (after "ready").
LATE_LISTENER = textwrap.dedent("""
    import socket, sys
    print("ready", flush=True)
    held = []
    for _ in sys.stdin:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        held.append(sock)
        print(sock.getsockname()[1], flush=True)
""")


def fd_limit() -> int:
    """The hard RLIMIT_NOFILE children can raise their soft limit to."""
    return resource.getrlimit(resource.RLIMIT_NOFILE)[1]


@dataclass
class Load:
    """The helper processes of one benchmark configuration."""

    processes: list[subprocess.Popen[str]] = field(default_factory=list)

    def start(self, script: str, *args: object) -> str:
        """Run a helper and wait for its first line (``ready``, or a port)."""
        proc = subprocess.Popen(
            [sys.executable, "-c", script, *map(str, args)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        self.processes.append(proc)
        line = proc.stdout.readline() if proc.stdout else ""
        if not line:
            raise RuntimeError(f"a load helper failed to start (exit {proc.wait()})")
        return line.strip()

    def build(self, listeners: int, connections: int, idle: int, idle_files: int = 8) -> None:
        self.start(LISTENERS, listeners - listeners // 5, listeners // 5)
        per_process = max(1, (fd_limit() - 64) // 2)
        remaining = connections
        while remaining > 0:
            chunk = min(per_process, remaining)
            self.start(CONNECTIONS, chunk)
            remaining -= chunk
        if idle:
            self.start(IDLE, idle, idle_files)

    def stop(self) -> None:
        """Close each helper's stdin (it then exits, after its children); SIGKILL its group after 5 s."""
        for proc in self.processes:
            if proc.stdin:
                proc.stdin.close()
        for proc in self.processes:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                # still running, so its pid (= its process group id) is still ours: end it and its children
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            if proc.stdout:
                proc.stdout.close()
        self.processes.clear()
