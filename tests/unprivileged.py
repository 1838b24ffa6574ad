"""Running portwatch as an unprivileged user (uid 65534) without depending on where the checkout lives.

A checkout under a 0700 folder (a `mktemp -d` clone, a private home) cannot be read by that user, nor can a
venv inside it. So the packages a command imports (portwatch and its pure-python or abi3 dependencies) are
copied into a world-readable folder, and an interpreter that uid 65534 can really run is found by trying.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path

NOBODY = ("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups")

#: Imports what `portwatch list` (and the Linux collector) load, then prints where each module came from.
_MODULES_PROBE = textwrap.dedent("""
    import contextlib, io, json, sys
    import portwatch.collect.linux
    from portwatch.cli import main
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        main(["list", "--json"])
        main(["who", "1"])
    print(json.dumps({name: getattr(module, "__file__", None) for name, module in list(sys.modules.items())}))
""")

#: What a candidate interpreter must manage as uid 65534, from the copied tree alone.
_RUN_PROBE = "import portwatch.cli, portwatch.collect.linux; print('ok')"


@dataclass(frozen=True)
class Unprivileged:
    """How to run Python as uid 65534 on a world-readable copy of portwatch and what it imports."""

    python: str
    #: The world-readable folder holding the copied packages (PYTHONPATH and working directory).
    tree: Path

    def argv(self, *args: str) -> list[str]:
        return [*NOBODY, self.python, *args]

    @property
    def env(self) -> dict[str, str]:
        """No venv, no user site, the copy first; HOME where nobody may write (the baseline's default dir)."""
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")
        }
        return env | {"PYTHONPATH": str(self.tree), "PYTHONNOUSERSITE": "1", "HOME": "/tmp"}

    def run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.argv(*args),
            capture_output=True,
            text=True,
            timeout=timeout,
            env=self.env,
            cwd=self.tree,
            errors="surrogateescape",
        )


def _third_party_roots() -> list[Path]:
    """The top-level package folders (or single-file modules) portwatch loads from outside the stdlib."""
    probe = subprocess.run([sys.executable, "-c", _MODULES_PROBE], capture_output=True, text=True, timeout=60)
    if probe.returncode != 0:
        raise RuntimeError(f"module probe failed: {probe.stderr.strip()[-500:]}")
    files: dict[str, str | None] = json.loads(probe.stdout)
    stdlib = {Path(sysconfig.get_paths()[key]).resolve() for key in ("stdlib", "platstdlib")}
    roots: dict[str, Path] = {}
    for name, file in files.items():
        top = name.split(".")[0]
        if file is None or top in roots or top.startswith(("__editable__", "_distutils_hack")):
            continue
        path = Path(file).resolve()
        if any(path.is_relative_to(lib) and "site-packages" not in path.parts for lib in stdlib):
            continue
        if name == top:
            roots[top] = path.parent if path.name == "__init__.py" else path
    return sorted(roots.values())


def _copy_tree() -> Path:
    tree = Path(tempfile.mkdtemp(prefix="portwatch-nobody-"))
    for root in _third_party_roots():
        if root.is_dir():
            shutil.copytree(root, tree / root.name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(root, tree / root.name)
    for folder, dirs, names in os.walk(tree):
        for name in (*dirs, *names):
            path = os.path.join(folder, name)
            os.chmod(path, 0o755 if os.path.isdir(path) or os.access(path, os.X_OK) else 0o644)
    os.chmod(tree, 0o755)
    return tree


def _candidates() -> list[str]:
    found = [
        os.path.realpath(sys.executable),
        os.path.join(sys.base_prefix, "bin", "python3"),
        "/usr/bin/python3",
        shutil.which("python3") or "",
    ]
    return [path for path in dict.fromkeys(found) if path and os.path.exists(path)]


def start_unprivileged() -> tuple[Unprivileged | None, str]:
    """The runner, or None and the exact reason it cannot be had. The caller removes ``runner.tree``."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return None, "needs root to switch to uid 65534"
    if shutil.which(NOBODY[0]) is None:
        return None, "setpriv(1) is not installed (util-linux)"
    tree = _copy_tree()
    tried: list[str] = []
    for python in _candidates():
        runner = Unprivileged(python, tree)
        probe = runner.run("-c", _RUN_PROBE)
        if probe.returncode == 0 and probe.stdout.strip() == "ok":
            return runner, ""
        tried.append(f"{python}: {(probe.stderr.strip().splitlines() or ['exit ' + str(probe.returncode)])[-1]}")
    shutil.rmtree(tree, ignore_errors=True)
    return None, "no interpreter uid 65534 can run with portwatch's packages: " + "; ".join(tried)
