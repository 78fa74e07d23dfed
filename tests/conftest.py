"""Fixtures: one behavioural suite runs against every transport.

- memory: fakeredis with Lua (in process)
- redis: a real redis-server over the Redis protocol
- upstash: the upstash-redis SDK through the local REST server to a real redis-server
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator

import pytest

from jobqueue import FakeClock, JobQueue, QueueSettings, Registry, StoreConfig
from tests.servers import redis_server

TRANSPORTS = ["memory", "redis", "upstash"]


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    with redis_server() as url:
        yield url


@pytest.fixture(scope="session")
def rest(redis_url: str) -> Iterator[object]:
    from tests.servers import rest_server

    with rest_server(redis_url) as server:
        yield server


@pytest.fixture(params=TRANSPORTS)
def store(request: pytest.FixtureRequest) -> StoreConfig:
    kind = request.param
    if kind == "memory":
        return StoreConfig("memory")
    if kind == "redis":
        return StoreConfig("redis", request.getfixturevalue("redis_url"))
    server = request.getfixturevalue("rest")
    return StoreConfig("upstash", server.url, server.token)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def registry() -> Registry:
    return Registry()


@pytest.fixture
async def make_queue(
    store: StoreConfig, clock: FakeClock, registry: Registry
) -> AsyncIterator[Callable[..., JobQueue]]:
    """Build queues on one fresh namespace (so tests never see each other's keys)."""
    namespace = uuid.uuid4().hex[:12]
    made: list[JobQueue] = []

    def make(**overrides: object) -> JobQueue:
        settings = QueueSettings(namespace=namespace, **overrides)  # type: ignore[arg-type]
        q = JobQueue(store, settings=settings, registry=registry, clock=clock)
        made.append(q)
        return q

    yield make
    for q in made:
        await q.close()


@pytest.fixture
async def q(make_queue: Callable[..., JobQueue]) -> JobQueue:
    return make_queue()
