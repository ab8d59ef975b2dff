"""Build a connector client for a Connection, with its shared throttle.

The one place that reads a Connection row for a connector: it hands the
connector plain settings and secrets, never the model.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from integrations.connectors.base import CallLog, no_log
from integrations.engine.throttle import Budget, Throttle

Builder = Callable[..., Any]
_builders: dict[str, Builder] = {}


def register(system: str, builder: Builder) -> None:
    """Register ``builder(settings, credentials, *, throttle, log)`` for a system."""
    _builders[system] = builder


def throttle_for(connection) -> Throttle:
    from integrations.engine.dispatch import queue

    return Throttle(
        queue().connection,
        f"connection-{connection.pk}",
        Budget(
            per_minute=connection.calls_per_minute,
            per_day=connection.calls_per_day,
            concurrent=connection.max_concurrent_calls,
        ),
    )


def build(connection, *, log: CallLog = no_log):
    _load_builtin()
    try:
        builder = _builders[connection.system]
    except KeyError:
        raise LookupError(
            f"No connector is installed for {connection.system}"
        ) from None
    return builder(
        dict(connection.settings),
        dict(connection.credentials),
        throttle=throttle_for(connection),
        log=log,
    )


def _load_builtin() -> None:
    if "sage100" not in _builders:
        from integrations.connectors.sage100.client import Sage100Client
        from integrations.connectors.sage100.settings import Sage100Settings

        register(
            "sage100",
            lambda settings, credentials, **kw: Sage100Client(
                Sage100Settings.from_connection(settings, credentials), **kw
            ),
        )
    if "salesforce" not in _builders:
        from integrations.connectors.salesforce.client import SalesforceClient
        from integrations.connectors.salesforce.settings import SalesforceSettings

        register(
            "salesforce",
            lambda settings, credentials, **kw: SalesforceClient(
                SalesforceSettings.from_connection(settings, credentials), **kw
            ),
        )
    if "generic" not in _builders:
        from integrations.connectors.generic.client import (
            GenericClient,
            GenericSettings,
        )

        register(
            "generic",
            lambda settings, credentials, **kw: GenericClient(
                GenericSettings.from_connection(settings, credentials), **kw
            ),
        )
    if "shopify" not in _builders:
        from integrations.connectors.shopify.client import ShopifyClient
        from integrations.connectors.shopify.settings import ShopifySettings

        register(
            "shopify",
            lambda settings, credentials, **kw: ShopifyClient(
                ShopifySettings.from_connection(settings, credentials), **kw
            ),
        )
