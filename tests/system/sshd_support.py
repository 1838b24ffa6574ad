"""A throwaway sshd on 127.0.0.1 with its own host key, user key, authorized_keys and known_hosts.

The client side is a private ssh config file (ssh takes ~ from the password database, so HOME cannot
redirect it): tests pass it with `--ssh-config`. Everything lives in one temporary folder; the daemon is the
test's own child and is stopped at teardown.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

SSHD = "/usr/sbin/sshd"
ALIAS = "pwtest"
REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _keygen(path: Path) -> None:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True, capture_output=True, timeout=30
    )


@dataclass
class Sshd:
    folder: Path
    port: int
    proc: subprocess.Popen[bytes] | None = None

    @property
    def client_config(self) -> Path:
        return self.folder / "ssh_config"

    @property
    def known_hosts(self) -> Path:
        return self.folder / "known_hosts"

    def ssh_args(self) -> list[str]:
        """portwatch options that reach this sshd as ALIAS."""
        return ["--host", ALIAS, "--ssh-config", str(self.client_config)]

    def remote_portwatch(self, xdg: Path) -> str:
        """The remote command running this checkout's portwatch, with a private config folder."""
        return f"env XDG_CONFIG_HOME={xdg} {sys.executable} -m portwatch"

    def start(self) -> None:
        log = open(self.folder / "sshd.log", "wb")  # noqa: SIM115 (the daemon writes it until stop())
        self.proc = subprocess.Popen(
            [SSHD, "-D", "-e", "-f", str(self.folder / "sshd_config")], stdout=log, stderr=log, stdin=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"sshd exited {self.proc.returncode}: {self.log()[-300:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"sshd did not listen on 127.0.0.1:{self.port} within 10 s: {self.log()[-300:]}")

    def log(self) -> str:
        return (self.folder / "sshd.log").read_text(errors="replace")

    def sessions(self) -> list[int]:
        """Pids of the per-connection sshd processes this daemon forked (its children only)."""
        assert self.proc is not None
        found = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stat = Path(f"/proc/{entry}/stat").read_text()
                except OSError:
                    continue
                if int(stat[stat.rfind(")") + 2 :].split()[1]) == self.proc.pid:
                    found.append(int(entry))
        return found

    def kill_sessions(self) -> int:
        """SIGKILL the connection processes of this test's daemon: the remote side dies."""
        killed = 0
        for pid in self.sessions():
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except ProcessLookupError:
                pass
        return killed

    def go_down(self) -> None:
        """The host goes away: stop the daemon, then SIGKILL the connections it had forked (ours only)."""
        sessions = self.sessions()
        self.stop()
        for pid in sessions:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def new_host_key(self) -> None:
        """Replace the server's host key (known_hosts keeps the old one) and restart the daemon."""
        self.stop()
        for name in ("host_key", "host_key.pub"):
            (self.folder / name).unlink()
        _keygen(self.folder / "host_key")
        self.start()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def make_sshd(folder: Path) -> Sshd:
    """Configure and start one; pytest.skip with the exact reason when that cannot be done here."""
    for tool in (SSHD, "ssh", "ssh-keygen"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (apt-get install openssh-server openssh-client)")
    if os.geteuid() != 0:
        pytest.skip("the throwaway sshd logs in as root with a key: these tests run as root")
    folder.mkdir(parents=True, exist_ok=True)
    try:
        _keygen(folder / "host_key")
        _keygen(folder / "id")
    except (OSError, subprocess.CalledProcessError) as error:
        pytest.skip(f"ssh-keygen failed: {error}")
    shutil.copy(folder / "id.pub", folder / "authorized_keys")
    port = free_port()
    (folder / "sshd_config").write_text(f"""Port {port}
ListenAddress 127.0.0.1
HostKey {folder}/host_key
PidFile {folder}/sshd.pid
AuthorizedKeysFile {folder}/authorized_keys
StrictModes no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
""")
    (folder / "known_hosts").write_text(f"[127.0.0.1]:{port} {(folder / 'host_key.pub').read_text()}")
    (folder / "ssh_config").write_text(f"""Host {ALIAS}
  HostName 127.0.0.1
  Port {port}
  User root
  IdentityFile {folder}/id
  IdentitiesOnly yes
  UserKnownHostsFile {folder}/known_hosts
  GlobalKnownHostsFile /dev/null
""")
    sshd = Sshd(folder, port)
    try:
        sshd.start()
    except (OSError, RuntimeError) as error:
        sshd.stop()
        pytest.skip(f"cannot start {SSHD}: {error}")
    return sshd
