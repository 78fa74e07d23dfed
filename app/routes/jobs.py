"""Jobs by id and by status: read (optionally waiting), list, cancel, retry (admin)."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated

import structlog
from fastapi import APIRouter, Path, Query
from fastapi.exceptions import RequestValidationError

from jobqueue import InvalidJobState, Job, JobNotFound, JobStatus

from ..deps import AdminAuth, QueueDep, SettingsDep
from ..models import JOB_ID_PATTERN, JobOut, JobPage, QueueName, error_responses

router = APIRouter(tags=["admin"])
log = structlog.get_logger("app")

JobIdP = Annotated[str, Path(pattern=JOB_ID_PATTERN)]
CursorQ = Annotated[str | None, Query(description="`next_cursor` of the previous page")]
PageLimitQ = Annotated[int, Query(ge=1, le=500)]
WAIT_POLL = (0.1, 1.0)  # first and longest interval between reads while waiting


def parse_cursor(cursor: str | None) -> int:
    if cursor is None or cursor == "":
        return 0
    if not cursor.isdigit():
        raise RequestValidationError(
            [
                {
                    "loc": ["query", "cursor"],
                    "msg": "not a cursor this API returned",
                    "type": "value_error",
                }
            ]
        )
    return int(cursor)


def page(jobs: list[Job], nxt: int | None) -> dict:
    return {"jobs": [j.to_dict() for j in jobs], "next_cursor": None if nxt is None else str(nxt)}


@router.get("/jobs", response_model=JobPage, responses=error_responses(422))
async def list_jobs(
    queue: QueueDep,
    _: AdminAuth,
    status: JobStatus,
    type: Annotated[str | None, Query(max_length=128)] = None,
    queue_name: Annotated[QueueName | None, Query(alias="queue")] = None,
    cursor: CursorQ = None,
    limit: PageLimitQ = 50,
):
    """Jobs in one status, filtered by type and queue, paginated. Auth: admin."""
    jobs, nxt = await queue.list_jobs(
        status, queue=queue_name, type=type, cursor=parse_cursor(cursor), limit=limit
    )
    return page(jobs, nxt)


@router.get("/jobs/{job_id}", response_model=JobOut, responses=error_responses(404, 422))
async def get_job(
    job_id: JobIdP,
    queue: QueueDep,
    settings: SettingsDep,
    _: AdminAuth,
    wait: Annotated[
        float, Query(ge=0, description="seconds to wait for the job to finish (capped)")
    ] = 0,
):
    """The job record; `?wait=` waits (up to JOB_WAIT_MAX_SECONDS) until done. Auth: admin."""
    deadline = time.monotonic() + min(wait, settings.job_wait_max_seconds)
    interval = WAIT_POLL[0]
    while True:
        job = await queue.get(job_id)
        if job is None:
            raise JobNotFound(f"no job {job_id}")
        left = deadline - time.monotonic()
        if job.finished or left <= 0:
            return job.to_dict()
        await asyncio.sleep(min(interval, left))
        interval = min(interval * 2, WAIT_POLL[1])


@router.post("/jobs/{job_id}/cancel", response_model=JobOut, responses=error_responses(404, 409))
async def cancel_job(job_id: JobIdP, queue: QueueDep, _: AdminAuth):
    """Cancel a queued or scheduled job; 409 when it is running or finished. Auth: admin."""
    return (await queue.cancel(job_id)).to_dict()


@router.post("/jobs/{job_id}/retry", response_model=JobOut, responses=error_responses(404, 409))
async def retry_job(job_id: JobIdP, queue: QueueDep, _: AdminAuth):
    """Requeue a dead or cancelled job (attempts start again). Auth: admin."""
    res = await queue.requeue([job_id])
    if job_id not in res["requeued"]:
        status = dict(res["skipped"]).get(job_id) or ""
        if not status:
            raise JobNotFound(f"no job {job_id}")
        raise InvalidJobState(job_id, status, "retry")
    log.info("job requeued", job_id=job_id)
    job = await queue.get(job_id)
    if job is None:
        raise JobNotFound(f"no job {job_id}")
    return job.to_dict()
