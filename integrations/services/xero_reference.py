"""Xero's reference lists (accounts, tax rates, currencies, items), read once
every half hour per organisation and shared by every worker through Redis.

An order checks its account codes, tax types, currency and item codes against
these lists before anything is written; reading them for each order would
spend four of the organisation's 60 calls a minute on every invoice. A value
not found in the cached list is looked for again in a fresh copy before an
order is refused, so an item added in Xero a minute ago is not missed; one
removed in Xero since the list was read is refused by Xero for that one
document (batches send ``summarizeErrors=false``) with Xero's own reason, so
a long TTL makes no wrong write. 1,000 invoices in batches of 50 are 20 calls;
a re-read of the four lists every five minutes was most of the rest.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Callable

from redis.exceptions import RedisError

TTL_SECONDS = 1800
LISTS: dict[str, Callable] = {
    "accounts": lambda client: client.get_accounts(),
    "tax_rates": lambda client: client.get_tax_rates(),
    "currencies": lambda client: client.get_currencies(),
    "items": lambda client: client.get_items(),
}


def _key(connection, what: str) -> str:
    settings = connection.settings or {}
    place = f"{settings.get('accounting_url', '')}|{settings.get('tenant_id', '')}"
    digest = hashlib.sha256(place.encode()).hexdigest()[:16]
    return f"ledgerbridge:xero-reference:{connection.pk}:{digest}:{what}"


def _redis():
    from integrations.engine.dispatch import queue

    return queue().connection


def read(connection, client, what: str, *, fresh: bool = False) -> list[dict]:
    """The list ``what`` of this organisation (cached unless ``fresh``)."""
    key = _key(connection, what)
    if not fresh:
        try:
            cached = _redis().get(key)
        except RedisError:
            cached = None
        if cached:
            return json.loads(cached)
    rows = LISTS[what](client)
    # The cache only saves calls; without it every order reads afresh.
    with contextlib.suppress(RedisError):
        _redis().set(key, json.dumps(rows, default=str), ex=TTL_SECONDS)
    return json.loads(json.dumps(rows, default=str))


def find(connection, client, what: str, match: Callable[[dict], bool]) -> dict | None:
    """The first row matching, looking in a fresh copy before saying none."""
    for fresh in (False, True):
        for row in read(connection, client, what, fresh=fresh):
            if match(row):
                return row
    return None


def forget(connection, what: str) -> None:
    with contextlib.suppress(RedisError):
        _redis().delete(_key(connection, what))
