"""What the app builds once per process: settings, handlers, the queue, the auth keys.

Built at start-up by the lifespan, or on first use where no lifespan runs; nothing
here connects to the store (the queue connects on its first request).
"""

from __future__ import annotations

import importlib
import secrets
import sys
from dataclasses import dataclass, field
from typing import Any

import structlog
from pydantic import ValidationError
from starlette.types import Scope

from jobqueue import JobQueue

from .logging import configure_logging
from .settings import Settings

log = structlog.get_logger("app")


@dataclass
class Runtime:
    settings: Settings
    queue: JobQueue
    keys: dict[str, str] = field(repr=False)  # role -> secret; unset roles are absent
    receiver: Any = None  # qstash.Receiver when signing keys are set
    generated_admin_token: bool = False


def import_handlers(modules: list[str]) -> None:
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise RuntimeError(
                f"cannot import handler module {name!r} (JOBQUEUE_HANDLER_MODULES): {exc}"
            ) from exc


def qstash_receiver(settings: Settings) -> Any:
    if not settings.qstash_enabled:
        return None
    try:
        from qstash import Receiver
    except ImportError as exc:
        raise RuntimeError(
            "QSTASH_CURRENT_SIGNING_KEY is set but the `qstash` package is not installed; "
            "install the project with its `qstash` extra"
        ) from exc
    assert settings.qstash_current_signing_key and settings.qstash_next_signing_key
    return Receiver(
        current_signing_key=settings.qstash_current_signing_key.get_secret_value(),
        next_signing_key=settings.qstash_next_signing_key.get_secret_value(),
    )


class SettingsError(RuntimeError):
    """The environment holds invalid settings (the message never repeats a value)."""


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        problems = [
            f"{'.'.join(map(str, e['loc'])).upper() or 'settings'}: {e['msg']}"
            for e in exc.errors(include_url=False, include_input=False, include_context=False)
        ]
        raise SettingsError("invalid settings:\n  " + "\n  ".join(problems)) from None


def build_runtime(settings: Settings | None = None) -> Runtime:
    settings = settings or load_settings()
    configure_logging(settings.log_level, settings.log_format, settings.secret_values())
    import_handlers(settings.handler_modules)
    queue = JobQueue(settings.store_config(), settings=settings.queue_settings())
    keys = {
        role: value.get_secret_value()
        for role, value in (
            ("admin", settings.admin_api_key),
            ("cron", settings.cron_secret),
            ("enqueue", settings.enqueue_api_key),
        )
        if value is not None
    }
    generated = False
    if "admin" not in keys and queue.store_kind == "memory":
        # Zero-setup first run: nothing is persisted, so a throwaway admin token is safe
        # to mint; printed once (never logged). Never done with a real store.
        keys["admin"] = secrets.token_urlsafe(32)
        generated = True
        print(
            "\n  jobqueue: in-memory store and no ADMIN_API_KEY; an admin token for this process:"
            f"\n\n      {keys['admin']}\n\n"
            "  Use it as `Authorization: Bearer <token>`; set ADMIN_API_KEY to choose your own.\n",
            file=sys.stderr,
            flush=True,
        )
    elif "admin" not in keys:
        log.warning("ADMIN_API_KEY is not set: admin endpoints refuse every token")
    log.info(
        "service ready",
        store=queue.store_kind,
        handlers=queue.registry.types(),
        roles=sorted(keys),
        qstash=settings.qstash_enabled,
    )
    return Runtime(settings, queue, keys, qstash_receiver(settings), generated)


def get_runtime(app: Any) -> Runtime:
    """The app's runtime, built on first use (synchronous: no await between check and set)."""
    runtime = getattr(app.state, "runtime", None)
    if runtime is None:
        runtime = app.state.runtime = build_runtime(getattr(app.state, "settings", None))
    return runtime


def runtime_of(scope: Scope) -> Runtime:
    return get_runtime(scope["app"])
