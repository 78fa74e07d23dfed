"""GET /jobs/stats: queue depths, counters, dead letters, store latency and a health verdict."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from jobqueue import JobQueue, QueueUnavailable

from ..deps import AdminAuth, QueueDep, SettingsDep
from ..errors import STORE_DOWN
from ..models import StatsOut, error_responses
from ..settings import Settings

router = APIRouter(tags=["admin"])
log = structlog.get_logger("app")


def assess(stats: dict[str, Any], latency_ms: float, s: Settings) -> dict[str, Any]:
    """healthy, degraded or unhealthy, with a reason for every threshold crossed."""
    unhealthy: list[str] = []
    degraded: list[str] = []

    def check(value: float, warn: float, bad: float, what: str) -> None:
        if value >= bad:
            unhealthy.append(f"{what} (unhealthy at {bad:g})")
        elif value >= warn:
            degraded.append(f"{what} (degraded at {warn:g})")

    check(
        stats["dead"],
        s.health_dead_degraded,
        s.health_dead_unhealthy,
        f"{stats['dead']} dead-letter job(s)",
    )
    for name, q in sorted(stats["queues"].items()):
        check(
            q["ready"],
            s.health_depth_degraded,
            s.health_depth_unhealthy,
            f"queue {name!r} has {q['ready']} ready job(s)",
        )
        age = q.get("oldest_waiting_seconds")
        if age is not None:
            check(
                age,
                s.health_age_degraded_seconds,
                s.health_age_unhealthy_seconds,
                f"queue {name!r}: oldest ready job has waited {age:.0f}s",
            )
    if latency_ms >= s.health_latency_degraded_ms:
        degraded.append(
            f"store latency {latency_ms:.0f}ms (degraded at {s.health_latency_degraded_ms:g}ms)"
        )
    status = "unhealthy" if unhealthy else "degraded" if degraded else "healthy"
    return {"status": status, "reasons": unhealthy + degraded}


async def collect(queue: JobQueue, settings: Settings) -> dict[str, Any]:
    store = {"kind": queue.store_kind, "persistent": queue.store_kind != "memory"}
    try:
        latency_ms = round(await queue.ping() * 1000, 2)
        stats = await queue.stats()
    except QueueUnavailable as exc:
        log.error("stats: store unavailable", error=str(exc))
        return {
            "detail": STORE_DOWN,
            "health": {"status": "unhealthy", "reasons": ["store unreachable"]},
            "store": {**store, "reachable": False, "latency_ms": None},
        }
    now = queue.clock.now_ms()
    for q in stats["queues"].values():
        oldest = q.get("oldest_ready_at")
        q["oldest_waiting_seconds"] = None if oldest is None else max(0, now - oldest) / 1000
    return {
        "health": assess(stats, latency_ms, settings),
        "store": {**store, "reachable": True, "latency_ms": latency_ms},
        **stats,
    }


@router.get(
    "/jobs/stats",
    response_model=StatsOut,
    responses={**error_responses(), 503: {"model": StatsOut, "description": "store unreachable"}},
)
async def stats(queue: QueueDep, settings: SettingsDep, _: AdminAuth):
    """Per-queue depths and counters, dead letters, store latency, health. Auth: admin."""
    body = await collect(queue, settings)
    if not body["store"]["reachable"]:
        return JSONResponse(body, status_code=503, headers={"Retry-After": "5"})
    return body
