"""The namespace prefix and the keys every script is given (scripts.py derives the rest
from the prefix and documents the whole layout).

All keys of a namespace share the hash tag ``{namespace}``, so every key one script
touches lives in one cluster slot (Redis Cluster and Valkey cluster safe).
"""

from __future__ import annotations

import re

NAME_RE = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")


class Keys:
    def __init__(self, namespace: str = "default"):
        if not NAME_RE.match(namespace):
            raise ValueError(f"namespace must match {NAME_RE.pattern}")
        self.prefix = f"jq:{{{namespace}}}:"

    @property
    def dead(self) -> str:
        return f"{self.prefix}dead"

    @property
    def done(self) -> str:
        return f"{self.prefix}done"

    @property
    def queues(self) -> str:
        return f"{self.prefix}queues"

    @property
    def script_keys(self) -> list[str]:
        """KEYS[1..3] of every script: the dead list, the done index, the queue set."""
        return [self.dead, self.done, self.queues]
