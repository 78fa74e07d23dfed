"""The behavioural suite: every test runs on memory, redis and upstash (see conftest)."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from pydantic import BaseModel

from jobqueue import (
    FakeClock,
    InvalidJob,
    InvalidJobState,
    JobContext,
    JobNotFound,
    JobQueue,
    JobStatus,
    PermanentError,
    QueueUnavailable,
    Registry,
    RetryLater,
    UnknownJobType,
)


class Greeting(BaseModel):
    name: str
    times: int = 1


@pytest.fixture
def runs(registry: Registry) -> Counter:
    """Registers 'ok', 'greet' (validated), 'fail' and 'perm'; counts runs by job id."""
    seen: Counter = Counter()

    @registry.handler("ok")
    async def ok(payload, ctx: JobContext):
        seen[ctx.job_id] += 1
        return {"echo": payload, "attempt": ctx.attempt}

    @registry.handler("greet", model=Greeting)
    def greet(payload: Greeting, ctx: JobContext):  # a sync handler runs in a thread
        seen[ctx.job_id] += 1
        return f"hello {payload.name}" * payload.times

    @registry.handler("fail", max_attempts=3, backoff=[10, 20])
    async def fail(payload, ctx: JobContext):
        seen[ctx.job_id] += 1
        raise RuntimeError(f"boom {ctx.attempt}")

    @registry.handler("perm", max_attempts=5)
    async def perm(payload, ctx: JobContext):
        seen[ctx.job_id] += 1
        raise PermanentError("bad input")

    return seen


async def test_enqueue_then_drain_runs_the_job(q: JobQueue, runs: Counter):
    job = await q.enqueue("ok", {"x": 1})
    assert job.status == JobStatus.QUEUED and not job.deduplicated
    assert (await q.get(job.id)).payload == {"x": 1}

    summary = await q.drain(limit=10, budget=5)

    assert (summary.claimed, summary.succeeded, summary.more) == (1, 1, False)
    done = await q.get(job.id)
    assert done.status == JobStatus.SUCCEEDED
    assert done.result == {"echo": {"x": 1}, "attempt": 1}
    assert done.attempts == 1 and done.finished_at is not None
    assert runs[job.id] == 1


async def test_validated_payload_and_sync_handler(q: JobQueue, runs: Counter):
    job = await q.enqueue("greet", {"name": "ada", "times": 2})
    assert job.payload == {"name": "ada", "times": 2}
    await q.drain()
    assert (await q.get(job.id)).result == "hello adahello ada"


async def test_bad_input_is_refused_before_anything_is_written(q: JobQueue, runs: Counter):
    with pytest.raises(UnknownJobType) as unknown:
        await q.enqueue("nope", {})
    assert "greet" in str(unknown.value) and unknown.value.known == sorted(
        ["ok", "greet", "fail", "perm"]
    )
    with pytest.raises(InvalidJob) as invalid:
        await q.enqueue("greet", {"times": "many"})
    fields = {tuple(e["loc"]) for e in invalid.value.errors}
    assert ("payload", "name") in fields and ("payload", "times") in fields
    with pytest.raises(InvalidJob) as option:
        await q.enqueue("ok", {}, priority="high", queue="no spaces")
    assert {e["loc"][0] for e in option.value.errors} == {"priority", "queue"}
    with pytest.raises(InvalidJob) as batch:  # the first is fine, not the second: no write
        await q.enqueue_many([{"type": "ok"}, {"type": "ok", "max_attempts": 0}])
    assert [e["loc"] for e in batch.value.errors] == [[1, "max_attempts"]]
    assert (await q.stats())["queues"] == {}


async def test_same_job_id_creates_one_job(q: JobQueue, runs: Counter):
    first = await q.enqueue("ok", {"n": 1}, job_id="order-42")
    again = await q.enqueue("ok", {"n": 2}, job_id="order-42")
    assert again.id == first.id == "order-42"
    assert again.deduplicated and again.payload == {"n": 1}
    await q.drain()
    assert runs["order-42"] == 1
    assert (await q.stats())["queues"]["default"]["counters"]["enqueued"] == 1


async def test_dedupe_key_returns_the_first_job_within_its_window(
    q: JobQueue, runs: Counter, clock: FakeClock
):
    first = await q.enqueue("ok", {}, dedupe_key="user-7", dedupe_window=60)
    dup = await q.enqueue("ok", {}, dedupe_key="user-7")
    assert dup.id == first.id and dup.deduplicated
    clock.advance(61)
    later = await q.enqueue("ok", {}, dedupe_key="user-7")
    assert later.id != first.id and not later.deduplicated


async def test_delay_and_run_at_wait_for_their_time(q: JobQueue, runs: Counter, clock: FakeClock):
    job = await q.enqueue("ok", {}, delay=30)
    assert job.status == JobStatus.SCHEDULED
    assert (await q.drain()).claimed == 0
    clock.advance(29.999)
    assert (await q.drain()).claimed == 0
    clock.advance(0.001)
    assert (await q.drain()).succeeded == 1
    assert runs[job.id] == 1


async def test_priority_lower_runs_first_and_fifo_within_a_priority(
    q: JobQueue, runs: Counter
):
    ids = [
        (await q.enqueue("ok", {}, priority=p, job_id=f"p{p}-{i}")).id
        for i, p in enumerate([5, 0, -1, 0, 5])
    ]
    claim = await q.claim(10, max_lease=30)
    assert [j.id for j in claim.jobs] == [ids[2], ids[1], ids[3], ids[0], ids[4]]


async def test_queues_are_separate(q: JobQueue, runs: Counter):
    a = await q.enqueue("ok", {}, queue="emails")
    b = await q.enqueue("ok", {}, queue="reports")
    summary = await q.drain(queues=["emails"])
    assert summary.succeeded == 1
    assert (await q.get(a.id)).status == JobStatus.SUCCEEDED
    assert (await q.get(b.id)).status == JobStatus.QUEUED


async def test_retries_follow_the_backoff_then_dead_letter(
    q: JobQueue, runs: Counter, clock: FakeClock
):
    job = await q.enqueue("fail", {})
    start = clock.now_ms()

    assert (await q.drain()).retried == 1
    j = await q.get(job.id)
    assert j.status == JobStatus.SCHEDULED and j.attempts == 1
    assert j.run_at == start + 10_000 and j.last_error == "RuntimeError: boom 1"

    clock.advance(9.9)
    assert (await q.drain()).claimed == 0
    clock.advance(0.1)
    assert (await q.drain()).retried == 1
    assert (await q.get(job.id)).run_at == clock.now_ms() + 20_000

    clock.advance(20)
    summary = await q.drain()
    assert (summary.claimed, summary.dead) == (1, 1)
    dead = await q.get(job.id)
    assert dead.status == JobStatus.DEAD and dead.attempts == 3
    assert "boom 3" in dead.last_error
    assert [j.id for j in (await q.list_dead())[0]] == [job.id]
    counters = (await q.stats())["queues"]["default"]["counters"]
    assert counters["retried"] == 2 and counters["dead"] == 1 and counters["failed"] == 3
    assert runs[job.id] == 3


async def test_exponential_backoff_per_job(q: JobQueue, runs: Counter, clock: FakeClock):
    job = await q.enqueue("fail", {}, backoff={"base": 2, "factor": 3, "jitter": 0})
    for attempt, delay in [(1, 2), (2, 6)]:
        await q.drain()
        j = await q.get(job.id)
        assert (j.attempts, j.run_at) == (attempt, clock.now_ms() + delay * 1000)
        clock.advance(delay)


async def test_permanent_error_goes_to_dead_letters_at_once(q: JobQueue, runs: Counter):
    job = await q.enqueue("perm", {})
    summary = await q.drain()
    assert summary.dead == 1 and runs[job.id] == 1
    j = await q.get(job.id)
    assert j.status == JobStatus.DEAD and j.attempts == 1
    assert "PermanentError: bad input" in j.last_error


async def test_a_job_its_handler_cannot_take_is_dead_at_once(
    q: JobQueue, store, clock: FakeClock, runs: Counter
):
    unknown = await q.enqueue("greet", {"name": "ada"})
    unfit = await q.enqueue("ok", {"no": "name"})
    later = Registry()  # a later deploy: 'greet' is gone, 'ok' now wants a Greeting

    @later.handler("ok", model=Greeting)
    async def ok(payload, ctx):
        return "unreachable"

    worker = JobQueue(store, settings=q.settings, registry=later, clock=clock)
    summary = await worker.drain()
    await worker.close()
    assert summary.dead == 2 and not runs
    assert "UnknownJobType" in (await q.get(unknown.id)).last_error
    assert "ValidationError" in (await q.get(unfit.id)).last_error


async def test_handler_may_ask_for_a_retry_delay(
    q: JobQueue, registry: Registry, clock: FakeClock
):
    @registry.handler("limited")
    async def limited(payload, ctx):
        raise RetryLater(42, "rate limited")

    job = await q.enqueue("limited", {})
    await q.drain()
    j = await q.get(job.id)
    assert j.status == JobStatus.SCHEDULED and j.run_at == clock.now_ms() + 42_000


async def test_requeue_from_dead_runs_the_job_again(q: JobQueue, registry: Registry):
    healthy = asyncio.Event()

    @registry.handler("flaky", max_attempts=1)
    async def flaky(payload, ctx):
        if not healthy.is_set():
            raise RuntimeError("down")
        return "up"

    job = await q.enqueue("flaky", {})
    assert (await q.drain()).dead == 1
    healthy.set()
    res = await q.requeue([job.id, "missing"])
    assert res == {"requeued": [job.id], "skipped": [("missing", "")]}
    assert (await q.stats())["dead"] == 0
    assert (await q.drain()).succeeded == 1
    assert (await q.get(job.id)).result == "up"


async def test_requeue_all_and_purge(q: JobQueue, runs: Counter):
    ids = [(await q.enqueue("perm", {})).id for _ in range(3)]
    await q.drain()
    assert (await q.stats())["dead"] == 3
    assert sorted((await q.requeue())["requeued"]) == sorted(ids)
    await q.drain()
    assert await q.purge_dead() == 3
    assert (await q.stats())["dead"] == 0
    assert await q.get(ids[0]) is None


async def test_cancel(q: JobQueue, runs: Counter):
    queued = await q.enqueue("ok", {})
    scheduled = await q.enqueue("ok", {}, delay=60)
    assert (await q.cancel(queued.id)).status == JobStatus.CANCELLED
    assert (await q.cancel(scheduled.id)).status == JobStatus.CANCELLED
    assert (await q.drain()).claimed == 0
    with pytest.raises(JobNotFound):
        await q.cancel("nope")
    running = await q.enqueue("ok", {})
    await q.claim(1, max_lease=30)
    with pytest.raises(InvalidJobState) as refused:
        await q.cancel(running.id)
    assert refused.value.status == "running"


async def test_stats_count_every_state(q: JobQueue, runs: Counter, clock: FakeClock):
    await q.enqueue("ok", {})
    await q.enqueue("ok", {})
    await q.enqueue("ok", {}, delay=10)
    await q.enqueue("perm", {})
    clock.advance(1)
    await q.claim(1, max_lease=30)
    stats = await q.stats()
    default = stats["queues"]["default"]
    assert (default["ready"], default["scheduled"], default["running"]) == (2, 1, 1)
    assert default["oldest_ready_at"] == clock.now_ms() - 1000
    assert default["counters"]["enqueued"] == 4


async def test_list_jobs_by_status_type_and_queue(q: JobQueue, runs: Counter):
    for i in range(5):
        await q.enqueue("ok", {"i": i}, queue="a" if i % 2 else "b")
    await q.enqueue("perm", {}, queue="a")
    page, cursor = await q.list_jobs("queued", limit=2)
    assert len(page) == 2 and cursor is not None
    rest, end = await q.list_jobs("queued", cursor=cursor, limit=10)
    assert end is None and len(page) + len(rest) == 6
    only_a, _ = await q.list_jobs("queued", queue="a")
    assert {j.queue for j in only_a} == {"a"} and len(only_a) == 3
    perms, _ = await q.list_jobs("queued", type="perm")
    assert [j.type for j in perms] == ["perm"]
    await q.drain()
    succeeded, _ = await q.list_jobs("succeeded")
    assert len(succeeded) == 5


async def test_retention_deletes_old_and_excess_finished_records(
    make_queue, runs: Counter, clock: FakeClock
):
    q = make_queue(succeeded_ttl=3600, keep_succeeded=3)
    old = await q.enqueue("ok", {})
    await q.drain()
    clock.advance(3601)
    newer = [(await q.enqueue("ok", {})).id for _ in range(4)]
    await q.drain()
    assert await q.get(old.id) is None  # older than succeeded_ttl
    kept = [j for j in await q.get_many(newer) if j is not None]
    assert len(kept) == 3  # keep_succeeded
    clock.advance(3601)
    await q.drain()  # an idle drain applies retention too
    assert await q.get_many(newer) == [None] * 4


async def test_dead_letters_are_counted_per_queue_and_expire(
    make_queue, runs: Counter, clock: FakeClock
):
    q = make_queue(dead_ttl=3600)
    first = await q.enqueue("perm", {}, queue="a")
    await q.enqueue("perm", {}, queue="b")
    await q.drain()
    stats = await q.stats()
    assert (stats["queues"]["a"]["dead"], stats["queues"]["b"]["dead"], stats["dead"]) == (1, 1, 2)
    await q.requeue([first.id])
    assert (await q.stats())["queues"]["a"]["dead"] == 0
    await q.drain()  # dead again
    clock.advance(3601)
    await q.drain()  # an idle drain applies dead-letter retention
    stats = await q.stats()
    assert (stats["queues"]["a"]["dead"], stats["queues"]["b"]["dead"], stats["dead"]) == (0, 0, 0)
    assert await q.get(first.id) is None


async def test_dead_list_is_capped(make_queue, runs: Counter):
    q = make_queue(dead_cap=2)
    ids = [(await q.enqueue("perm", {})).id for _ in range(4)]
    await q.drain()
    dead, _ = await q.list_dead()
    assert [j.id for j in dead] == ids[:1:-1]  # the newest two, newest first
    assert await q.get(ids[0]) is None


async def test_killed_drain_loses_nothing_and_its_late_finish_is_rejected(
    make_queue, registry: Registry, clock: FakeClock
):
    """A drain cancelled mid-batch: leases expire, a later drain runs the jobs again."""
    q = make_queue(lease_margin=5)
    started, release = asyncio.Event(), asyncio.Event()
    attempts: Counter = Counter()

    @registry.handler("slow", timeout=30)
    async def slow(payload, ctx):
        attempts[(ctx.job_id, ctx.attempt)] += 1
        if ctx.attempt == 1:
            started.set()
            await release.wait()
        return ctx.attempt

    ids = [(await q.enqueue("slow", {})).id for _ in range(3)]
    task = asyncio.create_task(q.drain(budget=60))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert all(j.status == JobStatus.RUNNING for j in await q.get_many(ids))

    assert (await q.drain()).claimed == 0  # leases still hold: nobody else takes them
    clock.advance(30 + 5 + 0.001)
    summary = await q.drain()
    assert (summary.recovered, summary.succeeded) == (3, 3)
    for j in await q.get_many(ids):
        assert (j.status, j.attempts, j.result) == (JobStatus.SUCCEEDED, 2, 2)
        assert "lease expired" in j.last_error
    assert (await q.stats())["queues"]["default"]["counters"]["recovered"] == 3


async def test_late_finish_with_an_old_lease_token_is_rejected(
    q: JobQueue, runs: Counter, clock: FakeClock
):
    from jobqueue.queue import Outcome

    await q.enqueue("ok", {}, timeout=10)
    first = (await q.claim(1, max_lease=60)).jobs[0]
    clock.advance(20)
    second = (await q.claim(1, max_lease=60)).jobs[0]
    assert (second.id, second.attempt) == (first.id, 2) and second.token != first.token
    res = await q.finish([Outcome(first, "ok", '"late"')])
    assert res["stale"] == [first.id] and res["ok"] == 0
    assert (await q.get(first.id)).status == JobStatus.RUNNING
    assert (await q.finish([Outcome(second, "ok", '"mine"')]))["ok"] == 1
    assert (await q.get(first.id)).result == "mine"


async def test_a_claim_whose_answer_is_lost_is_put_back_without_using_an_attempt(
    q: JobQueue, runs: Counter
):
    job = await q.enqueue("ok", {}, max_attempts=1)
    transport = q.transport()
    real_run = transport.run

    async def lose_claim_answers(script, keys, args):
        result = await real_run(script, keys, args)  # applied in the store...
        if script.name == "claim":
            raise QueueUnavailable("upstash store: script claim failed: timed out")  # ...lost
        return result

    transport.run = lose_claim_answers  # type: ignore[method-assign]
    with pytest.raises(QueueUnavailable):
        await q.drain()
    j = await q.get(job.id)
    assert (j.status, j.attempts) == (JobStatus.QUEUED, 0)
    transport.run = real_run  # type: ignore[method-assign]
    assert (await q.drain()).succeeded == 1 and runs[job.id] == 1


async def test_expired_lease_on_the_last_attempt_is_dead(q: JobQueue, runs: Counter, clock):
    job = await q.enqueue("ok", {}, max_attempts=1, timeout=1)
    await q.claim(1, max_lease=60)
    clock.advance(10)
    summary = await q.drain()
    assert summary.dead == 1 and summary.claimed == 0
    assert (await q.get(job.id)).status == JobStatus.DEAD


async def test_handler_timeout_is_a_retryable_failure(make_queue, registry: Registry):
    q = make_queue()

    @registry.handler("sleepy", timeout=0.05, backoff=[1])
    async def sleepy(payload, ctx):
        await asyncio.sleep(5)

    job = await q.enqueue("sleepy", {})
    assert (await q.drain()).retried == 1
    assert "timed out" in (await q.get(job.id)).last_error


async def test_drain_never_runs_past_its_budget(make_queue, registry: Registry):
    """The handler's deadline is min(its timeout, time left); real clock here."""
    from jobqueue import SystemClock

    q = make_queue()
    q.clock = SystemClock()

    @registry.handler("long", timeout=60, backoff=[1])
    async def long(payload, ctx):
        await asyncio.sleep(10)

    await q.enqueue("long", {})
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    summary = await q.drain(budget=1.0)
    assert loop.time() - t0 < 3
    assert summary.retried == 1


async def test_a_job_that_cannot_finish_in_the_time_left_waits_for_the_next_drain(
    q: JobQueue, registry: Registry, clock: FakeClock
):
    @registry.handler("step", timeout=1)
    async def step(payload, ctx):
        clock.advance(6)  # the drain's budget is 10: 4 s are left after this

    @registry.handler("slow", timeout=8)
    async def slow(payload, ctx):
        return "done"

    first = await q.enqueue("step", {}, priority=-1)
    later = await q.enqueue("slow", {}, job_id="slow-1")
    after = await q.enqueue("slow", {}, job_id="slow-2")
    summary = await q.drain(budget=10, batch_size=1)
    assert (summary.claimed, summary.succeeded, summary.more) == (1, 1, True)
    assert [j.status for j in await q.get_many([first.id, later.id, after.id])] == [
        JobStatus.SUCCEEDED, JobStatus.QUEUED, JobStatus.QUEUED
    ]
    assert (await q.get(later.id)).attempts == 0
    claim = await q.claim(5, max_lease=30)
    assert [j.id for j in claim.jobs] == ["slow-1", "slow-2"]  # order kept


async def test_a_job_whose_timeout_equals_the_budget_still_runs(q: JobQueue, runs: Counter):
    from jobqueue import SystemClock

    q.clock = SystemClock()  # real time passes: less than the budget is left at claim
    await q.enqueue("ok", {}, timeout=25)
    assert (await q.drain(budget=25)).succeeded == 1


async def test_no_claim_when_too_little_time_is_left(q: JobQueue, runs: Counter):
    await q.enqueue("ok", {})
    summary = await q.drain(budget=q.settings.min_time_left / 2)
    assert summary.claimed == 0 and summary.more
    assert (await q.stats())["queues"]["default"]["ready"] == 1


async def test_process_specific_jobs_now(q: JobQueue, runs: Counter):
    a = await q.enqueue("ok", {})
    b = await q.enqueue("ok", {}, delay=3600)
    c = await q.enqueue("ok", {})
    summary = await q.drain(job_ids=[b.id, c.id])
    assert summary.succeeded == 2
    statuses = [j.status for j in await q.get_many([a.id, b.id, c.id])]
    assert statuses == [JobStatus.QUEUED, JobStatus.SUCCEEDED, JobStatus.SUCCEEDED]


async def test_concurrent_drains_finish_every_job_exactly_once(make_queue, registry: Registry):
    runs: Counter = Counter()

    @registry.handler("count")
    async def count(payload, ctx):
        runs[ctx.job_id] += 1
        await asyncio.sleep(0)

    producer = make_queue()
    ids = [j.id for j in await producer.enqueue_many([{"type": "count"}] * 1000)]
    drains = [make_queue(batch_size=25, concurrency=10) for _ in range(4)]
    summaries = await asyncio.gather(*(d.drain(limit=1000, budget=60) for d in drains))

    assert sum(s.succeeded for s in summaries) == 1000
    assert all(s.succeeded > 0 for s in summaries)  # they really overlapped
    assert set(runs) == set(ids) and set(runs.values()) == {1}
    stats = (await producer.stats())["queues"]["default"]
    assert (stats["ready"], stats["running"], stats["counters"]["succeeded"]) == (0, 0, 1000)


def test_sync_enqueue_from_plain_code(make_queue, runs: Counter):
    q = make_queue()
    job = q.enqueue_sync("ok", {"from": "sync"})
    again = q.enqueue_sync("ok", {}, job_id=job.id)
    assert again.deduplicated
    assert q.run_sync(q.get(job.id)).payload == {"from": "sync"}
    q.close_sync()


async def test_request_counts_per_drain(q: JobQueue, runs: Counter):
    """Batches of 100 cost one request to enqueue and two to drain; an idle drain one."""
    calls: list[str] = []
    transport = q.transport()
    real_run = transport.run

    async def counting_run(script, keys, args):
        calls.append(script.name)
        return await real_run(script, keys, args)

    transport.run = counting_run  # type: ignore[method-assign]
    await q.drain()
    assert calls == ["claim"]
    calls.clear()
    await q.enqueue_many([{"type": "ok"}] * 100)
    assert calls == ["enqueue"]
    calls.clear()
    summary = await q.drain(limit=100)
    assert summary.succeeded == 100 and calls == ["claim", "finish"]
