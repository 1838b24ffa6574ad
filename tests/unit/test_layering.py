"""The data layer never imports textual, and `list`/`who` start without it."""

from __future__ import annotations

import subprocess
import sys
import textwrap

DATA_MODULES = ["portwatch.model", "portwatch.ranges", "portwatch.text", "portwatch.collect",
                "portwatch.collect.psutil_collector", "portwatch.collect.process", "portwatch.listing", "portwatch.cli",
                "portwatch.watch"]


def loaded_modules(code: str) -> set[str]:
    probe = textwrap.dedent(code) + "\nimport sys\nprint('\\n'.join(sys.modules), file=sys.stderr)\n"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return set(result.stderr.splitlines())


def test_data_modules_do_not_import_textual_or_rich() -> None:
    modules = loaded_modules("\n".join(f"import {name}" for name in DATA_MODULES) +
                             "\nfrom portwatch.collect import get_collector\nget_collector()")
    assert "portwatch.collect.base" in modules  # the probe really loaded the data layer
    assert not {m for m in modules if m.split(".")[0] in ("textual", "rich")}


def test_list_and_who_commands_run_without_textual() -> None:
    modules = loaded_modules("""
        from portwatch.cli import main
        main(["list"])
        main(["who", "1"])
    """)
    assert "portwatch.collect.process" in modules
    assert "textual" not in modules


def test_list_never_imports_prometheus_client() -> None:
    listed = loaded_modules("""
        from portwatch.cli import main
        main(["list"])
        main(["check"])
    """)
    assert "portwatch.collect.base" in listed  # the probe really ran the commands
    assert not {m for m in listed if m.split(".")[0] == "prometheus_client"}
    assert "portwatch.metrics" not in listed and "portwatch.exporter" not in listed


def test_the_metrics_command_is_what_imports_prometheus_client() -> None:
    assert "prometheus_client" in loaded_modules("""
        from portwatch.cli import main
        main(["metrics", "--per-listener", "none"])
    """)
