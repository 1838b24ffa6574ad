"""Run portwatch with netlink sockets refused by the kernel: a seccomp filter (libseccomp through ctypes)
makes socket(AF_NETLINK, ...) fail with EACCES, as a hardened sandbox would.

Usage: python tests/system/no_netlink.py ARGS...  (exit 97 when the filter cannot be installed here)
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import runpy
import socket
import sys

SCMP_ACT_ALLOW = 0x7FFF0000
SCMP_ACT_ERRNO = 0x00050000
SCMP_CMP_EQ = 4


class ArgCompare(ctypes.Structure):
    """struct scmp_arg_cmp."""

    _fields_ = [
        ("arg", ctypes.c_uint),
        ("op", ctypes.c_int),
        ("datum_a", ctypes.c_uint64),
        ("datum_b", ctypes.c_uint64),
    ]


def refuse_netlink() -> None:
    name = ctypes.util.find_library("seccomp")
    if name is None:
        print("libseccomp is not installed", file=sys.stderr)
        sys.exit(97)
    lib = ctypes.CDLL(name)
    lib.seccomp_init.restype = ctypes.c_void_p
    context = ctypes.c_void_p(lib.seccomp_init(ctypes.c_uint32(SCMP_ACT_ALLOW)))
    number = lib.seccomp_syscall_resolve_name(b"socket")
    rule = ArgCompare(0, SCMP_CMP_EQ, socket.AF_NETLINK, 0)
    action = ctypes.c_uint32(SCMP_ACT_ERRNO | errno.EACCES)
    if lib.seccomp_rule_add_array(context, action, number, 1, ctypes.byref(rule)) or lib.seccomp_load(context):
        print("cannot install the seccomp filter", file=sys.stderr)
        sys.exit(97)


if __name__ == "__main__":
    refuse_netlink()
    sys.argv = ["portwatch", *sys.argv[1:]]
    runpy.run_module("portwatch", run_name="__main__", alter_sys=True)
