"""`portwatch metrics` and `portwatch serve` as a user runs them: real processes, real HTTP on loopback."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.system.prom_support import WAIT, http_get, portwatch_argv

URL = re.compile(rb"http://(\S+)/metrics")
TIMESTAMP = re.compile(rb"^portwatch_scan_timestamp_seconds (\S+)$", re.MULTILINE)


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(portwatch_argv(*args), capture_output=True, text=True, timeout=60, env=env)


@pytest.fixture
def no_baseline(tmp_path: Path) -> dict[str, str]:
    """An environment whose default baseline does not exist."""
    return {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config")}


class Served:
    def __init__(self, proc: subprocess.Popen[bytes], url: str, before: list[bytes]) -> None:
        self.proc, self.url = proc, url
        #: What it printed to stderr before announcing its URL.
        self.before = before

    def scrape(self) -> bytes:
        return http_get(self.url)


@pytest.fixture
def serve(no_baseline: dict[str, str]) -> Iterator[Callable[..., Served]]:
    """Start `portwatch serve --metrics ADDR:0 ...`; the URL comes from its announcement. Stopped at teardown."""
    started: list[subprocess.Popen[bytes]] = []

    def start(*args: str, address: str = "127.0.0.1:0") -> Served:
        proc = subprocess.Popen(
            portwatch_argv("serve", "--metrics", address, *args),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=no_baseline,
        )
        started.append(proc)
        assert proc.stderr is not None
        before: list[bytes] = []
        while not (found := URL.search(line := proc.stderr.readline())) and line and len(before) < 5:
            before.append(line)
        assert found, before
        return Served(proc, f"http://{found.group(1).decode()}/metrics", before)

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=10)


def test_metrics_prints_exposition_text_on_stdout(no_baseline: dict[str, str]) -> None:
    result = run("metrics", env=no_baseline)
    assert result.returncode == 0, result.stderr
    assert "# TYPE portwatch_scan_timestamp_seconds gauge" in result.stdout
    assert "portwatch_baseline_loaded 0.0" in result.stdout


def test_textfile_is_written_and_replaced_atomically(tmp_path: Path, no_baseline: dict[str, str]) -> None:
    target = tmp_path / "portwatch.prom"
    for _ in range(2):
        result = run("metrics", "--textfile", str(target), env=no_baseline)
        assert result.returncode == 0 and not result.stdout, result.stderr
    assert "portwatch_build_info" in target.read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["portwatch.prom"]  # no temp file left behind


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda d: d / "metrics.txt", "must end in .prom"),
        (lambda d: d / "nowhere" / "portwatch.prom", "no such directory"),
        (lambda d: (d / "a.prom").mkdir() or d / "a.prom", "not a regular file"),
        (lambda d: (d / "other.prom").write_text("node_thing 1\n") and d / "other.prom", "not written by portwatch"),
    ],
)
def test_textfile_refusals_are_one_line_and_exit_2(tmp_path: Path, make: Callable[[Path], Path], message: str) -> None:
    target = make(tmp_path)
    result = run("metrics", "--textfile", str(target))
    assert result.returncode == 2
    assert message in result.stderr and result.stderr.count("\n") == 1 and not result.stdout


def test_missing_baseline_is_reported_in_the_metrics_not_as_a_crash(tmp_path: Path) -> None:
    result = run("metrics", "--baseline", str(tmp_path / "absent.toml"))
    assert result.returncode == 0
    assert "portwatch_baseline_error 1.0" in result.stdout and "cannot read the baseline" in result.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        ((), "the following arguments are required: --metrics"),
        (("--metrics", ":9105"), "give ADDR:PORT with the address"),
        (("--metrics", "9105"), "give ADDR:PORT with the address"),
        (("--metrics", "::1:9105"), "IPv6 address in brackets"),
        (("--metrics", "127.0.0.1:99999"), "outside 0-65535"),
    ],
)
def test_serve_refuses_a_missing_or_vague_address(args: tuple[str, ...], message: str) -> None:
    result = run("serve", *args)
    assert result.returncode == 2 and message in result.stderr and result.stderr.count("\n") == 1


def test_serve_refuses_an_address_it_cannot_bind() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = run("serve", "--metrics", f"127.0.0.1:{taken.getsockname()[1]}")
    assert result.returncode == 2 and "cannot listen on 127.0.0.1:" in result.stderr


def test_serve_scans_at_most_once_per_min_interval(serve: Callable[..., Served]) -> None:
    served = serve("--min-interval", "3600")
    stamps = {TIMESTAMP.findall(served.scrape())[0] for _ in range(5)}
    assert len(stamps) == 1


def test_serve_with_min_interval_zero_scans_every_scrape(serve: Callable[..., Served]) -> None:
    served = serve("--min-interval", "0")
    stamps = {TIMESTAMP.findall(served.scrape())[0] for _ in range(3)}
    assert len(stamps) == 3


def test_serve_accepts_every_interface_when_asked_explicitly(serve: Callable[..., Served]) -> None:
    served = serve(address="0.0.0.0:0")
    assert "//0.0.0.0:" in served.url
    port = served.url.rsplit(":", 1)[1].split("/")[0]
    assert b"portwatch_build_info" in http_get(f"http://127.0.0.1:{port}/metrics")


def test_serve_listens_on_ipv6_loopback(serve: Callable[..., Served]) -> None:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError as error:
        pytest.skip(f"no IPv6 loopback here: {error}")
    served = serve(address="[::1]:0")
    assert served.url.startswith("http://[::1]:") and b"portwatch_build_info" in served.scrape()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_serve_stops_cleanly_on_sigterm_and_ctrl_c(serve: Callable[..., Served], signum: int) -> None:
    served = serve()
    served.scrape()
    served.proc.send_signal(signum)
    assert served.proc.wait(timeout=WAIT) == 0
    assert served.proc.stderr is not None and b"Traceback" not in served.proc.stderr.read()
    port = int(served.url.rsplit(":", 1)[1].split("/")[0])
    with socket.socket() as again:  # the port is free again: the server socket was closed
        again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        again.bind(("127.0.0.1", port))


def test_serve_rereads_the_baseline_and_logs_when_a_problem_starts_and_ends(
    serve: Callable[..., Served], tmp_path: Path
) -> None:
    baseline = tmp_path / "baseline.toml"
    served = serve("--min-interval", "0", "--baseline", str(baseline))
    assert len(served.before) == 1 and b"cannot read the baseline" in served.before[0]
    assert b"portwatch_baseline_error 1.0" in served.scrape()
    baseline.write_text("version = 1\n[[listener]]\nproto = 'tcp'\nport = 22\n")
    scraped = served.scrape()
    assert b"portwatch_baseline_loaded 1.0" in scraped and b"portwatch_baseline_entries 1.0" in scraped
    assert served.proc.stderr is not None
    assert b"normally again" in served.proc.stderr.readline()
