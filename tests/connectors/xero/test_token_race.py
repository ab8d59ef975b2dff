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

from integrations.connectors.xero import auth
from integrations.engine import clients
from integrations.models import ConnectionStatus, System
from tests.factories import ConnectionFactory
from tests.support.row_locks import (
    hold_until_the_other_waits,
    race,
    skip_unless_postgres,
)


@pytest.mark.django_db(transaction=True)
def test_two_workers_refresh_once_and_both_calls_succeed(xero, redis_conn, monkeypatch):
    skip_unless_postgres()
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
            hold_until_the_other_waits(second_waiting)
        return real_fetch(conf, current)

    monkeypatch.setattr(auth, "fetch_token", fetch_holding_the_lock)
    answers, failures = race(
        lambda: clients.build(books).get_currencies(),
        first_holds=lambda: bool(fetched),
        second_started=second_waiting,
    )

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
