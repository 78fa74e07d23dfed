"""The one small protocol every store speaks: run a script, ping, close.

This layer owns the timeout on every request and decides what may be retried: only
scripts marked `retry` (safe to repeat) are sent a second time after a failure.
Every transport fault surfaces as `QueueUnavailable` with the cause chained.
"""

from __future__ import annotations

import asyncio
import json
from abc import ABC, abstractmethod
from typing import Any

from ..errors import QueueUnavailable
from ..scripts import Script


class Transport(ABC):
    """One connection (pool) bound to one event loop."""

    name = "transport"

    def __init__(self, timeout: float = 5.0, retry_delay: float = 0.05):
        self.timeout = timeout
        self.retry_delay = retry_delay

    async def run(self, script: Script, keys: list[str], args: list[Any]) -> Any:
        """Run ``script`` and return its JSON result decoded."""
        tries = 2 if script.retry else 1
        for attempt in range(1, tries + 1):
            try:
                async with asyncio.timeout(self.timeout):
                    raw = await self._run_once(script, keys, [str(a) for a in args])
                return json.loads(raw)
            except Exception as exc:  # every transport's own errors end here
                if attempt == tries:
                    raise self._unavailable(f"script {script.name}", exc) from exc
                await asyncio.sleep(self.retry_delay)
        raise AssertionError("unreachable")

    async def ping(self) -> None:
        try:
            async with asyncio.timeout(self.timeout):
                await self._ping()
        except Exception as exc:
            raise self._unavailable("ping", exc) from exc

    async def _run_once(self, script: Script, keys: list[str], args: list[str]) -> Any:
        try:
            return await self._evalsha(script.sha, keys, args)
        except Exception as exc:
            if not self._is_noscript(exc):
                raise
        return await self._eval(script.source, keys, args)

    def _is_noscript(self, exc: Exception) -> bool:
        return "NOSCRIPT" in str(exc)

    def _unavailable(self, what: str, exc: BaseException) -> QueueUnavailable:
        reason = "timed out" if isinstance(exc, TimeoutError) else f"{type(exc).__name__}: {exc}"
        return QueueUnavailable(f"{self.name} store: {what} failed: {reason}")

    @abstractmethod
    async def _evalsha(self, sha: str, keys: list[str], args: list[str]) -> Any: ...

    @abstractmethod
    async def _eval(self, source: str, keys: list[str], args: list[str]) -> Any: ...

    @abstractmethod
    async def _ping(self) -> None: ...

    @abstractmethod
    async def close(self) -> None: ...
