"""Entering a named network namespace with the C library's setns(2), standard library only.

``os.setns`` exists from Python 3.12; the collectors must run on 3.9. Never creates a namespace.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
from typing import Any, Callable, Tuple, Type

CLONE_NEWNET = 0x40000000
NETNS_RUN_DIR = "/run/netns"


def enter(name: str) -> None:
    """Move the calling thread (the whole process when single-threaded) into netns ``name``."""
    if not name or "/" in name or name in (".", ".."):
        raise OSError(f"invalid network namespace name {name!r}")
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    fd = os.open(netns_path(name), os.O_RDONLY | os.O_CLOEXEC)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns into {name}: {os.strerror(err)}")
    finally:
        os.close(fd)


def netns_path(name: str) -> str:
    return os.path.join(NETNS_RUN_DIR, name)


def netns_exists(name: str) -> bool:
    """Whether ``name`` is a plain name of an existing namespace under /run/netns."""
    valid = bool(name) and "/" not in name and name not in (".", "..")
    return valid and os.path.exists(netns_path(name))


class ChildError(Exception):
    """What the work raised inside the namespace, as one line. ``expected``: it was one of the
    caller's ``expected`` exception types (bad input, to be reported as the caller's own)."""

    def __init__(self, message: str, expected: bool) -> None:
        super().__init__(message)
        self.expected = expected


def run_in_netns(
    name: str,
    work: Callable[[], Any],
    limit: int,
    expected: Tuple[Type[BaseException], ...] = (),
    silence: str = "the child exited without output",
) -> Any:
    """``work()`` in a forked child that entered netns ``name``; its JSON-able result comes back
    through a pipe (at most ``limit`` bytes). This process never leaves its own namespace, and
    the child's exceptions never unwind into the caller's code: they come back as ChildError."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: never returns into the caller's code
        os.close(read_fd)
        code = 0
        try:
            enter(name)
            payload = json.dumps({"ok": work()}).encode()
        except expected as exc:
            payload = json.dumps({"error": str(exc), "expected": True}).encode()
            code = 1
        except BaseException as exc:  # report anything to the parent, never unwind into it
            payload = json.dumps({"error": f"{type(exc).__name__}: {exc}"}).encode()
            code = 1
        with os.fdopen(write_fd, "wb") as out:
            out.write(payload)
        os._exit(code)
    os.close(write_fd)
    try:
        with os.fdopen(read_fd, "rb") as inp:
            data = inp.read(limit)
    finally:
        os.waitpid(pid, 0)
    result = json.loads(data or json.dumps({"error": silence}).encode())
    if "error" in result:
        raise ChildError(result["error"], bool(result.get("expected")))
    return result["ok"]
