"""Request body size limit: 413 before the body is read when Content-Length says so,
and while reading when a chunked body grows past the limit."""

from __future__ import annotations

from collections.abc import Callable

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def too_large(limit: int) -> str:
    return f"request body is larger than the limit of {limit} bytes (MAX_REQUEST_BYTES)"


class BodySizeLimitMiddleware:
    def __init__(self, app: ASGIApp, limit: Callable[[Scope], int]):
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit(scope)
        length = dict(scope["headers"]).get(b"content-length", b"")
        if length.isdigit() and int(length) > limit:
            await JSONResponse({"detail": too_large(limit)}, status_code=413)(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # FastAPI re-raises HTTPException from body parsing: the handler answers 413
                    raise HTTPException(413, too_large(limit))
            return message

        await self.app(scope, limited_receive, send)
