"""Listeners for the TUI benchmark: a synthetic collector that churns like a busy host, and real loopback sockets.

The synthetic collector builds fresh ``Listener`` records on every scan, as the real collectors do, so the
table never sees the same objects twice; only their values repeat.
"""

from __future__ import annotations

import random
import textwrap
import time

from portwatch import ranges
from portwatch.model import EphemeralRange, Family, Listener, Owner, OwnerStatus, PortSpan, Proto, Scan

EPHEMERAL = EphemeralRange(PortSpan(32768, 60999), (), "default")
ADDRESSES = ("127.0.0.1", "0.0.0.0", "::", "::1", "10.0.0.5")
PROGRAMS = (
    ("nginx", "www-data"),
    ("python3", "dev"),
    ("node", "dev"),
    ("postgres", "postgres"),
    ("java", "app"),
    ("redis-server", "redis"),
    ("envoy", "envoy"),
    ("haproxy", "haproxy"),
    ("dnsmasq", "nobody"),
    ("sshd", "root"),
)

#: A child that holds N TCP listeners on 127.0.0.1 and, for each line "K" on stdin, closes its K oldest and
#: opens K new ones, answering "ok". It ends when stdin closes.
HOLDER = textwrap.dedent("""
    import resource, socket, sys
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    def listen():
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        return sock
    held = [listen() for _ in range(int(sys.argv[1]))]
    print("ready", flush=True)
    for line in sys.stdin:
        count = int(line)
        for sock in held[:count]:
            sock.close()
        held = held[count:] + [listen() for _ in range(count)]
        print("ok", flush=True)
""")

Key = tuple[Proto, str, int]


class SyntheticCollector:
    """N listeners; from the second scan on, each scan closes and opens ``churn`` of them and restarts
    (new pid, same program) the owners of ``restarts`` more. Deterministic for a given seed."""

    source = "synthetic"

    def __init__(self, count: int, churn: float = 0.01, restarts: float = 0.005, seed: int = 5) -> None:
        self.random = random.Random(seed)
        self.churn = max(1, round(count * churn))
        self.restarts = max(1, round(count * restarts))
        self.next_pid = 10_000
        self.live: dict[Key, tuple[Owner, ...]] = {}
        while len(self.live) < count:
            self._open()
        self.scans = 0

    def _owners(self) -> tuple[Owner, ...]:
        name, user = self.random.choice(PROGRAMS)
        workers = 1 if self.random.random() < 0.9 else self.random.randint(2, 4)  # some pre-fork servers
        owners = tuple(Owner(self.next_pid + i, name, user, f"/usr/bin/{name}", (name,), 1.7e9) for i in range(workers))
        self.next_pid += workers
        return owners

    def _open(self) -> None:
        while True:
            key = (
                self.random.choice((Proto.TCP, Proto.TCP, Proto.TCP, Proto.UDP)),
                self.random.choice(ADDRESSES),
                self.random.randint(1, 65535),
            )
            if key not in self.live:
                self.live[key] = self._owners()
                return

    def scan(self) -> Scan:
        if self.scans:
            for key in self.random.sample(list(self.live), self.churn):
                del self.live[key]
            for _ in range(self.churn):
                self._open()
            for key in self.random.sample(list(self.live), self.restarts):
                self.live[key] = self._owners()
        self.scans += 1
        listeners = tuple(listener(key, owners) for key, owners in self.live.items())
        return Scan(listeners, EPHEMERAL, privileged=True, source=self.source, taken_at=time.time())


def listener(key: Key, owners: tuple[Owner, ...]) -> Listener:
    proto, address, port = key
    return Listener(
        proto=proto,
        family=Family.IPV6 if ":" in address else Family.IPV4,
        address=address,
        port=port,
        port_range=ranges.iana_range(port),
        os_ephemeral=port in EPHEMERAL,
        exposure=ranges.exposure(address),
        service=ranges.service_name(port, proto),
        owners=owners,
        owner_status=OwnerStatus.KNOWN,
        socket_user=owners[0].user if owners else None,
    )
