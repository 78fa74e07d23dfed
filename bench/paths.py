"""Which systems run, and the servers each needs (started here, stopped here)."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

from jobqueue import StoreConfig

from .ours import OursSystem
from .peers import ArqSystem, RQSystem


def _has(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def missing(key: str) -> str:
    return {
        "rest": "jobqueue.restserver is not there yet",
        "http": "app.main is not there yet",
    }.get(key, "unavailable")


@contextmanager
def _closing(make: Callable[[], object]) -> Iterator[object]:
    system = make()
    try:
        yield system
    finally:
        system.close()


def systems(url: str, only: set[str]) -> Iterator[tuple[str, Callable[[], AbstractContextManager]]]:
    if "rq" in only:
        yield "rq", lambda: _closing(lambda: RQSystem(url))
    if "arq" in only:
        yield "arq", lambda: _closing(lambda: ArqSystem(url))
    if "arq-tuned" in only:
        # arq's default poll_delay of 0.5 s caps a backlog at ~200 jobs/s; this is its best
        yield "arq-tuned", lambda: _closing(lambda: ArqSystem(url, poll_delay=0.01))
    if "ours" in only:
        yield (
            "ours",
            lambda: _closing(
                lambda: OursSystem("ours (Redis protocol)", StoreConfig("redis", url))
            ),
        )
    if "rest" in only:
        yield "rest", lambda: _rest(url)
    if "http" in only:
        yield "http", lambda: _http(url)


TOKEN = "bench-token-not-a-secret"


@contextmanager
def _rest(url: str) -> Iterator[object]:
    """Ours through the REST server, run as its own process (it does not share our GIL)."""
    if not _has("jobqueue.restserver"):
        yield None
        return
    from tests.servers import rest_server

    with rest_server(url, TOKEN, in_process=False) as srv:
        store = StoreConfig("upstash", srv.url, srv.token)
        system = OursSystem("ours (REST)", store, requests=srv.requests_total)
        try:
            yield system
        finally:
            system.close()


@contextmanager
def _http(url: str) -> Iterator[object]:
    """The app under uvicorn, its store the REST server: three processes besides ours."""
    if not (_has("app.main") and _has("jobqueue.restserver")):
        yield None
        return
    from tests.servers import rest_server

    from .service import ServiceSystem, app_env, app_server

    with rest_server(url, TOKEN, in_process=False) as srv:
        env = app_env(srv.url, srv.token)
        with app_server(env) as base:
            system = ServiceSystem(base, env, srv.requests_total)
            try:
                yield system
            finally:
                system.close()


def cold_start(runs: int) -> dict:
    if not _has("app.main"):
        return {"error": missing("http")}
    from .coldstart import cold_start as measure

    return measure(runs)
