"""The layout read from the source (pure: the package's own files, parsed): only portwatch.tui imports
textual, rich or portwatch.tui (cli's run_tui excepted), and only portwatch.collect names a /proc or /sys
path. tests/system/test_layering.py checks the same at run time."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import portwatch

PACKAGE = Path(portwatch.__file__).parent
UI_ROOTS = ("textual", "rich")


def modules(outside: str) -> Iterator[tuple[str, ast.Module]]:
    """(dotted name, parsed source) of every module not under the sub-package ``outside``."""
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE.parent).with_suffix("")
        name = ".".join(relative.parts).removesuffix(".__init__")
        if not name.startswith(f"portwatch.{outside}"):
            yield name, ast.parse(path.read_text(encoding="utf-8"), str(path))


def imported(tree: ast.Module) -> Iterator[tuple[str, int]]:
    """Every module an import statement names, deferred imports inside functions included."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, node.lineno


def test_only_the_tui_imports_textual_rich_or_portwatch_tui() -> None:
    found = {
        (name, module)
        for name, tree in modules("tui")
        for module, _line in imported(tree)
        if module.split(".")[0] in UI_ROOTS or module.startswith("portwatch.tui")
    }
    assert found <= {("portwatch.cli", "portwatch.tui.app")}  # the one exception: run_tui's deferred import


def docstrings(tree: ast.Module) -> set[int]:
    """ids of the docstring nodes (a docstring may describe a /proc path; code may not name one)."""
    nodes = [
        tree,
        *(node for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))),
    ]
    return {
        id(node.body[0].value)
        for node in nodes
        if node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)
    }


def test_only_collect_names_proc_or_sys_paths() -> None:
    found = []
    for name, tree in modules("collect"):
        skip = docstrings(tree)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in skip
                and node.value.startswith(("/proc", "/sys"))
            ):
                found.append((name, node.lineno, node.value))
    assert found == []
