"""The import-linter contracts in pyproject.toml cover every module: a new one cannot slip past the layers."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found]  # installed only where Python is 3.10

ROOT = Path(__file__).resolve().parents[2]


def contracts() -> list[dict[str, Any]]:
    """The contracts as TOML gives them: tables of strings and lists of strings."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    found: list[dict[str, Any]] = config["tool"]["importlinter"]["contracts"]
    return found


def modules_outside_tui() -> set[str]:
    """portwatch's top-level modules and sub-packages, but the TUI."""
    package = ROOT / "portwatch"
    names = {f"portwatch.{path.stem}" for path in package.glob("*.py") if path.stem != "__init__"}
    names |= {f"portwatch.{path.name}" for path in package.iterdir() if (path / "__init__.py").exists()}
    return names - {"portwatch.tui"}


def test_every_module_outside_the_tui_is_barred_from_textual_and_rich() -> None:
    first = contracts()[0]
    assert first["forbidden_modules"] == ["textual", "rich", "portwatch.tui"]
    listed = set(first["source_modules"])
    missing = modules_outside_tui() - listed
    assert not missing, f"add {sorted(missing)} to the first import-linter contract in pyproject.toml"


def test_the_contracts_name_only_modules_that_exist() -> None:
    known = modules_outside_tui() | {"portwatch.tui"}
    for contract in contracts():
        for name in contract["source_modules"]:
            assert name in known, f"{contract['name']}: no module {name}"
