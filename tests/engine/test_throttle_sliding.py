"""The sliding-window throttle Xero's rolling per-tenant limits need."""

from __future__ import annotations

import random

import pytest

from integrations.engine import errors
from integrations.engine.throttle import Budget, Throttle

START = 1_800_000_000.0


def sliding(redis_conn, key="tenant-a", **budget) -> Throttle:
    return Throttle(redis_conn, key, Budget(**budget), sliding=True)


def test_no_sixty_second_window_ever_holds_more_than_sixty_calls(redis_conn):
    """Two workers hammering across minute boundaries, on an injected clock."""
    workers = [sliding(redis_conn, per_minute=60) for _ in range(2)]
    chance = random.Random(6)
    now, made = START + 45.0, []
    while now < START + 600:
        try:
            chance.choice(workers).take(now=now)
        except errors.RateLimited as refused:
            assert 0 < refused.retry_after <= 60
        else:
            made.append(now)
        now += chance.uniform(0.05, 1.5)
    assert len(made) > 400  # the budget was used, not merely refused
    for index, first in enumerate(made):
        in_window = [t for t in made[index:] if t < first + 60]
        assert len(in_window) <= 60


def test_fixed_windows_would_let_twice_the_budget_through_a_boundary(redis_conn):
    """Why Xero gets the sliding mode: the fixed one is fooled at 12:00:59."""
    fixed = Throttle(redis_conn, "fixed", Budget(per_minute=60))
    rolling = sliding(redis_conn, per_minute=60)
    boundary = START - START % 60 + 60
    let_through = {"fixed": 0, "sliding": 0}
    for instant in (boundary - 1, boundary):
        for _ in range(60):
            for name, throttle in (("fixed", fixed), ("sliding", rolling)):
                try:
                    throttle.take(now=instant)
                    let_through[name] += 1
                except errors.RateLimited:
                    pass
    assert let_through == {"fixed": 120, "sliding": 60}


def test_refusal_says_when_the_oldest_call_leaves_the_window(redis_conn):
    throttle = sliding(redis_conn, per_minute=3)
    for offset in (0.0, 10.0, 20.0):
        throttle.take(now=START + offset)
    with pytest.raises(errors.RateLimited) as refused:
        throttle.take(now=START + 30.0)
    assert refused.value.retry_after == pytest.approx(30.0)
    throttle.take(now=START + 60.5)  # the first call has left the window


def test_daily_budget_is_a_rolling_day(redis_conn):
    throttle = sliding(redis_conn, per_day=2)
    throttle.take(now=START)
    throttle.take(now=START + 3600)
    with pytest.raises(errors.RateLimited) as refused:
        throttle.take(now=START + 7200)
    assert refused.value.retry_after == pytest.approx(86400 - 7200)
    throttle.take(now=START + 86401)


def test_two_connections_to_one_tenant_share_the_budget(redis_conn):
    first, second = sliding(redis_conn, per_minute=2), sliding(redis_conn, per_minute=2)
    first.take(now=START)
    second.take(now=START)
    with pytest.raises(errors.RateLimited):
        first.take(now=START + 1)
    sliding(redis_conn, key="tenant-b", per_minute=2).take(now=START + 1)


def test_a_pause_stops_every_worker_until_it_ends(redis_conn):
    one, two = sliding(redis_conn, per_minute=60), sliding(redis_conn, per_minute=60)
    one.pause(30)
    with pytest.raises(errors.RateLimited) as refused:
        two.take()
    assert 29 < refused.value.retry_after <= 30
    redis_conn.delete(f"{one.key}:pause")  # as if the 30 s had passed
    two.take()


def test_a_shorter_pause_set_later_does_not_end_a_longer_one(redis_conn):
    one, two = sliding(redis_conn), sliding(redis_conn)
    one.pause(60)
    two.pause(59)  # a second 429, its Retry-After rounded a moment later

    assert redis_conn.pttl(f"{one.key}:pause") > 59_000
    two.pause(90)
    assert redis_conn.pttl(f"{one.key}:pause") > 89_000


def test_a_call_refused_a_concurrency_slot_is_not_counted(redis_conn):
    throttle = sliding(redis_conn, per_minute=2, concurrent=1)
    with throttle.call():
        with pytest.raises(errors.RateLimited), throttle.call():
            pass
        assert redis_conn.zcard(f"{throttle.key}:log") == 1
    with throttle.call():
        pass
    assert redis_conn.zcard(f"{throttle.key}:log") == 2


def test_calls_today_are_counted_where_the_connections_page_reads_them(redis_conn):
    throttle = sliding(redis_conn, per_minute=10)
    throttle.take(now=START)
    throttle.take(now=START + 1)
    assert redis_conn.get(f"{throttle.key}:d:{int(START // 86400)}") == b"2"
