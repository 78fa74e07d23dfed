"""One system's run: enqueue singly, then in bulk, then drain, counting as it goes."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

from .redisstats import Meter

USD_PER_COMMAND = 0.20 / 100_000  # Upstash pay-as-you-go


@dataclass
class Result:
    name: str
    drain_label: str
    n: int
    enqueue_single_jps: float = 0.0
    enqueue_single_cmds: float = 0.0
    enqueue_single_reqs: float | None = None
    enqueue_bulk_jps: float | None = None
    enqueue_cmds: float = 0.0  # per job, the enqueue used for the lifecycle (bulk if any)
    enqueue_reqs: float | None = None
    drain_jps: float = 0.0
    drain_cmds: float = 0.0
    drain_reqs: float | None = None
    mem_per_waiting_job: float = 0.0
    used_memory_after_drain: int = 0
    processed: int = 0
    commands: dict[str, int] = field(default_factory=dict)  # whole lifecycle, by command

    @property
    def lifecycle_cmds(self) -> float:
        return self.enqueue_cmds + self.drain_cmds

    @property
    def billed_per_job(self) -> float:
        """Every command sent is billed; a script is its request plus the commands inside.

        `INFO commandstats` counts EVALSHA once and every command a script runs, so the
        lifecycle count is already that sum."""
        return self.lifecycle_cmds

    @property
    def usd_per_million(self) -> float:
        return self.billed_per_job * 1_000_000 * USD_PER_COMMAND

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.update(
            lifecycle_cmds=self.lifecycle_cmds,
            billed_per_job=self.billed_per_job,
            usd_per_million=self.usd_per_million,
        )
        return d


def _requests(system) -> int | None:
    counter = getattr(system, "requests", None)
    return counter() if counter else None


def _per(value: int | None, before: int | None, n: int) -> float | None:
    return None if value is None or before is None else (value - before) / n


def run_system(system, meter: Meter, n: int, n_single: int, log=print) -> Result:
    res = Result(system.name, system.drain_label, n)

    meter.flush()
    meter.reset()
    req0 = _requests(system)
    t = time.perf_counter()
    system.enqueue_single(n_single)
    res.enqueue_single_jps = n_single / (time.perf_counter() - t)
    res.enqueue_single_cmds = meter.total() / n_single
    res.enqueue_single_reqs = _per(_requests(system), req0, n_single)
    log(f"  {system.name}: enqueue single {res.enqueue_single_jps:,.0f} jobs/s")

    meter.flush()
    base = meter.used_memory()
    meter.reset()
    req0 = _requests(system)
    t = time.perf_counter()
    if system.has_bulk:
        system.enqueue_bulk(n)
        res.enqueue_bulk_jps = n / (time.perf_counter() - t)
        log(f"  {system.name}: enqueue bulk {res.enqueue_bulk_jps:,.0f} jobs/s")
    else:
        system.enqueue_single(n)
    res.mem_per_waiting_job = (meter.used_memory() - base) / n
    enqueue_commands = meter.commands()
    res.enqueue_cmds = sum(enqueue_commands.values()) / n
    res.enqueue_reqs = _per(_requests(system), req0, n)

    meter.reset()
    req0 = _requests(system)
    t = time.perf_counter()
    res.processed = system.drain(n)
    res.drain_jps = res.processed / (time.perf_counter() - t)
    drain_commands = meter.commands()
    res.drain_cmds = sum(drain_commands.values()) / n
    res.drain_reqs = _per(_requests(system), req0, n)
    res.used_memory_after_drain = meter.used_memory()
    res.commands = {
        k: enqueue_commands.get(k, 0) + drain_commands.get(k, 0)
        for k in sorted(set(enqueue_commands) | set(drain_commands))
    }
    log(f"  {system.name}: drain {res.drain_jps:,.0f} jobs/s ({res.processed} of {n})")
    if res.processed != n:
        raise RuntimeError(f"{system.name} processed {res.processed} of {n} jobs")
    return res
