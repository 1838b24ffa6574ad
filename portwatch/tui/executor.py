"""An executor for thread workers that can never keep portwatch from quitting.

Textual runs thread workers in the event loop's default executor, and ``asyncio.run`` waits for that
executor's threads on the way out. A read of /proc can block for as long as the kernel likes (a process
stuck in D state, a cwd on a hung NFS mount), and then `q` would restore the terminal but leave portwatch
hanging. Here each call runs in a daemon thread and shutdown waits for nothing: a stuck read is abandoned.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


class DaemonExecutor(ThreadPoolExecutor):
    """Runs every submitted call in its own daemon thread; ``shutdown`` returns at once.

    A ThreadPoolExecutor only by type (asyncio's set_default_executor insists on one); its pool is unused.
    """

    def __init__(self, name: str = "portwatch-worker") -> None:
        super().__init__(max_workers=1, thread_name_prefix=name)
        self._name = name

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        future: Future[T] = Future()

        def run() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                future.set_result(fn(*args, **kwargs))
            except BaseException as error:  # handed to whoever awaits the future
                future.set_exception(error)

        threading.Thread(target=run, name=self._name, daemon=True).start()
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Nothing to wait for: a worker still running is abandoned with the process."""
