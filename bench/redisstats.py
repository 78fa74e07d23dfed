"""What the benchmark reads from Redis: command counts and memory."""

from __future__ import annotations

import redis

# Commands the benchmark itself sends to read or reset the figures.
OWN = {"info", "config", "flushall", "dbsize", "memory", "ping"}


class Meter:
    """Reads `INFO commandstats` (it counts the commands run inside scripts too)."""

    def __init__(self, url: str):
        self.r = redis.Redis.from_url(url, decode_responses=True)

    def flush(self) -> None:
        """Empty the data set; the script cache stays (a store in use has it loaded)."""
        self.r.flushall()

    def reset(self) -> None:
        self.r.config_resetstat()

    def commands(self) -> dict[str, int]:
        """Calls per command since the last reset, without the benchmark's own."""
        stats = self.r.info("commandstats")
        out = {}
        for name, row in stats.items():
            cmd = name.removeprefix("cmdstat_")
            if cmd.split("|")[0] not in OWN:
                out[cmd] = int(row["calls"])
        return out

    def total(self) -> int:
        return sum(self.commands().values())

    def scripts(self) -> int:
        """Script calls (each is one request that Upstash bills with its inner commands)."""
        c = self.commands()
        return c.get("evalsha", 0) + c.get("eval", 0)

    def used_memory(self) -> int:
        return int(self.r.info("memory")["used_memory"])

    def dbsize(self) -> int:
        return int(self.r.dbsize())

    def version(self) -> str:
        return self.r.info("server")["redis_version"]

    def close(self) -> None:
        self.r.close()
