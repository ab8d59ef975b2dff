"""A simulated Sage 100 company for change-feed tests, and the simulator's pen.

Rows are written with sqlite3 (the simulator's side), stamped the way Sage's
business objects stamp them; the poller reads them back through pyodbc,
unixODBC and the SQLite ODBC driver, like a real ProvideX server.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from integrations.models import ChangeFeed, InboundEvent, System
from integrations.sandbox.sage100.database import CompanyDatabase, decimal_hours
from integrations.services import changefeeds
from tests.factories import ConnectionFactory

# Our clock (UTC) and the Sage server's wall clock agree: the connection says
# the server runs on UTC.
NOW = datetime(2026, 3, 2, 10, 0, 0, tzinfo=UTC)
T0 = NOW.replace(tzinfo=None)


@pytest.fixture
def company(tmp_path) -> CompanyDatabase:
    db = CompanyDatabase(tmp_path / "sage", "ABC")
    db.create()
    return db


@pytest.fixture
def sage(company):
    return ConnectionFactory(
        name="Sage ABC",
        system=System.SAGE100,
        settings={"company": "ABC", "odbc": company.odbc_settings(), "timezone": "UTC"},
        credentials={},
    )


@pytest.fixture
def feed(company, sage):
    """A customer feed that has taken its first (whole-table) look."""
    customer(company, "BASE", sage_time(-600))
    feed = feed_for(sage, "AR_Customer")
    assert poll(feed).created == 1
    return feed


def feed_for(connection, table: str, **fields) -> ChangeFeed:
    return ChangeFeed.objects.create(connection=connection, table=table, **fields)


def write(db: CompanyDatabase, table: str, at: datetime | None, **values) -> None:
    """Insert or replace a row; ``at`` is the Sage-local stamp (None: no stamp)."""
    if at is not None:
        values = {
            **values,
            "DateUpdated": at.date().isoformat(),
            "TimeUpdated": decimal_hours(at),
        }
    columns = ", ".join(f'"{name}"' for name in values)
    marks = ", ".join("?" * len(values))
    with db.connect() as conn:
        conn.execute(
            f'INSERT OR REPLACE INTO "{table}" ({columns}) VALUES ({marks})',
            list(values.values()),
        )


def bulk_update(db: CompanyDatabase, table: str, where: str, **values) -> None:
    """What Visual Integrator does: change rows without touching the stamps."""
    assignments = ", ".join(f'"{name}" = ?' for name in values)
    with db.connect() as conn:
        conn.execute(
            f'UPDATE "{table}" SET {assignments} WHERE {where}', list(values.values())
        )


def delete(db: CompanyDatabase, table: str, where: str) -> None:
    with db.connect() as conn:
        conn.execute(f'DELETE FROM "{table}" WHERE {where}')


def customer(db, number: str, at: datetime | None, **values) -> None:
    values.setdefault("CustomerName", f"Customer {number}")
    write(db, "AR_Customer", at, ARDivisionNo="01", CustomerNo=number, **values)


def poll(feed: ChangeFeed, at: datetime = NOW, **kwargs) -> changefeeds.PollResult:
    return changefeeds.poll_feed(feed.pk, now=at, **kwargs)


def bodies(**filters) -> list[dict]:
    """Published event bodies, oldest first."""
    events = InboundEvent.objects.filter(**filters).order_by("pk")
    return [json.loads(bytes(event.body)) for event in events]


def published(**filters) -> list[tuple[str, str]]:
    """(key, change) of every published event, oldest first."""
    return [
        ("|".join(body["key"].values()), body["change"]) for body in bodies(**filters)
    ]


def later(seconds: float) -> datetime:
    return NOW + timedelta(seconds=seconds)


def sage_time(seconds: float) -> datetime:
    """A Sage-local stamp ``seconds`` after T0."""
    return T0 + timedelta(seconds=seconds)
