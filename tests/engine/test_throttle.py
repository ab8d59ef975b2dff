import pytest

from integrations.engine import errors
from integrations.engine.throttle import Budget, Throttle


def test_per_minute_budget_is_shared_and_resets_next_minute(redis_conn):
    one, two = (Throttle(redis_conn, "c1", Budget(per_minute=3)) for _ in range(2))
    now = 1_800_000_020.0  # a fixed instant, 20 s into its minute
    one.take(now=now)
    two.take(now=now)
    one.take(now=now)
    with pytest.raises(errors.RateLimited) as caught:
        two.take(now=now)
    assert caught.value.retry_after == 40
    one.take(now=now + 60)  # the next minute has a fresh budget


def test_daily_budget_applies_across_minutes(redis_conn):
    throttle = Throttle(redis_conn, "c2", Budget(per_day=2))
    throttle.take(now=1_800_000_000.0)
    throttle.take(now=1_800_000_100.0)
    with pytest.raises(errors.RateLimited):
        throttle.take(now=1_800_000_200.0)


def test_concurrency_slots_are_released(redis_conn):
    throttle = Throttle(redis_conn, "c3", Budget(concurrent=1))
    with throttle.slot(), pytest.raises(errors.RateLimited), throttle.slot():
        pass
    with throttle.slot():
        pass


def test_unlimited_budget_never_touches_redis(redis_conn):
    Throttle(redis_conn, "c4", Budget()).take()
    assert redis_conn.keys("ledgerbridge:throttle:*") == []
