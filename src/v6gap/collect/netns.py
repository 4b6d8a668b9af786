"""Entering a named network namespace with the C library's setns(2), standard library only.

``os.setns`` exists from Python 3.12; the collectors must run on 3.9. Never creates a namespace.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

CLONE_NEWNET = 0x40000000
NETNS_RUN_DIR = "/run/netns"


def enter(name: str) -> None:
    """Move the calling thread (the whole process when single-threaded) into netns ``name``."""
    if not name or "/" in name or name in (".", ".."):
        raise OSError(f"invalid network namespace name {name!r}")
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    fd = os.open(os.path.join(NETNS_RUN_DIR, name), os.O_RDONLY | os.O_CLOEXEC)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns into {name}: {os.strerror(err)}")
    finally:
        os.close(fd)
