"""The poller's reads: stamps as Sage writes them, read back through real ODBC."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from integrations.connectors.sage100 import changes
from integrations.connectors.sage100.odbc import OdbcReader, connection_string
from integrations.engine.errors import ValidationFailed
from integrations.sandbox.sage100.database import CompanyDatabase
from tests.support.changefeeds import customer, write

DAY = datetime(2026, 3, 2)


@pytest.fixture
def company(tmp_path) -> CompanyDatabase:
    db = CompanyDatabase(tmp_path, "ABC")
    db.create()
    return db


@pytest.fixture
def reader(company) -> OdbcReader:
    return OdbcReader(connection_string(company.odbc_settings()))


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("14.50000", 52200),
        ("9.00000", 32400),
        ("0.00028", 1),
        ("23.99972", 86399),
        (" 10.25 ", 36900),
        ("", None),
        (None, None),
        ("2:30 PM", None),
        ("-1.00000", None),
    ],
)
def test_time_updated_is_decimal_hours(text, seconds):
    assert changes.seconds_of_day(text) == seconds


def test_a_blank_time_counts_as_the_start_of_the_day():
    row = {"DateUpdated": date(2026, 3, 2), "TimeUpdated": ""}

    assert changes.stamp(row) == DAY
    assert changes.stamp({"DateUpdated": None, "TimeUpdated": "9.00000"}) is None


def test_the_time_of_day_is_compared_as_a_number_not_as_text(company, reader):
    # As text, "9.00000" sorts after "10.00000": a string comparison in SQL
    # would call 09:00 later than 10:00.
    customer(company, "MORNING", DAY.replace(hour=9))
    customer(company, "AFTERNOON", DAY.replace(hour=14, minute=30))
    customer(company, "YESTERDAY", datetime(2026, 3, 1, 23, 59))

    rows = changes.rows_changed_since(reader, "AR_Customer", DAY.replace(hour=10))

    assert [row["CustomerNo"] for row in rows] == ["AFTERNOON"]


def test_a_row_with_no_time_on_the_day_is_read_rather_than_missed(company, reader):
    customer(company, "NOTIME", None, DateUpdated="2026-03-02", TimeUpdated=None)

    rows = changes.rows_changed_since(reader, "AR_Customer", DAY.replace(hour=10))

    assert [row["CustomerNo"] for row in rows] == ["NOTIME"]


def test_a_row_is_found_by_its_key(company, reader):
    write(
        company,
        "IM_ItemWarehouse",
        DAY,
        ItemCode="1001-HON-H252",
        WarehouseCode="001",
        QuantityOnHand="4",
    )
    key = {"ItemCode": "1001-HON-H252", "WarehouseCode": "001"}

    row = changes.row_by_key(reader, "IM_ItemWarehouse", key)

    assert row["QuantityOnHand"] == Decimal("4")
    assert changes.key_text("IM_ItemWarehouse", row) == "1001-HON-H252|001"
    missing = {**key, "WarehouseCode": "000"}
    assert changes.row_by_key(reader, "IM_ItemWarehouse", missing) is None


def test_the_row_hash_ignores_stamps_and_how_a_number_is_written():
    row = {
        "CustomerNo": "ABF",
        "CreditLimit": Decimal("10.00"),
        "DateUpdated": date(2026, 3, 1),
        "TimeUpdated": "9.00000",
        "UserUpdatedKey": "0000000001",
    }
    saved_again = {
        **row,
        "CreditLimit": Decimal("10"),
        "DateUpdated": date(2026, 3, 2),
        "TimeUpdated": "14.50000",
        "UserUpdatedKey": "0000000002",
    }

    assert changes.row_hash(row) == changes.row_hash(saved_again)
    assert changes.row_hash(row) != changes.row_hash({**row, "CreditLimit": 11})
    assert changes.row_hash(row) != changes.row_hash({**row, "UDF_SF_ID": "001A"})
    # A UDF column just added (empty everywhere) changes no row.
    assert changes.row_hash(row) == changes.row_hash({**row, "UDF_SF_ID": None})


@pytest.mark.parametrize(
    ("table", "row"),
    [
        ("AR_Customer", {"ARDivisionNo": "01", "CustomerNo": "A|B"}),
        ("IM_ItemWarehouse", {"ItemCode": "PIPE|1/2", "WarehouseCode": "000"}),
        ("SO_SalesOrderHeader", {"SalesOrderNo": "0000001"}),
    ],
)
def test_a_key_reads_back_even_with_the_separator_inside(table, row):
    assert changes.parse_key(table, changes.key_text(table, row)) == row


def test_event_rows_carry_json_safe_values():
    safe = changes.json_safe({"Amt": Decimal("1.50"), "When": date(2026, 3, 2)})

    assert safe == {"Amt": "1.50", "When": "2026-03-02"}


def test_an_unknown_table_is_refused_naming_the_field(reader):
    with pytest.raises(ValidationFailed) as refused:
        changes.all_rows(reader, "AR_Customer; DROP TABLE x")

    assert refused.value.field == "table"
