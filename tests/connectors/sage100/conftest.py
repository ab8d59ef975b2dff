"""A small simulated Sage 100 company, and the connector reading it through ODBC.

The rows are written with sqlite3 (the simulator's side); everything under
test reads them back through pyodbc, unixODBC and the SQLite ODBC driver.
"""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from integrations.connectors.sage100.odbc import OdbcReader, connection_string
from integrations.connectors.sage100.reader import Sage100Reader
from integrations.connectors.sage100.settings import Sage100Settings
from integrations.sandbox.sage100.database import CompanyDatabase

CUSTOMERS = [
    # division, number, name, limit, balance, open orders, hold, SF id
    ("01", "ABF", "American Business Futures", "5000", "1234.56", "100", "N", "001A"),
    ("01", "ARTWORK", "Artwork Unlimited", "2000", "150", "0", "Y", "001B"),
    ("02", "CAPITAL", "Capital Systems", "0", "9000", "500", "N", "001C"),
    ("01", "12-345", "Hyphen & Co", "100", "0", "0", "N", ""),
]


def insert(db: CompanyDatabase, table: str, **values) -> None:
    columns = ", ".join(f'"{name}"' for name in values)
    marks = ", ".join("?" * len(values))
    with db.connect() as conn:
        conn.execute(
            f'INSERT INTO "{table}" ({columns}) VALUES ({marks})',
            [str(v) if isinstance(v, Decimal) else v for v in values.values()],
        )


def make_company(root: Path) -> CompanyDatabase:
    """ABC with two divisions, four customers, two items, an order, invoices."""
    db = CompanyDatabase(root, "ABC")
    db.create()
    db.add_udf("AR_Customer", "SF_ACCOUNT_ID", length=18)
    for number, text in (("01", "East"), ("02", "West")):
        insert(db, "AR_Division", ARDivisionNo=number, DivisionDescription=text)
    for div, no, name, limit, balance, open_, hold, sf_id in CUSTOMERS:
        insert(
            db,
            "AR_Customer",
            ARDivisionNo=div,
            CustomerNo=no,
            CustomerName=name,
            CustomerStatus="A",
            CreditLimit=limit,
            CurrentBalance=balance,
            OpenOrderAmt=open_,
            CreditHold=hold,
            DateEstablished="2020-01-31",
            UDF_SF_ACCOUNT_ID=sf_id or None,
        )
    for code, text in (("1001-HON-H252", "Hon 2-Drawer File"), ("2480-8-50", "Pens")):
        insert(
            db,
            "CI_Item",
            ItemCode=code,
            ItemType="1",
            ItemCodeDesc=text,
            StandardUnitPrice="123.4500",
            InactiveItem="N",
        )
    for code, whse, on_hand, on_so, on_bo, on_po in (
        ("1001-HON-H252", "000", "50", "12", "3", "20"),
        ("1001-HON-H252", "001", "7", "0", "0", "0"),
        ("2480-8-50", "000", "1000.5", "10.25", "0", "0"),
    ):
        insert(
            db,
            "IM_ItemWarehouse",
            ItemCode=code,
            WarehouseCode=whse,
            QuantityOnHand=on_hand,
            QuantityOnSalesOrder=on_so,
            QuantityOnBackOrder=on_bo,
            QuantityOnPurchaseOrder=on_po,
        )
    insert(
        db,
        "SO_SalesOrderHeader",
        SalesOrderNo="0000123",
        OrderDate="2026-02-03",
        OrderType="S",
        OrderStatus="O",
        ShipExpireDate="2026-02-10",
        ARDivisionNo="01",
        CustomerNo="ABF",
        CustomerPONo="PO-7781",
    )
    for key, seq, code, qty in (
        ("000002", "00000000000002", "2480-8-50", "10"),
        ("000001", "00000000000001", "1001-HON-H252", "2"),
    ):
        insert(
            db,
            "SO_SalesOrderDetail",
            SalesOrderNo="0000123",
            LineKey=key,
            LineSeqNo=seq,
            ItemCode=code,
            ItemType="1",
            WarehouseCode="000",
            QuantityOrdered=qty,
            UnitPrice="1.5000",
        )
    for number, due, balance in (
        ("0000501", "2026-01-15", "1000.56"),
        ("0000502", "2026-03-01", "234.00"),
    ):
        insert(
            db,
            "AR_OpenInvoice",
            ARDivisionNo="01",
            CustomerNo="ABF",
            InvoiceNo=number,
            InvoiceType="IN",
            InvoiceDate="2026-01-01",
            InvoiceDueDate=due,
            Balance=balance,
            InvoiceAmt=balance,
        )
    return db


def sage_settings(
    db: CompanyDatabase, credentials: dict | None = None, **overrides
) -> Sage100Settings:
    settings = {"company": "ABC", "odbc": db.odbc_settings(timeout_ms=300)}
    settings.update(overrides)
    return Sage100Settings.from_connection(settings, credentials or {})


@pytest.fixture(scope="session")
def _template(tmp_path_factory) -> CompanyDatabase:
    return make_company(tmp_path_factory.mktemp("sage-template"))


@pytest.fixture
def company(tmp_path, _template) -> CompanyDatabase:
    """A fresh copy of the company per test (building one takes ~0.2 s)."""
    return copy_company(_template, tmp_path / "sage")


def copy_company(template: CompanyDatabase, root: Path) -> CompanyDatabase:
    root.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template.path, root / template.path.name)
    return CompanyDatabase(root, template.company)


@pytest.fixture
def odbc(company) -> OdbcReader:
    return OdbcReader(connection_string(company.odbc_settings(timeout_ms=300)))


@pytest.fixture
def calls() -> list:
    return []


@pytest.fixture
def reader(company, odbc, calls) -> Sage100Reader:
    return Sage100Reader(
        odbc,
        sage_settings(company, customer_id_udf="SF_ACCOUNT_ID"),
        log=lambda *call: calls.append(call),
    )
