"""At run time: the layers below the TUI never load textual, rich or portwatch.tui, and `list`/`who` start
without them (a static tool cannot see deferred imports; tests/unit/test_layout.py reads the source)."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
import textwrap

import portwatch

#: Every module outside portwatch.tui: the model, judging, change feed, outputs, CLI and every collector
#: (not __main__: importing it runs the app).
CORE_MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(portwatch.__path__, "portwatch.")
    if not info.name.startswith(("portwatch.tui", "portwatch.__main__"))
)
UI_ROOTS = ("textual", "rich")


def loaded_modules(code: str) -> set[str]:
    probe = textwrap.dedent(code) + "\nimport sys\nprint('\\n'.join(sys.modules), file=sys.stderr)\n"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return set(result.stderr.splitlines())


def ui_modules(modules: set[str]) -> set[str]:
    return {name for name in modules if name.split(".")[0] in UI_ROOTS or name.startswith("portwatch.tui")}


def test_core_and_collect_modules_do_not_import_textual_rich_or_the_tui() -> None:
    assert {
        "portwatch.judge",
        "portwatch.changes",
        "portwatch.listing",
        "portwatch.collect.process",
        "portwatch.collect.linux",
        "portwatch.collect.exeinfo",
    } <= set(CORE_MODULES)
    modules = loaded_modules(
        "\n".join(f"import {name}" for name in CORE_MODULES)
        + "\nfrom portwatch.collect import get_collector\nget_collector().scan()"
    )
    assert "portwatch.collect.base" in modules  # the probe really loaded the data layer
    assert ui_modules(modules) == set()


def test_list_and_who_commands_run_without_textual_or_rich() -> None:
    modules = loaded_modules("""
        import contextlib, io
        from portwatch.cli import main
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            main(["list"])
            main(["list", "--json"])
            main(["who", "1"])
    """)
    assert {"portwatch.collect.process", "portwatch.judge", "portwatch.listing"} <= modules
    assert ui_modules(modules) == set()


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


def test_a_local_list_loads_none_of_the_remote_code() -> None:
    modules = loaded_modules("""
        from portwatch.cli import main
        main(["list"])
    """)
    assert "portwatch.remote.commands" in modules  # the --host options are declared...
    assert "subprocess" not in modules  # ...ssh's records are there, but nothing runs it
    assert not {
        m
        for m in modules
        if m.startswith(
            (
                "portwatch.collect.remote",
                "portwatch.remote.host",
                "portwatch.remote.live",
                "portwatch.remote.wire",
                "portwatch.remote.stream",
            )
        )
    }  # ...nothing more
