"""Upstash REST (and Vercel KV) through the `upstash-redis` async client.

The SDK has no request timeout and retries every failure, writes included; we turn
its retries off (``rest_retries=0``) and let `Transport.run` apply the timeout and
retry only scripts that are safe to repeat. One client per event loop (the factory sees to it).
"""

from __future__ import annotations

from typing import Any

from upstash_redis.asyncio import Redis

from .base import Transport


class UpstashTransport(Transport):
    name = "upstash"

    def __init__(self, url: str, token: str, timeout: float = 5.0):
        super().__init__(timeout)
        self.client = Redis(url=url, token=token, rest_retries=0, allow_telemetry=False)

    async def _evalsha(self, sha: str, keys: list[str], args: list[str]) -> Any:
        return await self.client.evalsha(sha, keys=keys, args=args)

    async def _eval(self, source: str, keys: list[str], args: list[str]) -> Any:
        return await self.client.eval(source, keys=keys, args=args)

    async def _ping(self) -> None:
        await self.client.ping()

    async def close(self) -> None:
        await self.client.close()
