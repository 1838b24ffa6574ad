"""The Prometheus plumbing: the only module that imports prometheus_client (the `metrics` extra).

- :class:`SnapshotCollector` yields the families of :mod:`portwatch.metrics` for a fresh
  ``CollectorRegistry`` (never the library's global one, which would add the client's own process metrics
  and leak state between uses).
- :func:`write_textfile` is node_exporter's textfile convention: a ``.prom`` file replaced by rename, so the
  collector never reads half a file.
- :func:`serve` is the HTTP exporter: a threading WSGI server on the one address the user gave.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import stat
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, generate_latest, make_wsgi_app
from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily, Metric
from prometheus_client.registry import Collector

from portwatch.metrics import Family, Kind, PerListener, Snapshot, families
from portwatch.text import safe


class TextfileError(Exception):
    """The textfile cannot be written where asked; str() is one line."""


def to_metric(family: Family) -> Metric:
    """One portwatch family as prometheus_client's."""
    if family.kind is Kind.INFO:
        info = InfoMetricFamily(family.name, family.help, labels=())
        for values, _one in family.samples:
            info.add_metric((), dict(zip(family.labels, values, strict=True)))
        return info
    gauge = GaugeMetricFamily(family.name, family.help, labels=family.labels)
    for values, value in family.samples:
        gauge.add_metric(list(values), value)
    return gauge


class SnapshotCollector(Collector):
    """Each collect() asks ``source`` for a snapshot (the Snapshotter caches) and yields its families."""

    def __init__(self, source: Callable[[], Snapshot], per_listener: PerListener) -> None:
        self.source = source
        self.per_listener = per_listener

    def collect(self) -> Iterator[Metric]:
        for family in families(self.source(), self.per_listener):
            yield to_metric(family)


def registry_for(source: Callable[[], Snapshot], per_listener: PerListener) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)  # False: registering must not scan
    registry.register(SnapshotCollector(source, per_listener))
    return registry


def render(snapshot: Snapshot, per_listener: PerListener = PerListener.UNEXPECTED) -> bytes:
    """The exposition text (format 0.0.4) of one snapshot."""
    return generate_latest(registry_for(lambda: snapshot, per_listener))


# -- the textfile --------------------------------------------------------------------------------------------

_OURS = b"# HELP portwatch_"


def check_textfile(path: Path) -> None:
    """Refuse, before any scan, a path node_exporter would ignore or that is not ours to replace."""
    where = safe(path)
    if path.suffix != ".prom":
        raise TextfileError(f"{where}: the textfile must end in .prom (node_exporter reads only *.prom)")
    if not path.parent.is_dir():
        raise TextfileError(f"{safe(path.parent)}: no such directory for the textfile")
    try:
        info = path.lstat()
    except FileNotFoundError:
        return
    except OSError as error:
        raise TextfileError(f"{where}: {error.strerror or error}") from None
    if not stat.S_ISREG(info.st_mode):
        raise TextfileError(f"{where} exists and is not a regular file: refusing to replace it")
    with open(path, "rb") as existing:
        head = existing.read(4096)
    if head and _OURS not in head:
        raise TextfileError(f"{where} exists and was not written by portwatch: refusing to replace it")


def write_textfile(path: Path, content: bytes) -> None:
    """Write ``content`` to a temp file beside ``path`` (not *.prom, so never read half-done), then rename."""
    check_textfile(path)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, 0o644)  # node_exporter often runs as its own user
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


# -- the HTTP exporter ---------------------------------------------------------------------------------------


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _Server6(_Server):
    address_family = socket.AF_INET6


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """One scrape every few seconds is not news: stay quiet."""


def make_exporter(host: str, port: int, registry: CollectorRegistry) -> WSGIServer:
    """A bound, not yet serving, HTTP server for ``registry`` on exactly ``host``:``port``."""
    server_class = _Server6 if ":" in host else _Server
    return make_server(host, port, make_wsgi_app(registry), server_class, handler_class=_QuietHandler)


def serve(server: WSGIServer, announce: Callable[[str], None]) -> None:
    """Serve until SIGTERM or Ctrl-C, then stop accepting, finish, and close the socket."""
    stop = threading.Event()

    def on_signal(_signum: int, _frame: object) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    worker = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    worker.start()
    host, port = server.socket.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    announce(f"portwatch: serving metrics on http://{shown}:{port}/metrics (Ctrl-C or SIGTERM stops)")
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.shutdown()
        server.server_close()
        worker.join(timeout=5)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sys.stderr.flush()
