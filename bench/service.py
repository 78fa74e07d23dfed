"""Ours end to end: the app under uvicorn, POST /jobs(/batch) in, GET /jobs/process out.

The app talks to the local Upstash-compatible REST server (the production path), so
its HTTP requests to the store are counted there.
"""

from __future__ import annotations

import os
import secrets
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx

from .ours import BATCH


@contextmanager
def app_server(env: dict[str, str]) -> Iterator[str]:
    """`uvicorn app.main:app` in a subprocess on a free 127.0.0.1 port."""
    from tests.servers import free_port, running

    port = free_port()
    with tempfile.TemporaryFile("w+") as errors:  # a pipe left unread could block the app
        args = [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1",
                "--port", str(port), "--log-level", "warning", "--no-access-log"]  # fmt: skip
        started = False
        try:
            with running(args, port, timeout=30.0, env=env, stderr=errors):
                started = True
                yield f"http://127.0.0.1:{port}"
        except RuntimeError as exc:
            if started:
                raise
            errors.seek(0)
            raise RuntimeError(f"the app did not start: {errors.read()[-2000:]}") from exc


def app_env(rest_url: str, rest_token: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "KV_REST_API_URL")}
    env.update(
        UPSTASH_REDIS_REST_URL=rest_url,
        UPSTASH_REDIS_REST_TOKEN=rest_token,
        CRON_SECRET=secrets.token_hex(16),
        ADMIN_API_KEY=secrets.token_hex(16),
        LOG_LEVEL="warning",  # as every other system here: no line printed per job
    )
    return env


class ServiceSystem:
    """Drives the running app the way a client and Vercel Cron do."""

    has_bulk = True
    drain_label = "GET /jobs/process (uvicorn, REST store)"
    name = "ours (HTTP, end to end)"

    def __init__(self, base_url: str, env: dict[str, str], requests: Callable[[], int]):
        self.requests = requests
        self.http = httpx.Client(base_url=base_url, timeout=60.0)
        self.admin = {"Authorization": f"Bearer {env['ADMIN_API_KEY']}"}
        self.cron = {
            "Authorization": f"Bearer {env['CRON_SECRET']}",
            "User-Agent": "vercel-cron/1.0",
        }

    def _post(self, path: str, body: dict) -> None:
        r = self.http.post(path, json=body, headers=self.admin)
        if r.status_code != 201:
            raise RuntimeError(f"POST {path}: {r.status_code} {r.text[:500]}")

    def enqueue_single(self, n: int) -> None:
        for _ in range(n):
            self._post("/jobs", {"type": "noop"})

    def enqueue_bulk(self, n: int) -> None:
        for start in range(0, n, BATCH):
            self._post("/jobs/batch", {"jobs": [{"type": "noop"}] * min(BATCH, n - start)})

    def process(self) -> dict:
        """One cron call with the defaults (DRAIN_LIMIT jobs at most)."""
        r = self.http.get("/jobs/process", headers=self.cron)
        if r.status_code != 200:
            raise RuntimeError(f"GET /jobs/process: {r.status_code} {r.text[:500]}")
        return r.json()

    def drain(self, n: int) -> int:
        done, calls, deadline = 0, 0, time.monotonic() + 600
        while done < n and calls < n + 10 and time.monotonic() < deadline:
            summary = self.process()
            calls += 1
            done += summary["succeeded"]
            if summary["claimed"] == 0:
                break
        return done

    def idle(self, meter) -> dict:
        meter.flush()
        meter.reset()
        before = self.requests()
        summary = self.process()
        assert summary["claimed"] == 0, summary
        return {"requests": self.requests() - before, "commands": meter.total()}

    def close(self) -> None:
        self.http.close()
