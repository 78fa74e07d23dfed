"""Redis protocol (redis.asyncio): self-hosted Redis or Valkey, and fakeredis in memory."""

from __future__ import annotations

import threading
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import NoScriptError

from .base import Transport


class RedisTransport(Transport):
    name = "redis"

    def __init__(self, client: aioredis.Redis, timeout: float = 5.0):
        super().__init__(timeout)
        self.client = client

    @classmethod
    def from_url(cls, url: str, timeout: float = 5.0) -> RedisTransport:
        client = aioredis.Redis.from_url(
            url,
            decode_responses=True,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 0),  # our layer decides what is retried
        )
        return cls(client, timeout)

    async def _evalsha(self, sha: str, keys: list[str], args: list[str]) -> Any:
        return await self.client.evalsha(sha, len(keys), *keys, *args)

    async def _eval(self, source: str, keys: list[str], args: list[str]) -> Any:
        return await self.client.eval(source, len(keys), *keys, *args)

    def _is_noscript(self, exc: Exception) -> bool:
        return isinstance(exc, NoScriptError)

    async def _ping(self) -> None:
        await self.client.ping()

    async def close(self) -> None:
        await self.client.aclose()


_MEMORY_SERVER: Any = None
_MEMORY_LOCK = threading.Lock()


def memory_server() -> Any:
    """The process's one fakeredis server, shared by every client and event loop."""
    global _MEMORY_SERVER
    with _MEMORY_LOCK:
        if _MEMORY_SERVER is None:
            from fakeredis import FakeServer

            _MEMORY_SERVER = FakeServer()
        return _MEMORY_SERVER


class MemoryTransport(RedisTransport):
    """fakeredis with Lua: zero set-up, nothing persisted, one process only."""

    name = "memory"

    def __init__(self, server: Any, timeout: float = 5.0):
        from fakeredis import FakeAsyncRedis

        super().__init__(FakeAsyncRedis(server=server, decode_responses=True), timeout)
