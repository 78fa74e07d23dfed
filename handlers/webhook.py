"""Built-in webhook delivery: POST a JSON body to a URL, with retries on 5xx and 429."""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import AnyHttpUrl, BaseModel, Field

import jobqueue


class Webhook(BaseModel):
    url: AnyHttpUrl
    body: Any = None
    headers: dict[str, str] = Field(default_factory=dict)


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return float(response.headers["retry-after"])
    except (KeyError, ValueError):
        return None


@jobqueue.handler("webhook", model=Webhook, max_attempts=8, timeout=30)
async def deliver(hook: Webhook, ctx: jobqueue.JobContext) -> dict:
    """Deliver once per attempt; the job id goes along as an idempotency key."""
    headers = {**hook.headers, "Idempotency-Key": ctx.job_id, "X-Attempt": str(ctx.attempt)}
    async with httpx.AsyncClient(timeout=httpx.Timeout(10.0)) as client:
        response = await client.post(str(hook.url), json=hook.body, headers=headers)
    if response.status_code == 429 or response.status_code >= 500:
        delay = _retry_after(response)
        if delay is not None:
            raise jobqueue.RetryLater(delay, f"HTTP {response.status_code}")
        raise RuntimeError(f"HTTP {response.status_code}")
    if response.status_code >= 400:
        raise jobqueue.PermanentError(f"HTTP {response.status_code}: {response.text[:200]}")
    return {"status": response.status_code}
