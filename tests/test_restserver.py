"""The Upstash-compatible REST server, driven by the real `upstash-redis` SDK and raw HTTP."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import redis
from upstash_redis import Redis as SyncUpstash
from upstash_redis.asyncio import Redis as Upstash
from upstash_redis.errors import UpstashError

from jobqueue.restserver import create_app, main
from tests.servers import RestServer, free_port, redis_server, rest_server

UNICODE = "héllo ✓ 世界"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    with redis_server() as url:
        yield url


@pytest.fixture(scope="module")
def server(redis_url: str) -> Iterator[RestServer]:
    with rest_server(redis_url) as srv:
        yield srv


@pytest.fixture(autouse=True)
def _clean(redis_url: str, server: RestServer) -> None:
    with redis.Redis.from_url(redis_url) as r:
        r.flushall()
        r.script_flush()
    server.reset_counts()


@pytest.fixture(params=["base64", None], ids=["base64", "plain"])
async def sdk(request: pytest.FixtureRequest, server: RestServer) -> AsyncIterator[Upstash]:
    client = Upstash(
        server.url, server.token, rest_encoding=request.param, rest_retries=0,
        allow_telemetry=False,
    )
    yield client
    await client.close()


@pytest.fixture
async def http(server: RestServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Bearer {server.token}"}
    ) as client:
        yield client


# -- the real SDK ---------------------------------------------------------------------


async def test_sdk_strings(sdk: Upstash) -> None:
    assert await sdk.set("k", UNICODE) is True
    assert await sdk.get("k") == UNICODE
    assert await sdk.get("missing") is None
    assert await sdk.set("ok", "OK") is True
    assert await sdk.get("ok") == "OK"
    assert await sdk.incr("n") == 1
    assert await sdk.incrby("n", 41) == 42
    assert await sdk.ping() == "PONG"
    assert await sdk.set("k", "x", nx=True) is False  # nil reply
    assert await sdk.mget("k", "missing", "n") == [UNICODE, None, "42"]


async def test_sdk_hashes_and_lists(sdk: Upstash) -> None:
    assert await sdk.hset("h", values={"a": "1", "b": UNICODE}) == 2
    assert await sdk.hgetall("h") == {"a": "1", "b": UNICODE}
    assert await sdk.hget("h", "b") == UNICODE
    assert await sdk.rpush("l", "a", "b", "c") == 3
    assert await sdk.lpush("l", "z") == 4
    assert await sdk.lrange("l", 0, -1) == ["z", "a", "b", "c"]
    assert await sdk.lpop("l") == "z"
    assert await sdk.llen("l") == 3
    assert await sdk.zadd("z", {"m1": 1, "m2": 2}) == 2
    assert await sdk.zrange("z", 0, -1) == ["m1", "m2"]


async def test_sdk_eval_and_evalsha(sdk: Upstash) -> None:
    script = "redis.call('SET', KEYS[1], ARGV[1]); return {1, ARGV[1], redis.call('GET', KEYS[1])}"
    assert await sdk.eval(script, keys=["k"], args=[UNICODE]) == [1, UNICODE, UNICODE]
    sha = await sdk.script_load("return {KEYS[1], ARGV[1], 7}")
    assert await sdk.evalsha(sha, keys=["a"], args=["b"]) == ["a", "b", 7]
    with pytest.raises(UpstashError, match=r"^NOSCRIPT"):
        await sdk.evalsha("0" * 40, keys=["a"])
    with pytest.raises(UpstashError, match="boom"):
        await sdk.eval("return redis.error_reply('boom')")
    assert await sdk.eval("return cjson.encode({a = 1})") == '{"a":1}'


async def test_sdk_pipeline_and_multi(sdk: Upstash) -> None:
    pipe = sdk.pipeline()
    pipe.set("a", "1")
    pipe.incr("a")
    pipe.get("a")
    pipe.hset("h", values={"f": UNICODE})
    pipe.hgetall("h")
    assert await pipe.exec() == [True, 2, "2", 1, {"f": UNICODE}]
    tx = sdk.multi()
    tx.set("b", UNICODE)
    tx.get("b")
    tx.rpush("l", "x", "y")
    assert await tx.exec() == [True, UNICODE, 2]


async def test_sdk_command_error(sdk: Upstash) -> None:
    await sdk.set("s", "text")
    with pytest.raises(UpstashError, match=r"^WRONGTYPE"):
        await sdk.lpush("s", "x")
    with pytest.raises(UpstashError, match=r"^ERR"):
        await sdk.incr("s")


def test_sync_sdk(server: RestServer) -> None:
    for encoding in ("base64", None):
        client = SyncUpstash(
            server.url, server.token, rest_encoding=encoding, rest_retries=0,
            allow_telemetry=False,
        )
        try:
            assert client.set("k", UNICODE) is True
            assert client.get("k") == UNICODE
            assert client.hset(f"h-{encoding}", values={"a": "1"}) == 1
            assert client.hgetall(f"h-{encoding}") == {"a": "1"}
            assert client.eval("return {KEYS[1], 2}", keys=["x"]) == ["x", 2]
            pipe = client.pipeline()
            pipe.incr(f"n-{encoding}")
            pipe.incr(f"n-{encoding}")
            assert pipe.exec() == [1, 2]
            with pytest.raises(UpstashError, match="NOSCRIPT"):
                client.evalsha("f" * 40)
        finally:
            client.close()


# -- raw HTTP -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "test-token"},
     {"Authorization": "Bearer"}, {"Authorization": "Basic dGVzdC10b2tlbg=="}],
)
@pytest.mark.parametrize("path", ["/", "/pipeline", "/multi-exec", "/get/k"])
async def test_unauthorized(
    server: RestServer, redis_url: str, headers: dict[str, str], path: str
) -> None:
    body = ["SET", "k", "v"] if path == "/" else [["SET", "k", "v"]]
    async with httpx.AsyncClient(base_url=server.url) as client:
        r = await client.post(path, json=body, headers=headers)
    assert r.status_code == 401
    assert r.json() == {"error": "Unauthorized"}
    with redis.Redis.from_url(redis_url) as rc:
        assert rc.get("k") is None


async def test_single_command_and_errors(http: httpx.AsyncClient) -> None:
    r = await http.post("/", json=["SET", "k", "v"])
    assert (r.status_code, r.json()) == (200, {"result": "OK"})
    r = await http.post("/", json=["GET", "k"])
    assert (r.status_code, r.json()) == (200, {"result": "v"})
    r = await http.post("/", json=["NOSUCHCOMMAND", "x"])
    assert r.status_code == 400
    assert r.json()["error"].startswith("ERR unknown command")
    r = await http.post("/", json=["EVALSHA", "0" * 40, "0"])
    assert r.status_code == 400
    assert r.json()["error"].startswith("NOSCRIPT")


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b'{"a": 1}', b"[]", b'"GET"', b"[1, [2]]", b'["GET", null]',
     b'["GET", {"a": 1}]', b'["GET", NaN]', b"\xff\xfe"],
)
async def test_malformed_body(http: httpx.AsyncClient, body: bytes) -> None:
    r = await http.post("/", content=body)
    assert r.status_code == 400
    assert isinstance(r.json()["error"], str) and r.json()["error"]


@pytest.mark.parametrize("path", ["/pipeline", "/multi-exec"])
@pytest.mark.parametrize("body", [b"[]", b'["GET", "k"]', b'[["GET", "k"], []]', b"{"])
async def test_malformed_batch(http: httpx.AsyncClient, path: str, body: bytes) -> None:
    r = await http.post(path, content=body)
    assert r.status_code == 400
    assert "error" in r.json()


async def test_numbers_and_booleans_as_arguments(http: httpx.AsyncClient) -> None:
    r = await http.post("/pipeline", json=[
        ["SET", "i", 5], ["SET", "f", 1.5], ["SET", "t", True], ["INCRBY", "i", 10],
        ["MGET", "i", "f", "t"],
    ])
    assert r.json()[-2:] == [{"result": 15}, {"result": ["15", "1.5", "true"]}]


async def test_base64_rule(http: httpx.AsyncClient) -> None:
    enc = {"Upstash-Encoding": "base64"}
    r = await http.post("/", json=["SET", "k", UNICODE], headers=enc)
    assert r.json() == {"result": "OK"}  # a plain OK stays plain
    assert (await http.post("/", json=["GET", "k"], headers=enc)).json() == {"result": b64(UNICODE)}
    assert (await http.post("/", json=["GET", "k"])).json() == {"result": UNICODE}
    assert (await http.post("/", json=["PING"], headers=enc)).json() == {"result": b64("PONG")}
    assert (await http.post("/", json=["INCR", "n"], headers=enc)).json() == {"result": 1}
    assert (await http.post("/", json=["GET", "nope"], headers=enc)).json() == {"result": None}
    await http.post("/", json=["RPUSH", "l", "a", "", "c"])
    r = await http.post("/", json=["EVAL", "return {KEYS[1], 3, {ARGV[1]}, false}", "1", "x", "y"],
                        headers=enc)
    assert r.json() == {"result": [b64("x"), 3, [b64("y")], None]}
    r = await http.post("/pipeline", json=[["LRANGE", "l", 0, -1], ["SET", "a", "b"]], headers=enc)
    assert r.json() == [{"result": [b64("a"), "", b64("c")]}, {"result": "OK"}]


async def test_replies_are_raw(http: httpx.AsyncClient) -> None:
    await http.post("/", json=["HSET", "h", "a", "1", "b", "2"])
    assert (await http.post("/", json=["HGETALL", "h"])).json() == {"result": ["a", "1", "b", "2"]}
    r = await http.post("/", json=["EVAL", "return cjson.encode({x = {1, 2}})", "0"])
    assert r.json() == {"result": '{"x":[1,2]}'}
    assert (await http.post("/", json=["EXISTS", "h"])).json() == {"result": 1}


async def test_pipeline_items_are_independent(http: httpx.AsyncClient) -> None:
    r = await http.post("/pipeline", json=[
        ["SET", "k", "text"], ["INCR", "k"], ["NOSUCH"], ["GET", "k"], ["EVALSHA", "0" * 40, 0],
    ])
    assert r.status_code == 200
    items = r.json()
    assert items[0] == {"result": "OK"}
    assert items[1]["error"].startswith("ERR value is not an integer")
    assert items[2]["error"].startswith("ERR unknown command")
    assert items[3] == {"result": "text"}
    assert items[4]["error"].startswith("NOSCRIPT")


async def test_multi_exec(http: httpx.AsyncClient) -> None:
    r = await http.post("/multi-exec", json=[["SET", "k", "text"], ["INCR", "k"], ["GET", "k"]])
    assert r.status_code == 200
    items = r.json()
    assert items[0] == {"result": "OK"}
    assert items[1]["error"].startswith("ERR")  # a runtime error does not roll back (Redis)
    assert items[2] == {"result": "text"}
    # a command rejected while queueing aborts the whole transaction: nothing is applied
    r = await http.post("/multi-exec", json=[["SET", "k", "new"], ["NOSUCH"], ["SET", "z", "1"]])
    assert r.status_code == 400
    assert r.json()["error"].startswith("EXECABORT")
    assert (await http.post("/", json=["MGET", "k", "z"])).json() == {"result": ["text", None]}


async def test_multi_exec_is_atomic(http: httpx.AsyncClient) -> None:
    """Readers never see the state between two increments of one transaction."""
    tx = [["INCR", "n"], ["INCR", "n"]]

    async def write() -> None:
        for _ in range(15):
            assert (await http.post("/multi-exec", json=tx)).status_code == 200

    async def read() -> list[int]:
        seen = []
        for _ in range(15):
            r = await http.post("/pipeline", json=[["GET", "n"]])
            seen.append(int(r.json()[0]["result"] or 0))
        return seen

    results = await asyncio.gather(write(), write(), read(), read(), write(), read())
    seen = [v for res in results if res for v in res]
    assert seen and all(v % 2 == 0 for v in seen)
    assert (await http.post("/", json=["GET", "n"])).json() == {"result": "90"}


@pytest.mark.parametrize("command", [["MULTI"], ["SELECT", "1"], ["SUBSCRIBE", "c"],
                                     ["CLIENT", "REPLY", "OFF"], ["WATCH", "k"]])
async def test_connection_state_commands_refused(http: httpx.AsyncClient, command: list) -> None:
    r = await http.post("/", json=command)
    assert r.status_code == 400
    assert "not supported" in r.json()["error"]
    assert (await http.post("/", json=["PING"])).json() == {"result": "PONG"}  # pool unharmed


async def test_path_style(http: httpx.AsyncClient) -> None:
    assert (await http.post("/set/a%2Fkey", content=UNICODE.encode())).json() == {"result": "OK"}
    assert (await http.get("/get/a%2Fkey")).json() == {"result": UNICODE}
    assert (await http.get("/incrby/n/5")).json() == {"result": 5}
    assert (await http.get("/nosuch")).status_code == 400


async def test_base_url_with_trailing_slash(server: RestServer) -> None:
    client = Upstash(server.url + "/", server.token, rest_retries=0, allow_telemetry=False)
    try:
        assert await client.set("k", "v") is True
        pipe = client.pipeline()  # posts to <url>//pipeline
        pipe.get("k")
        assert await pipe.exec() == ["v"]
        tx = client.multi()
        tx.get("k")
        assert await tx.exec() == ["v"]
    finally:
        await client.close()


async def test_request_counter(server: RestServer, sdk: Upstash) -> None:
    assert server.requests_total() == 0
    await sdk.set("a", "1")
    await sdk.get("a")
    pipe = sdk.pipeline()
    pipe.get("a")
    pipe.get("a")
    await pipe.exec()
    tx = sdk.multi()
    tx.incr("a")
    await tx.exec()
    async with httpx.AsyncClient() as client:
        await client.get(f"{server.url}/get/a")  # refused, still served
    assert server.requests_total() == 5
    assert server.counts()["by_path"] == {"/": 2, "/pipeline": 1, "/multi-exec": 1, "/get": 1}
    assert server.requests("/pipeline") == 1


async def test_redis_unreachable() -> None:
    with rest_server(f"redis://127.0.0.1:{free_port()}", token="t") as srv:
        auth = {"Authorization": "Bearer t"}
        async with httpx.AsyncClient(base_url=srv.url, headers=auth) as client:
            for path, body in (("/", ["GET", "k"]), ("/pipeline", [["GET", "k"]])):
                r = await client.post(path, json=body)
                assert r.status_code == 503
                assert "Redis unavailable" in r.json()["error"]
        sdk = Upstash(srv.url, "t", rest_retries=0, allow_telemetry=False)
        with pytest.raises(UpstashError, match="Redis unavailable"):
            await sdk.get("k")
        await sdk.close()


def test_empty_token_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ValueError, match="token"):
        create_app("redis://127.0.0.1:6379", "")
    with pytest.raises(SystemExit) as exc:
        main(["--token", "  ", "--redis-url", "redis://127.0.0.1:6379"])
    assert exc.value.code == 2
    assert "empty token" in capsys.readouterr().err


def test_command_line_server(redis_url: str) -> None:
    """`python -m jobqueue.restserver` in a subprocess; counters read over HTTP."""
    with rest_server(redis_url, token="cli-token", in_process=False) as srv:
        client = SyncUpstash(srv.url, srv.token, rest_retries=0, allow_telemetry=False)
        try:
            assert client.set("cli", "yes") is True
            assert client.get("cli") == "yes"
        finally:
            client.close()
        assert srv.requests_total() == 2
        assert srv.requests("/") == 2
        r = httpx.post(srv.url, json=["GET", "cli"], headers={"Authorization": "Bearer nope"})
        assert r.status_code == 401
