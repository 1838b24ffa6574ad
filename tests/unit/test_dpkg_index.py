"""The dpkg index keeps only paths an executable can have, and still answers for every path dpkg lists."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from portwatch.collect.dpkg import DPKG_INFO, DpkgDatabase, can_be_run

LISTED = {
    "/usr/sbin/pwtestd": True,
    "/usr/lib/pwtest/pwtest-helper": True,
    "/usr/lib/x86_64-linux-gnu/libpwtest.so.1": True,
    "/usr/share/code/code": True,  # Electron apps install their binary under /usr/share
    "/usr/share/doc/pwtest/copyright": False,
    "/usr/share/man/man8/pwtestd.8.gz": False,
    "/usr/include/pwtest.h": False,
    "/usr/lib/python3/dist-packages/pwtest/__init__.py": False,
    "/usr/bin/odd.py": False,  # left out of the index, yet found
}


def test_which_paths_the_index_keeps() -> None:
    assert {path: can_be_run(path) for path in LISTED} == LISTED
    assert can_be_run("/opt/app-1.2/bin/app")  # a dot in a folder is no suffix


def test_every_listed_path_is_found_and_only_odd_ones_cost_a_search(tmp_path: Path) -> None:
    (tmp_path / "other.list").write_text("/.\n/usr\n/usr/bin/other\n")
    (tmp_path / "pwtest:amd64.list").write_text("/.\n" + "\n".join(LISTED) + "\n")
    dpkg = DpkgDatabase(tmp_path)
    for path in LISTED:
        assert dpkg.owner(path) == "pwtest:amd64", path
    assert dpkg.owner("/sbin/pwtestd") == "pwtest:amd64"  # the merged-/usr spelling
    assert dpkg.owner("/usr/bin/unlisted.py") is None
    assert dpkg.owner("/usr/bin/unlisted") is None
    assert dpkg.builds == 1
    assert set(dpkg._index) == {"/.", "/usr", "/usr/bin/other", *(path for path, keep in LISTED.items() if keep)}
    searched = dpkg.searches
    assert searched == sum(not keep for keep in LISTED.values()) + 1
    for path in LISTED:  # asked again: answered from memory
        dpkg.owner(path)
    assert dpkg.searches == searched


def test_an_install_is_seen_by_the_index_and_the_searches(tmp_path: Path) -> None:
    """A package installed after a lookup said "none" (the folder's mtime moves) is found, both ways."""
    (tmp_path / "base.list").write_text("/.\n/sbin/rpcbind\n")  # dpkg recorded the short spelling
    dpkg = DpkgDatabase(tmp_path)
    assert dpkg.owner("/usr/sbin/rpcbind") == "base"
    assert dpkg.owner("/usr/bin/tool") is None and dpkg.owner("/usr/bin/tool.py") is None
    (tmp_path / "late.list").write_text("/usr/bin/tool\n/usr/bin/tool.py\n")
    later = tmp_path.stat().st_mtime_ns + 10**9
    os.utime(tmp_path, ns=(later, later))
    assert (dpkg.owner("/usr/bin/tool"), dpkg.owner("/usr/bin/tool.py")) == ("late", "late")
    assert dpkg.builds == 2


def test_the_real_database_names_a_real_binary() -> None:
    tool = shutil.which("dpkg")
    if tool is None or not DPKG_INFO.is_dir():
        pytest.skip("no dpkg database on this machine (/var/lib/dpkg/info)")
    dpkg = DpkgDatabase()
    assert dpkg.owner(str(Path(tool).resolve())) == "dpkg"
    assert dpkg.owner("/usr/share/doc/dpkg/copyright") == "dpkg"  # left out of the index, found by a search
    assert dpkg.searches == 1
