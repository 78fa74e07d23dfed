"""Request and response bodies that are the service's own (job options reuse
`jobqueue.EnqueueRequest`)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from jobqueue import EnqueueRequest, JobStatus
from jobqueue.keys import NAME_RE

JOB_ID_PATTERN = r"^[A-Za-z0-9_.:\-]{1,128}$"
QueueName = Annotated[str, Field(pattern=NAME_RE.pattern)]
JobId = Annotated[str, Field(pattern=JOB_ID_PATTERN)]


class ErrorOut(BaseModel):
    detail: str
    errors: list[dict[str, Any]] | None = None


class JobOut(BaseModel):
    """A job record. Times are epoch milliseconds."""

    id: str
    type: str
    queue: str
    status: JobStatus
    payload: Any = None
    attempts: int = 0
    max_attempts: int = 1
    priority: int = 0
    timeout: float = 60.0
    created_at: int | None = None
    run_at: int | None = None
    started_at: int | None = None
    finished_at: int | None = None
    lease_until: int | None = None
    last_error: str | None = None
    result: Any = None
    dedupe_key: str | None = None
    deduplicated: bool = False


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    jobs: Annotated[list[EnqueueRequest], Field(min_length=1)]


class BatchOut(BaseModel):
    jobs: list[JobOut]
    enqueued: int
    deduplicated: int


class ProcessIn(BaseModel):
    """Optional JSON body of POST /jobs/process; its fields override the query's."""

    model_config = ConfigDict(extra="forbid")

    limit: Annotated[int | None, Field(ge=1)] = None
    queue: list[QueueName] | QueueName | None = None
    budget_seconds: Annotated[float | None, Field(gt=0)] = None
    job_id: list[JobId] | JobId | None = None


class DrainOut(BaseModel):
    claimed: int
    succeeded: int
    retried: int
    dead: int
    recovered: int
    stale: int = 0
    batches: int = 0
    duration_ms: int
    more: bool


class JobPage(BaseModel):
    jobs: list[JobOut]
    next_cursor: str | None = Field(
        description="pass as `cursor` for the next page; null at the end"
    )


class RequeueIn(BaseModel):
    """Either ``ids`` or ``all: true``."""

    model_config = ConfigDict(extra="forbid")

    ids: Annotated[list[JobId] | None, Field(min_length=1, max_length=1_000)] = None
    all: bool = False

    @model_validator(mode="after")
    def _one_of(self) -> RequeueIn:
        if (self.ids is None) == (not self.all):
            raise ValueError('give either "ids" (a non-empty list) or "all": true')
        return self


class Skipped(BaseModel):
    id: str
    status: str | None = Field(description="the job's status; null when there is no such job")


class RequeueOut(BaseModel):
    requeued: list[str]
    skipped: list[Skipped]


class PurgeOut(BaseModel):
    purged: int


class HealthOut(BaseModel):
    status: Literal["ok", "unavailable"]


class QueueStats(BaseModel):
    model_config = ConfigDict(extra="allow")  # new engine fields pass through

    ready: int
    scheduled: int
    running: int
    dead: int = 0  # dead letters of this queue now
    oldest_ready_at: int | None = None
    oldest_waiting_seconds: float | None = None
    counters: dict[str, int]


class Health(BaseModel):
    status: Literal["healthy", "degraded", "unhealthy"]
    reasons: list[str]


class StoreInfo(BaseModel):
    kind: str
    persistent: bool
    reachable: bool
    latency_ms: float | None = None


class StatsOut(BaseModel):
    health: Health
    store: StoreInfo
    queues: dict[str, QueueStats] = {}
    dead: int | None = None
    dead_sample: list[str] = []


_ERRORS = {
    401: "missing or invalid bearer token (`WWW-Authenticate: Bearer`)",
    403: "the token is valid but lacks the right for this endpoint",
    404: "no such job",
    409: "the job is in a state that does not allow this",
    413: "the request body is over MAX_REQUEST_BYTES",
    422: "invalid request; `errors` names each field",
    503: "the job store is unreachable",
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI descriptions of the error answers an endpoint may give."""
    return {c: {"model": ErrorOut, "description": _ERRORS[c]} for c in (401, 403, *codes, 503)}
