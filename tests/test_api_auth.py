"""Authentication (fail closed) and settings: every auth case the service documents."""

from __future__ import annotations

import base64
import hashlib
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from pydantic import ValidationError

import app.deps
from app.runtime import SettingsError, build_runtime, get_runtime
from app.settings import Settings
from tests.servers import free_port
from tests.test_api import ADMIN, CRON, ENQUEUE, auth, env_names, make_settings, serve

ENQUEUE_PATHS = [
    ("POST", "/jobs", {"type": "noop"}),
    ("POST", "/jobs/batch", {"jobs": [{"type": "noop"}]}),
]
PROCESS_PATHS = [("GET", "/jobs/process", None), ("POST", "/jobs/process", None)]
ADMIN_PATHS = [
    ("GET", "/jobs/stats", None),
    ("GET", "/jobs/some-id", None),
    ("GET", "/jobs?status=queued", None),
    ("POST", "/jobs/some-id/cancel", None),
    ("POST", "/jobs/some-id/retry", None),
    ("GET", "/jobs/dead", None),
    ("POST", "/jobs/dead/requeue", {"all": True}),
    ("DELETE", "/jobs/dead", None),
]
ALL_PATHS = ENQUEUE_PATHS + PROCESS_PATHS + ADMIN_PATHS
QSTASH_CURRENT = "sig_current_" + "q" * 32
QSTASH_NEXT = "sig_next_" + "n" * 32


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in env_names():
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with serve(make_settings()) as c:
        yield c


def ids(cases: list[tuple[str, str, Any]]) -> list[str]:
    return [f"{m} {p}" for m, p, _ in cases]


async def call(c: httpx.AsyncClient, case: tuple[str, str, Any], headers: dict) -> httpx.Response:
    method, path, body = case
    return await c.request(method, path, json=body, headers=headers)


# -- 401: no token, a wrong token, another scheme ------------------------------------------


@pytest.mark.parametrize("case", ALL_PATHS, ids=ids(ALL_PATHS))
@pytest.mark.parametrize(
    "headers",
    [
        {},
        auth("not-a-configured-token-at-all"),
        {"Authorization": f"Basic {ADMIN}"},
        {"Authorization": "Bearer "},
        auth(ADMIN.upper()),
    ],
    ids=["none", "wrong", "basic", "empty", "case"],
)
async def test_missing_or_wrong_token_is_401_with_challenge(
    client: httpx.AsyncClient, case: tuple, headers: dict
) -> None:
    r = await call(client, case, headers)
    assert r.status_code == 401, r.text
    assert r.headers["www-authenticate"] == "Bearer"
    assert "Bearer" in r.json()["detail"]


# -- 403: a valid token without the right ---------------------------------------------------


@pytest.mark.parametrize("case", ADMIN_PATHS + ENQUEUE_PATHS, ids=ids(ADMIN_PATHS + ENQUEUE_PATHS))
async def test_cron_token_is_403_outside_process(client: httpx.AsyncClient, case: tuple) -> None:
    r = await call(client, case, auth(CRON))
    assert r.status_code == 403
    assert "www-authenticate" not in r.headers


@pytest.mark.parametrize("case", ADMIN_PATHS + PROCESS_PATHS, ids=ids(ADMIN_PATHS + PROCESS_PATHS))
async def test_enqueue_token_is_403_outside_enqueue(client: httpx.AsyncClient, case: tuple) -> None:
    r = await call(client, case, auth(ENQUEUE))
    assert r.status_code == 403


@pytest.mark.parametrize("case", ENQUEUE_PATHS, ids=ids(ENQUEUE_PATHS))
async def test_enqueue_token_enqueues(client: httpx.AsyncClient, case: tuple) -> None:
    assert (await call(client, case, auth(ENQUEUE))).status_code == 201


@pytest.mark.parametrize("case", PROCESS_PATHS, ids=ids(PROCESS_PATHS))
async def test_cron_token_drains_as_vercel_cron_sends_it(
    client: httpx.AsyncClient, case: tuple
) -> None:
    headers = {**auth(CRON), "user-agent": "vercel-cron/1.0"}
    assert (await call(client, case, headers)).status_code == 200


@pytest.mark.parametrize("case", ALL_PATHS, ids=ids(ALL_PATHS))
async def test_admin_token_may_call_everything(client: httpx.AsyncClient, case: tuple) -> None:
    r = await call(client, case, auth(ADMIN))
    assert r.status_code in (200, 201, 404), r.text


# -- unset secrets match nothing -----------------------------------------------------------


async def test_unset_cron_and_enqueue_secrets_match_nothing() -> None:
    async with serve(make_settings(cron_secret=None, enqueue_api_key=None)) as c:
        for token in (CRON, ENQUEUE, "", "None"):
            r = await c.get("/jobs/process", headers=auth(token))
            assert r.status_code == 401, token
        assert (await c.get("/jobs/process", headers=auth(ADMIN))).status_code == 200


async def test_no_admin_key_with_a_real_store_means_no_admin(
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"  # never contacted: auth fails first
    async with serve(make_settings(admin_api_key=None, redis_url=url)) as c:
        runtime = c.app.state.runtime  # type: ignore[attr-defined]
        assert "admin" not in runtime.keys
        assert runtime.generated_admin_token is False
        for case in ADMIN_PATHS:
            assert (await call(c, case, auth(CRON))).status_code == 403
            assert (await call(c, case, auth("a-guess-at-the-admin-key"))).status_code == 401
    assert "admin token for this process" not in capsys.readouterr().err


async def test_zero_setup_prints_a_generated_admin_token_once(
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = make_settings(admin_api_key=None, cron_secret=None, enqueue_api_key=None)
    async with serve(settings) as c:
        err = capsys.readouterr().err
        assert "admin token for this process" in err
        runtime = c.app.state.runtime  # type: ignore[attr-defined]
        token = runtime.keys["admin"]
        assert runtime.generated_admin_token
        assert token in err
        assert len(token) >= 32
        assert (await c.get("/jobs/stats", headers=auth(token))).status_code == 200
        assert (await c.get("/jobs/stats", headers=auth("guess" * 8))).status_code == 401
        get_runtime(c.app)  # cached: not printed again
        assert token not in capsys.readouterr().err
    assert token not in capsys.readouterr().out  # never in the logs


def test_roles_compare_every_secret_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = app.deps.hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(app.deps.hmac, "compare_digest", spy)
    keys = {"admin": ADMIN, "cron": CRON, "enqueue": ENQUEUE}
    assert app.deps.roles_for(ADMIN, keys) == {"admin"}
    assert len(calls) == 3  # no early exit on the first match
    assert app.deps.roles_for("nope", keys) == set()


# -- QStash signatures ---------------------------------------------------------------------


def qstash_signature(body: bytes, key: str = QSTASH_CURRENT, **claims: Any) -> str:
    now = int(time.time())
    digest = base64.urlsafe_b64encode(hashlib.sha256(body).digest()).decode().rstrip("=")
    payload = {
        "iss": "Upstash",
        "sub": "http://testserver/jobs/process",
        "iat": now,
        "nbf": now - 1,
        "exp": now + 300,
        "jti": "msg_1",
        "body": digest,
        **claims,
    }
    return jwt.encode(payload, key, algorithm="HS256")


async def test_qstash_signed_requests_may_drain() -> None:
    settings = make_settings(
        qstash_current_signing_key=QSTASH_CURRENT, qstash_next_signing_key=QSTASH_NEXT
    )
    async with serve(settings) as c:
        body = b'{"limit": 5}'
        headers = {"content-type": "application/json"}
        for key in (QSTASH_CURRENT, QSTASH_NEXT):  # both keys, for rotation
            sig = qstash_signature(body, key)
            r = await c.post(
                "/jobs/process", content=body, headers={**headers, "Upstash-Signature": sig}
            )
            assert r.status_code == 200, r.text
        bad = [
            qstash_signature(body, "sig_wrong_" + "w" * 32),
            qstash_signature(b'{"limit": 500}'),  # signed for another body
            qstash_signature(body, exp=int(time.time()) - 60),
            "not-a-jwt",
        ]
        for sig in bad:
            r = await c.post(
                "/jobs/process", content=body, headers={**headers, "Upstash-Signature": sig}
            )
            assert r.status_code == 401
            assert r.headers["www-authenticate"] == "Bearer"
        sig = qstash_signature(b"")
        r = await c.get("/jobs/stats", headers={"Upstash-Signature": sig})
        assert r.status_code == 401  # a signature opens /jobs/process only


async def test_qstash_signature_is_ignored_without_signing_keys(client: httpx.AsyncClient) -> None:
    sig = qstash_signature(b"")
    r = await client.post("/jobs/process", headers={"Upstash-Signature": sig})
    assert r.status_code == 401


# -- settings ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "changeme",
        "short-token",
        "changeme-changeme-changeme",
        "your-secret-here-0123456789",
        "<your admin api key here>",
        "replace-with-a-random-string",
        " " + "k" * 20,
    ],
)
@pytest.mark.parametrize("field", ["admin_api_key", "cron_secret", "enqueue_api_key"])
def test_settings_refuse_placeholder_secrets(field: str, value: str) -> None:
    with pytest.raises(ValidationError) as info:
        make_settings(**{field: value})
    assert field in str(info.value)


def test_settings_refuse_inconsistent_values() -> None:
    with pytest.raises(ValidationError, match="must differ"):
        make_settings(cron_secret=ADMIN)
    with pytest.raises(ValidationError, match="set together"):
        make_settings(qstash_current_signing_key=QSTASH_CURRENT)
    with pytest.raises(ValidationError, match="below FUNCTION_MAX_DURATION"):
        make_settings(drain_budget_seconds=60, function_max_duration=60)
    with pytest.raises(ValidationError, match="set together"):
        make_settings(upstash_redis_rest_url="https://example.invalid")
    with pytest.raises(ValidationError, match="DRAIN_LIMIT"):
        make_settings(drain_limit=50, drain_max_limit=10)


def test_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_API_KEY", ADMIN)
    monkeypatch.setenv("CRON_SECRET", "")  # empty: unset, not an empty password
    monkeypatch.setenv("KV_REST_API_URL", "https://kv.example.invalid")
    monkeypatch.setenv("KV_REST_API_TOKEN", "kv-token")
    monkeypatch.setenv("DRAIN_BUDGET_SECONDS", "12.5")
    monkeypatch.setenv("JOBQUEUE_DEAD_CAP", "77")
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    assert s.admin_api_key is not None and s.admin_api_key.get_secret_value() == ADMIN
    assert s.cron_secret is None
    assert s.store_config().kind == "upstash"
    assert s.budget == 12.5
    assert s.queue_settings().dead_cap == 77
    assert ADMIN not in repr(s)


async def test_handler_modules_come_from_the_environment() -> None:
    with pytest.raises(RuntimeError, match="JOBQUEUE_HANDLER_MODULES"):
        async with serve(make_settings(jobqueue_handler_modules="handlers,no_such_module")):
            pass
    async with serve(make_settings(jobqueue_handler_modules="handlers.examples")) as c:
        r = await c.post("/jobs", json={"type": "noop"}, headers=auth(ADMIN))
        assert r.status_code == 201


def test_env_example_lists_every_setting_and_loads(tmp_path: Path) -> None:
    text = (Path(__file__).resolve().parent.parent / ".env.example").read_text()
    names = {line.split("=")[0] for line in text.splitlines() if re.match(r"^[A-Z_0-9]+=", line)}
    assert names == {f.upper() for f in Settings.model_fields}
    env_file = tmp_path / ".env"
    env_file.write_text(text)
    with pytest.raises(ValidationError, match="placeholder"):
        Settings(_env_file=env_file)  # type: ignore[call-arg]
    filled = text.replace("replace-with-openssl-rand-hex-32", "x", 1)
    filled = re.sub(r"^(\w+)=replace-with-openssl-rand-hex-32", r"\1=", filled, flags=re.M)
    filled = filled.replace("CRON_SECRET=x", f"CRON_SECRET={CRON}")
    env_file.write_text(filled)
    s = Settings(_env_file=env_file)  # type: ignore[call-arg]
    assert s.cron_secret is not None and s.admin_api_key is None
    assert s.store_config().kind == "memory"
    assert s.budget == 50


def test_invalid_settings_stop_start_up_without_echoing_values(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.setenv("ADMIN_API_KEY", "short-secret")
    monkeypatch.setenv("CRON_SECRET", "changeme-changeme-changeme")
    with pytest.raises(SettingsError) as info:
        build_runtime()
    message = str(info.value)
    assert "ADMIN_API_KEY" in message and "CRON_SECRET" in message
    assert "short-secret" not in message and "changeme-changeme" not in message
