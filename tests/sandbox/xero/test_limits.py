"""Xero's limits in the simulator: per-tenant minute, day and concurrency,
app-wide minute; 429 with Retry-After and X-Rate-Limit-Problem."""

from __future__ import annotations

import threading
import time

import pytest

from integrations.sandbox.xero.limits import Limits
from tests.sandbox.xero.fake_books import Clock, FakeBooks
from tests.support.xero import running_xero


def test_the_sixty_first_call_in_a_rolling_minute_is_refused():
    clock = Clock()
    limits = Limits(per_minute=60, clock=clock)
    for _ in range(60):
        admission = limits.admit("app", "t1")
        assert admission.ok
        admission.release()
        clock.advance(0.5)
    refused = limits.admit("app", "t1")
    assert not refused.ok
    assert refused.headers["X-Rate-Limit-Problem"] == "minute"
    assert refused.headers["X-MinLimit-Remaining"] == "0"
    # The oldest call leaves the window 60 s after it was made: 30 s from now.
    assert refused.headers["Retry-After"] == "30"
    assert limits.admit("app", "t2").ok, "another organisation has its own budget"
    clock.advance(30)
    assert limits.admit("app", "t1").ok


def test_the_day_limit_is_per_tenant_and_configurable():
    clock = Clock()
    limits = Limits(per_minute=1000, per_day=3, clock=clock)
    for _ in range(3):
        limits.admit("app", "t1").release()
        clock.advance(61)
    refused = limits.admit("app", "t1")
    assert (refused.problem, refused.headers["X-DayLimit-Remaining"]) == ("day", "0")
    assert int(refused.headers["Retry-After"]) == 86400 - 3 * 61


def test_concurrent_calls_over_five_are_refused_until_one_finishes():
    limits = Limits(clock=Clock())
    held = [limits.admit("app", "t1") for _ in range(5)]
    assert all(a.ok for a in held)
    refused = limits.admit("app", "t1")
    assert (refused.problem, refused.retry_after) == ("concurrent", 1)
    held[0].release()
    assert limits.admit("app", "t1").ok


def test_the_app_minute_limit_spans_organisations():
    limits = Limits(per_minute=100, app_per_minute=3, clock=Clock())
    for tenant in ("t1", "t2", "t3"):
        limits.admit("app", tenant).release()
    refused = limits.admit("app", "t4")
    assert refused.problem == "appminute"
    assert refused.headers["X-AppMinLimit-Remaining"] == "0"
    assert limits.admit("other-app", "t4").ok


def test_refused_calls_do_not_count():
    clock = Clock()
    limits = Limits(per_minute=2, clock=clock)
    limits.admit("app", "t1").release()
    clock.advance(10)
    limits.admit("app", "t1").release()
    for _ in range(5):
        assert not limits.admit("app", "t1").ok
    clock.advance(50)
    assert limits.admit("app", "t1").ok


# Guards against a hang only: no outcome depends on how long anything takes.
HANG = 120.0


def wait_until(check, timeout: float = HANG) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def xero(tmp_path, clock):
    with running_xero(
        tmp_path, books_factory=FakeBooks, clock=clock, per_minute=3, concurrent=2
    ) as running:
        yield running


def get_contacts(session, xero, access, tenant):
    return session.get(
        xero.accounting_url + "/Contacts",
        headers={"Authorization": f"Bearer {access}", "xero-tenant-id": tenant},
        timeout=HANG,
    )


def test_every_answer_carries_the_rate_headers_and_429_says_why(xero, clock):
    settings, credentials = xero.connection()
    tenant, access = settings["tenant_id"], credentials["token_set"]["access_token"]
    session = xero.session()
    answers = [get_contacts(session, xero, access, tenant) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["X-MinLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert answers[0].headers["X-DayLimit-Remaining"] == "4999"
    assert answers[0].headers["X-AppMinLimit-Remaining"] == "9999"
    refused = answers[-1]
    assert refused.headers["X-Rate-Limit-Problem"] == "minute"
    assert refused.headers["Retry-After"] == "60"
    clock.advance(60)
    assert get_contacts(session, xero, access, tenant).status_code == 200


def test_the_sdk_sees_a_rate_limit_exception_naming_the_limit(xero):
    from xero_python.exceptions import RateLimitException

    from tests.support.xero import sdk_clients

    settings, credentials = xero.connection()
    _, accounting, _ = sdk_clients(xero, credentials["token_set"])
    for _ in range(3):
        accounting.get_contacts(settings["tenant_id"])
    with pytest.raises(RateLimitException) as raised:
        accounting.get_contacts(settings["tenant_id"])
    assert raised.value.rate_limit == "minute"
    assert raised.value.headers["Retry-After"] == "60"


class HeldBooks(FakeBooks):
    """Books that hold every call until ``release`` is set, however long the
    test takes to get there (FakeBooks' own gate gives up after 10 s, and a
    call let go early frees its slot behind the test's back)."""

    release: threading.Event | None = None

    def handle(self, request):
        if self.release is not None:
            self.release.wait()
        return super().handle(request)


def test_calls_held_in_flight_make_the_next_one_wait(tmp_path):
    with running_xero(
        tmp_path,
        books_factory=HeldBooks,
        clock=Clock(),
        per_minute=3,
        concurrent=2,
    ) as xero:
        settings, credentials = xero.connection()
        tenant, access = settings["tenant_id"], credentials["token_set"]["access_token"]
        books = xero.organisation(tenant)
        books.release = threading.Event()
        results: list = []

        def call():
            results.append(get_contacts(xero.session(), xero, access, tenant))

        threads = [threading.Thread(target=call, daemon=True) for _ in range(2)]
        try:
            for thread in threads:
                thread.start()
            # Both admitted: one in the books, one waiting its turn behind it.
            wait_until(lambda: xero.limits.in_flight(xero.client_id, tenant) == 2)
            refused = get_contacts(xero.session(), xero, access, tenant)
        finally:
            books.release.set()
            for thread in threads:
                thread.join(HANG)
        assert refused.status_code == 429
        assert refused.headers["X-Rate-Limit-Problem"] == "concurrent"
        assert [answer.status_code for answer in results] == [200, 200]
