"""The peers, driven the way their docs show: RQ (`SimpleWorker`, burst) and arq (burst)."""

from __future__ import annotations

import asyncio
import logging

import redis

from .tasks import arq_noop, rq_noop

BATCH = 100


class RQSystem:
    name = "RQ"
    drain_label = "SimpleWorker, burst, defaults"
    has_bulk = True

    def __init__(self, url: str):
        import rq

        self.rq = rq
        self.conn = redis.Redis.from_url(url)
        self.queue = rq.Queue("bench", connection=self.conn)

    def enqueue_single(self, n: int) -> None:
        for _ in range(n):
            self.queue.enqueue(rq_noop)

    def enqueue_bulk(self, n: int) -> None:
        prepare = self.rq.Queue.prepare_data
        for start in range(0, n, BATCH):
            with self.conn.pipeline() as pipe:
                jobs = [prepare(rq_noop) for _ in range(min(BATCH, n - start))]
                self.queue.enqueue_many(jobs, pipeline=pipe)
                pipe.execute()

    def drain(self, n: int) -> int:
        worker = self.rq.SimpleWorker([self.queue], connection=self.conn)
        worker.work(burst=True, logging_level="WARNING", max_jobs=n)
        return self.queue.finished_job_registry.count

    def close(self) -> None:
        self.conn.close()


class ArqSystem:
    """arq's defaults (poll_delay 0.5 s, max_jobs 10), or ``tuned`` worker options."""

    has_bulk = False  # arq has no bulk enqueue

    def __init__(self, url: str, **tuned: float):
        from arq.connections import RedisSettings

        self.tuned = tuned
        self.name = "arq, tuned" if tuned else "arq"
        options = ", ".join(f"{k}={v}" for k, v in tuned.items())
        self.drain_label = f"Worker, burst, {options}" if tuned else "Worker, burst, defaults"
        self.settings = RedisSettings.from_dsn(url)
        self.runner = asyncio.Runner()
        self.pool = None
        logging.getLogger("arq").setLevel(logging.WARNING)

    async def _pool(self):
        if self.pool is None:
            from arq import create_pool

            self.pool = await create_pool(self.settings)
        return self.pool

    def enqueue_single(self, n: int) -> None:
        async def go() -> None:
            pool = await self._pool()
            for _ in range(n):
                await pool.enqueue_job("arq_noop")

        self.runner.run(go())

    def drain(self, n: int) -> int:
        from arq.worker import Worker, func

        async def go() -> int:
            worker = Worker(
                functions=[func(arq_noop, name="arq_noop")],
                redis_settings=self.settings,
                burst=True,
                handle_signals=False,
                **self.tuned,
            )
            try:
                await worker.main()
            finally:
                await worker.close()
            return worker.jobs_complete

        return self.runner.run(go())

    def close(self) -> None:
        if self.pool is not None:
            self.runner.run(self.pool.aclose())
        self.runner.close()
