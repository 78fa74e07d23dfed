"""GET /health: liveness of the service and its store, for anyone (no secrets, no counts)."""

from __future__ import annotations

import structlog
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from jobqueue import QueueUnavailable

from ..deps import QueueDep
from ..models import HealthOut

router = APIRouter(tags=["health"])
log = structlog.get_logger("app")


@router.get(
    "/health",
    response_model=HealthOut,
    responses={503: {"model": HealthOut, "description": "the store does not answer"}},
)
async def health(queue: QueueDep) -> dict | JSONResponse:
    """Whether the store answers. No auth."""
    try:
        await queue.ping()
    except QueueUnavailable as exc:
        log.error("health check failed", error=str(exc))
        return JSONResponse({"status": "unavailable"}, status_code=503)
    return {"status": "ok"}
