"""The HTTP API on the in-memory store: every endpoint and every error it documents.

Auth cases live in test_api_auth.py; the real server in test_e2e_server.py.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog

import jobqueue
from app.main import create_app
from app.settings import Settings

ADMIN = "admin-" + "a1" * 16
CRON = "cron-" + "c2" * 16
ENQUEUE = "enqueue-" + "e3" * 16
FAIL_TYPE = "api_test_fail"


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def make_settings(**overrides: Any) -> Settings:
    """Settings from these values only: no `.env`, and the environment is cleaned by
    the `clean_env` fixture."""
    values: dict[str, Any] = {
        "admin_api_key": ADMIN,
        "cron_secret": CRON,
        "enqueue_api_key": ENQUEUE,
        "log_level": "debug",
        "jobqueue_namespace": f"t{uuid.uuid4().hex[:12]}",  # the memory store is per process
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@asynccontextmanager
async def serve(settings: Settings, **transport: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan running, and a client calling it in process."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        asgi = httpx.ASGITransport(app=app, **transport)
        async with httpx.AsyncClient(transport=asgi, base_url="http://testserver") as client:
            client.app = app  # type: ignore[attr-defined]
            yield client


def env_names() -> list[str]:
    return [name.upper() for name in Settings.model_fields]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in env_names():
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def failing_handler() -> Iterator[None]:
    """A job type whose handler always raises (one attempt: straight to the dead list)."""

    @jobqueue.handler(FAIL_TYPE, max_attempts=1)
    async def fail(payload: Any, ctx: jobqueue.JobContext) -> None:
        raise RuntimeError("boom")

    yield
    jobqueue.default_registry._specs.pop(FAIL_TYPE, None)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with serve(make_settings()) as c:
        yield c


async def enqueue(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    body.setdefault("type", "noop")
    r = await client.post("/jobs", json=body, headers=auth(ADMIN))
    assert r.status_code in (200, 201), r.text
    return r.json()


async def drain(client: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    r = await client.get("/jobs/process", params=params, headers=auth(CRON))
    assert r.status_code == 200, r.text
    return r.json()


async def dead_job(client: httpx.AsyncClient) -> str:
    job = await enqueue(client, type=FAIL_TYPE, payload={})
    summary = await drain(client)
    assert summary["dead"] == 1
    return job["id"]


# -- /health ------------------------------------------------------------------------


async def test_health_needs_no_token_and_says_nothing_else(client: httpx.AsyncClient) -> None:
    r = await client.get("/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


# -- POST /jobs ---------------------------------------------------------------------


async def test_enqueue_returns_201_with_the_job(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/jobs",
        json={"type": "send_email", "payload": {"to": "a@example.com", "subject": "hi"}},
        headers=auth(ENQUEUE),
    )
    assert r.status_code == 201
    job = r.json()
    assert job["status"] == "queued"
    assert job["type"] == "send_email"
    assert job["queue"] == "default"
    assert job["max_attempts"] == 5  # the handler's default
    assert job["deduplicated"] is False
    assert job["payload"] == {"to": "a@example.com", "subject": "hi", "body": ""}
    assert "lease_token" not in job


async def test_enqueue_with_options(client: httpx.AsyncClient) -> None:
    job = await enqueue(
        client, payload={"n": 1}, queue="emails", delay_seconds=60, priority=3, max_attempts=2
    )
    assert job["status"] == "scheduled"
    assert job["queue"] == "emails"
    assert job["priority"] == 3
    assert job["max_attempts"] == 2
    assert job["run_at"] >= job["created_at"] + 59_000
    at = await enqueue(client, run_at="2001-01-01T00:00:00Z")
    assert at["status"] == "queued"  # a past run_at runs at once


@pytest.mark.parametrize("key", ["dedupe_key", "job_id"])
async def test_enqueue_deduplicated_is_200_with_the_existing_job(
    client: httpx.AsyncClient, key: str
) -> None:
    first = await client.post("/jobs", json={"type": "noop", key: "k-1"}, headers=auth(ADMIN))
    again = await client.post("/jobs", json={"type": "noop", key: "k-1"}, headers=auth(ADMIN))
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["deduplicated"] is True
    assert again.json()["id"] == first.json()["id"]


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"payload": {}}, ["body", "type"]),
        ({"type": "noop", "delay_seconds": -1}, ["body", "delay_seconds"]),
        ({"type": "noop", "priority": "high"}, ["body", "priority"]),
        ({"type": "noop", "surprise": 1}, ["body", "surprise"]),
        ({"type": "noop", "queue": "no spaces"}, ["body", "queue"]),
        ({"type": "noop", "job_id": "a/b"}, ["body", "job_id"]),
        ({"type": "send_email", "payload": {"subject": "x"}}, ["body", "payload", "to"]),
    ],
)
async def test_enqueue_invalid_is_422_naming_the_field(
    client: httpx.AsyncClient, body: dict, loc: list
) -> None:
    r = await client.post("/jobs", json=body, headers=auth(ADMIN))
    assert r.status_code == 422, r.text
    data = r.json()
    locs = [e["loc"] for e in data["errors"]]
    assert loc in locs or any(loc[-1] in map(str, x) for x in locs), locs
    assert loc[-1] in data["detail"]


async def test_enqueue_delay_and_run_at_together_is_422(client: httpx.AsyncClient) -> None:
    body = {"type": "noop", "delay_seconds": 5, "run_at": "2030-01-01T00:00:00Z"}
    r = await client.post("/jobs", json=body, headers=auth(ADMIN))
    assert r.status_code == 422
    assert "delay or run_at" in r.json()["detail"]


async def test_enqueue_unknown_type_is_422_listing_known_types(client: httpx.AsyncClient) -> None:
    r = await client.post("/jobs", json={"type": "nope"}, headers=auth(ADMIN))
    assert r.status_code == 422
    data = r.json()
    assert {"noop", "send_email", "webhook"} <= set(data["known_types"])
    assert "nope" in data["detail"]
    assert data["errors"][0]["loc"] == ["body", "type"]


async def test_enqueue_malformed_json_is_422(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/jobs", content=b"{not json", headers={**auth(ADMIN), "content-type": "application/json"}
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["type"] == "json_invalid"


async def test_payload_over_the_engine_limit_is_422() -> None:
    async with serve(make_settings(jobqueue_max_payload_bytes=100)) as c:
        r = await c.post("/jobs", json={"type": "noop", "payload": "x" * 200}, headers=auth(ADMIN))
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["body", "payload"]


async def test_body_over_the_limit_is_413() -> None:
    async with serve(make_settings(max_request_bytes=1_000)) as c:
        big = {"type": "noop", "payload": "x" * 2_000}
        r = await c.post("/jobs", json=big, headers=auth(ADMIN))
        assert r.status_code == 413
        assert "MAX_REQUEST_BYTES" in r.json()["detail"]

        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as read
            yield b'{"type": "noop", "payload": "'
            for _ in range(10):
                yield b"x" * 200
            yield b'"}'

        r = await c.post(
            "/jobs", content=chunks(), headers={**auth(ADMIN), "content-type": "application/json"}
        )
        assert r.status_code == 413
        small = await c.post("/jobs", json={"type": "noop"}, headers=auth(ADMIN))
        assert small.status_code == 201


# -- POST /jobs/batch -----------------------------------------------------------------


async def test_batch_enqueues_all(client: httpx.AsyncClient) -> None:
    jobs = [{"type": "noop", "payload": i} for i in range(3)] + [{"type": "noop", "job_id": "b1"}]
    r = await client.post("/jobs/batch", json={"jobs": jobs}, headers=auth(ENQUEUE))
    assert r.status_code == 201
    data = r.json()
    assert data["enqueued"] == 4
    assert data["deduplicated"] == 0
    assert [j["payload"] for j in data["jobs"]] == [0, 1, 2, None]
    r = await client.post("/jobs/batch", json={"jobs": jobs[3:]}, headers=auth(ENQUEUE))
    assert r.json()["deduplicated"] == 1


@pytest.mark.parametrize(
    ("bad", "loc"),
    [
        ({"type": "nope"}, ["body", "jobs", 1, "type"]),
        ({"type": "send_email", "payload": {}}, ["body", "jobs", 1, "payload", "to"]),
        ({"type": "noop", "max_attempts": 0}, ["body", "jobs", 1, "max_attempts"]),
    ],
)
async def test_batch_validates_everything_before_writing(
    client: httpx.AsyncClient, bad: dict, loc: list
) -> None:
    jobs = [{"type": "noop"}, bad, {"type": "noop"}]
    r = await client.post("/jobs/batch", json={"jobs": jobs}, headers=auth(ADMIN))
    assert r.status_code == 422, r.text
    assert loc in [e["loc"] for e in r.json()["errors"]]
    listed = await client.get("/jobs", params={"status": "queued"}, headers=auth(ADMIN))
    assert listed.json()["jobs"] == []  # nothing was written


async def test_batch_size_is_limited() -> None:
    async with serve(make_settings(batch_max_jobs=2)) as c:
        jobs = [{"type": "noop"}] * 3
        r = await c.post("/jobs/batch", json={"jobs": jobs}, headers=auth(ADMIN))
        assert r.status_code == 422
        assert r.json()["errors"][0]["loc"] == ["body", "jobs"]
        assert "BATCH_MAX_JOBS" in r.json()["detail"]
        r = await c.post("/jobs/batch", json={"jobs": []}, headers=auth(ADMIN))
        assert r.status_code == 422


# -- /jobs/process --------------------------------------------------------------------


async def test_process_get_drains_and_summarises(client: httpx.AsyncClient) -> None:
    ids = [(await enqueue(client))["id"] for _ in range(3)]
    summary = await drain(client)
    assert {"claimed", "succeeded", "retried", "dead", "recovered", "duration_ms", "more"} <= set(
        summary
    )
    assert summary["claimed"] == summary["succeeded"] == 3
    assert summary["more"] is False
    for job_id in ids:
        r = await client.get(f"/jobs/{job_id}", headers=auth(ADMIN))
        assert r.json()["status"] == "succeeded"


async def test_process_honours_limit_and_queue(client: httpx.AsyncClient) -> None:
    for _ in range(3):
        await enqueue(client)
    other = await enqueue(client, queue="other")
    summary = await drain(client, limit=2, queue="default")
    assert summary["claimed"] == 2
    assert summary["more"] is True
    summary = await drain(client, queue=["other"])
    assert summary["claimed"] == 1
    job = (await client.get(f"/jobs/{other['id']}", headers=auth(ADMIN))).json()
    assert job["status"] == "succeeded"


async def test_process_post_with_query_or_json_body(client: httpx.AsyncClient) -> None:
    for _ in range(4):
        await enqueue(client)
    r = await client.post("/jobs/process", params={"limit": 1}, headers=auth(CRON))
    assert r.status_code == 200
    assert r.json()["claimed"] == 1
    r = await client.post(
        "/jobs/process", params={"limit": 1}, json={"limit": 2}, headers=auth(CRON)
    )
    assert r.json()["claimed"] == 2  # the body wins over the query
    r = await client.post("/jobs/process", headers=auth(ADMIN))
    assert r.json()["claimed"] == 1
    r = await client.post("/jobs/process", json={"limit": 0}, headers=auth(CRON))
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["body", "limit"]


async def test_process_one_job_now_even_if_scheduled(client: httpx.AsyncClient) -> None:
    later = await enqueue(client, delay_seconds=3600)
    other = await enqueue(client)
    summary = await drain(client, job_id=later["id"])
    assert summary["claimed"] == 1
    got = await client.get(f"/jobs/{later['id']}", headers=auth(ADMIN))
    assert got.json()["status"] == "succeeded"
    untouched = await client.get(f"/jobs/{other['id']}", headers=auth(ADMIN))
    assert untouched.json()["status"] == "queued"
    r = await client.get("/jobs/process", params={"job_id": "missing"}, headers=auth(CRON))
    assert r.status_code == 404


async def test_process_is_200_when_jobs_fail(
    client: httpx.AsyncClient, failing_handler: None
) -> None:
    await enqueue(client, type=FAIL_TYPE)
    await enqueue(client, type=FAIL_TYPE, max_attempts=3)
    await enqueue(client)
    summary = await drain(client)
    assert (summary["succeeded"], summary["retried"], summary["dead"]) == (1, 1, 1)


@pytest.mark.parametrize(
    ("params", "field", "var"),
    [
        ({"limit": 5_000}, "limit", "DRAIN_MAX_LIMIT"),
        ({"budget_seconds": 500}, "budget_seconds", "DRAIN_BUDGET_SECONDS"),
        ({"limit": 0}, "limit", ""),
        ({"queue": "bad queue"}, "queue", ""),
    ],
)
async def test_process_rejects_bad_options(
    client: httpx.AsyncClient, params: dict, field: str, var: str
) -> None:
    r = await client.get("/jobs/process", params=params, headers=auth(CRON))
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"][:2] == ["query", field]
    assert var in r.json()["detail"]


async def test_process_answers_at_exactly_its_path(client: httpx.AsyncClient) -> None:
    r = await client.get("/jobs/process/", headers=auth(CRON))
    assert r.status_code == 404  # never a redirect: Vercel Cron would not follow it
    r = await client.get("/jobs/process", headers=auth(CRON))
    assert r.status_code == 200


async def test_budget_defaults_below_max_duration() -> None:
    s = make_settings(function_max_duration=30)
    assert s.budget == 20
    assert make_settings().budget < make_settings().function_max_duration


async def test_on_vercel_the_in_memory_store_is_refused() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="UPSTASH_REDIS_REST_URL"):
        make_settings(vercel=True)
    s = make_settings(vercel=True, redis_url="redis://127.0.0.1:6379/0")
    assert s.store_config().kind == "redis"


# -- GET /jobs/stats ----------------------------------------------------------------------


async def test_stats_reports_queues_dead_store_and_health(
    client: httpx.AsyncClient, failing_handler: None
) -> None:
    r = await client.get("/jobs/stats", headers=auth(ADMIN))
    assert r.status_code == 200
    assert r.json()["health"] == {"status": "healthy", "reasons": []}
    dead_id = await dead_job(client)
    await enqueue(client)
    await enqueue(client, delay_seconds=60)
    data = (await client.get("/jobs/stats", headers=auth(ADMIN))).json()
    q = data["queues"]["default"]
    assert (q["ready"], q["scheduled"], q["running"], q["dead"]) == (1, 1, 0, 1)
    assert q["counters"]["enqueued"] == 3
    assert q["counters"]["dead"] == 1
    assert q["oldest_waiting_seconds"] >= 0
    assert data["dead"] == 1
    assert data["dead_sample"] == [dead_id]
    assert data["store"]["kind"] == "memory"
    assert data["store"]["reachable"] is True
    assert data["store"]["latency_ms"] >= 0
    assert data["health"]["status"] == "degraded"
    assert any("dead-letter" in reason for reason in data["health"]["reasons"])


async def test_stats_thresholds_are_configurable() -> None:
    settings = make_settings(health_depth_degraded=1, health_depth_unhealthy=2)
    async with serve(settings) as c:
        await enqueue(c)
        health = (await c.get("/jobs/stats", headers=auth(ADMIN))).json()["health"]
        assert health["status"] == "degraded"
        await enqueue(c)
        health = (await c.get("/jobs/stats", headers=auth(ADMIN))).json()["health"]
        assert health["status"] == "unhealthy"
        assert "queue 'default' has 2 ready job(s)" in health["reasons"][0]


async def test_stats_health_counts_waiting_age_and_store_latency() -> None:
    settings = make_settings(health_age_degraded_seconds=0.001, health_latency_degraded_ms=1e-6)
    async with serve(settings) as c:
        await enqueue(c)
        await asyncio.sleep(0.01)
        health = (await c.get("/jobs/stats", headers=auth(ADMIN))).json()["health"]
    assert health["status"] == "degraded"
    assert any("oldest ready job has waited" in r for r in health["reasons"])
    assert any("store latency" in r for r in health["reasons"])


# -- GET /jobs/{id}, GET /jobs ----------------------------------------------------------------


async def test_get_job_and_404(client: httpx.AsyncClient) -> None:
    job = await enqueue(client, payload={"x": 1})
    r = await client.get(f"/jobs/{job['id']}", headers=auth(ADMIN))
    assert r.status_code == 200
    assert r.json()["payload"] == {"x": 1}
    assert r.json()["deduplicated"] is False
    r = await client.get("/jobs/does-not-exist", headers=auth(ADMIN))
    assert r.status_code == 404
    assert "does-not-exist" in r.json()["detail"]
    r = await client.get("/jobs/bad%20id", headers=auth(ADMIN))
    assert r.status_code == 422


async def test_get_job_waits_until_finished(client: httpx.AsyncClient) -> None:
    job = await enqueue(client)

    async def drain_soon() -> None:
        await asyncio.sleep(0.3)
        await drain(client)

    waited, _ = await asyncio.gather(
        client.get(f"/jobs/{job['id']}", params={"wait": 5}, headers=auth(ADMIN)), drain_soon()
    )
    assert waited.json()["status"] == "succeeded"


async def test_get_job_wait_is_bounded() -> None:
    async with serve(make_settings(job_wait_max_seconds=0.2)) as c:
        job = await enqueue(c)
        started = asyncio.get_running_loop().time()
        r = await c.get(f"/jobs/{job['id']}", params={"wait": 60}, headers=auth(ADMIN))
        assert r.json()["status"] == "queued"
        assert asyncio.get_running_loop().time() - started < 5


async def test_list_jobs_filters_and_pages(client: httpx.AsyncClient) -> None:
    for i in range(3):
        await enqueue(client, payload=i)
    await enqueue(client, type="send_email", payload={"to": "a@example.com", "subject": "s"})
    await enqueue(client, queue="other")
    r = await client.get("/jobs", params={"status": "queued", "limit": 2}, headers=auth(ADMIN))
    assert r.status_code == 200
    first = r.json()
    assert len(first["jobs"]) == 2
    assert first["next_cursor"] is not None
    seen = [j["id"] for j in first["jobs"]]
    cursor = first["next_cursor"]
    while cursor is not None:
        page = await client.get(
            "/jobs", params={"status": "queued", "limit": 2, "cursor": cursor}, headers=auth(ADMIN)
        )
        seen += [j["id"] for j in page.json()["jobs"]]
        cursor = page.json()["next_cursor"]
    assert len(set(seen)) == 5
    r = await client.get(
        "/jobs", params={"status": "queued", "type": "send_email"}, headers=auth(ADMIN)
    )
    assert [j["type"] for j in r.json()["jobs"]] == ["send_email"]
    r = await client.get(
        "/jobs", params={"status": "queued", "queue": "other"}, headers=auth(ADMIN)
    )
    assert [j["queue"] for j in r.json()["jobs"]] == ["other"]
    await drain(client, queue="other")
    r = await client.get("/jobs", params={"status": "succeeded"}, headers=auth(ADMIN))
    assert len(r.json()["jobs"]) == 1


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "status"),
        ({"status": "lost"}, "status"),
        ({"status": "queued", "cursor": "x"}, "cursor"),
        ({"status": "queued", "limit": 0}, "limit"),
    ],
)
async def test_list_jobs_rejects_bad_queries(
    client: httpx.AsyncClient, params: dict, field: str
) -> None:
    r = await client.get("/jobs", params=params, headers=auth(ADMIN))
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["query", field]


# -- cancel and retry ----------------------------------------------------------------------


async def test_cancel_queued_then_409_then_404(client: httpx.AsyncClient) -> None:
    job = await enqueue(client, delay_seconds=60)
    r = await client.post(f"/jobs/{job['id']}/cancel", headers=auth(ADMIN))
    assert r.status_code == 200
    assert r.json()["status"] == "cancelled"
    r = await client.post(f"/jobs/{job['id']}/cancel", headers=auth(ADMIN))
    assert r.status_code == 409
    assert r.json()["status"] == "cancelled"
    assert "cancel" in r.json()["detail"]
    r = await client.post("/jobs/nope/cancel", headers=auth(ADMIN))
    assert r.status_code == 404


async def test_cancel_finished_job_is_409(client: httpx.AsyncClient) -> None:
    job = await enqueue(client)
    await drain(client)
    r = await client.post(f"/jobs/{job['id']}/cancel", headers=auth(ADMIN))
    assert r.status_code == 409
    assert r.json()["status"] == "succeeded"


async def test_retry_dead_or_cancelled(client: httpx.AsyncClient, failing_handler: None) -> None:
    dead_id = await dead_job(client)
    r = await client.post(f"/jobs/{dead_id}/retry", headers=auth(ADMIN))
    assert r.status_code == 200
    assert r.json()["status"] == "queued"
    assert r.json()["attempts"] == 0
    r = await client.post(f"/jobs/{dead_id}/retry", headers=auth(ADMIN))
    assert r.status_code == 409
    assert r.json()["status"] == "queued"
    job = await enqueue(client, delay_seconds=60)
    await client.post(f"/jobs/{job['id']}/cancel", headers=auth(ADMIN))
    r = await client.post(f"/jobs/{job['id']}/retry", headers=auth(ADMIN))
    assert r.json()["status"] == "queued"
    r = await client.post("/jobs/nope/retry", headers=auth(ADMIN))
    assert r.status_code == 404


# -- the dead letters ----------------------------------------------------------------------


async def test_dead_list_requeue_and_purge(
    client: httpx.AsyncClient, failing_handler: None
) -> None:
    ids = [await dead_job(client) for _ in range(3)]
    r = await client.get("/jobs/dead", params={"limit": 2}, headers=auth(ADMIN))
    assert r.status_code == 200
    page = r.json()
    assert [j["id"] for j in page["jobs"]] == ids[::-1][:2]  # newest first
    assert page["jobs"][0]["last_error"].startswith("RuntimeError: boom")
    assert page["jobs"][0]["attempts"] == 1
    r = await client.get("/jobs/dead", params={"cursor": page["next_cursor"]}, headers=auth(ADMIN))
    assert [j["id"] for j in r.json()["jobs"]] == [ids[0]]

    queued = await enqueue(client, delay_seconds=60)
    r = await client.post(
        "/jobs/dead/requeue", json={"ids": [ids[0], queued["id"], "ghost"]}, headers=auth(ADMIN)
    )
    assert r.status_code == 200
    assert r.json() == {
        "requeued": [ids[0]],
        "skipped": [{"id": queued["id"], "status": "scheduled"}, {"id": "ghost", "status": None}],
    }
    r = await client.post("/jobs/dead/requeue", json={"all": True}, headers=auth(ADMIN))
    assert sorted(r.json()["requeued"]) == sorted(ids[1:])

    await drain(client)  # all three die again
    r = await client.delete("/jobs/dead", headers=auth(ADMIN))
    assert r.status_code == 200
    assert r.json() == {"purged": 3}
    assert (await client.get("/jobs/dead", headers=auth(ADMIN))).json()["jobs"] == []
    assert (await client.get(f"/jobs/{ids[0]}", headers=auth(ADMIN))).status_code == 404


@pytest.mark.parametrize("body", [{}, {"ids": []}, {"ids": ["a"], "all": True}, {"all": False}])
async def test_requeue_needs_ids_or_all(client: httpx.AsyncClient, body: dict) -> None:
    r = await client.post("/jobs/dead/requeue", json=body, headers=auth(ADMIN))
    assert r.status_code == 422


# -- the store being down, and unexpected errors ---------------------------------------------------


@pytest.fixture
async def down() -> AsyncIterator[httpx.AsyncClient]:
    from tests.servers import free_port

    url = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    async with serve(make_settings(redis_url=url, jobqueue_request_timeout=1)) as c:
        yield c


async def test_store_down_is_503_never_500(down: httpx.AsyncClient) -> None:
    r = await down.get("/health")
    assert r.status_code == 503
    assert r.json() == {"status": "unavailable"}
    for method, path, body in [
        ("POST", "/jobs", {"type": "noop"}),
        ("POST", "/jobs/batch", {"jobs": [{"type": "noop"}]}),
        ("GET", "/jobs/process", None),
        ("GET", "/jobs/abc", None),
        ("GET", "/jobs?status=queued", None),
        ("POST", "/jobs/abc/cancel", None),
        ("DELETE", "/jobs/dead", None),
    ]:
        r = await down.request(method, path, json=body, headers=auth(ADMIN))
        assert r.status_code == 503, (path, r.text)
        assert r.json() == {"detail": "the job store is unreachable; try again shortly"}
        assert r.headers["retry-after"] == "5"
    r = await down.get("/jobs/stats", headers=auth(ADMIN))
    assert r.status_code == 503
    assert r.json()["health"]["status"] == "unhealthy"
    assert r.json()["store"]["reachable"] is False


async def test_unexpected_error_is_a_json_500_without_trace(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with serve(make_settings(), raise_app_exceptions=False) as c:
        queue = c.app.state.runtime.queue  # type: ignore[attr-defined]

        async def broken(*args: Any, **kwargs: Any) -> None:
            raise RuntimeError("secret internals")

        monkeypatch.setattr(queue, "stats", broken)
        r = await c.get("/jobs/stats", headers=auth(ADMIN))
    assert r.status_code == 500
    assert "secret internals" not in r.text
    assert r.json()["request_id"] == r.headers["x-request-id"]


# -- logs, request ids, OpenAPI, cold start ---------------------------------------------------


async def test_request_id_is_echoed_and_logged_with_job_ids(
    client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    r = await client.post(
        "/jobs", json={"type": "noop"}, headers={**auth(ADMIN), "X-Request-ID": "req-123"}
    )
    assert r.headers["x-request-id"] == "req-123"
    job_id = r.json()["id"]
    await drain(client)
    generated = (await client.get("/health")).headers["x-request-id"]
    assert len(generated) == 32
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]
    enqueued = [x for x in lines if x["event"] == "job enqueued"]
    assert enqueued[0]["job_id"] == job_id
    assert enqueued[0]["request_id"] == "req-123"
    assert enqueued[0]["type"] == "noop"
    ran = [x for x in lines if x["event"] == "job succeeded"]
    assert ran[0]["job_id"] == job_id
    assert ran[0]["attempt"] == 1
    access = [x for x in lines if x["event"] == "request"]
    assert {"method", "path", "status", "duration_ms", "request_id"} <= set(access[0])
    assert access[0]["caller"] == "admin"  # the role that authenticated the request
    assert "caller" not in access[-1]  # /health: no token, and nothing left over


async def test_secrets_never_appear_in_logs(capsys: pytest.CaptureFixture[str]) -> None:
    async with serve(make_settings()) as c:
        for token in (ADMIN, CRON, ENQUEUE, "wrong-token-" + "x" * 20):
            await c.get("/jobs/stats", headers=auth(token))
            await c.get("/jobs/process", headers=auth(token))
        structlog.get_logger("test").info("oops", note=f"token was {ADMIN}", api_key="k")
    out = capsys.readouterr()
    for secret in (ADMIN, CRON, ENQUEUE):
        assert secret not in out.out + out.err
    assert "[redacted]" in out.out


async def test_openapi_documents_every_endpoint_with_its_auth(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    paths = spec["paths"]
    expected = {
        ("post", "/jobs"),
        ("post", "/jobs/batch"),
        ("get", "/jobs/process"),
        ("post", "/jobs/process"),
        ("get", "/jobs/stats"),
        ("get", "/jobs/{job_id}"),
        ("get", "/jobs"),
        ("post", "/jobs/{job_id}/cancel"),
        ("post", "/jobs/{job_id}/retry"),
        ("get", "/jobs/dead"),
        ("post", "/jobs/dead/requeue"),
        ("delete", "/jobs/dead"),
        ("get", "/health"),
    }
    found = {(m, p) for p, ops in paths.items() for m in ops}
    assert expected <= found
    for method, path in expected - {("get", "/health")}:
        op = paths[path][method]
        assert op["security"] == [{"HTTPBearer": []}], path
        assert "Auth:" in op["description"], path
        assert {"401", "403", "503"} <= set(op["responses"]), path
    assert "security" not in paths["/health"]["get"]


def test_import_does_no_work() -> None:
    """Cold start: importing the entrypoint reads no settings, imports no store client or
    handler, and builds nothing (checked in a fresh interpreter)."""
    code = (
        "import sys, app.index as m\n"
        "assert getattr(m.app.state, 'runtime', None) is None\n"
        "clients = {'upstash_redis', 'redis', 'fakeredis', 'qstash', 'handlers'}\n"
        "loaded = clients & set(sys.modules)\n"
        "assert not loaded, loaded\n"
    )
    root = Path(__file__).resolve().parent.parent
    subprocess.run([sys.executable, "-c", code], cwd=root, check=True, timeout=60)
