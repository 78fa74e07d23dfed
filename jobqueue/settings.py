"""Library settings: plain values (the app reads the environment, not this module)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class QueueSettings:
    namespace: str = "default"
    request_timeout: float = 5.0  # seconds per store request
    succeeded_ttl: float = 24 * 3600  # seconds a succeeded or cancelled record is kept
    keep_succeeded: int = 10_000  # at most this many succeeded/cancelled records are kept
    dead_ttl: float = 7 * 24 * 3600  # seconds a dead letter (list entry and record) is kept
    dead_cap: int = 10_000  # the dead-letter list keeps the newest this many
    dedupe_window: float = 3600.0  # default lifetime of a dedupe key, seconds
    lease_margin: float = 5.0  # seconds added to a job's run time to form its lease
    min_time_left: float = 0.5  # a drain claims nothing with less time than this left
    batch_size: int = 100  # jobs claimed per request
    concurrency: int = 20  # handlers running at once in one drain
    sweep: int = 1_000  # due or expired ids moved per queue per claim
    max_payload_bytes: int = 256 * 1024
    max_result_bytes: int = 64 * 1024
    max_error_chars: int = 2_000
