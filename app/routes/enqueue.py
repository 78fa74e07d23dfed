"""POST /jobs and POST /jobs/batch: enqueue (enqueue or admin token)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from jobqueue import EnqueueRequest, InvalidJob

from ..deps import EnqueueAuth, QueueDep, SettingsDep
from ..errors import invalid
from ..models import BatchIn, BatchOut, JobOut, error_responses

router = APIRouter(tags=["enqueue"])


@router.post(
    "/jobs",
    status_code=201,
    response_model=JobOut,
    responses={
        200: {
            "model": JobOut,
            "description": "a job with this dedupe_key or job_id exists: "
            "that job, with `deduplicated: true`",
        },
        **error_responses(413, 422),
    },
)
async def enqueue(body: EnqueueRequest, response: Response, queue: QueueDep, _: EnqueueAuth):
    """Enqueue one job: 201, or 200 with the existing job if deduplicated. Auth: enqueue, admin."""
    job = await queue.enqueue(**body.model_dump(exclude_unset=True))
    if job.deduplicated:
        response.status_code = 200
    return job.to_dict()


@router.post(
    "/jobs/batch", status_code=201, response_model=BatchOut, responses=error_responses(413, 422)
)
async def enqueue_batch(body: BatchIn, queue: QueueDep, settings: SettingsDep, _: EnqueueAuth):
    """Enqueue up to BATCH_MAX_JOBS jobs, validated before any is written. Auth: enqueue, admin."""
    if len(body.jobs) > settings.batch_max_jobs:
        msg = f"at most {settings.batch_max_jobs} jobs per batch (BATCH_MAX_JOBS)"
        return invalid([{"loc": ["body", "jobs"], "msg": msg, "type": "too_long"}])
    try:
        jobs = await queue.enqueue_many(body.jobs)
    except InvalidJob as exc:  # its loc starts with the job's index in the batch
        raise exc.nest("jobs") from None
    dups = sum(j.deduplicated for j in jobs)
    return {"jobs": [j.to_dict() for j in jobs], "enqueued": len(jobs) - dups, "deduplicated": dups}
