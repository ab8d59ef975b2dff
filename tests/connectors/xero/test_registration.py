"""How the engine builds a Xero client: token store and per-tenant throttle."""

from __future__ import annotations

import pytest

from integrations.connectors.xero.client import XeroClient
from integrations.connectors.xero.settings import XERO_LIMITS
from integrations.engine import clients
from integrations.models import System
from integrations.services.xero_tokens import ConnectionTokenStore
from tests.factories import ConnectionFactory

SECRETS = {"client_id": "app", "client_secret": "secret"}


@pytest.mark.django_db
def test_xero_clients_renew_through_their_connection(redis_conn):
    books = ConnectionFactory(
        system=System.XERO, settings={"tenant_id": "t-1"}, credentials=SECRETS
    )

    client = clients.build(books)

    assert isinstance(client, XeroClient)
    assert isinstance(client.tokens, ConnectionTokenStore)
    assert client.tokens.connection_id == books.pk


@pytest.mark.django_db
def test_connections_to_one_organisation_share_a_sliding_throttle(redis_conn):
    one, two = (
        ConnectionFactory(
            system=System.XERO, settings={"tenant_id": "t-1"}, credentials=SECRETS
        )
        for _ in range(2)
    )
    other = ConnectionFactory(
        system=System.XERO, settings={"tenant_id": "t-2"}, credentials=SECRETS
    )

    first, second, third = (clients.throttle_for(c) for c in (one, two, other))

    assert first.key == second.key != third.key
    assert first.sliding
    assert (first.budget.per_minute, first.budget.per_day) == (
        XERO_LIMITS.per_minute,
        XERO_LIMITS.per_day,
    )
    assert first.budget.concurrent == XERO_LIMITS.concurrent


@pytest.mark.django_db
def test_a_connections_own_budget_replaces_xeros(redis_conn):
    books = ConnectionFactory(
        system=System.XERO,
        settings={"tenant_id": "t-1"},
        credentials=SECRETS,
        calls_per_minute=30,
    )

    assert clients.throttle_for(books).budget.per_minute == 30
