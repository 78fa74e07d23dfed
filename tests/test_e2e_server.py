"""The real service end to end: uvicorn running `app.main:app` in its own process,
configured only by environment variables, talking Upstash REST (the real
`upstash-redis` SDK) to the local REST server in front of a real redis-server.

Enqueue over HTTP, drain with a GET carrying the cron token as Vercel Cron sends it,
read the stats.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.settings import Settings
from tests.servers import free_port, redis_server, rest_server, running

ADMIN = "e2e-admin-" + "5f" * 16
CRON = "e2e-cron-" + "7d" * 16
ENQUEUE = "e2e-enqueue-" + "3b" * 16
REST_TOKEN = "e2e-rest-" + "9a" * 16
ROOT = Path(__file__).resolve().parent.parent


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def service(tmp_path: Path) -> Iterator[tuple[str, Path, object]]:
    """Yield (base URL, log file, REST server) of a running service; stop it afterwards."""
    with redis_server() as redis_url, rest_server(redis_url, REST_TOKEN) as rest:
        env = {k: v for k, v in os.environ.items() if k.lower() not in Settings.model_fields}
        env.update(
            UPSTASH_REDIS_REST_URL=rest.url,
            UPSTASH_REDIS_REST_TOKEN=REST_TOKEN,
            ADMIN_API_KEY=ADMIN,
            CRON_SECRET=CRON,
            ENQUEUE_API_KEY=ENQUEUE,
            JOBQUEUE_NAMESPACE="e2e",
            PYTHONPATH=str(ROOT),
        )
        port = free_port()
        log = tmp_path / "service.log"
        with log.open("wb") as out:
            args = [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1",
                    "--port", str(port), "--lifespan", "on"]  # fmt: skip
            # cwd: no stray .env is read
            with running(args, port, timeout=30, cwd=tmp_path, env=env, stdout=out,
                         stderr=subprocess.STDOUT):  # fmt: skip
                yield f"http://127.0.0.1:{port}", log, rest


def test_enqueue_drain_and_stats_over_http(service: tuple[str, Path, object]) -> None:
    base, log, rest = service
    with httpx.Client(base_url=base, timeout=30) as c:
        deadline = time.monotonic() + 20
        while (health := c.get("/health")).status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert health.json() == {"status": "ok"}

        r = c.post(
            "/jobs",
            json={"type": "send_email", "payload": {"to": "a@example.com", "subject": "hi"}},
            headers=bearer(ENQUEUE),
        )
        assert r.status_code == 201, r.text
        email_id = r.json()["id"]
        r = c.post(
            "/jobs/batch",
            json={
                "jobs": [{"type": "noop", "payload": i} for i in range(3)]
                + [{"type": "noop", "delay_seconds": 3600}]
            },
            headers=bearer(ENQUEUE),
        )
        assert r.status_code == 201, r.text
        delayed_id = r.json()["jobs"][-1]["id"]
        again = c.post("/jobs", json={"type": "noop", "job_id": email_id}, headers=bearer(ADMIN))
        assert again.status_code == 200
        assert again.json()["deduplicated"] is True

        assert c.get("/jobs/stats", headers=bearer(CRON)).status_code == 403

        r = c.get("/jobs/process", headers={**bearer(CRON), "user-agent": "vercel-cron/1.0"})
        assert r.status_code == 200, r.text
        summary = r.json()
        assert summary["claimed"] == summary["succeeded"] == 4
        assert (summary["retried"], summary["dead"], summary["more"]) == (0, 0, False)

        job = c.get(f"/jobs/{email_id}", headers=bearer(ADMIN)).json()
        assert job["status"] == "succeeded"
        assert job["result"] == {"delivered_to": "a@example.com"}
        assert c.get(f"/jobs/{delayed_id}", headers=bearer(ADMIN)).json()["status"] == "scheduled"

        r = c.get("/jobs/stats", headers=bearer(ADMIN))
        assert r.status_code == 200, r.text
        stats = r.json()
        assert stats["store"] == {
            "kind": "upstash",
            "persistent": True,
            "reachable": True,
            "latency_ms": stats["store"]["latency_ms"],
        }
        q = stats["queues"]["default"]
        assert (q["ready"], q["scheduled"], q["running"]) == (0, 1, 0)
        assert q["counters"]["succeeded"] == 4
        assert stats["dead"] == 0
        assert stats["health"]["status"] == "healthy"

        r = c.post("/jobs/process", json={"job_id": delayed_id}, headers=bearer(CRON))
        assert r.json()["claimed"] == 1

    assert rest.requests_total() > 0  # type: ignore[attr-defined]  # the REST path was used
    output = log.read_text()
    assert '"event": "job enqueued"' in output
    for secret in (ADMIN, CRON, ENQUEUE, REST_TOKEN):
        assert secret not in output
    assert "admin token for this process" not in output  # never with a real store
