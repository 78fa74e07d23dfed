"""Cold start: importing the app, against importing its dependencies alone."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys

DEPS = "fastapi, upstash_redis, structlog, pydantic_settings, httpx"
APP = "app.main"

# the time of the import statement alone, in a fresh interpreter
_PROBE = "import time; t = time.perf_counter(); import {mods}; print(time.perf_counter() - t)"


def _once(mods: str, env: dict[str, str]) -> float:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE.format(mods=mods)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"importing {mods} failed: {out.stderr.strip()[-500:]}")
    return float(out.stdout.strip().splitlines()[-1])


def cold_start(runs: int = 7, env: dict[str, str] | None = None) -> dict:
    """Median import times (seconds) in fresh subprocesses, alternating the two."""
    env = {**os.environ, **(env or {})}
    _once(DEPS, env)  # warm the file cache and the bytecode caches of both
    _once(APP, env)
    deps, app = [], []
    for _ in range(runs):
        deps.append(_once(DEPS, env))
        app.append(_once(APP, env))
    d, a = statistics.median(deps), statistics.median(app)
    return {"runs": runs, "deps_s": d, "app_s": a, "ratio": a / d}
