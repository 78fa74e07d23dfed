"""One enqueue request, validated before anything is written."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, model_validator

from .backoff import Backoff, parse_backoff
from .errors import InvalidJob
from .keys import NAME_RE
from .registry import Registry
from .settings import QueueSettings

MAX_PRIORITY = 1_000_000


class EnqueueRequest(BaseModel):
    """Options of one job. Unset options take the handler's defaults."""

    model_config = ConfigDict(extra="forbid")

    type: Annotated[str, Field(min_length=1, max_length=128)]
    payload: Any = None
    queue: Annotated[str | None, Field(pattern=NAME_RE.pattern)] = None
    delay: Annotated[
        float | None,
        Field(ge=0, le=365 * 86_400, validation_alias=AliasChoices("delay_seconds", "delay")),
    ] = None
    run_at: datetime | None = None
    priority: Annotated[int, Field(ge=-MAX_PRIORITY, le=MAX_PRIORITY)] = 0
    max_attempts: Annotated[int | None, Field(ge=1, le=100)] = None
    backoff: Backoff | list[Annotated[float, Field(ge=0)]] | float | None = None
    timeout: Annotated[float | None, Field(gt=0, le=24 * 3600)] = None
    dedupe_key: Annotated[str | None, Field(min_length=1, max_length=256)] = None
    dedupe_window: Annotated[float | None, Field(gt=0, le=30 * 86_400)] = None
    job_id: Annotated[str | None, Field(pattern=r"^[A-Za-z0-9_.:\-]{1,128}$")] = None

    @model_validator(mode="after")
    def _one_start_time(self) -> EnqueueRequest:
        if self.delay is not None and self.run_at is not None:
            raise ValueError("give either delay or run_at, not both")
        return self


def validate_request(data: dict[str, Any]) -> EnqueueRequest:
    try:
        return EnqueueRequest.model_validate(data)
    except ValidationError as exc:
        errors = [
            {"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]}
            for e in exc.errors(include_url=False, include_context=False)
        ]
        fields = ", ".join(".".join(map(str, e["loc"])) or "request" for e in errors)
        raise InvalidJob(f"invalid job options: {fields}", errors) from None


def to_record(
    req: EnqueueRequest, registry: Registry, settings: QueueSettings, now_ms: int
) -> dict[str, Any]:
    """The argument the enqueue script takes for this job; raises before any write."""
    spec = registry.get(req.type)
    try:
        payload = json.dumps(spec.validate(req.payload), separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidJob(
            f"payload is not JSON: {exc}",
            [{"loc": ["payload"], "msg": str(exc), "type": "json_invalid"}],
        ) from None
    if len(payload.encode()) > settings.max_payload_bytes:
        raise InvalidJob(
            f"payload is {len(payload.encode())} bytes; the limit is {settings.max_payload_bytes}",
            [{"loc": ["payload"], "msg": "payload too large", "type": "too_large"}],
        )
    if req.run_at is not None:
        at = req.run_at if req.run_at.tzinfo else req.run_at.replace(tzinfo=UTC)
        run_at = int(at.timestamp() * 1000)
    else:
        run_at = now_ms + int((req.delay or 0) * 1000)
    backoff = parse_backoff(req.backoff, spec.backoff)
    record: dict[str, Any] = {
        "id": req.job_id or uuid.uuid4().hex,
        "type": req.type,
        "queue": req.queue or spec.queue,
        "payload": payload,
        "max_attempts": req.max_attempts or spec.max_attempts,
        "priority": req.priority,
        "timeout_ms": int((req.timeout or spec.timeout) * 1000),
        "backoff": backoff.model_dump_json(exclude_defaults=True),
        "run_at": run_at,
    }
    if req.dedupe_key:
        record["dedupe_key"] = req.dedupe_key
        record["dedupe_ttl_ms"] = int((req.dedupe_window or settings.dedupe_window) * 1000)
    return record
