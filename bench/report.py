"""The table and the targets, as Markdown (it pastes into the README as is)."""

from __future__ import annotations

from .harness import Result


def _f(x: float | None, fmt: str = ",.0f") -> str:
    return "n/a" if x is None else format(x, fmt)


def _x(r: Result, peer: Result | None) -> str:
    return "n/a" if peer is None else f"{r.drain.rate / peer.drain.rate:.1f}x"


def table(results: list[Result]) -> str:
    rq = next((r for r in results if r.name == "RQ"), None)
    arq = next((r for r in results if r.name == "arq"), None)
    tuned = next((r for r in results if r.name == "arq, tuned"), None)
    head = (
        "| system | drain via | enqueue 1 by 1, jobs/s | enqueue bulk (100), jobs/s "
        "| drain, jobs/s | drain vs RQ | drain vs arq | drain vs arq, tuned "
        "| Redis commands/job: enqueue (1 by 1 / bulk) + drain = lifecycle "
        "| HTTP requests/job to the REST store: enqueue, drain | Upstash-billed commands/job "
        "| $ per 1M jobs | Redis bytes per waiting job |"
    )
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in results:
        reqs = (
            "n/a (Redis protocol)"
            if r.bulk.reqs is None
            else f"{r.single.reqs:.2f} (single), {r.bulk.reqs:.3f} (bulk); {r.drain.reqs:.4f}"
        )
        bulk_rate = r.bulk.rate if r.has_bulk else None
        bulk_cmds = r.bulk.cmds if r.has_bulk else None
        lines.append(
            f"| {r.name} | {r.drain_label} | {_f(r.single.rate)} | {_f(bulk_rate)} "
            f"| {_f(r.drain.rate)} | {_x(r, rq)} | {_x(r, arq)} | {_x(r, tuned)} "
            f"| {r.single.cmds:.1f} / {_f(bulk_cmds, '.1f')} "
            f"+ {r.drain.cmds:.1f} = {r.lifecycle_cmds:.1f} | {reqs} "
            f"| {r.billed_per_job:.1f} | ${r.usd_per_million:,.2f} | {_f(r.mem_per_waiting_job)} |"
        )
    return "\n".join(lines)


def targets(results: list[Result], extra: dict) -> list[tuple[str, str, bool | None]]:
    """(target, measured, met) rows; met is None when it could not be measured."""
    by = {r.name: r for r in results}
    rq, arq, ours = by.get("RQ"), by.get("arq"), by.get("ours (Redis protocol)")
    tuned = by.get("arq, tuned")
    rest = by.get("ours (REST)")
    rows: list[tuple[str, str, bool | None]] = []
    if ours and rq:
        x = ours.drain.rate / rq.drain.rate
        rows.append(("drain on the Redis protocol >= 20x RQ SimpleWorker", f"{x:.1f}x", x >= 20))
    if ours and arq:
        x = ours.drain.rate / arq.drain.rate
        text, ok = f"{x:.1f}x arq's defaults", x >= 5
        if tuned:
            y = ours.drain.rate / tuned.drain.rate
            text, ok = f"{text}; {y:.1f}x arq with poll_delay=0.01", ok and y >= 5
        rows.append(("drain on the Redis protocol >= 5x arq", text, ok))
    if ours:
        c = ours.lifecycle_cmds
        peers = ", ".join(f"{r.name} {r.lifecycle_cmds:.1f}" for r in (rq, arq) if r)
        rows.append(
            ("<= 10 Redis commands per job", f"{c:.1f}" + (f" ({peers})" if peers else ""), c <= 10)
        )
    if rest:
        single = rest.single.reqs
        rows.append(
            (
                "REST: 1 request per enqueue call",
                f"{single:.3f} per single enqueue, {rest.bulk.reqs * 100:.3f} per batch of 100",
                single <= 1.01,
            )
        )
        rows.append(
            (
                "REST: <= 0.05 requests per job to drain (batches of 100)",
                f"{rest.drain.reqs:.4f}",
                rest.drain.reqs <= 0.05,
            )
        )
    else:
        rows.append(
            ("REST: 1 request per enqueue; <= 0.05 requests/job to drain", "not measured", None)
        )
    idle = extra.get("idle")
    if idle:
        worst = max(v["requests"] for v in idle.values())
        text = "; ".join(
            f"{k}: {v['requests']} request{'s' * (v['requests'] != 1)}, {v['commands']} commands"
            for k, v in idle.items()
        )
        rows.append(("idle drain <= 2 requests", text, worst <= 2))
    else:
        rows.append(("idle drain <= 2 requests", "not measured", None))
    soak = extra.get("soak")
    if soak:
        rows.append(
            (
                "memory plateaus under the soak",
                f"{soak['processed']:,} jobs: used_memory x{soak['growth']} from "
                f"{soak['settled_from']:,} processed to the end (max x{soak['max_over_settled']})",
                soak["plateau"],
            )
        )
    cold = extra.get("cold_start")
    if cold and "ratio" in cold:
        rows.append(
            (
                "import app <= 1.2x its dependencies",
                f"{cold['ratio']:.2f}x wall clock ({cold['app_s'] * 1000:.0f} ms vs "
                f"{cold['deps_s'] * 1000:.0f} ms), {cold['cpu_ratio']:.2f}x CPU time",
                max(cold["ratio"], cold["cpu_ratio"]) <= 1.2,
            )
        )
    elif cold:
        rows.append(
            ("import app <= 1.2x its dependencies", cold.get("error", "not measured"), None)
        )
    return rows


def targets_table(rows: list[tuple[str, str, bool | None]]) -> str:
    out = ["| target | measured | met |", "|---|---|---|"]
    for name, measured, met in rows:
        verdict = "not measured" if met is None else "yes" if met else "**no**"
        out.append(f"| {name} | {measured} | {verdict} |")
    return "\n".join(out)


def soak_table(soak: dict) -> str:
    out = ["| processed | used_memory | keys |", "|---|---|---|"]
    for row in soak["samples"]:
        out.append(f"| {row['processed']:,} | {row['used_memory']:,} | {row['keys']:,} |")
    return "\n".join(out)
