"""Packaging as a user meets it: `pipx install <checkout>` gives a working `portwatch` command, and the built
metadata carries the distribution name, the SPDX license and the license file."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from portwatch import __version__

CHECKOUT = Path(__file__).resolve().parents[2]


def pipx_command() -> str:
    """pipx from the test environment (the test extras install it) or the system (Debian's package)."""
    beside = Path(sys.executable).with_name("pipx")
    if beside.exists():
        return str(beside)
    found = shutil.which("pipx")
    if found is None:
        pytest.skip("pipx is not installed (neither in this venv's bin nor on PATH): `pip install pipx`")
    return found


def test_pipx_install_of_the_checkout_gives_a_working_portwatch(tmp_path: Path) -> None:
    pipx = pipx_command()
    source = tmp_path / "checkout"  # a copy: pipx builds in place and must not touch the working tree
    shutil.copytree(
        CHECKOUT,
        source,
        ignore=shutil.ignore_patterns(".venv", "*.egg-info", "__pycache__", ".git", "build", ".*_cache"),
    )
    env = dict(
        os.environ,
        PIPX_HOME=str(tmp_path / "pipx-home"),
        PIPX_BIN_DIR=str(tmp_path / "bin"),
        PIPX_MAN_DIR=str(tmp_path / "man"),
    )
    installed = subprocess.run([pipx, "install", str(source)], capture_output=True, text=True, env=env, timeout=600)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    command = tmp_path / "bin" / "portwatch"
    version = subprocess.run([str(command), "--version"], capture_output=True, text=True, timeout=60)
    assert version.returncode == 0 and version.stdout.strip() == f"portwatch {__version__}", version
    listed = subprocess.run([str(command), "list", "--json"], capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0 and '"schema_version": 1' in listed.stdout  # schemas shipped as package data


def test_the_wheel_names_the_distribution_license_and_ships_the_data(tmp_path: Path) -> None:
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(CHECKOUT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stderr
    [wheel] = tmp_path.glob("portwatch_listeners-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        [metadata] = [n for n in names if n.endswith(".dist-info/METADATA")]
        text = archive.read(metadata).decode()
    assert "Name: portwatch-listeners" in text
    assert "License-Expression: MIT" in text and "License-File: LICENSE" in text
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    for shipped in (
        "portwatch/schemas/list.schema.json",
        "portwatch/schemas/who.schema.json",
        "portwatch/schemas/check.schema.json",
        "portwatch/tui/portwatch.tcss",
        "portwatch/py.typed",
    ):
        assert shipped in names
