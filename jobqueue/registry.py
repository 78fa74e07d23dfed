"""The handler contract, typed once, and the registry that maps job types to handlers."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from .backoff import Backoff, BackoffSpec, parse_backoff
from .errors import InvalidJob, UnknownJobType


@dataclass(frozen=True, slots=True)
class JobContext:
    """What a handler learns about the run besides its payload."""

    job_id: str
    type: str
    queue: str
    attempt: int  # 1 for the first run
    max_attempts: int
    deadline: float  # monotonic seconds; the handler is cancelled past it

    @property
    def is_last_attempt(self) -> bool:
        return self.attempt >= self.max_attempts


Handler = Callable[[Any, JobContext], Awaitable[Any] | Any]


@dataclass(frozen=True, slots=True)
class HandlerSpec:
    """A registered handler with its per-type defaults."""

    type: str
    func: Handler
    queue: str = "default"
    max_attempts: int = 3
    backoff: Backoff = field(default_factory=Backoff)
    timeout: float = 60.0
    model: type[BaseModel] | None = None

    @property
    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.func)

    def validate(self, payload: Any) -> Any:
        """Return the payload in its stored (JSON) form, or raise `InvalidJob`."""
        if self.model is None:
            return payload
        try:
            return self.model.model_validate(payload).model_dump(mode="json")
        except ValidationError as exc:
            errors = [
                {"loc": ["payload", *e["loc"]], "msg": e["msg"], "type": e["type"]}
                for e in exc.errors(include_url=False, include_context=False)
            ]
            raise InvalidJob(f"payload for {self.type!r} is invalid", errors) from None

    def load(self, payload: Any) -> Any:
        """The payload as the handler receives it (a model instance when one is set)."""
        return self.model.model_validate(payload) if self.model else payload


class Registry:
    """Job type -> handler. One default registry backs the `handler` decorator."""

    def __init__(self) -> None:
        self._specs: dict[str, HandlerSpec] = {}

    def handler(
        self,
        job_type: str,
        *,
        queue: str = "default",
        max_attempts: int = 3,
        backoff: BackoffSpec = None,
        timeout: float = 60.0,
        model: type[BaseModel] | None = None,
    ) -> Callable[[Handler], Handler]:
        """Register ``func(payload, ctx)`` (async or sync) for ``job_type``."""
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if timeout <= 0:
            raise ValueError("timeout must be positive")

        def register(func: Handler) -> Handler:
            self._specs[job_type] = HandlerSpec(
                type=job_type,
                func=func,
                queue=queue,
                max_attempts=max_attempts,
                backoff=parse_backoff(backoff),
                timeout=timeout,
                model=model,
            )
            return func

        return register

    def get(self, job_type: str) -> HandlerSpec:
        try:
            return self._specs[job_type]
        except KeyError:
            raise UnknownJobType(job_type, list(self._specs)) from None

    def types(self) -> list[str]:
        return sorted(self._specs)

    def __contains__(self, job_type: str) -> bool:
        return job_type in self._specs


default_registry = Registry()
handler = default_registry.handler
