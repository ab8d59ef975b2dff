"""A simulated Sage 100 company and a simulated Xero organisation, both with a
connection, for the flows between them (master data, procure-to-pay)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from integrations.models import Connection, System
from tests.factories import ConnectionFactory
from tests.support.sage100 import Sage100, running_sage100
from tests.support.xero import RunningXero, running_xero

XERO_SLUG = "xero-books"


@dataclass
class SageAndXero:
    sage: Sage100
    xero: RunningXero
    sage_connection: Connection
    xero_connection: Connection


World = TypeVar("World", bound=SageAndXero)


@contextmanager
def running_sage_and_xero(
    world: type[World],
    root: Path,
    *,
    webhook_key: str,
    customers: int = 3,
    webhook_url: str | None = None,
) -> Iterator[World]:
    """Both running and connected (Xero's as ``XERO_SLUG``); with
    ``webhook_url`` Xero's webhooks go there. The Xero connection exists before
    Xero starts, so its first webhook (intent to receive) finds the key."""
    with running_sage100(root / "sage100", customers=customers) as sage:
        sage_connection = ConnectionFactory(
            name="Sage ABC",
            system=System.SAGE100,
            settings={**sage.connection_settings(), "timezone": "UTC"},
            credentials=sage.credentials,
        )
        xero_connection = ConnectionFactory(
            name="Xero books",
            slug=XERO_SLUG,
            system=System.XERO,
            credentials={"webhook_key": webhook_key},
        )
        with running_xero(
            root / "xero", tenants=1, webhook_url=webhook_url, webhook_key=webhook_key
        ) as xero:
            settings, credentials = xero.connection()
            xero_connection.settings = settings
            xero_connection.credentials = {**credentials, "webhook_key": webhook_key}
            xero_connection.save()
            yield world(sage, xero, sage_connection, xero_connection)
