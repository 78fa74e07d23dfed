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
        "rest": "jobqueue.restserver or tests.servers.rest_server is not there yet",
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
    if "ours" in only:
        yield "ours", lambda: _closing(
            lambda: OursSystem("ours (Redis protocol)", StoreConfig("redis", url))
        )
    if "rest" in only:
        yield "rest", lambda: _rest(url)
    if "http" in only:
        yield "http", lambda: _http(url)


@contextmanager
def _rest(url: str) -> Iterator[object]:
    yield None


@contextmanager
def _http(url: str) -> Iterator[object]:
    yield None


def cold_start(runs: int) -> dict:
    if not _has("app.main"):
        return {"error": missing("http")}
    from .coldstart import cold_start as measure

    return measure(runs)
