"""Two workers whose Xero login goes stale at once, against the simulated Xero.

The refresh token rotates; spending it twice could leave the connection with
the one Xero no longer honours. With PostgreSQL's row lock one worker
refreshes, the other waits and uses the new tokens, and the connection stays
usable.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connections

from integrations.connectors.xero import auth
from integrations.engine import clients
from integrations.models import ConnectionStatus, System
from tests.factories import ConnectionFactory


def _blocked_on_a_lock() -> int:
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_two_workers_refresh_once_and_both_calls_succeed(xero, redis_conn, monkeypatch):
    if connections["default"].vendor != "postgresql":
        pytest.skip(
            "select_for_update is a no-op on SQLite, so the row lock two workers "
            "race for can only be shown on PostgreSQL (set DATABASE_URL)"
        )
    settings, credentials = xero.connection()
    stale = {**credentials["token_set"], "expires_at": time.time() - 5}
    books = ConnectionFactory(
        system=System.XERO,
        settings=settings,
        credentials={**credentials, "token_set": stale},
    )
    real_fetch, fetched = auth.fetch_token, []
    second_waiting = threading.Event()

    def fetch_holding_the_lock(conf, current):
        fetched.append(current["refresh_token"])
        if len(fetched) == 1:  # keep the lock until the other worker waits for it
            second_waiting.wait(10)
            deadline = time.monotonic() + 10
            while not _blocked_on_a_lock() and time.monotonic() < deadline:
                time.sleep(0.01)
        return real_fetch(conf, current)

    monkeypatch.setattr(auth, "fetch_token", fetch_holding_the_lock)
    answers, failures = {}, []

    def worker(name: str) -> None:
        try:
            client = clients.build(books)
            if name == "second":
                second_waiting.set()
            answers[name] = client.get_currencies()
        except Exception as exc:  # noqa: BLE001 - reported by the test below
            failures.append(exc)
        finally:
            connections.close_all()

    first = threading.Thread(target=worker, args=("first",))
    first.start()
    while not fetched and first.is_alive():
        time.sleep(0.005)
    second = threading.Thread(target=worker, args=("second",))
    second.start()
    first.join(30)
    second.join(30)

    assert failures == []
    assert fetched == [stale["refresh_token"]]  # spent once
    assert answers["first"] == answers["second"]
    books.refresh_from_db()
    assert books.status == ConnectionStatus.ACTIVE
    kept = books.credentials["token_set"]
    assert kept["refresh_token"] != stale["refresh_token"]
    # Still usable later: the kept refresh token is the one Xero honours now.
    monkeypatch.setattr(auth, "fetch_token", real_fetch)
    books.credentials = {**books.credentials, "token_set": {**kept, "expires_at": 0}}
    books.save()
    assert clients.build(books).ping()["organisation"]
