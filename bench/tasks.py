"""No-op job functions for the peers (RQ imports them by dotted path)."""

from __future__ import annotations


def rq_noop() -> None:
    """RQ job: does nothing."""


async def arq_noop(ctx: dict) -> None:
    """arq job: does nothing."""
