"""Structured logs (structlog, JSON by default) and the request-id middleware.

Every line carries the request id of the request that caused it; secrets never
appear: known secret values are masked wherever they occur, and fields whose name
suggests a credential are dropped.
"""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from collections.abc import Iterable, MutableMapping
from typing import Any

import structlog
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "x-request-id"
_SAFE_ID = re.compile(r"^[A-Za-z0-9_.:\-]{1,128}$")
_SENSITIVE_KEYS = ("authorization", "token", "secret", "password", "api_key", "signature")
REDACTED = "[redacted]"


class Redactor:
    """A structlog processor: masks known secret values and credential-like fields."""

    def __init__(self, secrets: Iterable[str] = ()):
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def _mask(self, value: Any) -> Any:
        if isinstance(value, str):
            for secret in self.secrets:
                if secret in value:
                    value = value.replace(secret, REDACTED)
            return value
        if isinstance(value, dict):
            return {k: self._mask(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self._mask(v) for v in value]
        return value

    def __call__(self, _logger: Any, _method: str, event: MutableMapping[str, Any]) -> Any:
        for key in list(event):
            if any(s in key.lower() for s in _SENSITIVE_KEYS):
                event[key] = REDACTED
            else:
                event[key] = self._mask(event[key])
        return event


def configure_logging(level: str = "info", fmt: str = "json", secrets: Iterable[str] = ()) -> None:
    """Configure structlog for the process (idempotent; called when the app starts)."""
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            Redactor(secrets),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
        cache_logger_on_first_use=False,
    )


def request_id_from(scope: Scope) -> str:
    """The caller's X-Request-ID (or Vercel's x-vercel-id) when well formed, else a new one."""
    headers = dict(scope.get("headers") or [])
    for name in (REQUEST_ID_HEADER.encode(), b"x-vercel-id"):
        value = headers.get(name, b"").decode("latin-1")
        if _SAFE_ID.match(value):
            return value
    return uuid.uuid4().hex


class RequestContextMiddleware:
    """Binds a request id to every log line of a request, echoes it, logs one access line,
    and turns an unhandled exception into a JSON 500 (no stack trace in the response).

    The access line has method, path, status and duration: never headers or the query.
    """

    def __init__(self, app: ASGIApp):
        self.app = app
        self.log = structlog.get_logger("app.access")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        tokens = structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status, response_started = message["status"], True
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER.encode(), request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            # The answer to anything unforeseen: a JSON 500 with the request id, and the
            # traceback in the log only (never in the response).
            self.log.error("unhandled error", path=scope["path"], exc_info=exc)
            if response_started:
                raise
            body = {"detail": "internal error; the logs have the details", "request_id": request_id}
            await JSONResponse(body, status_code=500)(scope, receive, send_with_id)
        finally:
            ms = round((time.perf_counter() - started) * 1000, 1)
            self.log.info(
                "request",
                method=scope["method"],
                path=scope["path"],
                status=status,
                duration_ms=ms,
            )
            structlog.contextvars.unbind_contextvars("caller")  # bound by the auth dependency
            structlog.contextvars.reset_contextvars(**tokens)
