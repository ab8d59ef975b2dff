"""A per-connection API budget shared by every worker on every machine.

Counts live in Redis, so ten workers on three machines together stay under a
vendor's per-minute, per-day and concurrency limits. Over budget, ``acquire``
raises ``RateLimited`` with the wait, and the runner turns that into a retry.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from redis import Redis

from integrations.engine.errors import RateLimited

# Fixed windows per minute and per UTC day, checked and taken atomically.
_TAKE = """
local minute_key, day_key = KEYS[1], KEYS[2]
local per_minute, per_day = tonumber(ARGV[1]), tonumber(ARGV[2])
local minute_ttl, day_ttl = tonumber(ARGV[3]), tonumber(ARGV[4])
local used_minute = tonumber(redis.call('GET', minute_key) or '0')
local used_day = tonumber(redis.call('GET', day_key) or '0')
if per_minute > 0 and used_minute >= per_minute then return {0, minute_ttl} end
if per_day > 0 and used_day >= per_day then return {0, day_ttl} end
redis.call('INCR', minute_key); redis.call('EXPIRE', minute_key, minute_ttl + 1)
redis.call('INCR', day_key); redis.call('EXPIRE', day_key, day_ttl + 1)
return {1, 0}
"""

# A sorted set of holders scored by expiry: a worker killed mid-call frees its
# slot when the score passes, instead of holding it forever.
_ENTER = """
local key, limit, now, expires, holder = KEYS[1], tonumber(ARGV[1]),
    tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
if redis.call('ZCARD', key) >= limit then return 0 end
redis.call('ZADD', key, expires, holder)
redis.call('EXPIRE', key, math.ceil(expires - now) + 1)
return 1
"""


@dataclass(frozen=True)
class Budget:
    per_minute: int | None = None
    per_day: int | None = None
    concurrent: int | None = None


class Throttle:
    def __init__(self, redis: Redis, key: str, budget: Budget) -> None:
        self.redis = redis
        self.key = f"ledgerbridge:throttle:{key}"
        self.budget = budget
        self._take = redis.register_script(_TAKE)
        self._enter = redis.register_script(_ENTER)

    def take(self, *, now: float | None = None) -> None:
        """Count one call against the budget, or raise RateLimited."""
        if not (self.budget.per_minute or self.budget.per_day):
            return
        now = time.time() if now is None else now
        minute, day = int(now // 60), int(now // 86400)
        allowed, wait = self._take(
            keys=[f"{self.key}:m:{minute}", f"{self.key}:d:{day}"],
            args=[
                self.budget.per_minute or 0,
                self.budget.per_day or 0,
                int(60 - now % 60) or 1,
                int(86400 - now % 86400) or 1,
            ],
        )
        if not allowed:
            raise RateLimited(
                f"Our own API budget for this connection is used up; next call in "
                f"{int(wait)} s.",
                retry_after=float(wait),
            )

    @contextmanager
    def slot(self, *, hold_seconds: float = 120.0) -> Iterator[None]:
        """Hold one of the connection's concurrent-call slots for a call."""
        if not self.budget.concurrent:
            yield
            return
        holder, now = uuid.uuid4().hex, time.time()
        key = f"{self.key}:c"
        if not self._enter(
            keys=[key], args=[self.budget.concurrent, now, now + hold_seconds, holder]
        ):
            raise RateLimited(
                "Too many calls to this connection are in flight.", retry_after=1.0
            )
        try:
            yield
        finally:
            self.redis.zrem(key, holder)

    @contextmanager
    def call(self) -> Iterator[None]:
        self.take()
        with self.slot():
            yield
