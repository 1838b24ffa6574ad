"""Real cgroups, a real container, real packaged daemons for the attribution tests; every one removed at teardown.

The machine's cgroup hierarchies are writable as root: a child placed in ``system.slice/NAME.service`` is in
that "unit" as far as /proc/PID/cgroup (and so portwatch) can tell. Both the v1 ``name=systemd`` hierarchy
and the v2 one are used where mounted, as systemd itself would.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]


def cgroup_roots() -> list[Path]:
    """Mount points of the v1 ``name=systemd`` hierarchy and of cgroup2, from /proc/self/mountinfo."""
    roots: list[Path] = []
    with open("/proc/self/mountinfo", encoding="utf-8") as file:
        for line in file:
            fields = line.split()
            tail = line.split(" - ", 1)[1].split() if " - " in line else []
            if not tail:
                continue
            if tail[0] == "cgroup2" or (tail[0] == "cgroup" and "name=systemd" in tail[-1].split(",")):
                roots.append(Path(fields[4]))
    return roots


class PlacedCgroup:
    """A cgroup path created in every systemd-relevant hierarchy; processes moved in, moved back at close."""

    def __init__(self, relative: str) -> None:
        if os.geteuid() != 0:
            pytest.skip("placing processes in cgroups needs root")
        self.relative = relative.strip("/")
        self.created: list[Path] = []
        self.roots = cgroup_roots()
        if not self.roots:
            pytest.skip("no name=systemd or cgroup2 hierarchy is mounted here")
        for root in self.roots:
            path = root
            for part in self.relative.split("/"):
                path = path / part
                if not path.exists():
                    try:
                        path.mkdir()
                    except OSError as error:
                        self.close()
                        pytest.skip(f"cannot create cgroup {path}: {error}")
                    self.created.append(path)

    def add(self, pid: int) -> None:
        for root in self.roots:
            try:
                (root / self.relative / "cgroup.procs").write_text(f"{pid}\n")
            except OSError as error:
                self.close()
                pytest.skip(f"cannot move pid {pid} into {root / self.relative}: {error}")

    def close(self) -> None:
        for root in self.roots:
            procs = root / self.relative / "cgroup.procs"
            try:
                pids = procs.read_text().split()
            except OSError:
                continue
            for pid in pids:
                with contextlib.suppress(OSError):  # exited meanwhile
                    (root / "cgroup.procs").write_text(f"{pid}\n")
        for path in reversed(self.created):
            for _ in range(50):  # a process that just exited leaves the cgroup a moment later
                try:
                    path.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)
        self.created.clear()


def random_hex(length: int = 64) -> str:
    return secrets.token_hex(length // 2)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_listening(port: int, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def portwatch(*args: str) -> subprocess.CompletedProcess[str]:
    """The real command line, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "portwatch", *args], capture_output=True, text=True, cwd=REPO, timeout=60, check=False
    )


def who_json(port: int) -> list[dict[str, Any]]:
    done = portwatch("who", "--json", str(port))
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout))


def stop(proc: subprocess.Popen[Any]) -> None:
    """Stop a process this test started (never any other)."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def need(tool: str) -> str:
    path = shutil.which(tool) or next((p for p in (f"/usr/sbin/{tool}", f"/usr/bin/{tool}") if os.path.exists(p)), None)
    if path is None:
        pytest.skip(f"{tool} is not installed (.ci/run installs it)")
    return path
