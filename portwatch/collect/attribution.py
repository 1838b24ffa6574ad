"""Naming the occupant of each socket beyond its pid, for the collectors' :func:`build_scan`: the unit,
container and pod of every owner (cheap: one /proc/PID/cgroup read per new process), its executable's package
when asked for (``packages``), and a reason for each socket nobody could be seen holding."""

from __future__ import annotations

from typing import TYPE_CHECKING

from portwatch.collect.cgroups import Occupants
from portwatch.model import Owner

if TYPE_CHECKING:  # imported when first needed: `portwatch list` starts without them (~12 ms of imports)
    from portwatch.collect.packages import PackageInspector
    from portwatch.collect.unowned import UnownedExplainer


class Attribution:
    """Per-collector caches; like the collector, one scan at a time."""

    def __init__(
        self,
        packages: bool = False,
        package_budget: int | None = None,
        occupants: Occupants | None = None,
        package_inspector: PackageInspector | None = None,
        explainer: UnownedExplainer | None = None,
    ) -> None:
        self.occupants = occupants or Occupants()
        self._package_budget = package_budget
        self._explainer = explainer
        self._package_inspector = package_inspector
        #: Whether owners get their package (dpkg/rpm lookups and a checksum of each new executable).
        self.packages = packages or package_inspector is not None
        #: pid -> (the resolver's owner, that owner with unit/container/pod): the resolver hands back the same
        #: object while the process lives, so a steady scan adds nothing but a dict lookup per owner.
        self._occupied: dict[int, tuple[Owner, Owner]] = {}

    @property
    def package_inspector(self) -> PackageInspector:
        if self._package_inspector is None:
            from portwatch.collect.packages import PackageInspector

            self._package_inspector = PackageInspector(budget=self._package_budget)
        return self._package_inspector

    @property
    def explainer(self) -> UnownedExplainer:
        if self._explainer is None:
            from portwatch.collect.unowned import UnownedExplainer

            self._explainer = UnownedExplainer()
        return self._explainer

    def occupy(self, owner: Owner) -> Owner:
        """``owner`` with its unit, container and pod (before its executable's facts are attached)."""
        known = self._occupied.get(owner.pid)
        if known is not None and known[0] is owner:
            return known[1]
        occupied = self.occupants.attach(owner)
        self._occupied[owner.pid] = (owner, occupied)
        return occupied

    def package(self, owner: Owner) -> Owner:
        """``owner`` with its package facts when packages were asked for (needs ``exe_facts`` attached)."""
        return self.package_inspector.attach(owner) if self.packages else owner

    def unowned(self, proto: str, address: str, port: int) -> str | None:
        return self.explainer.explain(proto, address, port)

    def forget_except(self, pids: set[int]) -> None:
        for pid in self._occupied.keys() - pids:
            del self._occupied[pid]
        self.occupants.forget_except(pids)
        if self._package_inspector is not None:
            self._package_inspector.forget_except(pids)
