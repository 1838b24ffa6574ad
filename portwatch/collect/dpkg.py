"""dpkg's own records, read directly: which package installed a path, and the md5 it recorded for it.

``/var/lib/dpkg/info/PKG.list`` names every file of a package (Multi-Arch ones: ``PKG:ARCH.list``); the
path -> package index is built from them the first time a lookup is asked and rebuilt only when that
directory changes (an install or removal). ``PKG.md5sums`` holds each file's md5 (relative path, two spaces).
On a merged-/usr system dpkg may record ``/sbin/rpcbind`` for what runs as ``/usr/sbin/rpcbind``: both
spellings are tried.

The index holds only paths an executable can have. The path asked about is always ``/proc/PID/exe``'s: the
file execve loaded, an ELF binary (a ``#!`` script's exe is its interpreter, never the script). So
documentation, headers, sources, scripts and data are left out: on the test machine 23,000 of 129,000
lines are kept, and the index takes 3.4 MiB instead of 11 MiB. A path that still names one of them (an odd
binary called ``x.py``) is answered by reading the lists for that one path, once.
"""

from __future__ import annotations

import os
from pathlib import Path

DPKG_INFO = Path("/var/lib/dpkg/info")
#: Folders no executable lives under.
_NOT_PROGRAMS = (
    "/usr/include/",
    *(f"/usr/share/{name}/" for name in ("doc", "man", "locale", "help", "icons", "zoneinfo", "terminfo", "info")),
)
#: Suffixes of files the kernel does not run directly: sources, scripts, archives, images, text, data.
_NOT_RUN = frozenset(
    (
        *("py", "pyc", "pyi", "pm", "pl", "pod", "rb", "js", "mjs", "cjs", "ts", "lua", "awk", "sed", "m4"),
        *("sh", "bash", "zsh", "fish", "h", "hh", "hpp", "hxx", "inc", "a", "la", "o", "pc", "map", "typed"),
        *("png", "svg", "svgz", "xpm", "ico", "gif", "jpg", "ttf", "otf", "pfb", "gz", "bz2", "xz", "zst"),
        *("txt", "html", "htm", "md", "rst", "mo", "po", "el", "elc", "vim", "tcl", "page", "desktop"),
        *("xml", "xsl", "css", "json", "yaml", "yml", "ini", "cfg", "toml", "conf", "cmake", "mk", "csv"),
        *("pem", "crt", "tmpl", "tpl", "service", "socket", "timer", "rules", "sql", "properties"),
    )
)


def path_spellings(path: str) -> tuple[str, ...]:
    """The path and its other spelling across the merged-/usr symlinks (/bin, /sbin, /lib*)."""
    for short in ("/bin/", "/sbin/", "/lib/", "/lib64/", "/lib32/", "/libx32/"):
        if path.startswith("/usr" + short):
            return path, path[len("/usr") :]
        if path.startswith(short):
            return path, "/usr" + path
    return (path,)


def can_be_run(path: str) -> bool:
    """False for a path under a documentation or header folder, or with a source, script or data suffix."""
    if path.startswith(_NOT_PROGRAMS):
        return False
    dot = path.rfind(".")
    return dot < path.rfind("/") or path[dot + 1 :] not in _NOT_RUN


def parse_md5sums(text: str) -> dict[str, str]:
    """``/usr/sbin/nginx`` -> md5 from a dpkg ``.md5sums`` file (``<md5>  <relative path>`` a line)."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        digest, _, relative = line.partition("  ")
        if len(digest) == 32 and relative:
            found["/" + relative.lstrip("/")] = digest
    return found


class DpkgDatabase:
    """The path -> package index and the md5sums of /var/lib/dpkg/info, read lazily and cached."""

    def __init__(self, info_dir: Path = DPKG_INFO) -> None:
        self.info_dir = info_dir
        self._stamp: int | None = None
        self._index: dict[str, str] = {}
        self._searched: dict[str, str | None] = {}  # paths left out of the index, looked up one by one
        self._sums: dict[str, tuple[int, dict[str, str]]] = {}
        #: Times the index was built, and the lists read for one path left out of it; tests read them.
        self.builds = 0
        self.searches = 0

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
            self._stamp, self._sums, self._searched = stamp, {}, {}
            self.builds += 1
        spellings = path_spellings(path)
        index = self._index
        found = next((index[p] for p in spellings if p in index), None)
        if found is None and not all(can_be_run(p) for p in spellings):
            searched = self._searched  # this index's answers, even if another thread starts the next
            if path not in searched:
                searched[path] = self._search(spellings)
            found = searched[path]
        return found

    def _lists(self) -> list[str]:
        try:
            return sorted(name for name in os.listdir(self.info_dir) if name.endswith(".list"))
        except OSError:
            return []

    def _read(self, name: str) -> list[str]:
        try:
            with open(self.info_dir / name, "rb") as file:
                return file.read().decode("utf-8", "surrogateescape").splitlines()
        except OSError:
            return []

    def _build(self) -> dict[str, str]:
        index: dict[str, str] = {}
        for name in self._lists():
            package = name[: -len(".list")]
            for line in self._read(name):
                if can_be_run(line):
                    index.setdefault(line, package)  # listed twice (a diversion): the first, as _search finds
        return index

    def _search(self, spellings: tuple[str, ...]) -> str | None:
        self.searches += 1
        for name in self._lists():
            if any(line in spellings for line in self._read(name)):
                return name[: -len(".list")]
        return None

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
