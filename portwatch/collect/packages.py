"""Which package installed an owner's executable, and whether the file still matches the package's checksum.

dpkg: its records are read directly (see collect.dpkg): the package that lists the path, and the md5 it
recorded for the file.

rpm (where no dpkg database owns the file): ``rpm -qf`` and ``rpm -V`` (digest column ``5``), cached per path
and file version.

The file checked is the *running* one, read through /proc/PID/exe; a process whose executable was deleted
or replaced is not checked (the exe-deleted flag already says so), and neither is one in another mount
namespace (a container's /usr/bin is not the host's: the host's database does not describe it).

Nothing here runs on every scan of `portwatch list`: lookups are asked for by `who`, `check`, `baseline
save`, the TUI's scan worker and ``list --packages`` (see collect.get_collector).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import subprocess

import dataclasses
import os
import shutil

from portwatch.collect.digests import FileDigests
from portwatch.collect.dpkg import DpkgDatabase
from portwatch.collect.procfs import PROC
from portwatch.model import Owner, PackageFacts


def rpm_verify_digest(output: str, path: str) -> bool | None:
    """From ``rpm -V`` output: False when the line for ``path`` has the digest mark ``5``, True when the file
    is not listed (rpm lists only what differs), None when rpm says it is missing."""
    for line in output.splitlines():
        if line.endswith(" " + path):
            flags = line.split()[0]
            if flags == "missing":
                return None
            return not (len(flags) > 2 and flags[2] == "5")
    return True


class RpmDatabase:
    """``rpm -qf`` / ``rpm -V`` answers, cached per path and file version."""

    def __init__(self) -> None:
        self.tool = shutil.which("rpm")
        self._owners: dict[str, str | None] = {}
        self._verified: dict[tuple[str, int, int], bool | None] = {}

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        import subprocess  # here: only an rpm host runs it, and `portwatch list` starts without it

        assert self.tool is not None
        return subprocess.run([self.tool, *args], capture_output=True, text=True, timeout=20, check=False)

    def owner(self, path: str) -> str | None:
        if self.tool is None:
            return None
        if path not in self._owners:
            done = self._run("-qf", "--queryformat", "%{NAME}\\n", path)
            self._owners[path] = done.stdout.splitlines()[0] if done.returncode == 0 and done.stdout else None
        return self._owners[path]

    def verify(self, package: str, path: str, version: tuple[int, int]) -> bool | None:
        key = (path, *version)
        if key not in self._verified:
            self._verified[key] = rpm_verify_digest(self._run("-V", package).stdout, path)
        return self._verified[key]


class PackageInspector:
    """Adds :class:`PackageFacts` to owners; per scan one stat of each owner's running exe (cache key)."""

    def __init__(
        self,
        dpkg: DpkgDatabase | None = None,
        rpm: RpmDatabase | None = None,
        digests: FileDigests | None = None,
        proc: str = PROC,
        budget: int | None = None,
    ) -> None:
        """``budget``: bytes of executables checksummed per scan at most (the live view: its first scan must
        not wait for every large binary); the rest say "checksum pending" and are checked at later scans.
        None: everything at once (`who`, `check`: a complete answer)."""
        self.budget = budget
        self._spent = 0
        self.dpkg = dpkg or DpkgDatabase()
        self.rpm = rpm if rpm is not None else RpmDatabase()
        self.digests = digests or FileDigests(proc=proc)
        self._proc = proc
        self._my_mnt = self._mount_ns("self")
        self._facts: dict[tuple[str, int, int, int, int], PackageFacts] = {}
        self._foreign: dict[tuple[int, float | None], bool] = {}

    def _mount_ns(self, pid: int | str) -> str | None:
        try:
            return os.readlink(f"{self._proc}/{pid}/ns/mnt")
        except OSError:
            return None

    def attach(self, owner: Owner) -> Owner:
        found = self.facts(owner)
        return owner if found is None or found == owner.package else dataclasses.replace(owner, package=found)

    def facts(self, owner: Owner) -> PackageFacts | None:
        path = owner.exe_facts.path or owner.exe
        if not path:
            return None
        key = (owner.pid, owner.create_time)
        if key not in self._foreign:
            theirs = self._mount_ns(owner.pid)
            self._foreign[key] = theirs is not None and self._my_mnt is not None and theirs != self._my_mnt
        if self._foreign[key]:
            return PackageFacts(
                None,
                note="runs in another mount namespace (a container): the host's package "
                "database does not describe its files",
            )
        try:
            info = os.stat(f"{self._proc}/{owner.pid}/exe")
        except OSError:
            return None
        version = (path, info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)
        if version not in self._facts:
            if self.budget is not None and self._spent and self._spent + info.st_size > self.budget:
                return self._pending(path)
            self._spent += info.st_size
            if len(self._facts) > 1024:
                self._facts.clear()
            self._facts[version] = self._look_up(owner, path, (info.st_ino, info.st_mtime_ns))
        found = self._facts[version]
        if owner.exe_facts.deleted and found.name is not None:
            return dataclasses.replace(
                found, verified=None, note="not checked: the file was deleted or replaced after the process started"
            )
        return found

    def _pending(self, path: str) -> PackageFacts:
        """Over this scan's budget: the package is named (the index is cheap), its checksum comes later."""
        package = self.dpkg.owner(path) if self.dpkg.present() else None
        if package is None:
            return PackageFacts("dpkg" if self.dpkg.present() else None, None, None, "checksum pending")
        return PackageFacts("dpkg", package.partition(":")[0], None, "checksum pending: checked at a later refresh")

    def _look_up(self, owner: Owner, path: str, version: tuple[int, int]) -> PackageFacts:
        if self.dpkg.present():
            package = self.dpkg.owner(path)
            if package is not None:
                return self._check_dpkg(owner.pid, package, path)
        if self.rpm.tool is not None:
            package = self.rpm.owner(path)
            if package is not None:
                verified = self.rpm.verify(package, path, version)
                return PackageFacts(
                    "rpm",
                    package,
                    verified,
                    "rpm -V: its digest differs from the package's" if verified is False else None,
                )
            return PackageFacts("rpm", None, note="no installed package owns this file")
        if self.dpkg.present():
            return PackageFacts("dpkg", None, note="no installed package owns this file")
        return PackageFacts(None, note="no dpkg or rpm database on this machine")

    def _check_dpkg(self, pid: int, package: str, path: str) -> PackageFacts:
        name = package.partition(":")[0]
        recorded = self.dpkg.recorded_md5(package, path)
        if recorded is None:
            return PackageFacts("dpkg", name, None, f"not checked: {package}.md5sums records no checksum for it")
        actual, why = self.digests.digest(pid, "md5")
        if actual is None:
            return PackageFacts("dpkg", name, None, f"not checked: {why}")
        if actual != recorded:
            return PackageFacts(
                "dpkg", name, False, f"md5 {actual} differs from the {recorded} that {package} recorded at install"
            )
        return PackageFacts("dpkg", name, True)

    def forget_except(self, pids: set[int]) -> None:
        """End of a scan: drop what belongs to processes gone, and start the next scan's budget."""
        self._spent = 0
        for key in [key for key in self._foreign if key[0] not in pids]:
            del self._foreign[key]
