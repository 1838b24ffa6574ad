"""End to end: a planted listener reaches a real Prometheus through node_exporter's textfile collector and
through `portwatch serve`, and the shipped alert rule fires. Everything listens on 127.0.0.1 except the
planted listener itself, which must be exposed to be unexpected (0.0.0.0; nothing ever connects to it)."""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support import CHILD_SCRIPT, Child, start_child
from tests.system.prom_support import (
    Daemon,
    binary,
    free_port,
    portwatch_argv,
    prometheus_api,
    prometheus_config,
    short_rules,
    start_daemon,
    wait_for,
)


@dataclass
class Stack:
    prometheus: str
    planted_port: int
    textfile: Path
    env: dict[str, str]


def planted_listener() -> Child:
    """A child listening on 0.0.0.0 on an IANA-dynamic port that Linux never hands out (61000-65535)."""
    for _attempt in range(20):
        port = random.randint(61000, 65535)
        with socket.socket() as probe:
            try:
                probe.bind(("0.0.0.0", port))
            except OSError:
                continue
        return start_child([sys.executable, "-c", CHILD_SCRIPT, "tcp", "0.0.0.0", str(port), "-"])
    pytest.skip("no free TCP port in 61000-65535 after 20 tries")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    prometheus_bin = binary("prometheus")
    node_exporter_bin = binary("prometheus-node-exporter", "node_exporter")
    work = tmp_path_factory.mktemp("prometheus-stack")
    textfiles = work / "textfile"
    textfiles.mkdir()
    # No baseline (an empty config dir): the planted listener is unexpected by its flags alone.
    env = {**os.environ, "XDG_CONFIG_HOME": str(work / "config")}
    child = planted_listener()
    daemons: list[Daemon] = []
    try:
        textfile = textfiles / "portwatch.prom"
        written = subprocess.run(
            portwatch_argv("metrics", "--textfile", str(textfile)), env=env, capture_output=True, text=True, timeout=60
        )
        assert written.returncode == 0, written.stderr
        node_port, serve_port, prom_port = free_port(), free_port(), free_port()
        node = start_daemon(
            "node_exporter",
            [
                node_exporter_bin,
                "--collector.disable-defaults",
                "--collector.textfile",
                f"--collector.textfile.directory={textfiles}",
                f"--web.listen-address=127.0.0.1:{node_port}",
            ],
            work / "node.log",
        )
        daemons.append(node)
        node.wait_ready(f"http://127.0.0.1:{node_port}/metrics")
        serve = start_daemon(
            "portwatch serve",
            portwatch_argv("serve", "--metrics", f"127.0.0.1:{serve_port}", "--min-interval", "1"),
            work / "serve.log",
            env,
        )
        daemons.append(serve)
        serve.wait_ready(f"http://127.0.0.1:{serve_port}/metrics")
        config = work / "prometheus.yml"
        config.write_text(prometheus_config(node_port, serve_port, short_rules(work / "rules.yml")))
        prometheus = start_daemon(
            "prometheus",
            [
                prometheus_bin,
                f"--config.file={config}",
                f"--storage.tsdb.path={work / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{prom_port}",
            ],
            work / "prom.log",
        )
        daemons.append(prometheus)
        prometheus.wait_ready(f"http://127.0.0.1:{prom_port}/-/ready")
        yield Stack(f"http://127.0.0.1:{prom_port}", child.port, textfile, env)
    finally:
        for daemon in reversed(daemons):
            daemon.stop()
        child.stop()


def series(stack: Stack, job: str) -> list[dict[str, Any]] | None:
    query = f'portwatch_listener_unexpected{{job="{job}",port="{stack.planted_port}"}} == 1'
    result: list[dict[str, Any]] = prometheus_api(stack.prometheus, "query", query=query)["result"]
    return result or None


def firing(stack: Stack, job: str) -> dict[str, Any] | None:
    for alert in prometheus_api(stack.prometheus, "alerts")["alerts"]:
        labels = alert["labels"]
        if (labels.get("alertname"), labels.get("job"), labels.get("port"), alert["state"]) == (
            "PortwatchUnexpectedListener",
            job,
            str(stack.planted_port),
            "firing",
        ):
            found: dict[str, Any] = alert
            return found
    return None


@pytest.mark.parametrize("job", ["node", "portwatch"])
def test_planted_listener_appears_as_an_unexpected_series(stack: Stack, job: str) -> None:
    (found,) = wait_for(f"the planted listener's series via job {job}", lambda: series(stack, job))
    labels = found["metric"]
    assert (labels["proto"], labels["address"], labels["exposure"], labels["range"], labels["netns"]) == (
        "tcp",
        "0.0.0.0",
        "all",
        "dynamic",
        "host",
    )
    assert "dynamic-exposed" in labels["flags"].split(",")
    assert labels["process"].startswith("python")
    assert "pid" not in labels and "cmdline" not in labels


@pytest.mark.parametrize("job", ["node", "portwatch"])
def test_unexpected_listener_alert_fires(stack: Stack, job: str) -> None:
    alert = wait_for(f"PortwatchUnexpectedListener firing via job {job}", lambda: firing(stack, job))
    assert alert["labels"]["severity"] == "warning"
    assert f":{stack.planted_port}" in alert["annotations"]["summary"]


def test_scan_timestamp_reaches_prometheus_for_staleness_rules(stack: Stack) -> None:
    def ages() -> list[float] | None:
        result = prometheus_api(stack.prometheus, "query", query="time() - portwatch_scan_timestamp_seconds")
        return [float(item["value"][1]) for item in result["result"]] if len(result["result"]) == 2 else None

    assert all(0 <= age < 600 for age in wait_for("scan ages from both jobs", ages))
    assert not firing_named(stack, "PortwatchDataStale")


def firing_named(stack: Stack, name: str) -> bool:
    return any(
        alert["labels"].get("alertname") == name for alert in prometheus_api(stack.prometheus, "alerts")["alerts"]
    )
