"""The Upstash transport facing faults: every one is `QueueUnavailable`, and no job is lost."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

import jobqueue
from jobqueue import FakeClock, JobQueue, QueueSettings, QueueUnavailable, Registry, StoreConfig
from jobqueue.scripts import CLAIM, FINISH, RELEASE
from tests.servers import RestServer, free_port, redis_server, rest_server, serve_app

TIMEOUT = 0.5


@pytest.fixture(scope="module")
def rest() -> Iterator[RestServer]:
    with redis_server() as url, rest_server(url) as server:
        yield server


@pytest.fixture
def runs() -> Counter[str]:
    return Counter()


@pytest.fixture
def registry(runs: Counter[str]) -> Registry:
    reg = Registry()

    @reg.handler("noop", timeout=5.0)
    async def noop(payload: Any, ctx: jobqueue.JobContext) -> str:
        runs[ctx.job_id] += 1
        return "done"

    return reg


@pytest.fixture
async def queues(registry: Registry) -> AsyncIterator[Any]:
    """Build queues on one fresh namespace and one fake clock; close them afterwards."""
    made: list[JobQueue] = []
    namespace = uuid.uuid4().hex[:12]
    clock = FakeClock()

    def make(url: str, token: str = "test-token", timeout: float = TIMEOUT) -> JobQueue:
        store = StoreConfig("upstash", url, token)
        settings = QueueSettings(namespace=namespace, request_timeout=timeout)
        q = JobQueue(store, settings=settings, registry=registry, clock=clock)
        made.append(q)
        return q

    make.clock = clock  # type: ignore[attr-defined]
    yield make
    for q in made:
        await q.close()


def assert_clean_unavailable(exc: pytest.ExceptionInfo[QueueUnavailable], *words: str) -> None:
    message = str(exc.value)
    assert message.startswith("upstash store: ")
    for word in words:
        assert word in message, message
    assert type(exc.value) is QueueUnavailable
    assert exc.value.__cause__ is not None  # the original error, chained for debugging


# -- (a) nothing listening ------------------------------------------------------------


async def test_unreachable_server(queues: Any) -> None:
    q = queues(f"http://127.0.0.1:{free_port()}")
    start = time.monotonic()
    with pytest.raises(QueueUnavailable) as exc:
        await q.enqueue("noop", {"n": 1})
    assert_clean_unavailable(exc, "script enqueue failed", "ConnectError")
    with pytest.raises(QueueUnavailable) as exc:
        await q.ping()
    assert_clean_unavailable(exc, "ping failed")
    with pytest.raises(QueueUnavailable):
        await q.drain(limit=10, budget=5)
    with pytest.raises(QueueUnavailable):
        await q.stats()
    assert time.monotonic() - start < 3


# -- (b) a server that accepts and never answers ---------------------------------------


@contextmanager
def silent_server() -> Iterator[str]:
    """Accept connections, read, never reply; yield the URL."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.05)
    held: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            held.append(conn)

    thread = threading.Thread(target=serve, name="silent-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in held:
            conn.close()
        listener.close()


async def test_hanging_server_times_out(queues: Any) -> None:
    with silent_server() as url:
        q = queues(url)
        start = time.monotonic()
        with pytest.raises(QueueUnavailable) as exc:
            await q.enqueue("noop", {"n": 1})  # idempotent: one retry, two timeouts
        assert_clean_unavailable(exc, "script enqueue failed", "timed out")
        assert time.monotonic() - start < 2 * TIMEOUT + 1.0
        start = time.monotonic()
        with pytest.raises(QueueUnavailable) as exc:
            await q.drain(limit=10, budget=5)  # claim not retried; one try to release it
        assert_clean_unavailable(exc, "script claim failed", "timed out")
        assert time.monotonic() - start < 2 * TIMEOUT + 1.0


# -- (c) server errors ------------------------------------------------------------------


def error_app(status: int, body: bytes, media_type: str) -> Starlette:
    async def fail(request: Request) -> Response:
        return Response(body, status_code=status, media_type=media_type)

    return Starlette(routes=[Route("/{path:path}", fail, methods=["GET", "POST"])])


@pytest.mark.parametrize(
    ("status", "body", "media_type"),
    [
        (500, b"Internal Server Error", "text/plain"),
        (500, b'{"error": "ERR something broke"}', "application/json"),
        (500, b'{"message": "no result field"}', "application/json"),
        (502, b"<html><body>Bad Gateway</body></html>", "text/html"),
        (503, b"", "text/plain"),
    ],
    ids=["500-text", "500-json-error", "500-json-other", "502-html", "503-empty"],
)
async def test_server_errors(queues: Any, status: int, body: bytes, media_type: str) -> None:
    with serve_app(error_app(status, body, media_type)) as url:
        q = queues(url)
        with pytest.raises(QueueUnavailable) as exc:
            await q.enqueue("noop", {"n": 1})
        assert_clean_unavailable(exc, "script enqueue failed")
        with pytest.raises(QueueUnavailable):
            await q.drain(limit=10, budget=5)
        with pytest.raises(QueueUnavailable):
            await q.ping()


async def test_wrong_token(queues: Any, rest: RestServer) -> None:
    q = queues(rest.url, token="not-the-token")
    with pytest.raises(QueueUnavailable) as exc:
        await q.enqueue("noop", {"n": 1})
    assert_clean_unavailable(exc, "Unauthorized")


# -- (d) no job is lost -----------------------------------------------------------------


async def enqueue_noops(q: JobQueue, n: int) -> list[str]:
    return [j.id for j in await q.enqueue_many([{"type": "noop", "payload": i} for i in range(n)])]



class FaultyProxy:
    """A proxy in front of the REST server whose behaviour a test switches per request.

    Modes: 'pass'; 'down' (500, nothing forwarded); 'lose' (forwarded, then 500: the
    store applied the request but the client never learns); 'hang' (forwarded, then no
    answer before the client's timeout). ``only`` limits faults to bodies containing it;
    bodies containing ``block`` are always refused ('down').
    """

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.mode = "pass"
        self.only: str | None = None
        self.block: str | None = None
        self.faults = 0
        self.app = Starlette(routes=[Route("/{path:path}", self.handle, methods=["POST"])])

    async def forward(self, request: Request, body: bytes) -> Response:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host",)}
        async with httpx.AsyncClient() as client:
            r = await client.post(
                f"{self.upstream}/{request.path_params['path']}", content=body, headers=headers
            )
        return Response(r.content, status_code=r.status_code, media_type="application/json")

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        if self.block and self.block.encode() in body:
            self.faults += 1
            return JSONResponse({"error": "proxy refused"}, status_code=500)
        if self.mode == "pass" or (self.only and self.only.encode() not in body):
            return await self.forward(request, body)
        self.faults += 1
        if self.mode == "down":
            return JSONResponse({"error": "proxy down"}, status_code=500)
        await self.forward(request, body)
        if self.mode == "hang":
            await asyncio.sleep(TIMEOUT * 4)
        return Response(b"upstream response lost", status_code=500)


@pytest.fixture
def proxy(rest: RestServer) -> Iterator[FaultyProxy]:
    # Cache the scripts in Redis first, so a fault hits the EVALSHA that carries the work
    # (not an EVALSHA answered NOSCRIPT that never ran).
    for script in (CLAIM, FINISH, RELEASE):
        r = httpx.post(
            rest.url, json=["SCRIPT", "LOAD", script.source],
            headers={"Authorization": f"Bearer {rest.token}"},
        )
        assert r.json() == {"result": script.sha}
    p = FaultyProxy(rest.url)
    with serve_app(p.app, grace=0.2) as url:
        p.url = url  # type: ignore[attr-defined]
        yield p


async def test_failed_claims_lose_no_job(
    queues: Any, rest: RestServer, proxy: FaultyProxy, runs: Counter[str]
) -> None:
    good = queues(rest.url, timeout=10.0)  # the working path: generous under a loaded CI
    bad = queues(proxy.url)  # type: ignore[attr-defined]
    ids = await enqueue_noops(good, 30)

    proxy.mode = "down"  # the claim never reaches the store (nor the release after it)
    with pytest.raises(QueueUnavailable):
        await bad.drain(limit=100, budget=10)
    assert proxy.faults == 2  # claim and release, each tried once
    proxy.mode, proxy.only = "lose", CLAIM.sha  # the claim leases 10 jobs; the answer is lost
    with pytest.raises(QueueUnavailable):
        await bad.drain(limit=10, budget=10, batch_size=10)
    proxy.mode = "hang"  # the next 10 are leased, the client times out
    start = time.monotonic()
    with pytest.raises(QueueUnavailable, match="timed out"):
        await bad.drain(limit=10, budget=10, batch_size=10)
    assert time.monotonic() - start < TIMEOUT + 1.0
    assert proxy.faults == 4
    assert not runs  # no handler ran: no claim answer ever arrived

    # Each lost claim was released at once: no lease to wait for, no attempt used.
    summary = await good.drain(limit=100, budget=10)
    assert (summary.succeeded, summary.recovered) == (30, 0)
    assert runs == Counter({job_id: 1 for job_id in ids})  # every job ran exactly once
    jobs = await good.get_many(ids)
    assert all(j is not None and j.status == jobqueue.JobStatus.SUCCEEDED for j in jobs)
    assert {j.attempts for j in jobs if j is not None} == {1}


async def test_a_lost_claim_that_cannot_be_released_waits_for_its_leases(
    queues: Any, rest: RestServer, proxy: FaultyProxy, runs: Counter[str]
) -> None:
    good = queues(rest.url, timeout=10.0)
    bad = queues(proxy.url)  # type: ignore[attr-defined]
    ids = await enqueue_noops(good, 10)
    proxy.mode, proxy.only, proxy.block = "lose", CLAIM.sha, RELEASE.sha
    with pytest.raises(QueueUnavailable):
        await bad.drain(limit=10, budget=10, batch_size=10)
    assert proxy.faults == 2 and not runs

    assert (await good.drain(limit=100, budget=10)).claimed == 0  # leases still held
    queues.clock.advance(10 + good.settings.lease_margin + 1)
    summary = await good.drain(limit=100, budget=10)
    assert (summary.recovered, summary.succeeded) == (10, 10)
    assert runs == Counter({job_id: 1 for job_id in ids})
    assert {j.attempts for j in await good.get_many(ids) if j is not None} == {2}


async def test_failed_finish_reruns_without_loss(
    queues: Any, rest: RestServer, proxy: FaultyProxy, runs: Counter[str]
) -> None:
    """The outcome of a batch is lost: the jobs run again after their lease (at least once)."""
    good = queues(rest.url, timeout=10.0)
    bad = queues(proxy.url)  # type: ignore[attr-defined]
    ids = await enqueue_noops(good, 5)
    proxy.mode, proxy.only = "down", FINISH.sha
    with pytest.raises(QueueUnavailable, match="script finish failed"):
        await bad.drain(limit=100, budget=10)
    assert runs == Counter({job_id: 1 for job_id in ids})
    assert proxy.faults == 2  # finish is idempotent (fenced), so it was retried once

    assert (await good.drain(limit=100, budget=10)).claimed == 0  # leases still held
    queues.clock.advance(10 + good.settings.lease_margin + 1)
    summary = await good.drain(limit=100, budget=10)
    assert (summary.recovered, summary.succeeded) == (5, 5)
    assert runs == Counter({job_id: 2 for job_id in ids})
    jobs = await good.get_many(ids)
    assert all(j is not None and j.status == jobqueue.JobStatus.SUCCEEDED for j in jobs)


async def test_rest_server_stopped_mid_way(queues: Any, runs: Counter[str]) -> None:
    """Jobs survive the REST server going away: a new server on the same Redis drains them."""
    with redis_server() as redis_url:
        with rest_server(redis_url) as first:
            q1 = queues(first.url, timeout=10.0)
            ids = await enqueue_noops(q1, 8)
        with pytest.raises(QueueUnavailable):
            await q1.drain(limit=100, budget=10)  # the server is gone
        assert not runs
        with rest_server(redis_url) as second:
            q2 = queues(second.url, timeout=10.0)
            summary = await q2.drain(limit=100, budget=10)
    assert summary.succeeded == 8
    assert runs == Counter({job_id: 1 for job_id in ids})
