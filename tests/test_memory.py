"""Redis memory under a steady load: the keys of a namespace level off."""

from __future__ import annotations

import uuid

import redis.asyncio as aioredis

from jobqueue import JobQueue, QueueSettings, Registry, StoreConfig


async def test_redis_memory_stays_bounded_under_a_steady_load(redis_url: str):
    """Key count levels off: finished records are trimmed, nothing else accumulates."""
    settings = QueueSettings(namespace=uuid.uuid4().hex[:12], keep_succeeded=20, dead_cap=5)
    reg = Registry()

    @reg.handler("work", max_attempts=1)
    async def work(payload, ctx):
        if payload["n"] % 4 == 0:
            raise RuntimeError("every fourth job fails for good")

    q = JobQueue(StoreConfig("redis", redis_url), settings=settings, registry=reg)
    raw = aioredis.Redis.from_url(redis_url)
    sizes = []
    for _ in range(4):
        await q.enqueue_many([{"type": "work", "payload": {"n": n}} for n in range(100)])
        while (await q.drain(limit=1000)).claimed:
            pass
        sizes.append(len([k async for k in raw.scan_iter(match=f"{q.keys.prefix}*")]))
    await raw.aclose()
    await q.close()
    # 20 succeeded + 5 dead records, the done index, the dead list and its per-queue
    # count, the queue set and the queue's counters: the same after 100 jobs or 400
    assert sizes == [sizes[0]] * 4 and sizes[0] <= 32
