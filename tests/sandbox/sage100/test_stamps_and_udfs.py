"""Every write is stamped on the Sage server's clock; UDFs added at runtime work."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from integrations.agent.backends.base import BOIError, Reference
from integrations.sandbox.sage100.business import SimulatorBackend
from tests.sandbox.sage100.conftest import header


def stamped_at(record: dict, kind: str = "Updated") -> datetime:
    """The moment a Date/Time stamp pair says (decimal hours, 5 places)."""
    day = date.fromisoformat(record[f"Date{kind}"])
    seconds = round(float(record[f"Time{kind}"]) * 3600)
    return datetime.combine(day, datetime.min.time()) + timedelta(seconds=seconds)


def assert_between(moment: datetime, before: datetime, after: datetime) -> None:
    # Stamps keep whole seconds; allow the second the write started in.
    assert before - timedelta(seconds=1) <= moment <= after + timedelta(seconds=1)


def test_a_new_record_is_stamped_created_and_updated(backend):
    before = datetime.now()
    record = backend.create_customer(
        {"ARDivisionNo": "01", "CustomerName": "Stamp Co"}
    ).record
    after = datetime.now()
    assert_between(stamped_at(record, "Created"), before, after)
    assert (record["DateUpdated"], record["TimeUpdated"]) == (
        record["DateCreated"],
        record["TimeCreated"],
    )
    assert len(record["TimeUpdated"].split(".")[1]) == 5  # "14.50000"


def test_time_updated_is_decimal_hours_on_the_skewed_server_clock(backend, faults):
    faults.clock_skew(-5400)
    before = datetime.now() - timedelta(seconds=5400)
    record = backend.update_customer("01", "ABF", {"Comment": "skewed"}).record
    after = datetime.now() - timedelta(seconds=5400)
    assert_between(stamped_at(record), before, after)


def test_an_update_keeps_the_created_stamps(backend, table):
    seeded = table("AR_Customer", CustomerNo="ABF")[0]
    record = backend.update_customer("01", "ABF", {"Comment": "x"}).record
    assert (record["DateCreated"], record["TimeCreated"]) == (
        seeded["DateCreated"],
        seeded["TimeCreated"],
    )
    assert record["DateUpdated"] == date.today().isoformat()


def test_the_user_key_is_zero_filled_and_the_same_for_the_same_user(company):
    api = SimulatorBackend(company.root, user="api")
    other = SimulatorBackend(company.root, user="clerk")
    first = api.update_customer("01", "ABF", {"Comment": "1"}).record
    second = other.update_customer("01", "ABF", {"Comment": "2"}).record
    third = SimulatorBackend(company.root, user="API").update_customer(
        "01", "ABF", {"Comment": "3"}
    )
    assert len(first["UserUpdatedKey"]) == 10
    assert first["UserUpdatedKey"].isdigit()
    assert first["UserUpdatedKey"] != second["UserUpdatedKey"]
    assert third.record["UserUpdatedKey"] == first["UserUpdatedKey"]


def test_a_udf_added_at_runtime_is_writable_and_findable(company, backend):
    company.add_udf("AR_Customer", "SF_ACCOUNT_ID", length=18)
    created = backend.create_customer(
        {
            "ARDivisionNo": "02",
            "CustomerName": "Salesforce Co",
            "UDF_SF_ACCOUNT_ID$": "001Ax00000ABCDEFGH",
        }
    )
    assert created.record["UDF_SF_ACCOUNT_ID"] == "001Ax00000ABCDEFGH"
    found = backend.find(
        "AR_Customer", Reference("UDF_SF_ACCOUNT_ID", "001Ax00000ABCDEFGH")
    )
    assert found.key == created.key


def test_a_udf_is_checked_like_any_column(company, backend):
    company.add_udf("AR_Customer", "SF_ACCOUNT_ID", length=18)
    with pytest.raises(BOIError) as caught:
        backend.update_customer("01", "ABF", {"UDF_SF_ACCOUNT_ID": "X" * 19})
    assert caught.value.message == "The UDF_SF_ACCOUNT_ID is invalid."


@pytest.mark.parametrize(
    ("kind", "choices", "good", "stored", "bad"),
    [
        ("string", ("WEB", "EDI"), "EDI", "EDI", "FAX"),
        ("number", (), "12.345", "12.35", "twelve"),
        ("date", (), "20260401", "2026-04-01", "April"),
        ("yes_no", (), "y", "Y", "maybe"),
    ],
)
def test_udf_types_and_valid_lists_are_enforced(
    company, backend, kind, choices, good, stored, bad
):
    company.add_udf("SO_SalesOrderHeader", "CHANNEL", kind=kind, choices=choices)
    customer = {"ARDivisionNo": "01", "CustomerNo": "ABF"}
    order = backend.create_sales_order(header(customer, UDF_CHANNEL=good), [])
    assert order.record["UDF_CHANNEL"] == stored
    with pytest.raises(BOIError, match="The UDF_CHANNEL is invalid"):
        backend.create_sales_order(header(customer, UDF_CHANNEL=bad), [])


def test_a_udf_on_both_headers_is_carried_into_history(company, backend):
    for table in ("SO_SalesOrderHeader", "SO_SalesOrderHistoryHeader"):
        company.add_udf(table, "SHOPIFY_ID", length=20)
    customer = {"ARDivisionNo": "01", "CustomerNo": "ABF"}
    order = backend.create_sales_order(header(customer, UDF_SHOPIFY_ID="5001"), [])
    closed = backend.update_order_status(order.key["SalesOrderNo"], "C")
    assert closed.record["UDF_SHOPIFY_ID"] == "5001"
