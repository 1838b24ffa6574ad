"""Real Prometheus components for the metrics tests: found on PATH or skipped, bound to 127.0.0.1, stopped."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "deploy" / "prometheus" / "portwatch-rules.yml"
RULE_TESTS = REPO / "deploy" / "prometheus" / "portwatch-rules.test.yml"
#: How long any wait for a real component may take before the test fails (or skips, for a start-up).
WAIT = 30.0
T = TypeVar("T")


def binary(*names: str) -> str:
    """The first of ``names`` on PATH, else skip naming the Debian package that has it."""
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    pytest.skip(f"{' / '.join(names)} not found on PATH (apt-get install prometheus prometheus-node-exporter)")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def portwatch_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "portwatch", *args]


def http_get(url: str, timeout: float = 5.0) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:  # loopback only: every URL here is 127.0.0.1
        body: bytes = response.read()
        return body


def wait_for(what: str, probe: Callable[[], T | None], timeout: float = WAIT) -> T:
    """Poll ``probe`` until it returns something other than None (or fail after ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            value = probe()
        except (OSError, ValueError) as error:
            value, last = None, error
        if value is not None:
            return value
        time.sleep(0.25)
    pytest.fail(f"{what}: nothing after {timeout:.0f} s (last error: {last})")


@dataclass
class Daemon:
    """A server process this test started; its output goes to a log file shown when it fails."""

    name: str
    proc: subprocess.Popen[bytes]
    log: Path

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""

    def wait_ready(self, url: str) -> None:
        """Wait until ``url`` answers 200; skip with the reason if the daemon never comes up."""
        deadline = time.monotonic() + WAIT
        error: object = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.skip(f"{self.name} exited with {self.proc.returncode} at start: {self.log_tail()}")
            try:
                http_get(url, timeout=2)
                return
            except (OSError, urllib.error.URLError) as problem:
                error = problem
            time.sleep(0.2)
        self.stop()
        pytest.skip(f"{self.name} did not answer {url} within {WAIT:.0f} s ({error}): {self.log_tail()}")

    def stop(self) -> None:
        """Only ever our own child: SIGTERM, then SIGKILL if it lingers."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_daemon(name: str, argv: list[str], log: Path, env: dict[str, str] | None = None) -> Daemon:
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env)
    return Daemon(name, proc, log)


def prometheus_api(base: str, path: str, **params: str) -> Any:
    """GET one endpoint of Prometheus's HTTP API and return its ``data`` (fails on status "error")."""
    url = f"{base}/api/v1/{path}" + (f"?{urllib.parse.urlencode(params)}" if params else "")
    answer = json.loads(http_get(url))
    assert answer["status"] == "success", answer
    return answer["data"]


def prometheus_config(node_port: int, serve_port: int, rules: Path) -> str:
    return f"""
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - {rules}
scrape_configs:
  - job_name: node
    static_configs:
      - targets: ["127.0.0.1:{node_port}"]
  - job_name: portwatch
    static_configs:
      - targets: ["127.0.0.1:{serve_port}"]
"""


def short_rules(target: Path) -> Path:
    """The shipped rules with every ``for: 5m`` cut to 2 s, so an end-to-end alert fires within seconds."""
    text = RULES.read_text()
    assert "for: 5m" in text
    target.write_text(text.replace("for: 5m", "for: 2s"))
    return target
