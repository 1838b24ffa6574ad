"""promtool on what portwatch ships and prints: the alert rules' unit tests, and real metrics output."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

from tests.support import HOSTILE_NAME, Server
from tests.system.prom_support import REPO, RULE_TESTS, RULES, binary, portwatch_argv

UNIT = REPO / "deploy" / "systemd" / "portwatch-metrics.service"


def test_alert_rules_pass_their_promtool_unit_tests() -> None:
    promtool = binary("promtool")
    checked = subprocess.run([promtool, "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = subprocess.run(
        [promtool, "test", "rules", RULE_TESTS.name], cwd=RULE_TESTS.parent, capture_output=True, text=True, timeout=120
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "SUCCESS" in tested.stdout


def test_metrics_output_passes_promtool_check_metrics(hostile: Server, tmp_path: Path) -> None:
    promtool = binary("promtool")
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path)}
    printed = subprocess.run(
        portwatch_argv("metrics", "--per-listener", "all"), capture_output=True, timeout=60, env=env
    )
    assert printed.returncode == 0, printed.stderr
    assert f'port="{hostile.port}"'.encode() in printed.stdout  # the hostile child's series is in what was checked
    assert HOSTILE_NAME.encode() not in printed.stdout and b"\x1b" not in printed.stdout
    checked = subprocess.run([promtool, "check", "metrics"], input=printed.stdout, capture_output=True, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert not checked.stdout.strip() and not checked.stderr.strip()  # no lint warnings either


def test_the_shipped_unit_writes_a_textfile_node_exporter_accepts(tmp_path: Path) -> None:
    """The service's ExecStart as written, with this checkout's portwatch and temporary paths."""
    promtool = binary("promtool")
    text = UNIT.read_text().replace("\\\n", " ")
    (exec_start,) = [line.split("=", 1)[1] for line in text.splitlines() if line.startswith("ExecStart=")]
    argv = shlex.split(exec_start)
    assert argv[0] == "/usr/local/bin/portwatch" and argv[1] == "metrics"
    textfile = Path(argv[argv.index("--textfile") + 1])
    assert textfile.parent == Path("/var/lib/prometheus/node-exporter") and textfile.suffix == ".prom"
    assert f"ReadWritePaths={textfile.parent}" in text
    (tmp_path / "baseline.toml").write_text("version = 1\n[[listener]]\nproto = 'tcp'\nport = 22\n")
    argv = [sys.executable, "-m", "portwatch", *argv[1:]]
    argv[argv.index("--textfile") + 1] = str(tmp_path / textfile.name)
    argv[argv.index("--baseline") + 1] = str(tmp_path / "baseline.toml")
    run = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    written = (tmp_path / textfile.name).read_bytes()
    assert b"portwatch_baseline_loaded 1.0" in written
    checked = subprocess.run([promtool, "check", "metrics"], input=written, capture_output=True, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr
