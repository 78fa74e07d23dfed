"""A drain whose process is killed (SIGKILL) mid-batch loses nothing."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import uuid

from jobqueue import JobQueue, JobStatus, QueueSettings, Registry, StoreConfig

WORKER = textwrap.dedent(
    """
    import asyncio, sys
    from jobqueue import JobQueue, QueueSettings, Registry, StoreConfig

    reg = Registry()

    @reg.handler("hang", timeout=1.0)
    async def hang(payload, ctx):
        print("started", ctx.job_id, flush=True)
        await asyncio.sleep(3600)

    settings = QueueSettings(namespace=sys.argv[2], lease_margin=0.2)
    q = JobQueue(StoreConfig("redis", sys.argv[1]), settings=settings, registry=reg)
    asyncio.run(q.drain(limit=10, budget=30))
    """
)


async def test_killed_process_loses_nothing(redis_url: str):
    namespace = uuid.uuid4().hex[:12]
    settings = QueueSettings(namespace=namespace, lease_margin=0.2)
    reg = Registry()
    done: list[tuple[str, int]] = []

    @reg.handler("hang", timeout=1.0)
    async def finish_it(payload, ctx):
        done.append((ctx.job_id, ctx.attempt))

    q = JobQueue(StoreConfig("redis", redis_url), settings=settings, registry=reg)
    ids = [j.id for j in await q.enqueue_many([{"type": "hang"}] * 3)]

    worker = subprocess.Popen(  # noqa: ASYNC220 - killed below, never awaited
        [sys.executable, "-c", WORKER, redis_url, namespace],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        started = [await asyncio.to_thread(worker.stdout.readline) for _ in ids]
        assert all(line.startswith("started") for line in started)
    finally:
        worker.kill()
        worker.wait()
        worker.stdout.close()

    assert {j.status for j in await q.get_many(ids)} == {JobStatus.RUNNING}
    await asyncio.sleep(1.3)  # the lease (timeout 1.0 + margin 0.2) runs out
    summary = await q.drain()
    assert (summary.recovered, summary.succeeded) == (3, 3)
    assert sorted(done) == sorted((i, 2) for i in ids)
    await q.close()

