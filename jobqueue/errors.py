"""Exceptions: one root (`JobQueueError`) with specific subclasses."""

from __future__ import annotations


class JobQueueError(Exception):
    """Root of every error this library raises."""


class QueueUnavailable(JobQueueError):
    """The store could not be reached, timed out or answered with a server error.

    The original exception is chained as ``__cause__``.
    """


class InvalidJob(JobQueueError):
    """An enqueue request is malformed: a bad option or a payload that fails validation.

    ``errors`` lists pydantic-style dicts (``loc``, ``msg``, ``type``) naming each field.
    """

    def __init__(self, message: str, errors: list[dict] | None = None):
        self.errors = errors or []
        super().__init__(message)

    def nest(self, *loc: str | int) -> InvalidJob:
        """Place the errors inside a larger request (e.g. a batch index); returns self."""
        self.errors = [{**e, "loc": [*loc, *e["loc"]]} for e in self.errors]
        return self


class UnknownJobType(InvalidJob):
    """No handler is registered for a job type."""

    def __init__(self, job_type: str, known: list[str]):
        self.job_type = job_type
        self.known = sorted(known)
        msg = f"unknown job type {job_type!r}"
        error = {"loc": ["type"], "msg": msg, "type": "unknown_job_type"}
        super().__init__(f"{msg}; known types: {', '.join(self.known)}", [error])


class JobNotFound(JobQueueError):
    """No job with this id exists (it never did, or its record has expired)."""


class InvalidJobState(JobQueueError):
    """The job exists but is in a state that does not allow the operation."""

    def __init__(self, job_id: str, status: str, action: str):
        self.job_id = job_id
        self.status = status
        super().__init__(f"cannot {action} job {job_id}: it is {status}")


class PermanentError(JobQueueError):
    """Raised by a handler: the job failed and must not be retried (goes to the dead list)."""


class RetryLater(JobQueueError):
    """Raised by a handler: the job failed; retry after ``delay`` seconds (e.g. a Retry-After)."""

    def __init__(self, delay: float, message: str = ""):
        self.delay = max(0.0, float(delay))
        super().__init__(message or f"retry requested in {self.delay:g}s")
