"""Time sources. Scripts take `now` as an argument, so tests can drive a fake clock."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now_ms(self) -> int:
        """Wall-clock time in integer milliseconds (stored in Redis)."""

    def monotonic(self) -> float:
        """Seconds from an arbitrary origin, for budgets."""


class SystemClock:
    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000

    def monotonic(self) -> float:
        return time.monotonic()


class FakeClock:
    """A clock that moves only when told to; both readings advance together."""

    def __init__(self, start_ms: int = 1_700_000_000_000):
        self._ms = start_ms
        self._origin = start_ms

    def now_ms(self) -> int:
        return self._ms

    def monotonic(self) -> float:
        return (self._ms - self._origin) / 1000

    def advance(self, seconds: float) -> None:
        self._ms += round(seconds * 1000)
