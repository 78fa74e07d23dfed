"""`python -m bench`: every system on one fresh redis-server, in one run, one table."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import structlog

from jobqueue import QueueSettings

from .harness import Result, run_round
from .redisstats import Meter
from .report import soak_table, table, targets, targets_table

SYSTEMS = ("rq", "arq", "arq-tuned", "ours", "rest", "http")


def machine() -> str:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem = ""
    with contextlib.suppress(OSError, ValueError, IndexError):
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    return (
        f"{os.cpu_count()} cores ({model or platform.processor() or 'unknown CPU'}){mem}, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    )


def revision() -> str:
    """The commit measured (and whether the tree had uncommitted changes)."""
    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--dirty=+uncommitted changes"],
            capture_output=True, text=True, timeout=10, check=True,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip()


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--n", type=int, default=20_000, help="jobs enqueued then drained per system")
    p.add_argument(
        "--single-n", type=int, default=2_000, help="jobs enqueued one by one per system"
    )
    p.add_argument(
        "--rounds", type=int, default=4, help="turns the systems take, N/rounds jobs each time"
    )
    p.add_argument(
        "--soak", type=int, default=100_000, help="jobs processed in the memory soak (0: skip)"
    )
    p.add_argument(
        "--cold-runs",
        type=int,
        default=9,
        help="fresh interpreters per cold-start figure (0: skip)",
    )
    p.add_argument(
        "--only", default=",".join(SYSTEMS), help=f"comma-separated subset of {','.join(SYSTEMS)}"
    )
    p.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    args = p.parse_args(argv)
    least = 3 * QueueSettings().keep_succeeded  # the plateau shows after 2 x the cap
    if 0 < args.soak < least:
        p.error(f"--soak must be 0 or at least {least:,} (3 x keep_succeeded)")
    return args


def quiet() -> None:
    """Every system logs at WARNING and above only, so no one pays for printing per job."""
    logging.basicConfig(level=logging.WARNING)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    only = set(args.only.split(","))
    quiet()
    from tests.servers import redis_server

    from . import paths

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    results: list[Result] = []
    extra: dict = {
        "machine": machine(),
        "revision": revision(),
        "n": args.n,
        "single_n": args.single_n,
    }
    started = time.perf_counter()
    with redis_server() as url, contextlib.ExitStack() as stack:
        meter = Meter(url)
        extra["redis"] = meter.version()
        log(f"machine: {extra['machine']}; redis-server {extra['redis']}; N={args.n}")
        systems = []
        for key, make in paths.systems(url, only):
            system = stack.enter_context(make())
            if system is None:
                log(f"  {key}: skipped ({paths.missing(key)})")
            else:
                systems.append(system)
                results.append(Result(system.name, system.drain_label))
        rounds = max(1, args.rounds)
        for i in range(rounds):
            n = args.n // rounds + (1 if i < args.n % rounds else 0)
            n_single = args.single_n // rounds + (1 if i < args.single_n % rounds else 0)
            for system, res in zip(systems, results, strict=True):
                run_round(system, res, meter, n, n_single)
                rate = res.drain.rates[-1]
                log(f"  round {i + 1}/{rounds} {system.name}: drain {rate:,.0f} jobs/s")
        for system in systems:
            if hasattr(system, "idle"):
                extra.setdefault("idle", {})[system.name] = system.idle(meter)
        if args.soak:
            log(f"soak: {args.soak:,} jobs with default retention")
            meter.flush()
            from .ours import soak

            extra["soak"] = soak(url, meter, args.soak)
        meter.close()
    if args.cold_runs:
        log("cold start")
        extra["cold_start"] = paths.cold_start(args.cold_runs)
    extra["seconds"] = round(time.perf_counter() - started, 1)

    rows = targets(results, extra)
    print(f"\nMachine: {extra['machine']}; redis-server {extra['redis']}")
    print(f"Code: {extra['revision']}; command: python -m bench {' '.join(argv or sys.argv[1:])}")
    print(
        f"N = {args.n:,} no-op jobs per system ({args.single_n:,} enqueued one by one), "
        f"in {max(1, args.rounds)} rounds taken in turns; "
        f"total run {extra['seconds']} s\n"
    )
    print(table(results))
    if "soak" in extra:
        secs = extra["soak"]["seconds"]
        print(f"\nMemory soak (ours, Redis protocol, default retention), {secs} s:\n")
        print(soak_table(extra["soak"]))
    if "cold_start" in extra and "ratio" in extra["cold_start"]:
        c = extra["cold_start"]
        print(
            f"\nCold start (median of {c['runs']} fresh interpreters each): import app.main "
            f"{c['app_s'] * 1000:.0f} ms ({c['app_cpu_s'] * 1000:.0f} ms CPU), its dependencies "
            f"alone {c['deps_s'] * 1000:.0f} ms ({c['deps_cpu_s'] * 1000:.0f} ms CPU)"
        )
    print("\nTargets:\n")
    print(targets_table(rows))
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "results": [r.to_dict() for r in results],
                    **extra,
                    "targets": [{"target": t, "measured": m, "met": ok} for t, m, ok in rows],
                },
                indent=2,
            )
        )
    return 0
