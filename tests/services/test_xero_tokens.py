"""A Xero connection's token set: renewed once, under a row lock, and kept."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection as db

from integrations.engine.errors import AuthRevoked
from integrations.models import Connection, ConnectionStatus, System
from integrations.services.xero_tokens import ConnectionTokenStore
from tests.factories import ConnectionFactory
from tests.support.row_locks import (
    hold_until_the_other_waits,
    race,
    skip_unless_postgres,
)

STALE = {
    "access_token": "old-access",
    "refresh_token": "old-refresh",
    "expires_at": time.time() - 10,
    "expires_in": 1800,
    "token_type": "Bearer",
    "scope": ["offline_access"],
    "id_token": None,
}


def rotated(current: dict, n: int = 1) -> dict:
    return {
        **current,
        "access_token": f"access-{n}",
        "refresh_token": f"refresh-{n}",
        "expires_at": time.time() + 1800,
    }


def xero_connection(tokens: dict | None = STALE) -> Connection:
    credentials = {"client_id": "id", "client_secret": "secret"}
    if tokens:
        credentials["token_set"] = tokens
    return ConnectionFactory(system=System.XERO, credentials=credentials)


@pytest.mark.django_db
def test_a_renewed_token_set_is_saved_encrypted_without_a_history_row():
    connection = xero_connection()
    history = connection.history.count()
    store = ConnectionTokenStore(connection.pk, STALE)

    fresh = store.renew("old-access", rotated)

    connection.refresh_from_db()
    assert connection.credentials["token_set"] == fresh
    assert fresh["refresh_token"] == "refresh-1"
    assert store.load() == fresh
    assert connection.history.count() == history
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT credentials FROM integrations_connection WHERE id = %s",
            [connection.pk],
        )
        assert "refresh-1" not in cursor.fetchone()[0]


@pytest.mark.django_db
def test_a_worker_holding_the_stale_token_takes_the_one_already_renewed():
    connection = xero_connection(rotated(STALE))
    store = ConnectionTokenStore(connection.pk, STALE)
    fetched = []

    fresh = store.renew("old-access", lambda current: fetched.append(current))

    assert fetched == []
    assert fresh["access_token"] == "access-1"


@pytest.mark.django_db
def test_a_refused_refresh_token_parks_the_connection_for_reauthorisation():
    connection = xero_connection()
    store = ConnectionTokenStore(connection.pk, STALE)

    def refused(current):
        raise AuthRevoked("Xero says invalid_grant", field="credentials.token_set")

    with pytest.raises(AuthRevoked) as caught:
        store.renew("old-access", refused)

    connection.refresh_from_db()
    assert caught.value.connection_id == connection.pk
    assert connection.status == ConnectionStatus.NEEDS_REAUTH
    assert "invalid_grant" in connection.status_message
    assert connection.credentials["token_set"]["refresh_token"] == "old-refresh"


@pytest.mark.django_db(transaction=True)
def test_two_workers_renewing_at_once_spend_the_refresh_token_once():
    skip_unless_postgres()
    connection = xero_connection()
    spent = []
    second_started = threading.Event()

    def fetch(current):
        spent.append(current["refresh_token"])
        if len(spent) == 1:
            # Hold the lock until the other worker is waiting for it.
            hold_until_the_other_waits(second_started)
        return rotated(current, len(spent))

    results, failures = race(
        lambda: ConnectionTokenStore(connection.pk, STALE).renew("old-access", fetch),
        first_holds=lambda: bool(spent),
        second_started=second_started,
    )

    assert failures == []
    assert spent == ["old-refresh"]  # one refresh, with the token Xero issued
    assert results["first"] == results["second"]
    connection.refresh_from_db()
    assert connection.credentials["token_set"]["refresh_token"] == "refresh-1"
    assert connection.status == ConnectionStatus.ACTIVE
