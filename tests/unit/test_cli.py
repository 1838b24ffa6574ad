"""The command line wires its options into the TUI (nothing started, nothing scanned)."""

from __future__ import annotations

from pathlib import Path

import pytest


def test_tui_gets_the_baseline_file_and_the_bell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from portwatch import cli
    from portwatch.tui.app import PortwatchApp

    seen: dict[str, object] = {}

    def run(app: PortwatchApp) -> None:
        seen.update(path=app.watcher.baseline_path, bell=app.alerts.bell)

    monkeypatch.setattr(PortwatchApp, "run", run)
    path = tmp_path / "baseline.toml"
    path.write_text("version = 1\n")
    assert cli.main(["--baseline", str(path), "--bell"]) == 0
    assert seen == {"path": path, "bell": True}
