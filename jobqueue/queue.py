"""`JobQueue`: the client. Every method is one script call (one request)."""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
import time
import weakref
from collections.abc import Coroutine, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import structlog

from .clock import Clock, SystemClock
from .errors import InvalidJob, InvalidJobState, JobNotFound, QueueUnavailable
from .job import Job, JobStatus
from .keys import NAME_RE, Keys
from .registry import Registry, default_registry
from .request import EnqueueRequest, to_record, validate_request
from .scripts import (
    CANCEL,
    CLAIM,
    ENQUEUE,
    FINISH,
    GET,
    LIST,
    PURGE,
    RELEASE,
    REQUEUE,
    STATS,
    Script,
)
from .settings import QueueSettings
from .transports import StoreConfig, Transport, TransportFactory

log = structlog.get_logger("jobqueue")
MAX_BATCH = 1_000  # jobs per script call (Lua's unpack limit is near 8,000 values)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ClaimedJob:
    id: str
    type: str
    queue: str
    payload: Any  # JSON text
    attempt: int
    max_attempts: int
    timeout: float
    backoff: str  # JSON text
    token: str
    lease_until: int


@dataclass(frozen=True, slots=True)
class Claim:
    jobs: list[ClaimedJob]
    promoted: int
    recovered: list[str]  # expired leases put back in the queue
    expired: list[str]  # expired leases with no attempt left: now dead
    more: bool  # ready jobs remain in the claimed queues


@dataclass(frozen=True, slots=True)
class Outcome:
    """A finished run: kind 'ok' (data = result JSON), 'retry' or 'dead' (data = error)."""

    job: ClaimedJob
    kind: str
    data: str
    run_at: int = 0


def _serve(loop: asyncio.AbstractEventLoop) -> None:
    """The sync API's loop thread: run until stopped, then close the loop."""
    try:
        loop.run_forever()
    finally:
        loop.close()


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []  # cjson encodes {} for an empty array


def _record(flat: list[str]) -> dict[str, str]:
    return dict(zip(flat[::2], flat[1::2], strict=True))


class JobQueue:
    """A queue namespace in one store.

    ``store`` is a `StoreConfig`, a factory returning a `Transport`, or None to
    read the environment (Upstash REST, then REDIS_URL, else in memory).
    """

    def __init__(
        self,
        store: StoreConfig | TransportFactory | None = None,
        *,
        settings: QueueSettings | None = None,
        registry: Registry | None = None,
        clock: Clock | None = None,
    ):
        self.settings = settings or QueueSettings()
        config = StoreConfig.from_env() if store is None else store
        self.store_kind = config.kind if isinstance(config, StoreConfig) else "custom"
        if isinstance(config, StoreConfig):
            self._factory = config.factory(self.settings.request_timeout)
        else:
            self._factory = config
        if self.store_kind == "memory":
            log.warning(
                "in-memory store: nothing is persisted and other processes do not share it; "
                "set UPSTASH_REDIS_REST_URL/TOKEN or REDIS_URL for a real store"
            )
        self.registry = registry or default_registry
        self.clock = clock or SystemClock()
        self.keys = Keys(self.settings.namespace)
        self._transports: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Transport] = (
            weakref.WeakKeyDictionary()
        )
        self._sync_loop: asyncio.AbstractEventLoop | None = None
        self._sync_lock = threading.Lock()

    # -- plumbing ---------------------------------------------------------------

    def transport(self) -> Transport:
        """This event loop's transport (clients are never shared across loops)."""
        loop = asyncio.get_running_loop()
        transport = self._transports.get(loop)
        if transport is None:
            transport = self._transports[loop] = self._factory()
        return transport

    async def _run(self, script: Script, *args: Any, now: int | None = None) -> Any:
        head = [self.keys.prefix, self.clock.now_ms() if now is None else now]
        return await self.transport().run(script, self.keys.script_keys, [*head, *args])

    def run_sync(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine of this queue from synchronous code (Django, Flask, scripts).

        Uses one private event loop on a daemon thread, so connections are reused.
        """
        with self._sync_lock:
            if self._sync_loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=_serve, args=(loop,), name="jq-sync", daemon=True)
                thread.start()
                self._sync_loop = loop
        return asyncio.run_coroutine_threadsafe(coro, self._sync_loop).result()

    async def ping(self) -> float:
        """Seconds one round trip to the store takes; raises `QueueUnavailable`."""
        start = time.perf_counter()
        await self.transport().ping()
        return time.perf_counter() - start

    async def close(self) -> None:
        """Close this event loop's transport, and the sync API's loop if it was used."""
        await self._close_loop_transport()
        sync_loop, self._sync_loop = self._sync_loop, None
        if sync_loop is not None:
            done = asyncio.run_coroutine_threadsafe(self._close_loop_transport(), sync_loop)
            await asyncio.wrap_future(done)
            sync_loop.call_soon_threadsafe(sync_loop.stop)

    def close_sync(self) -> None:
        """`close` for synchronous code."""
        sync_loop, self._sync_loop = self._sync_loop, None
        if sync_loop is not None:
            asyncio.run_coroutine_threadsafe(self._close_loop_transport(), sync_loop).result()
            sync_loop.call_soon_threadsafe(sync_loop.stop)

    async def _close_loop_transport(self) -> None:
        transport = self._transports.pop(asyncio.get_running_loop(), None)
        if transport is not None:
            await transport.close()

    # -- enqueue ----------------------------------------------------------------

    async def enqueue(self, type: str, payload: Any = None, **options: Any) -> Job:
        """Enqueue one job; see `EnqueueRequest` for the options."""
        now = self.clock.now_ms()
        record = self._record({"type": type, "payload": payload, **options}, now)
        return (await self._enqueue_records([record], now))[0]

    def enqueue_sync(self, type: str, payload: Any = None, **options: Any) -> Job:
        return self.run_sync(self.enqueue(type, payload, **options))

    async def enqueue_many(self, requests: Sequence[dict[str, Any] | EnqueueRequest]) -> list[Job]:
        """Validate every request, then write them all in one request.

        An `InvalidJob` names the request by its index: ``loc`` starts with it.
        """
        now = self.clock.now_ms()
        records = []
        for i, request in enumerate(requests):
            try:
                records.append(self._record(request, now))
            except InvalidJob as exc:  # UnknownJobType included; keep the class
                exc.args = (f"job {i}: {exc}",)
                raise exc.nest(i) from None
        return await self._enqueue_records(records, now)

    def _record(self, request: dict[str, Any] | EnqueueRequest, now: int) -> dict[str, Any]:
        req = request if isinstance(request, EnqueueRequest) else validate_request(request)
        return to_record(req, self.registry, self.settings, now)

    async def _enqueue_records(self, records: list[dict[str, Any]], now: int) -> list[Job]:
        rows: list[list[Any]] = []
        for i in range(0, len(records), MAX_BATCH):
            rows += await self._run(ENQUEUE, json.dumps(records[i : i + MAX_BATCH]), now=now)
        jobs = []
        for rec, (job_id, status, dedup, existing) in zip(records, rows, strict=True):
            if dedup:
                jobs.append(Job.from_record(_record(existing), deduplicated=True))
                log.info("job deduplicated", job_id=job_id, type=rec["type"], queue=rec["queue"])
                continue
            jobs.append(Job.from_record({**rec, "status": status, "created_at": now}))
            log.info("job enqueued", job_id=job_id, type=rec["type"], queue=rec["queue"])
        return jobs

    # -- reading ----------------------------------------------------------------

    async def _records(self, ids: Sequence[str]) -> list[dict[str, str]]:
        rows = await self._run(GET, json.dumps(list(ids)))
        return [_record(_list(flat)) for flat in rows]

    async def get(self, job_id: str) -> Job | None:
        """The job, or None when it does not exist (or its record expired)."""
        rec = (await self._records([job_id]))[0]
        return Job.from_record(rec) if rec else None

    async def get_many(self, ids: Sequence[str]) -> list[Job | None]:
        return [Job.from_record(r) if r else None for r in await self._records(ids)]

    async def list_jobs(
        self,
        status: JobStatus | str,
        *,
        queue: str | None = None,
        type: str | None = None,
        cursor: int = 0,
        limit: int = 50,
        scan: int = 1_000,
    ) -> tuple[list[Job], int | None]:
        """Jobs in one state, oldest first (finished ones newest first).

        Returns the page and the cursor of the next one (None at the end). A page
        examines at most ``scan`` ids, so a filter may return a short page early.
        """
        args = {
            "status": JobStatus(status).value,
            "queue": queue or "",
            "type": type or "",
            "offset": max(0, cursor),
            "limit": max(1, limit),
            "scan": max(limit, scan),
        }
        res = await self._run(LIST, json.dumps(args))
        jobs = [Job.from_record(_record(flat)) for flat in _list(res["jobs"])]
        return jobs, (None if res["next"] < 0 else res["next"])

    async def list_dead(self, cursor: int = 0, limit: int = 50) -> tuple[list[Job], int | None]:
        """The dead letters, newest first."""
        return await self.list_jobs(JobStatus.DEAD, cursor=cursor, limit=limit)

    async def stats(self, dead_sample: int = 5) -> dict[str, Any]:
        """Counts per queue (ready, scheduled, running) with counters, and the dead list."""
        raw = await self._run(STATS, dead_sample)
        queues = raw["queues"] if isinstance(raw["queues"], dict) else {}
        for q in queues.values():
            counters = q["counters"] if isinstance(q["counters"], dict) else {}
            q["counters"] = {k: int(v) for k, v in counters.items()}
        return {"queues": queues, "dead": raw["dead"], "dead_sample": _list(raw["dead_sample"])}

    # -- admin ------------------------------------------------------------------

    async def cancel(self, job_id: str) -> Job:
        """Cancel a queued or scheduled job; `InvalidJobState` if running or finished."""
        s = self.settings
        outcome, status, flat = await self._run(
            CANCEL, job_id, int(s.succeeded_ttl * 1000), s.keep_succeeded
        )
        if outcome == "missing":
            raise JobNotFound(f"no job {job_id}")
        if outcome == "refused":
            raise InvalidJobState(job_id, status, "cancel")
        log.info("job cancelled", job_id=job_id)
        return Job.from_record(_record(_list(flat)))

    async def requeue(self, ids: Iterable[str] | None = None) -> dict[str, Any]:
        """Put dead (or cancelled) jobs back in their queue; ``None`` = the whole dead list."""
        arg = "all" if ids is None else json.dumps(list(ids))
        res = await self._run(REQUEUE, arg)
        requeued = _list(res["requeued"])
        log.info("jobs requeued", job_ids=requeued)
        return {"requeued": requeued, "skipped": [tuple(x) for x in _list(res["skipped"])]}

    async def purge_dead(self) -> int:
        """Delete the dead list and its records; returns how many were on it."""
        count = await self._run(PURGE)
        log.info("dead letters purged", count=count)
        return count

    # -- the drain's two requests ---------------------------------------------------

    async def claim(
        self,
        count: int,
        *,
        max_lease: float,
        budget: float | None = None,
        queues: Sequence[str] | None = None,
        ids: Sequence[str] | None = None,
    ) -> Claim:
        """Promote, recover, then lease up to ``count`` jobs (or exactly ``ids``).

        ``max_lease`` is the time left; a job whose timeout is over it, but within
        ``budget`` (a whole drain's), stays queued for the next drain.
        """
        s = self.settings
        bad = [name for name in queues or [] if not NAME_RE.match(name)]
        if bad:
            raise InvalidJob(
                f"invalid queue name {bad[0]!r}",
                [{"loc": ["queue"], "msg": f"must match {NAME_RE.pattern}", "type": "pattern"}],
            )
        args = {
            "count": min(count, MAX_BATCH),
            "token": secrets.token_hex(8),
            "max_lease_ms": int(max_lease * 1000),
            "budget_ms": int((budget or 0) * 1000),
            "margin_ms": int(s.lease_margin * 1000),
            "dead_cap": s.dead_cap,
            "dead_ttl_ms": int(s.dead_ttl * 1000),
            "done_ttl_ms": int(s.succeeded_ttl * 1000),
            "done_cap": s.keep_succeeded,
            "sweep": s.sweep,
            "queues": list(queues or []),
            "ids": list(ids or []),
        }
        try:
            res = await self._run(CLAIM, json.dumps(args))
        except QueueUnavailable:
            await self._release(args["token"])
            raise
        jobs = [
            ClaimedJob(i, t, q, p, int(a), int(m), tm / 1000, b, tok, int(lu))
            for i, t, q, p, a, m, tm, b, tok, lu in _list(res["jobs"])
        ]
        recovered, expired = _list(res["recovered"]), _list(res["expired"])
        return Claim(jobs, int(res["promoted"]), recovered, expired, bool(res["more"]))

    async def _release(self, token: str) -> None:
        """Undo a claim whose answer was lost, if it was applied (best effort)."""
        try:
            released = await self._run(RELEASE, token)
        except QueueUnavailable as exc:
            log.warning("claim answer lost; its jobs wait for their leases", error=str(exc))
            return
        if released:
            log.warning("claim answer lost; its jobs were put back", released=released)

    async def finish(self, outcomes: Sequence[Outcome]) -> dict[str, Any]:
        """Apply a batch of outcomes, each fenced by its lease token."""
        s = self.settings
        args = {
            "done_ttl_ms": int(s.succeeded_ttl * 1000),
            "done_cap": s.keep_succeeded,
            "dead_ttl_ms": int(s.dead_ttl * 1000),
            "dead_cap": s.dead_cap,
            "claims": sorted({o.job.token.rsplit(":", 1)[0] for o in outcomes}),
            "outcomes": [[o.job.id, o.job.token, o.kind, o.data, o.run_at] for o in outcomes],
        }
        res = await self._run(FINISH, json.dumps(args))
        res["stale"] = _list(res.get("stale"))
        return res

    async def drain(self, limit: int = 100, budget: float = 25.0, queues=None, **kw: Any):
        """Claim and run jobs until ``limit`` or the time ``budget`` runs out."""
        from .drain import drain

        return await drain(self, limit=limit, budget=budget, queues=queues, **kw)
