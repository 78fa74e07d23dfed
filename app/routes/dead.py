"""The dead-letter list: read, requeue, purge (admin)."""

from __future__ import annotations

import structlog
from fastapi import APIRouter

from ..deps import AdminAuth, QueueDep
from ..models import JobPage, PurgeOut, RequeueIn, RequeueOut, error_responses
from .jobs import CursorQ, PageLimitQ, page, parse_cursor

router = APIRouter(tags=["admin"])
log = structlog.get_logger("app")


@router.get("/jobs/dead", response_model=JobPage, responses=error_responses(422))
async def list_dead(queue: QueueDep, _: AdminAuth, cursor: CursorQ = None, limit: PageLimitQ = 50):
    """Dead letters, newest first, with last_error and attempts. Auth: admin."""
    jobs, nxt = await queue.list_dead(parse_cursor(cursor), limit)
    return page(jobs, nxt)


@router.post("/jobs/dead/requeue", response_model=RequeueOut, responses=error_responses(413, 422))
async def requeue_dead(body: RequeueIn, queue: QueueDep, _: AdminAuth):
    """Requeue the given dead (or cancelled) jobs, or all dead letters. Auth: admin."""
    res = await queue.requeue(None if body.all else body.ids)
    skipped = [{"id": i, "status": status or None} for i, status in res["skipped"]]
    for job_id in res["requeued"]:
        log.info("job requeued", job_id=job_id)
    return {"requeued": res["requeued"], "skipped": skipped}


@router.delete("/jobs/dead", response_model=PurgeOut, responses=error_responses())
async def purge_dead(queue: QueueDep, _: AdminAuth):
    """Delete every dead letter and its record. Auth: admin."""
    return {"purged": await queue.purge_dead()}
