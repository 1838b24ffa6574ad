"""Which package installed an owner's executable, and whether the file still matches the package's checksum.

dpkg: the database is read directly. ``/var/lib/dpkg/info/PKG.list`` names every file of a package; the
path -> package index is built from them the first time a lookup is asked (~60 ms for 800 packages here)
and rebuilt only when that directory changes (an install or removal). ``PKG.md5sums`` holds each file's
md5 (relative path, two spaces); Multi-Arch packages use ``PKG:ARCH.list`` and ``PKG:ARCH.md5sums``.
On a merged-/usr system dpkg may record ``/sbin/rpcbind`` for what runs as ``/usr/sbin/rpcbind``: both
spellings are tried.

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
from pathlib import Path

from portwatch.collect.digests import FileDigests
from portwatch.collect.procfs import PROC
from portwatch.model import Owner, PackageFacts

DPKG_INFO = Path("/var/lib/dpkg/info")
#: Paths no executable lives under: left out of the index (two thirds of its lines).
_NOT_PROGRAMS = ("/usr/share/doc/", "/usr/share/man/", "/usr/share/locale/", "/usr/share/help/")


def path_spellings(path: str) -> tuple[str, ...]:
    """The path and its other spelling across the merged-/usr symlinks (/bin, /sbin, /lib*)."""
    for short in ("/bin/", "/sbin/", "/lib/", "/lib64/", "/lib32/", "/libx32/"):
        if path.startswith("/usr" + short):
            return path, path[len("/usr") :]
        if path.startswith(short):
            return path, "/usr" + path
    return (path,)


def parse_md5sums(text: str) -> dict[str, str]:
    """``/usr/sbin/nginx`` -> md5 from a dpkg ``.md5sums`` file (``<md5>  <relative path>`` a line)."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        digest, _, relative = line.partition("  ")
        if len(digest) == 32 and relative:
            found["/" + relative.lstrip("/")] = digest
    return found


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


class DpkgDatabase:
    """The path -> package index and the md5sums of /var/lib/dpkg/info, read lazily and cached."""

    def __init__(self, info_dir: Path = DPKG_INFO) -> None:
        self.info_dir = info_dir
        self._stamp: int | None = None
        self._index: dict[str, str] = {}
        self._sums: dict[str, tuple[int, dict[str, str]]] = {}
        #: Times the index was built; tests read it.
        self.builds = 0

    def present(self) -> bool:
        return self.info_dir.is_dir()

    def owner(self, path: str) -> str | None:
        """The package (its info-file stem, e.g. ``libc6:amd64``) that lists ``path``; None when none does."""
        try:
            stamp = self.info_dir.stat().st_mtime_ns
        except OSError:
            return None
        if stamp != self._stamp:
            self._index = self._build()
            self._stamp, self._sums = stamp, {}
            self.builds += 1
        return next((self._index[p] for p in path_spellings(path) if p in self._index), None)

    def _build(self) -> dict[str, str]:
        index: dict[str, str] = {}
        try:
            names = os.listdir(self.info_dir)
        except OSError:
            return index
        for name in names:
            if not name.endswith(".list"):
                continue
            package = name[: -len(".list")]
            try:
                with open(self.info_dir / name, "rb") as file:
                    lines = file.read().decode("utf-8", "surrogateescape").splitlines()
            except OSError:
                continue
            for line in lines:
                if not line.startswith(_NOT_PROGRAMS):
                    index[line] = package
        return index

    def recorded_md5(self, package: str, path: str) -> str | None:
        sums_file = self.info_dir / f"{package}.md5sums"
        try:
            stamp = sums_file.stat().st_mtime_ns
        except OSError:
            return None
        cached = self._sums.get(package)
        if cached is None or cached[0] != stamp:
            try:
                text = sums_file.read_text(encoding="utf-8", errors="surrogateescape")
            except OSError:
                return None
            cached = (stamp, parse_md5sums(text))
            self._sums[package] = cached
        return next((cached[1][p] for p in path_spellings(path) if p in cached[1]), None)


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
