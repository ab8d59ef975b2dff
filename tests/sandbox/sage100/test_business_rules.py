"""The simulated business objects refuse what Sage's BOI refuses, in its words.

One test per row of SAGE100-FACTS.md section 4's rule table, plus the value
rules of section 1 (zero-filled and upper-cased keys, too long is rejected).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from integrations.agent.backends.base import BOIError
from tests.sandbox.sage100.conftest import header

ITEM = "1001-HON-H252"  # stocked in 000 and 001
CENTRAL_ONLY = "1001-HON-H310"  # every fourth item: warehouse 000 only
INACTIVE = "2001-STL-D480"  # the eighth item of a series is inactive


def refused(call, *args) -> BOIError:
    with pytest.raises(BOIError) as caught:
        call(*args)
    return caught.value


def test_an_unknown_column_is_not_in_the_iolist(backend):
    error = refused(
        backend.create_customer,
        {"ARDivisionNo": "01", "CustomerName": "X", "Colour": "red"},
    )
    assert (error.code, error.message) == (
        "invalid",
        "The column Colour is not in the IOList.",
    )
    assert error.column == "Colour"


def test_a_value_longer_than_its_column_is_rejected_not_cut(backend, table):
    error = refused(
        backend.create_customer,
        {"ARDivisionNo": "01", "CustomerNo": "LONG", "CustomerName": "N" * 31},
    )
    assert (error.code, error.message, error.column) == (
        "invalid",
        "The CustomerName is invalid.",
        "CustomerName",
    )
    assert table("AR_Customer", CustomerNo="LONG") == []


def test_a_value_outside_the_valid_list_is_invalid(backend):
    customer = {"ARDivisionNo": "01", "CustomerNo": "ABF"}
    error = refused(backend.create_sales_order, header(customer, OrderType="Z"), [])
    assert error.message == "The OrderType is invalid."


def test_a_read_only_column_cannot_be_set(backend):
    error = refused(backend.update_customer, "01", "ABF", {"CurrentBalance": "0"})
    assert (error.code, error.message) == ("invalid", "The CurrentBalance is invalid.")


@pytest.mark.parametrize(
    ("values", "message", "column"),
    [
        ({"ARDivisionNo": "07"}, "Division 07 is not on file.", "ARDivisionNo"),
        ({"TermsCode": "9"}, "Terms code 09 is not on file.", "TermsCode"),
    ],
)
def test_a_customer_refers_to_a_division_and_terms_on_file(
    backend, values, message, column
):
    error = refused(
        backend.create_customer, {"ARDivisionNo": "01", "CustomerName": "X", **values}
    )
    assert (error.code, error.message, error.column) == ("not_on_file", message, column)


def test_an_order_for_a_customer_not_on_file_is_refused(backend):
    customer = {"ARDivisionNo": "01", "CustomerNo": "NOSUCH"}
    error = refused(backend.create_sales_order, header(customer), [])
    assert (error.code, error.message, error.column) == (
        "not_on_file",
        "The customer number is invalid.",
        "CustomerNo",
    )


@pytest.mark.parametrize(
    ("values", "message", "column"),
    [
        ({"WarehouseCode": "9"}, "Warehouse 009 is not on file.", "WarehouseCode"),
        ({"ShipToCode": "DOCK"}, "Ship-to code DOCK is not on file.", "ShipToCode"),
    ],
)
def test_an_order_refers_to_a_warehouse_and_ship_to_on_file(
    backend, values, message, column
):
    customer = {"ARDivisionNo": "01", "CustomerNo": "ABF"}
    error = refused(backend.create_sales_order, header(customer, **values), [])
    assert (error.code, error.message, error.column) == ("not_on_file", message, column)


@pytest.mark.parametrize(
    ("line", "code", "message"),
    [
        ({"ItemCode": "1001-XYZ"}, "not_on_file", "Item 1001-XYZ is not on file."),
        ({"ItemCode": INACTIVE}, "invalid", f"Item {INACTIVE} is inactive."),
        (
            {"ItemCode": CENTRAL_ONLY, "WarehouseCode": "001"},
            "not_on_file",
            f"Item {CENTRAL_ONLY} is not stocked in warehouse 001.",
        ),
    ],
)
def test_a_line_item_must_be_on_file_active_and_stocked(backend, line, code, message):
    customer = {"ARDivisionNo": "01", "CustomerNo": "ABF"}
    error = refused(
        backend.create_sales_order,
        header(customer),
        [{"QuantityOrdered": 1, **line}],
    )
    assert (error.code, error.message, error.column) == (code, message, "ItemCode")


@pytest.mark.parametrize("missing", ["OrderDate", "ShipExpireDate"])
def test_an_order_without_a_required_date_is_not_written(backend, table, missing):
    values = header({"ARDivisionNo": "01", "CustomerNo": "ABF"})
    del values[missing]
    orders_before = len(table("SO_SalesOrderHeader"))
    error = refused(backend.create_sales_order, values, [{"ItemCode": ITEM}])
    assert (error.code, error.message) == (
        "invalid",
        f"Required field {missing} is missing.",
    )
    assert len(table("SO_SalesOrderHeader")) == orders_before


def test_an_order_without_a_customer_is_missing_a_required_field(backend):
    error = refused(
        backend.create_sales_order,
        {"ARDivisionNo": "01", "OrderDate": "2026-03-02"},
        [],
    )
    assert error.message == "Required field CustomerNo is missing."


def test_a_record_in_use_by_another_user_is_refused_until_released(backend, faults):
    faults.lock_record("AR_Customer", ["1", "abf"], user="JANE")
    error = refused(backend.update_customer, "01", "ABF", {"Comment": "hello"})
    assert (error.code, error.message, error.retryable) == (
        "locked",
        "The record is in use by another user.",
        True,
    )
    faults.unlock_record("AR_Customer", "01|ABF")
    assert (
        backend.update_customer("01", "ABF", {"Comment": "hello"}).record["Comment"]
        == "hello"
    )


def test_keys_are_zero_filled_and_upper_cased(backend):
    result = backend.create_customer(
        {"ARDivisionNo": 1, "CustomerNo": "newco", "CustomerName": "New Co"}
    )
    assert result.key == {"ARDivisionNo": "01", "CustomerNo": "NEWCO"}
    order = backend.create_sales_order(
        header(result.record, SalesOrderNo="77", WarehouseCode="1"),
        [{"ItemCode": ITEM.lower(), "QuantityOrdered": 1}],
    )
    assert order.key == {"SalesOrderNo": "0000077"}
    assert order.record["WarehouseCode"] == "001"
    line = order.lines[0]
    assert (line["ItemCode"], line["LineKey"], line["LineSeqNo"]) == (
        ITEM,
        "000001",
        "00000000000001",
    )


def test_a_division_must_be_digits(backend):
    error = refused(
        backend.create_customer, {"ARDivisionNo": "A1", "CustomerName": "X"}
    )
    assert error.message == "The ARDivisionNo is invalid."


@pytest.mark.parametrize("value", ["2026-03-04", "20260304"])
def test_dates_are_accepted_in_both_spellings(backend, value):
    customer = {"ARDivisionNo": "01", "CustomerNo": "ABF"}
    order = backend.create_sales_order(header(customer, ShipExpireDate=value), [])
    assert order.record["ShipExpireDate"] == "2026-03-04"


@pytest.mark.parametrize("value", ["2026-02-30", "04/03/2026", "soon"])
def test_a_date_that_is_not_a_date_is_invalid(backend, value):
    customer = {"ARDivisionNo": "01", "CustomerNo": "ABF"}
    error = refused(backend.create_sales_order, header(customer, OrderDate=value), [])
    assert error.message == "The OrderDate is invalid."


@pytest.mark.parametrize(
    ("value", "stored"),
    [("12.5", "12.50"), (12.5, "12.50"), (12, "12.00"), (Decimal("12.499"), "12.50")],
)
def test_numbers_arrive_as_text_or_numbers_and_keep_their_scale(
    new_customer, value, stored
):
    assert new_customer(CreditLimit=value)["CreditLimit"] == stored


@pytest.mark.parametrize("value", ["lots", True, "1e400", "1" * 13])
def test_a_number_that_is_not_a_number_or_too_big_is_invalid(backend, value):
    error = refused(
        backend.create_customer,
        {"ARDivisionNo": "01", "CustomerName": "X", "CreditLimit": value},
    )
    assert error.message == "The CreditLimit is invalid."


def test_a_missing_customer_cannot_be_updated(backend):
    error = refused(backend.update_customer, "01", "NOSUCH", {"Comment": "x"})
    assert (error.code, error.message) == (
        "not_found",
        "Customer 01-NOSUCH is not on file.",
    )


def test_an_existing_item_code_is_refused_by_create(backend):
    error = refused(backend.create_item, {"ItemCode": ITEM.lower()})
    assert (error.code, error.message) == ("invalid", f"Item {ITEM} already exists.")


def test_an_inactive_customer_takes_no_orders(backend, new_customer):
    customer = new_customer(CustomerStatus="I")
    error = refused(backend.create_sales_order, header(customer), [])
    assert error.message == (f"Customer 01-{customer['CustomerNo']} is inactive.")
