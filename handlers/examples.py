"""Example handlers: a template for your own."""

from __future__ import annotations

import structlog
from pydantic import BaseModel

import jobqueue

log = structlog.get_logger("handlers")


class Email(BaseModel):
    to: str
    subject: str
    body: str = ""


@jobqueue.handler("send_email", model=Email, max_attempts=5, backoff=[30, 120, 600, 1800])
async def send_email(email: Email, ctx: jobqueue.JobContext) -> dict:
    """Pretend to send an email (wire your provider here; use ctx.job_id as idempotency key)."""
    log.info("email sent", job_id=ctx.job_id, to=email.to, attempt=ctx.attempt)
    return {"delivered_to": email.to}


@jobqueue.handler("noop", max_attempts=1, timeout=5)
async def noop(payload, ctx: jobqueue.JobContext) -> None:
    """Does nothing: for smoke tests and benchmarks."""
