"""The measurements: each system enqueues singly, then in bulk, then drains, in rounds.

Systems take turns round by round (RQ, arq, ours, ... then again), so a burst of
load from elsewhere on a shared machine falls on every system alike instead of on
whichever happened to run then; each figure sums its rounds.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .redisstats import Meter

USD_PER_COMMAND = 0.20 / 100_000  # Upstash pay-as-you-go


@dataclass
class Phase:
    """One kind of work summed over the rounds: jobs, seconds, commands, requests."""

    jobs: int = 0
    seconds: float = 0.0
    commands: Counter = field(default_factory=Counter)
    requests: int | None = None
    rates: list[float] = field(default_factory=list)  # jobs/s of each round

    def add(self, jobs: int, seconds: float, commands: dict[str, int], requests: int | None):
        self.jobs += jobs
        self.seconds += seconds
        self.commands.update(commands)
        if requests is not None:
            self.requests = (self.requests or 0) + requests
        self.rates.append(round(jobs / seconds, 1))

    @property
    def rate(self) -> float | None:
        return self.jobs / self.seconds if self.jobs else None

    @property
    def cmds(self) -> float:
        return sum(self.commands.values()) / self.jobs if self.jobs else 0.0

    @property
    def reqs(self) -> float | None:
        return None if self.requests is None else self.requests / self.jobs

    def to_dict(self) -> dict[str, Any]:
        return {
            "jobs": self.jobs, "seconds": round(self.seconds, 3), "jobs_per_s": self.rate,
            "rounds_jobs_per_s": self.rates, "commands_per_job": self.cmds,
            "requests_per_job": self.reqs, "commands": dict(sorted(self.commands.items())),
        }  # fmt: skip


@dataclass
class Result:
    name: str
    drain_label: str
    single: Phase = field(default_factory=Phase)  # enqueue one by one
    bulk: Phase = field(default_factory=Phase)  # enqueue in batches (one by one if no bulk)
    drain: Phase = field(default_factory=Phase)
    has_bulk: bool = True
    waiting_bytes: list[float] = field(default_factory=list)  # per waiting job, each round
    used_memory_after_drain: int = 0

    @property
    def lifecycle_cmds(self) -> float:
        return self.bulk.cmds + self.drain.cmds

    @property
    def billed_per_job(self) -> float:
        """Every command sent is billed; a script is its request plus the commands inside.

        `INFO commandstats` counts EVALSHA once and every command a script runs, so the
        lifecycle count is already that sum (and RQ's pipelines bill every command)."""
        return self.lifecycle_cmds

    @property
    def usd_per_million(self) -> float:
        return self.billed_per_job * 1_000_000 * USD_PER_COMMAND

    @property
    def mem_per_waiting_job(self) -> float:
        return sum(self.waiting_bytes) / len(self.waiting_bytes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "drain_via": self.drain_label, "has_bulk": self.has_bulk,
            "enqueue_single": self.single.to_dict(), "enqueue_lifecycle": self.bulk.to_dict(),
            "drain": self.drain.to_dict(), "lifecycle_commands_per_job": self.lifecycle_cmds,
            "billed_commands_per_job": self.billed_per_job, "usd_per_million": self.usd_per_million,
            "bytes_per_waiting_job": self.mem_per_waiting_job,
            "used_memory_after_drain": self.used_memory_after_drain,
        }  # fmt: skip


def _requests(system) -> int | None:
    counter = getattr(system, "requests", None)
    return counter() if counter else None


def _timed(system, meter: Meter, work) -> tuple[Any, float, dict[str, int], int | None]:
    """Run ``work()`` from zeroed command stats; its result, seconds, commands, requests."""
    meter.reset()
    before = _requests(system)
    start = time.perf_counter()
    out = work()
    seconds = time.perf_counter() - start
    after = _requests(system)
    return out, seconds, meter.commands(), None if before is None else after - before


def run_round(system, res: Result, meter: Meter, n: int, n_single: int) -> None:
    """One round of one system on an emptied Redis: n_single singly; n in bulk, drained."""
    meter.flush()
    _, secs, cmds, reqs = _timed(system, meter, lambda: system.enqueue_single(n_single))
    res.single.add(n_single, secs, cmds, reqs)

    meter.flush()
    base = meter.used_memory()
    enqueue = system.enqueue_bulk if system.has_bulk else system.enqueue_single
    res.has_bulk = system.has_bulk
    _, secs, cmds, reqs = _timed(system, meter, lambda: enqueue(n))
    res.bulk.add(n, secs, cmds, reqs)
    res.waiting_bytes.append((meter.used_memory() - base) / n)

    done, secs, cmds, reqs = _timed(system, meter, lambda: system.drain(n))
    if done != n:
        raise RuntimeError(f"{system.name} processed {done} of {n} jobs")
    res.drain.add(n, secs, cmds, reqs)
    res.used_memory_after_drain = meter.used_memory()
