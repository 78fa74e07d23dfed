"""Cold start: importing the app, against importing its dependencies alone."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys

DEPS = "fastapi, upstash_redis, structlog, pydantic_settings, httpx"
APP = "app.main"

# the import statement alone, in a fresh interpreter: wall-clock and CPU seconds
_PROBE = (
    "import json, time; w, c = time.perf_counter(), time.process_time(); import {mods}; "
    "print(json.dumps([time.perf_counter() - w, time.process_time() - c]))"
)


def _once(mods: str, env: dict[str, str]) -> tuple[float, float]:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE.format(mods=mods)],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    if out.returncode != 0:
        raise RuntimeError(f"importing {mods} failed: {out.stderr.strip()[-500:]}")
    wall, cpu = json.loads(out.stdout.strip().splitlines()[-1])
    return wall, cpu


def cold_start(runs: int = 9, env: dict[str, str] | None = None) -> dict:
    """Medians over fresh subprocesses, the two imports alternating (seconds)."""
    env = {**os.environ, **(env or {})}
    _once(DEPS, env)  # warm the file cache and the bytecode caches of both
    _once(APP, env)
    deps, app = [], []
    for _ in range(runs):
        deps.append(_once(DEPS, env))
        app.append(_once(APP, env))
    d_wall, a_wall = (statistics.median(x[0] for x in s) for s in (deps, app))
    d_cpu, a_cpu = (statistics.median(x[1] for x in s) for s in (deps, app))
    return {
        "runs": runs,
        "deps_s": d_wall,
        "app_s": a_wall,
        "ratio": a_wall / d_wall,
        "deps_cpu_s": d_cpu,
        "app_cpu_s": a_cpu,
        "cpu_ratio": a_cpu / d_cpu,
    }
