"""A per-connection API budget shared by every worker on every machine.

Counts live in Redis, so ten workers on three machines together stay under a
vendor's per-minute, per-day and concurrency limits. Over budget, ``acquire``
raises ``RateLimited`` with the wait, and the runner turns that into a retry.

Two ways of counting: fixed clock-minute and UTC-day windows (the default),
and sliding windows (``sliding=True``) for vendors that count a rolling minute,
such as Xero: fixed windows let a full minute's budget through at 12:00:59 and
another at 12:01:00, twice the limit within two seconds. A sliding throttle can
also be paused (the vendor answered 429 with Retry-After) for every worker.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
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


# Sliding windows: one sorted set of call times (scored in seconds) per key,
# covering the last day when there is a daily budget, else the last minute. The
# fixed day counter is kept as well: the connections page reads it.
# KEYS[1] pause key; ARGV[1] milliseconds. Sets the pause unless a longer one
# is already running.
_EXTEND_PAUSE = """
local left = redis.call('PTTL', KEYS[1])
if left < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
end
return left
"""

_TAKE_SLIDING = """
local log_key, day_key, pause_key = KEYS[1], KEYS[2], KEYS[3]
local now, per_minute, per_day = tonumber(ARGV[1]), tonumber(ARGV[2]),
    tonumber(ARGV[3])
local member, day_ttl = ARGV[4], tonumber(ARGV[5])
local paused = redis.call('PTTL', pause_key)
if paused > 0 then return {0, tostring(paused / 1000)} end
local horizon = 60
if per_day > 0 then horizon = 86400 end
redis.call('ZREMRANGEBYSCORE', log_key, '-inf', now - horizon)
if per_minute > 0 then
  local recent = redis.call('ZCOUNT', log_key, '(' .. (now - 60), '+inf')
  if recent >= per_minute then
    local frees = redis.call('ZRANGEBYSCORE', log_key, '(' .. (now - 60), '+inf',
        'WITHSCORES', 'LIMIT', recent - per_minute, 1)
    return {0, tostring(tonumber(frees[2]) + 60 - now)}
  end
end
if per_day > 0 then
  local used = redis.call('ZCARD', log_key)
  if used >= per_day then
    local frees = redis.call('ZRANGE', log_key, used - per_day, used - per_day,
        'WITHSCORES')
    return {0, tostring(tonumber(frees[2]) + 86400 - now)}
  end
end
redis.call('ZADD', log_key, now, member)
redis.call('EXPIRE', log_key, horizon + 1)
redis.call('INCR', day_key)
redis.call('EXPIRE', day_key, day_ttl + 1)
return {1, '0'}
"""


@dataclass(frozen=True)
class Budget:
    per_minute: int | None = None
    per_day: int | None = None
    concurrent: int | None = None


class Throttle:
    def __init__(
        self, redis: Redis, key: str, budget: Budget, *, sliding: bool = False
    ) -> None:
        self.redis = redis
        self.key = f"ledgerbridge:throttle:{key}"
        self.budget = budget
        self.sliding = sliding
        self._take = redis.register_script(_TAKE)
        self._enter = redis.register_script(_ENTER)
        self._take_sliding = redis.register_script(_TAKE_SLIDING)
        self._extend_pause = redis.register_script(_EXTEND_PAUSE)

    def take(self, *, now: float | None = None) -> str | None:
        """Count one call against the budget, or raise RateLimited.

        A sliding throttle returns the call's entry, which ``untake`` gives back.
        """
        if not (self.budget.per_minute or self.budget.per_day):
            return None
        now = time.time() if now is None else now
        if self.sliding:
            return self._take_in_sliding_window(now)
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

    def _take_in_sliding_window(self, now: float) -> str:
        member = uuid.uuid4().hex
        allowed, wait = self._take_sliding(
            keys=[f"{self.key}:log", f"{self.key}:d:{int(now // 86400)}", self._pause],
            args=[
                repr(float(now)),
                self.budget.per_minute or 0,
                self.budget.per_day or 0,
                member,
                int(86400 - now % 86400) or 1,
            ],
        )
        if not allowed:
            wait = max(float(wait), 0.001)
            raise RateLimited(
                f"Our own API budget for this connection is used up; next call in "
                f"{wait:.0f} s.",
                retry_after=wait,
            )
        return member

    def untake(self, member: str | None) -> None:
        """Give back a sliding-window entry for a call that was never made."""
        if member and self.sliding:
            self.redis.zrem(f"{self.key}:log", member)

    @property
    def _pause(self) -> str:
        return f"{self.key}:pause"

    def pause(self, seconds: float) -> None:
        """No call for ``seconds`` from any worker (sliding throttles only)."""
        if seconds > 0:
            # Only ever lengthen it: two 429s answered a moment apart carry
            # Retry-Afters rounded at different instants, and the shorter one
            # set last must not end the longer wait early.
            self._extend_pause(keys=[self._pause], args=[max(int(seconds * 1000), 1)])

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
        taken = self.take()
        with ExitStack() as stack:
            try:
                stack.enter_context(self.slot())
            except RateLimited:
                self.untake(taken)  # refused before the call: not counted
                raise
            yield
