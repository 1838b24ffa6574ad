"""Run a function inside other network namespaces, on a short-lived thread that nobody else uses.

setns(CLONE_NEWNET) moves only the calling thread, and a socket stays in the namespace it was created in: so
a thread enters a namespace, opens a netlink socket (or asks an interface name), returns to where it was and
ends, and the caller keeps the socket. The thread that runs anything else never changes namespace.
``os.setns`` exists from Python 3.12; before, libc's setns is called through ctypes.
"""

from __future__ import annotations

import ctypes
import os
import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

CLONE_NEWNET = 0x40000000
#: This thread's own namespace; /proc/self/ns/net would be the main thread's.
_THREAD_NETNS = "/proc/thread-self/ns/net"

T = TypeVar("T")

_libc: ctypes.CDLL | None = None


def _setns(fd: int) -> None:
    native = getattr(os, "setns", None)
    if native is not None:
        native(fd, CLONE_NEWNET)
        return
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"setns: {os.strerror(code)}")


def in_namespaces(paths: Sequence[str], work: Callable[[str], T]) -> list[T | OSError]:
    """``work(path)`` run inside the network namespace each path opens (/run/netns/NAME, /proc/PID/ns/net),
    in order, on one new thread; an OSError (gone, refused) is returned in that path's place.

    If the thread cannot get back to its own namespace it stops there: it ends anyway, and no other thread
    was ever moved.
    """
    results: list[T | OSError] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            home = os.open(_THREAD_NETNS, os.O_RDONLY | os.O_CLOEXEC)
        except OSError as error:
            results.extend(error for _ in paths)
            return
        try:
            for path in paths:
                try:
                    target = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
                except OSError as error:
                    results.append(error)
                    continue
                try:
                    _setns(target)
                except OSError as error:
                    results.append(error)
                    continue
                finally:
                    os.close(target)
                try:
                    results.append(work(path))
                except OSError as error:
                    results.append(error)
                _setns(home)  # raises if it cannot: the thread stops here, in no one else's way
        except OSError as error:  # could not return home: the rest are not reached
            results.extend(error for _ in paths[len(results) :])
        except BaseException as error:  # handed to the caller's thread below
            failure.append(error)
        finally:
            os.close(home)

    thread = threading.Thread(target=run, name="portwatch-netns", daemon=True)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    results.extend(OSError(f"not reached: {path}") for path in paths[len(results) :])
    return results
