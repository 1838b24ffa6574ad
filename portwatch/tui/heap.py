"""Keeping Python's full garbage collections out of the refreshes: the live view's worst case at scale.

At 5,000 listeners each scan makes ~30,000 records that live until the next, so they survive into the oldest
generation, and CPython then runs a full collection every few refreshes. Each walks every tracked object
(Textual's widgets, styles and caches, the modules, the rows) and holds the interpreter meanwhile: 90-250 ms
measured here, the whole of the 256 ms tail. Two changes, both undone when the app ends:

1. After the first screen, everything alive (imports, Textual, the first fill) is moved to the permanent
   generation (``gc.freeze``): later full collections do not walk it. Those objects are still freed by
   reference counting; only a cycle among them that becomes garbage later would stay (a one-off, bounded).
2. Automatic full collections are held back (the oldest generation's threshold raised out of reach; the
   young generations collect as before), and the app runs one itself every ``every`` seconds on a timer:
   cyclic garbage waits at most that long, and the cost falls at a time of the app's choosing, between
   refreshes, not in the middle of one. :attr:`worst` records what it cost, for the benchmark.
"""

from __future__ import annotations

import gc
import time

#: Seconds between full collections (cyclic garbage waits at most this long).
FULL_COLLECTION_EVERY = 30.0
_OUT_OF_REACH = 1_000_000


class HeapKeeper:
    def __init__(self, every: float = FULL_COLLECTION_EVERY) -> None:
        self.every = every
        self._saved: tuple[int, int, int] | None = None
        #: Full collections run, and the longest one (seconds).
        self.collections = 0
        self.worst = 0.0

    @property
    def active(self) -> bool:
        return self._saved is not None

    def settle(self) -> None:
        """Freeze what the first screen left alive and hold automatic full collections back."""
        if self._saved is not None or not gc.isenabled():
            return
        gc.freeze()
        self._saved = gc.get_threshold()
        young, middle, _oldest = self._saved
        gc.set_threshold(young, middle, _OUT_OF_REACH)

    def collect(self) -> None:
        """One full collection now (the app's timer calls this between refreshes)."""
        if self._saved is None:
            return
        start = time.perf_counter()
        gc.collect()
        self.worst = max(self.worst, time.perf_counter() - start)
        self.collections += 1

    def restore(self) -> None:
        """Thresholds as they were, the frozen objects back in the oldest generation (tests start many apps)."""
        if self._saved is None:
            return
        gc.set_threshold(*self._saved)
        self._saved = None
        gc.unfreeze()
