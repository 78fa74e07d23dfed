"""A serverless-friendly job queue on Redis: Upstash REST, Redis protocol or in memory.

    import jobqueue

    @jobqueue.handler("send_email", max_attempts=5)
    async def send_email(payload, ctx): ...

    job = await jobqueue.enqueue_job("send_email", {"to": "a@example.com"})
    summary = await jobqueue.drain(limit=100, budget=25)

Module-level functions use a default `JobQueue` built from the environment on first
use; `configure()` replaces it. Build a `JobQueue` yourself for explicit settings.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from typing import Any

from .backoff import Backoff
from .clock import FakeClock, SystemClock
from .drain import DrainSummary
from .errors import (
    InvalidJob,
    InvalidJobState,
    JobNotFound,
    JobQueueError,
    PermanentError,
    QueueUnavailable,
    RetryLater,
    UnknownJobType,
)
from .job import TERMINAL, Job, JobStatus
from .queue import JobQueue
from .registry import HandlerSpec, JobContext, Registry, default_registry, handler
from .request import EnqueueRequest
from .settings import QueueSettings
from .transports import StoreConfig

__all__ = [
    "TERMINAL",
    "Backoff",
    "DrainSummary",
    "EnqueueRequest",
    "FakeClock",
    "HandlerSpec",
    "InvalidJob",
    "InvalidJobState",
    "Job",
    "JobContext",
    "JobNotFound",
    "JobQueue",
    "JobQueueError",
    "JobStatus",
    "PermanentError",
    "QueueSettings",
    "QueueUnavailable",
    "Registry",
    "RetryLater",
    "StoreConfig",
    "SystemClock",
    "UnknownJobType",
    "cancel_job",
    "configure",
    "default_queue",
    "default_registry",
    "drain",
    "enqueue_job",
    "enqueue_job_sync",
    "get_job",
    "handler",
    "list_dead",
    "purge_dead",
    "queue_stats",
    "requeue_dead",
]

_default: JobQueue | None = None
_lock = threading.Lock()


def default_queue() -> JobQueue:
    """The process-wide queue, built from the environment on first use."""
    global _default
    with _lock:
        if _default is None:
            _default = JobQueue()
        return _default


def configure(queue: JobQueue | None) -> None:
    """Replace the default queue (None: rebuild from the environment on next use)."""
    global _default
    with _lock:
        _default = queue


async def enqueue_job(type: str, payload: Any = None, **options: Any) -> Job:
    """Enqueue a job: queue, delay/run_at, priority, max_attempts, backoff, timeout,
    dedupe_key/dedupe_window, job_id. Returns at once with the job."""
    return await default_queue().enqueue(type, payload, **options)


def enqueue_job_sync(type: str, payload: Any = None, **options: Any) -> Job:
    """`enqueue_job` for code that is not async (Django, Flask, scripts)."""
    return default_queue().enqueue_sync(type, payload, **options)


async def drain(
    limit: int = 100, budget: float = 25.0, queues: Sequence[str] | None = None, **kw: Any
) -> DrainSummary:
    """Run up to ``limit`` jobs within ``budget`` seconds and summarise."""
    return await default_queue().drain(limit=limit, budget=budget, queues=queues, **kw)


async def get_job(job_id: str) -> Job | None:
    return await default_queue().get(job_id)


async def cancel_job(job_id: str) -> Job:
    return await default_queue().cancel(job_id)


async def list_dead(cursor: int = 0, limit: int = 50) -> tuple[list[Job], int | None]:
    return await default_queue().list_dead(cursor, limit)


async def requeue_dead(ids: Iterable[str] | None = None) -> dict[str, Any]:
    return await default_queue().requeue(ids)


async def purge_dead() -> int:
    return await default_queue().purge_dead()


async def queue_stats() -> dict[str, Any]:
    return await default_queue().stats()
