"""The engine's errors as HTTP answers: clear JSON naming the field, never a stack trace.

Every error body has ``detail`` (a sentence); validation errors add ``errors``, a list
of ``{loc, msg, type}`` naming each field.
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from jobqueue import (
    InvalidJob,
    InvalidJobState,
    JobNotFound,
    JobQueueError,
    QueueUnavailable,
    UnknownJobType,
)

log = structlog.get_logger("app.errors")
STORE_DOWN = "the job store is unreachable; try again shortly"


def _loc(loc: Any) -> str:
    return ".".join(str(p) for p in loc) or "request"


def invalid(errors: list[dict[str, Any]], headline: str = "invalid request") -> JSONResponse:
    fields = ", ".join(f"{_loc(e['loc'])}: {e['msg']}" for e in errors)
    return JSONResponse({"detail": f"{headline}: {fields}", "errors": errors}, status_code=422)


def _body_loc(loc: list[Any]) -> list[Any]:
    return loc if loc[:1] in (["body"], ["query"], ["path"]) else ["body", *loc]


async def request_validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
    return invalid(errors)


async def invalid_job(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InvalidJob)
    errors = [{**e, "loc": _body_loc(list(e["loc"]))} for e in exc.errors]
    if isinstance(exc, UnknownJobType):
        content = {"detail": str(exc), "known_types": exc.known, "errors": errors}
        return JSONResponse(content, status_code=422)
    return invalid(errors, str(exc))


async def not_found(_: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=404)


async def bad_state(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InvalidJobState)
    return JSONResponse({"detail": str(exc), "status": exc.status}, status_code=409)


async def unavailable(request: Request, exc: Exception) -> JSONResponse:
    log.error("store unavailable", error=str(exc), path=request.url.path)
    return JSONResponse({"detail": STORE_DOWN}, status_code=503, headers={"Retry-After": "5"})


async def queue_error(request: Request, exc: Exception) -> JSONResponse:
    log.error("queue error", error=f"{type(exc).__name__}: {exc}", path=request.url.path)
    return JSONResponse({"detail": f"{type(exc).__name__}: {exc}"}, status_code=400)


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, request_validation)
    app.add_exception_handler(InvalidJob, invalid_job)
    app.add_exception_handler(JobNotFound, not_found)
    app.add_exception_handler(InvalidJobState, bad_state)
    app.add_exception_handler(QueueUnavailable, unavailable)
    app.add_exception_handler(JobQueueError, queue_error)
