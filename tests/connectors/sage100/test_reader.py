"""The selectors, through the real ODBC driver against the simulated company."""

from datetime import date
from decimal import Decimal

import pytest

from integrations.connectors.sage100.reader import Sage100Reader, odbc_date
from integrations.engine.errors import DuplicateAmbiguous, ValidationFailed
from tests.connectors.sage100.conftest import insert, sage_settings


def test_a_lower_case_customer_number_finds_the_upper_case_customer(reader):
    assert reader.customer("01", "abf")["CustomerName"] == "American Business Futures"


def test_division_one_finds_division_01(reader):
    assert reader.customer("1", "ABF")["ARDivisionNo"] == "01"


def test_an_unknown_customer_is_none(reader):
    assert reader.customer("01", "NOBODY") is None


def test_amounts_are_decimals_and_dates_are_dates(reader):
    row = reader.customer("01", "ABF")

    assert row["CurrentBalance"] == Decimal("1234.56")
    assert isinstance(row["CreditLimit"], Decimal)
    assert row["DateEstablished"] == date(2020, 1, 31)
    assert row["DateLastPayment"] is None  # a blank date is NULL, not 0000-00-00


@pytest.mark.parametrize(
    ("ref", "division", "found"),
    [
        ("01-ABF", None, ("01", "ABF")),
        ("1-abf", None, ("01", "ABF")),
        ("abf", None, ("01", "ABF")),
        ("ABF", "1", ("01", "ABF")),
        ("CAPITAL", None, ("02", "CAPITAL")),
        ("12-345", None, ("01", "12-345")),  # no division 12: the whole number
        ("01-12-345", None, ("01", "12-345")),
        ("12-345", "01", ("01", "12-345")),
    ],
)
def test_find_customer_takes_the_forms_people_type(reader, ref, division, found):
    row = reader.find_customer(ref, division)
    assert (row["ARDivisionNo"], row["CustomerNo"]) == found


def test_find_customer_with_the_wrong_division_finds_nothing(reader):
    assert reader.find_customer("ABF", "02") is None
    assert reader.find_customer("02-ABF") is None


def test_a_customer_number_in_two_divisions_needs_the_division(reader, company):
    insert(company, "AR_Customer", ARDivisionNo="02", CustomerNo="ABF")

    with pytest.raises(DuplicateAmbiguous) as caught:
        reader.find_customer("ABF")
    assert caught.value.field == "division"
    assert caught.value.candidates == ["01-ABF", "02-ABF"]
    assert reader.find_customer("ABF", "2")["ARDivisionNo"] == "02"


def test_a_customer_is_found_by_the_foreign_id_in_its_udf(reader):
    row = reader.customer_by_udf("UDF_SF_ACCOUNT_ID", "001B")
    assert (row["ARDivisionNo"], row["CustomerNo"]) == ("01", "ARTWORK")
    assert reader.customer_by_udf("sf_account_id", "nope") is None


def test_an_unknown_udf_is_refused_naming_it(reader):
    with pytest.raises(ValidationFailed) as caught:
        reader.customer_by_udf("UDF_ERP_ID", "001A")
    assert caught.value.field == "UDF_ERP_ID"
    assert "no column UDF_ERP_ID" in caught.value.message


def test_a_udf_added_after_the_first_read_is_found(reader, company):
    reader.customer("01", "ABF")  # the column list is now cached
    company.add_udf("AR_Customer", "ERP_ID", length=10)
    with company.connect() as conn:
        conn.execute("UPDATE AR_Customer SET UDF_ERP_ID = 'E9' WHERE CustomerNo='ABF'")

    assert reader.customer_by_udf("UDF_ERP_ID", "E9")["CustomerNo"] == "ABF"


def test_two_customers_with_the_same_udf_value_are_ambiguous(reader, company):
    with company.connect() as conn:
        conn.execute("UPDATE AR_Customer SET UDF_SF_ACCOUNT_ID = '001A'")

    with pytest.raises(DuplicateAmbiguous, match="Several Sage 100 customers"):
        reader.customer_by_udf("UDF_SF_ACCOUNT_ID", "001A")


def test_udf_columns_lists_the_live_udfs_for_the_mapping_editor(reader, company):
    company.add_udf("AR_Customer", "REGION", length=4)

    names = [c["name"] for c in reader.udf_columns("AR_Customer")]
    assert names == ["UDF_SF_ACCOUNT_ID", "UDF_REGION"]
    assert reader.udf_columns("CI_Item") == []


def test_credit_position_is_limit_minus_balance_minus_open_orders(reader):
    position = reader.credit_position("1", "abf")

    assert position.customer == "01-ABF"
    assert position.name == "American Business Futures"
    assert position.credit_limit == Decimal("5000")
    assert position.available_credit == Decimal("3665.44")
    assert position.on_hold is False
    assert position.status == "A"


def test_credit_hold_y_is_on_hold(reader):
    assert reader.credit_position("01", "ARTWORK").on_hold is True


def test_a_zero_credit_limit_means_no_limit(reader):
    position = reader.credit_position("02", "CAPITAL")
    assert position.available_credit is None
    assert position.unlimited


def test_credit_position_of_an_unknown_customer_is_none(reader):
    assert reader.credit_position("01", "NOBODY") is None


def test_open_invoices_due_before_a_date_use_an_odbc_date_escape(reader, calls):
    everything = reader.open_invoices("1", "abf")
    overdue = reader.open_invoices("01", "ABF", due_before=date(2026, 2, 1))

    assert [i["InvoiceNo"] for i in everything] == ["0000501", "0000502"]
    assert [i["InvoiceNo"] for i in overdue] == ["0000501"]
    assert overdue[0]["Balance"] == Decimal("1000.56")
    assert overdue[0]["InvoiceDueDate"] == date(2026, 1, 15)
    assert odbc_date(date(2026, 2, 1)) == "{d '2026-02-01'}"


def test_odbc_date_takes_only_a_date():
    with pytest.raises(TypeError):
        odbc_date("2026-02-01'} OR 1=1 --")


def test_item_by_lower_case_code(reader):
    item = reader.item("1001-hon-h252")
    assert item["ItemCodeDesc"] == "Hon 2-Drawer File"
    assert item["StandardUnitPrice"] == Decimal("123.45")
    assert reader.item("NOPE") is None


def test_items_are_read_in_batches_and_missing_codes_left_out(reader, calls):
    codes = [f"x{n}" for n in range(120)] + ["1001-hon-h252", "2480-8-50"]

    found = reader.items(codes)

    assert sorted(found) == ["1001-HON-H252", "2480-8-50"]
    assert [c[2] for c in calls] == ["odbc:CI_Item"] * 3  # 122 codes, 50 per IN


def test_quantities_carry_available_by_the_default_formula(reader):
    rows = reader.quantities(["1001-hon-h252"])

    assert [(r["ItemCode"], r["WarehouseCode"]) for r in rows] == [
        ("1001-HON-H252", "000"),
        ("1001-HON-H252", "001"),
    ]
    assert rows[0]["on_hand"] == Decimal("50")
    assert rows[0]["on_purchase_order"] == Decimal("20")
    assert rows[0]["available"] == Decimal("35")  # 50 - 12 - 3


def test_quantities_follow_a_configured_formula(company, odbc):
    reader = Sage100Reader(
        odbc,
        sage_settings(company, available_formula="on_hand + on_purchase_order"),
    )
    row = reader.quantities(["1001-HON-H252"], warehouse="0")[0]
    assert row["WarehouseCode"] == "000"
    assert row["available"] == Decimal("70")


def test_quantities_of_a_whole_warehouse(reader):
    rows = reader.quantities(warehouse="000")
    assert [r["ItemCode"] for r in rows] == ["1001-HON-H252", "2480-8-50"]
    assert rows[1]["available"] == Decimal("990.25")


def test_a_sales_order_by_short_number_with_lines_in_display_order(reader):
    order = reader.sales_order("123")

    assert order["SalesOrderNo"] == "0000123"
    assert order["OrderDate"] == date(2026, 2, 3)
    assert [line["ItemCode"] for line in order["lines"]] == [
        "1001-HON-H252",
        "2480-8-50",
    ]
    assert order["lines"][0]["QuantityOrdered"] == Decimal("2")
    assert reader.sales_order("124") is None


def test_orders_are_found_by_customer_po(reader, company):
    insert(
        company,
        "SO_SalesOrderHistoryHeader",
        SalesOrderNo="0000099",
        OrderStatus="C",
        ARDivisionNo="01",
        CustomerNo="ABF",
        CustomerPONo="PO-7781",
    )

    assert [o["SalesOrderNo"] for o in reader.orders_by_customer_po("PO-7781")] == [
        "0000123"
    ]
    assert reader.orders_by_customer_po("PO-7781", "1", "abf")[0]["CustomerNo"] == (
        "ABF"
    )
    assert reader.orders_by_customer_po("PO-7781", "01", "ARTWORK") == []
    both = reader.orders_by_customer_po("PO-7781", include_history=True)
    assert [(o["SalesOrderNo"], o["_table"]) for o in both] == [
        ("0000123", "SO_SalesOrderHeader"),
        ("0000099", "SO_SalesOrderHistoryHeader"),
    ]


def test_orders_by_po_need_both_division_and_customer_or_neither(reader):
    with pytest.raises(ValidationFailed) as caught:
        reader.orders_by_customer_po("PO-7781", division="01")
    assert caught.value.field == "customer_no"


def test_a_lookup_key_too_long_is_refused_before_sage_is_asked(reader, calls):
    with pytest.raises(ValidationFailed) as caught:
        reader.customer("01", "X" * 21)
    assert caught.value.field == "CustomerNo"
    assert calls == []


def test_every_call_is_logged_with_its_table(reader, calls):
    reader.customer("01", "ABF")

    system, method, url, status, started = calls[0]
    assert (system, method, url, status) == (
        "sage100",
        "SELECT",
        "odbc:AR_Customer",
        "1 row",
    )
    assert isinstance(started, float)


def test_ping_names_the_company(reader):
    assert reader.ping() == {
        "company": "ABC",
        "name": "ABC Distribution and Service Corp.",
    }


def test_ping_of_a_company_sage_does_not_have_names_the_setting(company, odbc):
    reader = Sage100Reader(odbc, sage_settings(company, company="XYZ"))
    with pytest.raises(ValidationFailed) as caught:
        reader.ping()
    assert caught.value.field == "settings.company"
