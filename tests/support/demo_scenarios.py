"""What the demo's scenario tests start from: the seeded Xero organisation in
memory, and the Sage 100 buyer's purchases run against a simulated company."""

from __future__ import annotations

from pathlib import Path

from django.core.management import call_command

from integrations.models import System
from integrations.sandbox.xero.accounting import Organisation
from tests.factories import ConnectionFactory
from tests.support.sage100 import Sage100

DEMO_TENANT_ID = "3f1e9c2a-7b4d-5e8f-a1c6-0d2b4e6f8a10"


def demo_organisation() -> tuple[Organisation, list[tuple]]:
    """The demo's seeded organisation and the change events (category, kind,
    id) it makes from now on."""
    events: list[tuple] = []
    books = Organisation(
        DEMO_TENANT_ID,
        "Demo Company (US)",
        on_change=lambda *event: events.append(event),
    )
    books.seed_demo()
    return books, events


def buy_twice(sage: Sage100, root: Path, **options) -> None:
    """``manage.py sage100_purchases``: two purchases tagged DP, 10 ms apart,
    in ``sage``'s company ABC (simulated under ``root``), then exit."""
    connection = ConnectionFactory(
        system=System.SAGE100,
        settings=sage.connection_settings(),
        credentials=sage.credentials,
    )
    call_command(
        "sage100_purchases", connection=connection.slug, root=str(root),
        company="ABC", seconds=0.01, count=2, tag_prefix="DP",
        exit_when_done=True, **options,
    )  # fmt: skip
