"""A one-line progress bar on stderr, only when stderr is a terminal: nothing otherwise."""

from __future__ import annotations

import sys
import time
from typing import Optional, TextIO

WIDTH = 30
INTERVAL = 0.1  # redraw at most ten times a second


class Progress:
    """``advance(n)`` as probes reach a final state; ``close()`` erases the line."""

    def __init__(self, total: int, stream: Optional[TextIO] = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.total = max(total, 1)
        self.done = 0
        self.enabled = _is_tty(self.stream)
        self._drawn = 0.0

    def advance(self, count: int = 1) -> None:
        self.done = min(self.total, self.done + count)
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._drawn >= INTERVAL or self.done == self.total:
            self._drawn = now
            self.draw()

    def draw(self) -> None:
        filled = WIDTH * self.done // self.total
        bar = "#" * filled + "." * (WIDTH - filled)
        percent = 100 * self.done // self.total
        self.stream.write(f"\r[{bar}] {self.done}/{self.total} probes {percent:3d}%")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r" + " " * (WIDTH + 40) + "\r")
            self.stream.flush()


def _is_tty(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False
