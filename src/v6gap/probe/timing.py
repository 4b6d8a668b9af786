"""Adaptive timeout from measured round trips, and a global rate cap."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import Deque, Optional

INITIAL_TIMEOUT = 1.0  # before any answer: conservative
MIN_TIMEOUT = 0.1  # floor: event-loop latency under load, and a little jitter
MAX_TIMEOUT = 3.0
RTT_MULTIPLIER = 4.0
WINDOW = 64  # the most recent answers decide


class RttEstimator:
    """Timeout = clamp(4 x p90 of recent answered RTTs); ``initial`` until the first answer."""

    def __init__(
        self,
        initial: float = INITIAL_TIMEOUT,
        floor: float = MIN_TIMEOUT,
        ceiling: float = MAX_TIMEOUT,
    ) -> None:
        self.initial = initial
        self.floor = floor
        self.ceiling = ceiling
        self._samples: Deque[float] = deque(maxlen=WINDOW)
        self._timeout = initial

    def add(self, rtt: float) -> None:
        self._samples.append(rtt)
        ordered = sorted(self._samples)
        p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
        self._timeout = min(self.ceiling, max(self.floor, RTT_MULTIPLIER * p90))

    @property
    def samples(self) -> int:
        return len(self._samples)

    @property
    def timeout(self) -> float:
        return self._timeout


class RateLimiter:
    """At most ``rate`` probe starts per second across all workers (``None``: no cap)."""

    def __init__(self, rate: Optional[float]) -> None:
        self.interval = 1.0 / rate if rate else 0.0
        self._next = 0.0

    async def wait(self) -> None:
        if not self.interval:
            return
        now = time.monotonic()
        start = max(now, self._next)
        self._next = start + self.interval
        if start > now:
            await asyncio.sleep(start - now)
