"""The job record as Python sees it, and its states."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .backoff import Backoff


class JobStatus(StrEnum):
    QUEUED = "queued"  # in a ready list
    SCHEDULED = "scheduled"  # waiting for run_at: delayed, or a retry after backoff
    RUNNING = "running"  # claimed under a lease
    SUCCEEDED = "succeeded"
    DEAD = "dead"  # failed for good: in the dead-letter list
    CANCELLED = "cancelled"


TERMINAL = frozenset({JobStatus.SUCCEEDED, JobStatus.DEAD, JobStatus.CANCELLED})


def _int(value: Any) -> int | None:
    return None if value in (None, "") else int(float(value))


def _json(value: Any) -> Any:
    return None if value in (None, "") else json.loads(value)


@dataclass(frozen=True, slots=True)
class Job:
    """A snapshot of one job record. Times are epoch milliseconds."""

    id: str
    type: str
    queue: str
    status: JobStatus
    payload: Any = None
    attempts: int = 0
    max_attempts: int = 1
    priority: int = 0
    timeout: float = 60.0
    backoff: Backoff = field(default_factory=Backoff)
    created_at: int | None = None
    run_at: int | None = None
    started_at: int | None = None
    finished_at: int | None = None
    lease_until: int | None = None
    last_error: str | None = None
    result: Any = None
    dedupe_key: str | None = None
    lease_token: str | None = field(default=None, repr=False)
    deduplicated: bool = False

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL

    @classmethod
    def from_record(cls, rec: dict[str, Any], deduplicated: bool = False) -> Job:
        """Build from a job hash (string values, as stored)."""
        backoff = _json(rec.get("backoff"))
        return cls(
            id=rec["id"],
            type=rec["type"],
            queue=rec["queue"],
            status=JobStatus(rec["status"]),
            payload=_json(rec.get("payload")),
            attempts=_int(rec.get("attempts")) or 0,
            max_attempts=_int(rec.get("max_attempts")) or 1,
            priority=_int(rec.get("priority")) or 0,
            timeout=(_int(rec.get("timeout_ms")) or 60_000) / 1000,
            backoff=Backoff(**backoff) if backoff else Backoff(),
            created_at=_int(rec.get("created_at")),
            run_at=_int(rec.get("run_at")),
            started_at=_int(rec.get("started_at")),
            finished_at=_int(rec.get("finished_at")),
            lease_until=_int(rec.get("lease_until")) if rec["status"] == "running" else None,
            last_error=rec.get("last_error") or None,
            result=_json(rec.get("result")),
            dedupe_key=rec.get("dedupe_key") or None,
            lease_token=(rec.get("lease_token") or None) if rec["status"] == "running" else None,
            deduplicated=deduplicated,
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view for APIs and logs (the lease token is never exposed)."""
        return {
            "id": self.id,
            "type": self.type,
            "queue": self.queue,
            "status": self.status.value,
            "payload": self.payload,
            "attempts": self.attempts,
            "max_attempts": self.max_attempts,
            "priority": self.priority,
            "timeout": self.timeout,
            "created_at": self.created_at,
            "run_at": self.run_at,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "lease_until": self.lease_until,
            "last_error": self.last_error,
            "result": self.result,
            "dedupe_key": self.dedupe_key,
            "deduplicated": self.deduplicated,
        }
