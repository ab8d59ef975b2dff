"""A Xero connection's token set, kept in its encrypted credentials.

Xero's refresh tokens rotate: each refresh returns a new one and the old one
stops working (after a grace period). Two workers refreshing at once would
each spend the same refresh token, and whichever saved last could keep the
one Xero no longer honours. So a refresh happens under a row lock on the
Connection: take the lock, read the token set again, refresh only if it is
still the stale one, and save the rotated set before the lock is released.
The other worker then finds the fresh set and uses it.

On PostgreSQL ``select_for_update`` is a real row lock; on SQLite it is a
no-op, but SQLite lets one writer at a time, which serialises the same way
within one machine.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from integrations.connectors.base import CallLog, no_log
from integrations.connectors.xero.auth import Fetch, is_fresh
from integrations.connectors.xero.client import XeroClient
from integrations.connectors.xero.settings import XeroSettings, token_set
from integrations.engine.errors import AuthRevoked
from integrations.models import Connection

logger = logging.getLogger(__name__)


class ConnectionTokenStore:
    """The token store xero-python's client renews through (one per client)."""

    def __init__(self, connection_id: int, tokens: dict | None = None) -> None:
        self.connection_id = connection_id
        self._tokens = tokens
        self.renewals = 0

    def load(self) -> dict | None:
        return self._tokens

    def renew(self, stale_access_token: str | None, fetch: Fetch) -> dict:
        if transaction.get_connection().in_atomic_block:
            # A rotated token saved in a transaction that later rolls back
            # is lost, and Xero will not accept the old one for long.
            logger.warning(
                "Xero connection %s renews its token inside a transaction",
                self.connection_id,
            )
        try:
            with transaction.atomic():
                row = (
                    Connection.objects.select_for_update()
                    .only("pk", "credentials")
                    .get(pk=self.connection_id)
                )
                credentials = dict(row.credentials or {})
                current = token_set(credentials.get("token_set"))
                if is_fresh(current) and current["access_token"] != stale_access_token:
                    self._tokens = current  # another worker renewed it
                    return current
                fresh = fetch(current)
                credentials["token_set"] = fresh
                # update(): no history row per renewal; credentials are never
                # in the history anyway.
                Connection.objects.filter(pk=self.connection_id).update(
                    credentials=credentials, updated_at=timezone.now()
                )
        except AuthRevoked as exc:
            exc.connection_id = self.connection_id
            _needs_reauthorisation(self.connection_id, exc.message)
            raise
        self._tokens = fresh
        self.renewals += 1
        return fresh


def _needs_reauthorisation(connection_id: int, reason: str) -> None:
    """Xero refused the refresh token or the app: only a person can fix that."""
    from integrations.services.connections import mark_needs_reauth

    connection = Connection.objects.filter(pk=connection_id).first()
    if connection is not None:
        mark_needs_reauth(connection, reason=reason)


def build_client(
    settings: dict,
    credentials: dict,
    *,
    connection: Connection,
    throttle=None,
    log: CallLog = no_log,
) -> XeroClient:
    """The builder ``engine.clients`` registers for "xero"."""
    conf = XeroSettings.from_connection(settings, credentials)
    store = ConnectionTokenStore(connection.pk, conf.token_set)
    return XeroClient(conf, tokens=store, throttle=throttle, log=log)
