"""The ASGI app: `uvicorn app.main:app` locally; on Vercel through `app/index.py`.

Import stays light for cold starts: settings are read, handlers imported and the
queue built by the lifespan at start-up, or on the first request where no lifespan
runs. Nothing connects to the store until a request needs it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from . import errors
from .limits import BodySizeLimitMiddleware
from .logging import RequestContextMiddleware
from .routes import ROUTERS
from .runtime import get_runtime, runtime_of
from .settings import Settings

DESCRIPTION = """
A serverless job queue on Redis. Every endpoint but `/health` needs
`Authorization: Bearer <token>`:

* **admin** (`ADMIN_API_KEY`): every endpoint;
* **cron** (`CRON_SECRET`, what Vercel Cron sends): `/jobs/process`;
* **enqueue** (`ENQUEUE_API_KEY`): `POST /jobs` and `POST /jobs/batch`.

A missing or wrong token gets 401, a valid token without the right 403. With QStash
signing keys set, `/jobs/process` also accepts requests signed by QStash.
"""


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    runtime = get_runtime(app)  # fail fast on bad settings; print the zero-setup token
    try:
        yield
    finally:
        await runtime.queue.close()


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; ``settings`` default to the environment, read at start-up."""
    app = FastAPI(
        title="jobqueue",
        summary="Enqueue jobs over HTTP; a cron drains them.",
        description=DESCRIPTION,
        version="0.1.0",
        lifespan=lifespan,
        redirect_slashes=False,  # Vercel Cron follows no redirects
    )
    if settings is not None:
        app.state.settings = settings
    errors.install(app)
    for router in ROUTERS:
        app.include_router(router)
    app.add_middleware(
        BodySizeLimitMiddleware, limit=lambda scope: runtime_of(scope).settings.max_request_bytes
    )
    app.add_middleware(RequestContextMiddleware)  # outermost: every line has the request id
    return app


app = create_app()
