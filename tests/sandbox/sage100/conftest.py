"""The simulated Sage 100 company: seeded once, copied fresh for every test."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from integrations.connectors.sage100.odbc import OdbcReader, connection_string
from integrations.sandbox.sage100.business import SimulatorBackend
from integrations.sandbox.sage100.database import CompanyDatabase
from integrations.sandbox.sage100.faults import Faults
from integrations.sandbox.sage100.seed import seed

SEED_DAY = date(2026, 3, 2)


@pytest.fixture(scope="session")
def _seeded(tmp_path_factory) -> CompanyDatabase:
    db = CompanyDatabase(tmp_path_factory.mktemp("sage100-template"), "ABC")
    db.create()
    seed(db, today=SEED_DAY)
    return db


@pytest.fixture
def company(tmp_path, _seeded) -> CompanyDatabase:
    root = tmp_path / "sage100"
    root.mkdir()
    shutil.copyfile(_seeded.path, root / _seeded.path.name)
    return CompanyDatabase(root, "ABC")


@pytest.fixture
def backend(company) -> SimulatorBackend:
    return SimulatorBackend(company.root, "ABC", user="api", lock_timeout=0.2)


@pytest.fixture
def faults(company) -> Faults:
    return Faults(company.root)


@pytest.fixture
def odbc(company) -> OdbcReader:
    """The connector's reader, through unixODBC, with a short busy timeout."""
    return OdbcReader(connection_string(company.odbc_settings(timeout_ms=200)))


@pytest.fixture
def table(company):
    """Rows as the simulator stored them (raw sqlite3, for assertions)."""

    def rows(name: str, **where) -> list[dict]:
        with company.connect() as db:
            conditions = " AND ".join(f'"{k}" = ?' for k in where) or "1 = 1"
            cursor = db.execute(
                f'SELECT * FROM "{name}" WHERE {conditions}', tuple(where.values())
            )
            return [dict(row) for row in cursor]

    return rows


@pytest.fixture
def new_customer(backend):
    """A customer made for one test, with the credit settings it needs."""

    def make(**values) -> dict:
        values = {"ARDivisionNo": "01", "CustomerName": "Test Customer", **values}
        return backend.create_customer(values).record

    return make


def header(customer: dict, **values) -> dict:
    return {
        "ARDivisionNo": customer["ARDivisionNo"],
        "CustomerNo": customer["CustomerNo"],
        "OrderDate": "2026-03-02",
        "ShipExpireDate": "2026-03-09",
        **values,
    }


def offline_path(db: CompanyDatabase) -> Path:
    return db.path.with_name(db.path.name + ".offline")
