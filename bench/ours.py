"""Our engine: `drain()` on the Redis protocol, on the REST path, and through the app."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from jobqueue import JobQueue, QueueSettings, Registry, StoreConfig

BATCH = 100


def registry() -> Registry:
    reg = Registry()

    @reg.handler("noop")
    async def noop(payload, ctx) -> None:
        """Does nothing."""

    return reg


class OursSystem:
    """`JobQueue` driven directly: enqueue / enqueue_many, then `drain()`."""

    has_bulk = True
    drain_label = "drain(), batches of 100"

    def __init__(
        self,
        name: str,
        store: StoreConfig,
        requests: Callable[[], int] | None = None,
        settings: QueueSettings | None = None,
    ):
        self.name = name
        self.requests = requests  # the REST server's request counter, if any
        self.q = JobQueue(store, registry=registry(), settings=settings)
        self.runner = asyncio.Runner()

    def enqueue_single(self, n: int) -> None:
        async def go() -> None:
            for _ in range(n):
                await self.q.enqueue("noop")

        self.runner.run(go())

    def enqueue_bulk(self, n: int) -> None:
        async def go() -> None:
            for start in range(0, n, BATCH):
                await self.q.enqueue_many([{"type": "noop"}] * min(BATCH, n - start))

        self.runner.run(go())

    def drain(self, n: int) -> int:
        summary = self.runner.run(self.q.drain(limit=n, budget=3600, batch_size=BATCH))
        return summary.succeeded

    def idle(self, meter) -> dict:
        """One drain call on empty queues: its requests (if counted) and Redis commands."""
        meter.flush()
        meter.reset()
        before = self.requests() if self.requests else None
        summary = self.runner.run(self.q.drain(limit=100, budget=25, batch_size=BATCH))
        assert summary.claimed == 0, summary
        commands = meter.total()
        # on the Redis protocol a request is a round trip: one per script call
        requests = meter.scripts() if before is None else self.requests() - before
        return {"requests": requests, "commands": commands}

    def close(self) -> None:
        self.runner.run(self.q.close())
        self.runner.close()


def soak(url: str, meter, total: int, batch: int = 1_000, samples: int = 20) -> dict:
    """Enqueue and drain ``total`` jobs with default retention, sampling used_memory."""
    system = OursSystem("soak", StoreConfig("redis", url))
    every = max(batch, total // samples)
    rows = [{"processed": 0, "used_memory": meter.used_memory(), "keys": meter.dbsize()}]
    processed = 0
    start = time.perf_counter()
    try:
        while processed < total:
            system.enqueue_bulk(batch)
            done = system.drain(batch)
            if done != batch:
                raise RuntimeError(f"soak: drained {done} of {batch}")
            processed += done
            if processed % every == 0 or processed >= total:
                rows.append(
                    {
                        "processed": processed,
                        "used_memory": meter.used_memory(),
                        "keys": meter.dbsize(),
                    }
                )
    finally:
        system.close()
    keep = QueueSettings().keep_succeeded
    # after 2 x the retention cap every finished record is one the cap trims
    settled = [r["used_memory"] for r in rows if r["processed"] >= 2 * keep]
    first, last = settled[0], settled[-1]
    return {
        "processed": processed,
        "seconds": round(time.perf_counter() - start, 2),
        "samples": rows,
        "settled_from": 2 * keep,
        "growth": round(last / first, 3),
        "max_over_settled": round(max(settled) / first, 3),
        "plateau": max(settled) <= 1.10 * first,
    }
