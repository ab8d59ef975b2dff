"""The simulator against SAGE100-FACTS.md: tables, keys, lengths, formats, read only."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pyodbc
import pytest

from integrations.sandbox.sage100.schema import TABLES
from tests.sandbox.sage100.facts import FACTS_FILE, field_facts, table_facts

# Tables the issue names, whatever the facts file's prose looks like.
ISSUE_TABLES = [
    *("AR_Division", "AR_Customer", "AR_TermsCode", "AR_OpenInvoice"),
    *("AR_InvoiceHistoryHeader", "AR_InvoiceHistoryDetail", "SO_SalesOrderHeader"),
    *("SO_SalesOrderDetail", "CI_Item", "IM_Warehouse", "IM_ItemWarehouse"),
    *("AP_Division", "AP_Vendor", "AP_OpenInvoice", "PO_PurchaseOrderHeader"),
    *("PO_PurchaseOrderDetail", "GL_Account", "SY_Company"),
]
STAMPS = {"DateCreated", "TimeCreated", "UserCreatedKey"} | {
    *("DateUpdated", "TimeUpdated", "UserUpdatedKey"),
}
# AP invoice numbers are the vendor's own (10 characters), not a Sage counter.
LENGTH_EXCEPTIONS = {("AP_OpenInvoice", "InvoiceNo")}


@pytest.fixture(scope="module")
def facts_text() -> str:
    return FACTS_FILE.read_text()


def test_the_parser_finds_the_facts_it_checks(facts_text):
    tables = {name for fact in table_facts(facts_text) for name in fact.tables}
    fields = {fact.name for fact in field_facts(facts_text)}
    assert {"AR_Customer", "SO_SalesOrderHeader", "IM_PriceCode"} <= tables
    assert {"ARDivisionNo", "SalesOrderNo", "LineSeqNo", "TimeUpdated"} <= fields


def test_every_table_the_facts_name_exists(facts_text):
    named = {name for fact in table_facts(facts_text) for name in fact.tables}
    assert named | set(ISSUE_TABLES) <= set(TABLES)


def test_every_column_the_facts_name_exists(facts_text):
    missing = []
    for fact in table_facts(facts_text):
        columns = {c for name in fact.tables for c in TABLES[name].column_names}
        missing += [f"{fact.tables}: {c}" for c in sorted(fact.columns - columns)]
    assert missing == []


def test_keys_are_the_facts_keys(facts_text):
    for fact in table_facts(facts_text):
        keys = {TABLES[name].key for name in fact.tables}
        for key in fact.keys:
            assert key in keys, f"{fact.tables} should be keyed by {key}"


def test_master_and_entry_tables_carry_the_audit_stamps(facts_text):
    for fact in table_facts(facts_text):
        for name in fact.tables:
            if name.endswith("Detail"):  # detail rows: poll the header
                assert not TABLES[name].stamped
            else:
                assert set(TABLES[name].column_names) >= STAMPS, name


def test_field_lengths_match_section_one(facts_text):
    checked = 0
    for fact in field_facts(facts_text):
        for table in TABLES.values():
            if fact.name not in table.column_names:
                continue
            if (table.name, fact.name) in LENGTH_EXCEPTIONS:
                continue
            column = table.column(fact.name)
            assert column.length == fact.length, f"{table.name}.{fact.name}"
            checked += 1
    assert checked > 100


def test_field_formats_match_section_one(facts_text):
    for fact in field_facts(facts_text):
        columns = [
            t.column(fact.name)
            for t in TABLES.values()
            if fact.name in t.column_names
            and (t.name, fact.name) not in LENGTH_EXCEPTIONS
            and not t.name.endswith("Options")
        ]
        text = fact.format.lower()
        for column in columns:
            if "zero-filled" in text or "charnum" in text:
                assert column.zero_fill, fact.name
            if "upper-case" in text:
                assert column.upper, fact.name
            if "read only" in text:
                assert column.read_only, fact.name


def test_the_odbc_catalog_shows_the_facts_columns(company, odbc, facts_text):
    for fact in table_facts(facts_text):
        for name in fact.tables:
            live = set(odbc.columns(name))
            assert set(TABLES[name].column_names) <= live, name


def test_odbc_returns_dates_and_decimal_numbers(odbc):
    rows = odbc.select(
        "SO_SalesOrderHeader",
        "SELECT SalesOrderNo, OrderDate, TaxableAmt FROM SO_SalesOrderHeader "
        "WHERE SalesOrderNo = ? AND OrderDate >= {d '2026-01-01'}",
        ["0001001"],
    )
    assert isinstance(rows[0]["OrderDate"], date)
    assert isinstance(rows[0]["TaxableAmt"], Decimal)


def test_an_insert_through_odbc_fails_read_only(company):
    from integrations.connectors.sage100.odbc import connection_string

    connection = pyodbc.connect(
        connection_string(company.odbc_settings()), autocommit=True
    )
    try:
        with pytest.raises(pyodbc.Error, match="readonly"):
            connection.execute("INSERT INTO AR_Division (ARDivisionNo) VALUES ('09')")
    finally:
        connection.close()
