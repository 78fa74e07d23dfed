"""A local Upstash-compatible REST server in front of any Redis (RESP) server.

For development, tests, self-hosting and benchmarks: the `upstash-redis` SDK (and our
Upstash transport) talk to it unchanged. It follows Upstash's documented protocol:

- ``POST /`` with a JSON command array -> ``{"result": ...}``; a failed command -> 400
  ``{"error": "ERR ..."}``. Path style works too: ``GET /get/key``, ``POST /set/key``
  (the body is the last argument).
- ``POST /pipeline`` (not atomic) and ``POST /multi-exec`` (MULTI/EXEC on one
  connection) with an array of commands -> an array of ``{"result"}``/``{"error"}``.
- ``Authorization: Bearer <token>``, else 401; ``Upstash-Encoding: base64`` encodes
  every string in a result except a plain ``OK``.

Replies are raw RESP replies (no redis-py response callbacks). Counters of the HTTP
requests served live in ``app.state.requests`` (a `RequestCounts`), and behind
``GET /_jobqueue/requests`` for a server running in another process.

    python -m jobqueue.restserver --redis-url redis://127.0.0.1:6379 --token secret
"""

from __future__ import annotations

import argparse
import base64
import hmac
import json
import os
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

import structlog
from redis.asyncio import ConnectionPool
from redis.asyncio.connection import DefaultParser
from redis.exceptions import RedisError, ResponseError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

log = structlog.get_logger("jobqueue.restserver")

COUNTS_PATH = "/_jobqueue/requests"
# Commands that change a pooled connection's state; Upstash's REST API refuses them too.
STATEFUL = frozenset(
    "MULTI EXEC DISCARD WATCH UNWATCH SELECT SUBSCRIBE PSUBSCRIBE SSUBSCRIBE UNSUBSCRIBE "
    "PUNSUBSCRIBE SUNSUBSCRIBE MONITOR HELLO RESET AUTH QUIT SYNC PSYNC".split()
)


class BadRequest(Exception):
    """The request body is not a valid command (or list of commands)."""


class _RawErrorParser(DefaultParser):  # type: ignore[misc,valid-type]
    """Keep error replies whole ("NOSCRIPT ...", "ERR ..."): redis-py strips the code."""

    @classmethod
    def parse_error(cls, response: str) -> ResponseError:
        return ResponseError(response)


@dataclass
class RequestCounts:
    """HTTP requests served: in total and per path ('/', '/pipeline', '/get', ...)."""

    total: int = 0
    by_path: Counter[str] = field(default_factory=Counter)

    def add(self, path: str) -> None:
        self.total += 1
        self.by_path[path] += 1

    def reset(self) -> None:
        self.total = 0
        self.by_path.clear()


class _CountRequests:
    """ASGI middleware: count every HTTP request (including refused ones) by path."""

    def __init__(self, app: ASGIApp, counts: RequestCounts) -> None:
        self.app, self.counts = app, counts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] != COUNTS_PATH:
            self.counts.add("/" + scope["path"].strip("/").split("/", 1)[0].lower())
        await self.app(scope, receive, send)


def _arg(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise BadRequest(f"command arguments must be strings or numbers, not {json.dumps(value)}")


def parse_command(value: Any) -> list[str]:
    """A JSON command array as Redis arguments; raises `BadRequest`."""
    if not isinstance(value, list) or not value:
        raise BadRequest("a command must be a non-empty JSON array, e.g. [\"GET\", \"key\"]")
    args = [_arg(v) for v in value]
    name = args[0].upper()
    if name in STATEFUL or (name == "CLIENT" and len(args) > 1 and args[1].upper() == "REPLY"):
        raise BadRequest(f"ERR command {args[0]!r} is not supported over REST")
    return args


def _json_body(raw: bytes) -> Any:
    def reject(constant: str) -> Any:
        raise BadRequest(f"invalid JSON constant {constant}")

    try:
        return json.loads(raw, parse_constant=reject)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"the body must be JSON: {exc}") from None


def encode(value: Any, b64: bool) -> Any:
    """A RESP reply as JSON: strings as text (or base64, except a plain OK), recursively."""
    if isinstance(value, bytes):
        if b64 and value != b"OK":
            return base64.b64encode(value).decode("ascii")
        return value.decode("utf-8", "replace")
    if isinstance(value, list | tuple):
        return [encode(v, b64) for v in value]
    if value is None or isinstance(value, int):
        return value
    return encode(str(value).encode(), b64)  # an error nested in an array, a RESP3 double


def _item(reply: Any, b64: bool) -> dict[str, Any]:
    if isinstance(reply, ResponseError):
        return {"error": str(reply)}
    return {"result": encode(reply, b64)}


async def execute(pool: ConnectionPool, commands: list[list[str]]) -> list[Any]:
    """Send ``commands`` pipelined on one connection; error replies come back as values."""
    conn = await pool.get_connection()
    try:
        await conn.send_packed_command(conn.pack_commands(commands))
        replies: list[Any] = []
        for _ in commands:
            try:
                replies.append(await conn.read_response())
            except ResponseError as exc:
                replies.append(exc)
        return replies
    except BaseException:
        await conn.disconnect()  # never hand back a connection with unread replies
        raise
    finally:
        await pool.release(conn)


def _authorized(request: Request, token: str) -> bool:
    given = request.headers.get("authorization", "").encode()
    return hmac.compare_digest(given, f"Bearer {token}".encode())


def create_app(redis_url: str, token: str) -> Starlette:
    """The ASGI app; its Redis connection pool is opened and closed by the lifespan."""
    if not token:
        raise ValueError("the REST server needs a non-empty token")
    counts = RequestCounts()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        pool = ConnectionPool.from_url(
            redis_url, parser_class=_RawErrorParser, socket_connect_timeout=5.0
        )
        app.state.pool = pool
        target = urlsplit(redis_url)
        log.info("rest server ready", redis=f"{target.hostname}:{target.port or 6379}")
        try:
            yield
        finally:
            await pool.aclose()

    async def handle(
        request: Request, kind: str, path_args: list[str] | None = None
    ) -> JSONResponse:
        if not _authorized(request, token):
            return JSONResponse({"error": "Unauthorized"}, status_code=401)
        b64 = request.headers.get("upstash-encoding", "").lower() == "base64"
        try:
            raw = await request.body()
            if path_args is not None:
                body = [*path_args, raw.decode("utf-8", "replace")] if raw else path_args
            else:
                body = _json_body(raw)
            if kind == "single":
                commands = [parse_command(body)]
            elif not isinstance(body, list) or not body:
                raise BadRequest("the body must be a non-empty JSON array of command arrays")
            else:
                commands = [parse_command(c) for c in body]
            if kind == "multi-exec":
                commands = [["MULTI"], *commands, ["EXEC"]]
            replies = await execute(request.app.state.pool, commands)
        except BadRequest as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        except (RedisError, OSError) as exc:
            log.warning("redis unavailable", error=f"{type(exc).__name__}: {exc}")
            return JSONResponse({"error": f"Redis unavailable: {exc}"}, status_code=503)
        if kind == "single":
            item = _item(replies[0], b64)
            return JSONResponse(item, status_code=400 if "error" in item else 200)
        if kind == "multi-exec":
            replies = replies[-1]  # EXEC: one reply per command, or EXECABORT
            if not isinstance(replies, list):
                error = str(replies) if replies is not None else "ERR transaction aborted"
                return JSONResponse({"error": error}, status_code=400)
        return JSONResponse([_item(r, b64) for r in replies])

    async def single(request: Request) -> JSONResponse:
        """POST / with one command array."""
        return await handle(request, "single")

    async def pipeline(request: Request) -> JSONResponse:
        """POST /pipeline: independent commands, one reply each."""
        return await handle(request, "pipeline")

    async def multi_exec(request: Request) -> JSONResponse:
        """POST /multi-exec: the commands as one MULTI/EXEC transaction."""
        return await handle(request, "multi-exec")

    async def path_style(request: Request) -> JSONResponse:
        """GET/POST /<command>/<arg>/...; a POST body is the last argument."""
        segments = [unquote(s) for s in request.scope["raw_path"].decode().split("/") if s]
        if segments in (["pipeline"], ["multi-exec"]):  # a base URL with a trailing slash
            return await handle(request, segments[0])
        return await handle(request, "single", segments)

    async def request_counts(request: Request) -> JSONResponse:
        """The request counters, for a server running in another process."""
        if not _authorized(request, token):
            return JSONResponse({"error": "Unauthorized"}, status_code=401)
        return JSONResponse({"total": counts.total, "by_path": dict(counts.by_path)})

    app = Starlette(
        routes=[
            Route("/", single, methods=["POST"]),
            Route("/pipeline", pipeline, methods=["POST"]),
            Route("/multi-exec", multi_exec, methods=["POST"]),
            Route(COUNTS_PATH, request_counts, methods=["GET"]),
            Route("/{rest:path}", path_style, methods=["GET", "POST"]),
        ],
        lifespan=lifespan,
    )
    app.add_middleware(_CountRequests, counts=counts)
    app.state.requests = counts
    return app


def main(argv: list[str] | None = None) -> None:
    """Command-line entry: run the server with uvicorn."""
    import uvicorn

    parser = argparse.ArgumentParser(
        prog="python -m jobqueue.restserver", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379"))
    parser.add_argument(
        "--token",
        default=os.environ.get("UPSTASH_REDIS_REST_TOKEN", ""),
        help="bearer token clients must send (default: $UPSTASH_REDIS_REST_TOKEN)",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8079)
    args = parser.parse_args(argv)
    if not args.token.strip():
        parser.error("an empty token is refused: pass --token or set UPSTASH_REDIS_REST_TOKEN")
    app = create_app(args.redis_url, args.token)
    log.info("starting rest server", host=args.host, port=args.port)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", ws="none")


if __name__ == "__main__":
    main()
