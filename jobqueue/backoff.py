"""Retry delays: exponential with a cap and full jitter, or an explicit schedule."""

from __future__ import annotations

import random
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator


class Backoff(BaseModel):
    """How long to wait before attempt ``n + 1`` after attempt ``n`` failed.

    ``schedule`` (seconds per retry, the last one repeating) wins over the
    exponential form ``min(cap, base * factor ** (n - 1))``; ``jitter`` is the
    fraction of that delay drawn at random (0 = none, 1 = full jitter).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    base: Annotated[float, Field(ge=0, le=86_400)] = 5.0
    factor: Annotated[float, Field(ge=1, le=10)] = 2.0
    cap: Annotated[float, Field(ge=0, le=7 * 86_400)] = 3_600.0
    jitter: Annotated[float, Field(ge=0, le=1)] = 0.2
    schedule: list[Annotated[float, Field(ge=0, le=7 * 86_400)]] | None = None

    @model_validator(mode="after")
    def _schedule_not_empty(self) -> Backoff:
        if self.schedule is not None and not self.schedule:
            raise ValueError("schedule must list at least one delay")
        return self

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        n = max(1, attempt)
        if self.schedule:
            raw = self.schedule[min(n, len(self.schedule)) - 1]
        else:
            raw = min(self.cap, self.base * self.factor ** (n - 1))
        if self.jitter:
            raw -= raw * self.jitter * (rng or random).random()
        return raw


BackoffSpec = Backoff | list[float] | dict[str, Any] | float | int | None
_ADAPTER: TypeAdapter[Backoff] = TypeAdapter(Backoff)


def parse_backoff(spec: BackoffSpec, default: Backoff | None = None) -> Backoff:
    """Accept a `Backoff`, a list of delays, a dict of fields or a base delay in seconds."""
    if spec is None:
        return default or Backoff()
    if isinstance(spec, Backoff):
        return spec
    if isinstance(spec, list | tuple):
        return Backoff(schedule=list(spec), jitter=0)
    if isinstance(spec, int | float):
        return Backoff(base=float(spec))
    return _ADAPTER.validate_python(spec)

