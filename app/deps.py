"""Dependencies: the runtime, the queue, the settings, and one alias per auth rule.

Auth (fail closed): ``Authorization: Bearer <token>`` is compared in constant time
with every configured secret; a secret that is not set matches nothing. No token or
a wrong one: 401 with ``WWW-Authenticate: Bearer``; a valid token without the
right: 403. `/jobs/process` also accepts a QStash-signed request when the signing
keys are set.
"""

from __future__ import annotations

import hmac
from typing import Annotated

import structlog
from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from jobqueue import JobQueue

from .runtime import Runtime, get_runtime
from .settings import Settings

log = structlog.get_logger("app.auth")

bearer = HTTPBearer(
    auto_error=False,
    description="CRON_SECRET, ADMIN_API_KEY or ENQUEUE_API_KEY, as each endpoint says.",
)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
CHALLENGE = {"WWW-Authenticate": "Bearer"}


async def runtime_dep(request: Request) -> Runtime:
    return get_runtime(request.app)


RuntimeDep = Annotated[Runtime, Depends(runtime_dep)]


async def queue_dep(runtime: RuntimeDep) -> JobQueue:
    return runtime.queue


async def settings_dep(runtime: RuntimeDep) -> Settings:
    return runtime.settings


QueueDep = Annotated[JobQueue, Depends(queue_dep)]
SettingsDep = Annotated[Settings, Depends(settings_dep)]


def roles_for(token: str, keys: dict[str, str]) -> set[str]:
    """The roles whose secret equals ``token``; every secret is compared, in constant time."""
    given = token.encode()
    return {role for role, secret in keys.items() if hmac.compare_digest(given, secret.encode())}


def _unauthorized(request: Request, reason: str) -> HTTPException:
    log.warning("request refused", reason=reason, path=request.url.path, status=401)
    return HTTPException(401, f"{reason}: send Authorization: Bearer <token>", headers=CHALLENGE)


def _check(
    request: Request,
    creds: HTTPAuthorizationCredentials | None,
    runtime: Runtime,
    allowed: tuple[str, ...],
) -> str:
    if creds is None or not creds.credentials:
        raise _unauthorized(request, "missing bearer token")
    roles = roles_for(creds.credentials, runtime.keys)
    if not roles:
        raise _unauthorized(request, "invalid token")
    for role in allowed:
        if role in roles:
            structlog.contextvars.bind_contextvars(caller=role)
            return role
    log.warning(
        "request refused",
        reason="token lacks the right",
        path=request.url.path,
        roles=sorted(roles),
        status=403,
    )
    raise HTTPException(
        403, f"this token may not call this endpoint (needs: {' or '.join(allowed)})"
    )


async def require_admin(request: Request, creds: Credentials, runtime: RuntimeDep) -> str:
    return _check(request, creds, runtime, ("admin",))


async def require_enqueue(request: Request, creds: Credentials, runtime: RuntimeDep) -> str:
    return _check(request, creds, runtime, ("admin", "enqueue"))


async def require_cron(request: Request, creds: Credentials, runtime: RuntimeDep) -> str:
    """Cron or admin token; or, with no Authorization header, a valid QStash signature."""
    signature = request.headers.get("upstash-signature")
    if creds is None and signature and runtime.receiver is not None:
        body = (await request.body()).decode("utf-8", "replace")
        try:
            runtime.receiver.verify(signature=signature, body=body, clock_tolerance=5)
        except Exception as exc:  # qstash raises SignatureError or JWT errors
            raise _unauthorized(
                request, f"invalid QStash signature ({type(exc).__name__})"
            ) from None
        structlog.contextvars.bind_contextvars(caller="qstash")
        return "qstash"
    return _check(request, creds, runtime, ("admin", "cron"))


AdminAuth = Annotated[str, Depends(require_admin)]
EnqueueAuth = Annotated[str, Depends(require_enqueue)]
CronAuth = Annotated[str, Depends(require_cron)]
