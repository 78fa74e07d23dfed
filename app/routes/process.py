"""GET and POST /jobs/process: drain a bounded batch within a time budget (cron or admin).

Vercel Cron calls with GET and follows no redirects, so this answers at exactly this
path. The answer is 200 with the summary even when jobs failed: the queue retries
them, not the cron.
"""

from __future__ import annotations

from typing import Annotated

import structlog
from fastapi import APIRouter, Body, Depends, Query
from fastapi.exceptions import RequestValidationError

from jobqueue import JobNotFound, JobQueue

from ..deps import CronAuth, QueueDep, SettingsDep
from ..models import DrainOut, JobId, ProcessIn, QueueName, error_responses
from ..settings import Settings

router = APIRouter(tags=["process"])
log = structlog.get_logger("app")

LimitQ = Annotated[int | None, Query(ge=1, description="most jobs to run (default DRAIN_LIMIT)")]
QueueQ = Annotated[
    list[QueueName] | None, Query(alias="queue", description="queues to drain (repeatable)")
]
BudgetQ = Annotated[
    float | None, Query(gt=0, description="seconds to spend (default DRAIN_BUDGET_SECONDS)")
]
JobIdQ = Annotated[list[JobId] | None, Query(description="run these jobs now (repeatable)")]
RESPONSES = error_responses(404, 413, 422)


def _listify(value: list[str] | str | None) -> list[str] | None:
    return [value] if isinstance(value, str) else value


def _too_big(loc: list[str], value: float, most: float, var: str) -> RequestValidationError:
    return RequestValidationError(
        [
            {
                "loc": loc,
                "msg": f"must be at most {most:g} ({var}); got {value:g}",
                "type": "less_than_equal",
            }
        ]
    )


async def _drain(
    queue: JobQueue, settings: Settings, opts: ProcessIn, from_body: frozenset[str] = frozenset()
) -> dict:
    def loc(name: str) -> list[str]:
        return ["body" if name in from_body else "query", name]

    limit = opts.limit or settings.drain_limit
    if limit > settings.drain_max_limit:
        raise _too_big(loc("limit"), limit, settings.drain_max_limit, "DRAIN_MAX_LIMIT")
    budget = opts.budget_seconds or settings.budget
    if budget > settings.budget:
        raise _too_big(loc("budget_seconds"), budget, settings.budget, "DRAIN_BUDGET_SECONDS")
    queues = _listify(opts.queue)
    job_ids = _listify(opts.job_id)
    if job_ids and len(job_ids) > settings.drain_max_limit:
        raise _too_big(loc("job_id"), len(job_ids), settings.drain_max_limit, "DRAIN_MAX_LIMIT")
    if job_ids:
        missing = [
            i for i, job in zip(job_ids, await queue.get_many(job_ids), strict=True) if not job
        ]
        if missing:
            raise JobNotFound(f"no job {', '.join(missing)}")
        limit = len(job_ids)
    one = {"job_id": job_ids[0]} if job_ids and len(job_ids) == 1 else {"job_ids": job_ids}
    log.info("drain requested", limit=limit, budget_seconds=budget, queues=queues, **one)
    summary = await queue.drain(limit=limit, budget=budget, queues=queues, job_ids=job_ids)
    return summary.to_dict()


def query_options(
    limit: LimitQ = None,
    queue_name: QueueQ = None,
    budget_seconds: BudgetQ = None,
    job_id: JobIdQ = None,
) -> ProcessIn:
    return ProcessIn(limit=limit, queue=queue_name, budget_seconds=budget_seconds, job_id=job_id)


QueryOptions = Annotated[ProcessIn, Depends(query_options)]


@router.get("/jobs/process", response_model=DrainOut, responses=RESPONSES)
async def process_get(queue: QueueDep, settings: SettingsDep, _: CronAuth, opts: QueryOptions):
    """Run due jobs and return a summary (what Vercel Cron calls). Auth: cron, admin."""
    return await _drain(queue, settings, opts)


@router.post("/jobs/process", response_model=DrainOut, responses=RESPONSES)
async def process_post(
    queue: QueueDep,
    settings: SettingsDep,
    _: CronAuth,
    query: QueryOptions,
    body: Annotated[ProcessIn | None, Body()] = None,
):
    """Like GET, with options in the query or an optional JSON body. Auth: cron, admin, QStash."""
    given = body.model_dump(exclude_none=True) if body else {}
    opts = query.model_copy(update=given)
    return await _drain(queue, settings, opts, frozenset(given))
