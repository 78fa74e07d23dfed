"""Service settings, read from the environment (and a local `.env`) with pydantic-settings.

Secrets are refused when they look like placeholders or are too short; an empty
variable counts as unset, and an unset secret matches nothing. Library settings
reach `jobqueue` as plain values through `queue_settings()`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from jobqueue import QueueSettings, StoreConfig

_LIB = QueueSettings()  # the library's defaults, so they are written down once
MIN_SECRET_LENGTH = 16
PLACEHOLDERS = (
    "changeme",
    "change-me",
    "change_me",
    "changethis",
    "replace",
    "your-",
    "your_",
    "example",
    "placeholder",
    "secret",
    "password",
    "xxxx",
    "todo",
    "<",
    "...",
)
SECRET_FIELDS = ("cron_secret", "admin_api_key", "enqueue_api_key")

PositiveFloat = Annotated[float, Field(gt=0)]
PositiveInt = Annotated[int, Field(ge=1)]


class Settings(BaseSettings):
    """Everything the service reads. Variable names are the field names in upper case."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,
        extra="ignore",
        case_sensitive=False,
    )

    # -- secrets (Authorization: Bearer <secret>) ------------------------------------
    cron_secret: SecretStr | None = None  # may call /jobs/process (Vercel Cron sends it)
    admin_api_key: SecretStr | None = None  # may call everything
    enqueue_api_key: SecretStr | None = None  # may call POST /jobs and /jobs/batch only
    qstash_current_signing_key: SecretStr | None = None
    qstash_next_signing_key: SecretStr | None = None

    # -- the store (the first one configured wins) -------------------------------------
    upstash_redis_rest_url: str = ""
    upstash_redis_rest_token: SecretStr | None = None
    kv_rest_api_url: str = ""
    kv_rest_api_token: SecretStr | None = None
    redis_url: SecretStr | None = None  # may embed a password
    vercel: bool = False  # set (VERCEL=1) by the platform: the in-memory store is refused

    # -- handlers and the queue library -------------------------------------------------
    jobqueue_handler_modules: str = "handlers"
    jobqueue_namespace: str = _LIB.namespace
    jobqueue_request_timeout: PositiveFloat = _LIB.request_timeout
    jobqueue_succeeded_ttl: PositiveFloat = _LIB.succeeded_ttl
    jobqueue_keep_succeeded: PositiveInt = _LIB.keep_succeeded
    jobqueue_dead_ttl: PositiveFloat = _LIB.dead_ttl
    jobqueue_dead_cap: PositiveInt = _LIB.dead_cap
    jobqueue_dedupe_window: PositiveFloat = _LIB.dedupe_window
    jobqueue_lease_margin: PositiveFloat = _LIB.lease_margin
    jobqueue_batch_size: PositiveInt = _LIB.batch_size
    jobqueue_concurrency: PositiveInt = _LIB.concurrency
    jobqueue_max_payload_bytes: PositiveInt = _LIB.max_payload_bytes

    # -- the drain (/jobs/process) --------------------------------------------------------
    function_max_duration: PositiveFloat = 60.0  # keep equal to vercel.json's maxDuration
    drain_budget_seconds: PositiveFloat | None = None  # default: maxDuration minus 10 s
    drain_limit: PositiveInt = 100  # jobs per call unless the caller asks for fewer
    drain_max_limit: PositiveInt = 1_000  # the most a caller may ask for

    # -- request limits ---------------------------------------------------------------------
    max_request_bytes: PositiveInt = 1024 * 1024  # larger bodies get 413
    batch_max_jobs: PositiveInt = 100  # jobs per POST /jobs/batch
    job_wait_max_seconds: Annotated[float, Field(ge=0)] = 25.0  # cap of GET /jobs/{id}?wait=

    # -- health thresholds (GET /jobs/stats) --------------------------------------------------
    health_dead_degraded: PositiveInt = 1
    health_dead_unhealthy: PositiveInt = 1_000
    health_depth_degraded: PositiveInt = 1_000
    health_depth_unhealthy: PositiveInt = 10_000
    health_age_degraded_seconds: PositiveFloat = 300.0
    health_age_unhealthy_seconds: PositiveFloat = 3_600.0
    health_latency_degraded_ms: PositiveFloat = 500.0

    # -- logging --------------------------------------------------------------------------
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["json", "console"] = "json"

    @field_validator(
        *SECRET_FIELDS,
        "qstash_current_signing_key",
        "qstash_next_signing_key",
        "upstash_redis_rest_token",
        "kv_rest_api_token",
        "redis_url",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator(*SECRET_FIELDS)
    @classmethod
    def _refuse_placeholders(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        raw = value.get_secret_value()
        if raw != raw.strip():
            raise ValueError("has leading or trailing whitespace")
        if len(raw) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"is too short ({len(raw)} characters; use at least {MIN_SECRET_LENGTH}, "
                "e.g. `openssl rand -hex 32`)"
            )
        lowered = raw.lower()
        if any(p in lowered for p in PLACEHOLDERS):
            raise ValueError(
                "looks like a placeholder; set a random value (`openssl rand -hex 32`)"
            )
        return value

    @model_validator(mode="after")
    def _check(self) -> Settings:
        given = [
            (n, getattr(self, n).get_secret_value()) for n in SECRET_FIELDS if getattr(self, n)
        ]
        for i, (name, value) in enumerate(given):
            for other, other_value in given[i + 1 :]:
                if value == other_value:
                    raise ValueError(f"{name.upper()} and {other.upper()} must differ")
        if bool(self.qstash_current_signing_key) != bool(self.qstash_next_signing_key):
            raise ValueError(
                "QSTASH_CURRENT_SIGNING_KEY and QSTASH_NEXT_SIGNING_KEY must be set together"
            )
        if self.drain_budget_seconds is None:
            self.drain_budget_seconds = max(1.0, self.function_max_duration - 10.0)
        if self.drain_budget_seconds >= self.function_max_duration:
            raise ValueError(
                f"DRAIN_BUDGET_SECONDS ({self.drain_budget_seconds:g}) must be below "
                f"FUNCTION_MAX_DURATION ({self.function_max_duration:g})"
            )
        if self.drain_limit > self.drain_max_limit:
            raise ValueError("DRAIN_LIMIT must not exceed DRAIN_MAX_LIMIT")
        store = self.store_config()  # URL without token and the like fail here, not later
        if self.vercel and store.kind == "memory":
            raise ValueError(
                "no store is configured and the in-memory one cannot work on Vercel (every "
                "invocation would start empty): set UPSTASH_REDIS_REST_URL and "
                "UPSTASH_REDIS_REST_TOKEN (or KV_REST_API_URL/TOKEN, or REDIS_URL)"
            )
        return self

    @property
    def budget(self) -> float:
        assert self.drain_budget_seconds is not None  # set by the validator
        return self.drain_budget_seconds

    @property
    def handler_modules(self) -> list[str]:
        return [m.strip() for m in self.jobqueue_handler_modules.split(",") if m.strip()]

    @property
    def qstash_enabled(self) -> bool:
        return self.qstash_current_signing_key is not None

    def store_config(self) -> StoreConfig:
        """Upstash REST, then Vercel KV, then REDIS_URL, else the in-memory store."""

        def secret(value: SecretStr | None) -> str:
            return value.get_secret_value() if value else ""

        env = {
            "UPSTASH_REDIS_REST_URL": self.upstash_redis_rest_url,
            "UPSTASH_REDIS_REST_TOKEN": secret(self.upstash_redis_rest_token),
            "KV_REST_API_URL": self.kv_rest_api_url,
            "KV_REST_API_TOKEN": secret(self.kv_rest_api_token),
            "REDIS_URL": secret(self.redis_url),
        }
        return StoreConfig.from_env(env)

    def queue_settings(self) -> QueueSettings:
        return QueueSettings(
            namespace=self.jobqueue_namespace,
            request_timeout=self.jobqueue_request_timeout,
            succeeded_ttl=self.jobqueue_succeeded_ttl,
            keep_succeeded=self.jobqueue_keep_succeeded,
            dead_ttl=self.jobqueue_dead_ttl,
            dead_cap=self.jobqueue_dead_cap,
            dedupe_window=self.jobqueue_dedupe_window,
            lease_margin=self.jobqueue_lease_margin,
            batch_size=self.jobqueue_batch_size,
            concurrency=self.jobqueue_concurrency,
            max_payload_bytes=self.jobqueue_max_payload_bytes,
        )

    def secret_values(self) -> list[str]:
        """Every configured secret, for the log redactor."""
        fields = (
            *SECRET_FIELDS,
            "qstash_current_signing_key",
            "qstash_next_signing_key",
            "upstash_redis_rest_token",
            "kv_rest_api_token",
        )
        return [v.get_secret_value() for f in fields if (v := getattr(self, f))]
