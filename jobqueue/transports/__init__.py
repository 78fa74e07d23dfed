"""Transports, and the factory that picks one from the environment."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from .base import Transport

TransportFactory = Callable[[], Transport]


@dataclass(frozen=True)
class StoreConfig:
    """Which store to use. ``kind`` is 'upstash', 'redis' or 'memory'."""

    kind: str
    url: str = ""
    token: str = ""

    def __post_init__(self) -> None:
        if self.kind == "upstash":  # the SDK appends /pipeline etc. to the base URL
            object.__setattr__(self, "url", self.url.rstrip("/"))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> StoreConfig:
        """Upstash (or Vercel KV) REST variables, else REDIS_URL, else in memory."""
        env = os.environ if env is None else env
        for url_var, token_var in (
            ("UPSTASH_REDIS_REST_URL", "UPSTASH_REDIS_REST_TOKEN"),
            ("KV_REST_API_URL", "KV_REST_API_TOKEN"),
        ):
            url, token = env.get(url_var, ""), env.get(token_var, "")
            if url or token:
                if not (url and token):
                    raise ValueError(f"{url_var} and {token_var} must be set together")
                return cls("upstash", url, token)
        if env.get("REDIS_URL"):
            return cls("redis", env["REDIS_URL"])
        return cls("memory")

    @property
    def persistent(self) -> bool:
        return self.kind != "memory"

    def factory(self, timeout: float = 5.0) -> TransportFactory:
        """A callable making a new transport (``timeout`` per request); one per event loop."""
        if self.kind == "upstash":
            from .upstash import UpstashTransport

            return lambda: UpstashTransport(self.url, self.token, timeout)
        if self.kind == "redis":
            from .resp import RedisTransport

            return lambda: RedisTransport.from_url(self.url, timeout)
        if self.kind == "memory":
            from .resp import MemoryTransport, memory_server

            server = memory_server()  # one in-memory store per process, as a real one would be
            return lambda: MemoryTransport(server, timeout)
        raise ValueError(f"unknown store kind {self.kind!r}")


__all__ = ["StoreConfig", "Transport", "TransportFactory"]
