"""The drain loop: claim a batch, run it concurrently under deadlines, finish it at once."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import structlog

from .backoff import Backoff
from .errors import PermanentError, RetryLater, UnknownJobType
from .queue import MAX_BATCH, Outcome
from .registry import JobContext

if TYPE_CHECKING:
    from .queue import ClaimedJob, JobQueue

log = structlog.get_logger("jobqueue")


@dataclass(slots=True)
class DrainSummary:
    claimed: int = 0
    succeeded: int = 0
    retried: int = 0
    dead: int = 0
    recovered: int = 0  # expired leases found and requeued during this drain
    stale: int = 0  # outcomes rejected because the lease had moved on
    batches: int = 0
    duration_ms: int = 0
    more: bool = False  # ready jobs were still waiting when the drain stopped

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


async def drain(
    q: JobQueue,
    *,
    limit: int = 100,
    budget: float = 25.0,
    queues: Sequence[str] | None = None,
    job_ids: Sequence[str] | None = None,
    batch_size: int | None = None,
    concurrency: int | None = None,
) -> DrainSummary:
    """Run up to ``limit`` jobs within ``budget`` seconds; see DESIGN.md.

    After the first batch, a job is started only if its timeout fits in the time
    left, and each handler runs under min(its timeout, time left), so nothing
    outlives the budget.
    """
    s = q.settings
    if limit < 1 or budget <= 0:
        raise ValueError("limit must be at least 1 and budget positive")
    batch_size = min(batch_size or s.batch_size, MAX_BATCH)
    start = q.clock.monotonic()
    deadline = start + budget
    summary = DrainSummary()
    pending_ids = list(job_ids or [])
    while summary.claimed < limit:
        left = deadline - q.clock.monotonic()
        if left < s.min_time_left:
            summary.more = summary.more or summary.batches == 0  # unknown: say call again
            break
        want = min(batch_size, limit - summary.claimed)
        ids = pending_ids[:want] or None
        # the first batch takes any job (so every drain makes progress); later ones
        # leave a job whose timeout no longer fits to the next drain
        fit = budget if summary.batches else None
        claim = await q.claim(want, max_lease=left, budget=fit, queues=queues, ids=ids)
        summary.batches += 1
        summary.recovered += len(claim.recovered)
        summary.dead += len(claim.expired)
        summary.more = claim.more
        for job_id in claim.recovered:
            log.warning("lease expired; job requeued", job_id=job_id)
        for job_id in claim.expired:
            log.error("lease expired on the last attempt; job is dead", job_id=job_id)
        if not claim.jobs:
            break
        summary.claimed += len(claim.jobs)
        outcomes = await run_batch(q, claim.jobs, deadline, concurrency or s.concurrency)
        res = await q.finish(outcomes)
        summary.succeeded += res["ok"]
        summary.retried += res["retry"]
        summary.dead += res["dead"]
        summary.stale += len(res["stale"])
        for job_id in res["stale"]:
            log.warning("outcome rejected: lease no longer held", job_id=job_id)
        if job_ids:
            pending_ids = pending_ids[want:]
            if not pending_ids:
                break
        elif len(claim.jobs) < want and not claim.more:
            break  # the queues are empty: another claim would only cost a request
    summary.duration_ms = round((q.clock.monotonic() - start) * 1000)
    log.info("drain finished", **summary.to_dict())
    return summary


async def run_batch(
    q: JobQueue, jobs: list[ClaimedJob], deadline: float, concurrency: int
) -> list[Outcome]:
    """Run a batch with at most ``concurrency`` handlers at once; outcomes in job order."""
    outcomes: list[Any] = [None] * len(jobs)
    todo = iter(enumerate(jobs))

    async def worker() -> None:  # workers share one iterator: no task or lock per job
        for i, job in todo:
            outcomes[i] = await run_job(q, job, deadline)

    await asyncio.gather(*(worker() for _ in range(min(concurrency, len(jobs)))))
    return outcomes


async def run_job(q: JobQueue, job: ClaimedJob, deadline: float) -> Outcome:
    """Run one handler and turn what happened into an outcome (never raises)."""
    s = q.settings
    timeout = max(0.0, min(job.timeout, deadline - q.clock.monotonic()))
    ctx = JobContext(job.id, job.type, job.queue, job.attempt, job.max_attempts, deadline)
    started = time.perf_counter()

    def fields() -> dict[str, Any]:  # built only when a line is logged
        ms = round((time.perf_counter() - started) * 1000, 2)
        return {
            "job_id": job.id,
            "type": job.type,
            "queue": job.queue,
            "attempt": job.attempt,
            "duration_ms": ms,
        }

    def failed(kind: str, error: str, run_at: int = 0) -> Outcome:
        log.warning("job failed", outcome=kind, error=error, **fields())
        return Outcome(job, kind, error[: s.max_error_chars], run_at)

    def retry_or_dead(error: str, delay: float) -> Outcome:
        if job.attempt >= job.max_attempts:
            return failed("dead", f"{error} (attempt {job.attempt} of {job.max_attempts})")
        return failed("retry", error, q.clock.now_ms() + int(delay * 1000))

    try:
        spec = q.registry.get(job.type)
        payload = spec.load(json.loads(job.payload))
    except (UnknownJobType, ValueError) as exc:  # no handler, or a payload it cannot take
        return failed("dead", f"{type(exc).__name__}: {exc}")
    try:
        async with asyncio.timeout(timeout):  # a sync handler's thread cannot be stopped
            if spec.is_async:
                result = await spec.func(payload, ctx)
            else:
                result = await asyncio.to_thread(spec.func, payload, ctx)
    except PermanentError as exc:
        return failed("dead", f"{type(exc).__name__}: {exc}")
    except RetryLater as exc:
        return retry_or_dead(f"RetryLater: {exc}", exc.delay)
    except TimeoutError:
        return retry_or_dead(f"timed out after {timeout:.3g}s", _backoff(job))
    except Exception as exc:
        return retry_or_dead(f"{type(exc).__name__}: {exc}", _backoff(job))
    try:
        data = json.dumps(result, default=str)
    except (TypeError, ValueError) as exc:
        data = json.dumps(f"<result not JSON: {exc}>")
    if len(data) > s.max_result_bytes:
        data = json.dumps(f"<result of {len(data)} bytes dropped: over max_result_bytes>")
    log.info("job succeeded", **fields())
    return Outcome(job, "ok", data)


def _backoff(job: ClaimedJob) -> float:
    return Backoff.model_validate_json(job.backoff or "{}").delay(job.attempt)
