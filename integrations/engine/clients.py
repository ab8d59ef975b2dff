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
# Systems whose builder also gets ``connection=``: a service-layer builder
# that makes callbacks (Xero's token store) from it for the connector.
_with_connection: set[str] = set()


def register(system: str, builder: Builder, *, with_connection: bool = False) -> None:
    """Register ``builder(settings, credentials, *, throttle, log)`` for a system."""
    _builders[system] = builder
    if with_connection:
        _with_connection.add(system)
    else:
        _with_connection.discard(system)


def throttle_for(connection) -> Throttle:
    from integrations.engine.dispatch import queue

    if connection.system == "xero":
        return _xero_throttle(connection, queue().connection)
    return Throttle(
        queue().connection,
        f"connection-{connection.pk}",
        Budget(
            per_minute=connection.calls_per_minute,
            per_day=connection.calls_per_day,
            concurrent=connection.max_concurrent_calls,
        ),
    )


def _xero_throttle(connection, redis) -> Throttle:
    """Xero counts per organisation (tenant) across every app connection and
    worker, over a rolling minute: a sliding throttle keyed by the tenant."""
    from integrations.connectors.xero.settings import XERO_LIMITS

    tenant = str((connection.settings or {}).get("tenant_id") or "").strip()
    return Throttle(
        redis,
        f"xero-tenant-{tenant}" if tenant else f"connection-{connection.pk}",
        Budget(
            per_minute=connection.calls_per_minute or XERO_LIMITS.per_minute,
            per_day=connection.calls_per_day or XERO_LIMITS.per_day,
            concurrent=connection.max_concurrent_calls or XERO_LIMITS.concurrent,
        ),
        sliding=True,
    )


def build(connection, *, log: CallLog = no_log):
    _load_builtin()
    try:
        builder = _builders[connection.system]
    except KeyError:
        raise LookupError(
            f"No connector is installed for {connection.system}"
        ) from None
    extra = {"connection": connection} if connection.system in _with_connection else {}
    return builder(
        dict(connection.settings),
        dict(connection.credentials),
        throttle=throttle_for(connection),
        log=log,
        **extra,
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
    if "xero" not in _builders:
        from integrations.services.xero_tokens import build_client

        register("xero", build_client, with_connection=True)
