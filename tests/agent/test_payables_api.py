"""Procure-to-pay and master-data writes over the agent's HTTP API, on the simulator.

The real agent server with the simulator backend on a seeded company; the
results are read back the way the hub reads Sage 100, through ODBC.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from integrations.connectors.sage100.agent_client import AgentClient
from integrations.connectors.sage100.odbc import OdbcReader, connection_string
from integrations.connectors.sage100.reader import Sage100Reader
from integrations.connectors.sage100.settings import Sage100Settings
from integrations.engine import errors
from integrations.sandbox.sage100 import seed_activity
from tests.support.sage100 import KEY_ID, SECRET, running_sage100

ITEM = "1001-HON-H252"


@pytest.fixture(scope="module")
def sage(tmp_path_factory):
    with running_sage100(tmp_path_factory.mktemp("p2p"), customers=12) as running:
        yield running


@pytest.fixture(scope="module")
def client(sage) -> AgentClient:
    return AgentClient(sage.agent_url, KEY_ID, SECRET, timeout=10)


@pytest.fixture(scope="module")
def reader(sage) -> Sage100Reader:
    settings = sage.connection_settings()
    odbc = OdbcReader(connection_string(settings["odbc"]))
    return Sage100Reader(
        odbc, Sage100Settings.from_connection(settings, sage.credentials)
    )


@pytest.fixture(scope="module")
def vendor(client) -> dict:
    """A vendor of our own, so tests sharing the company do not collide."""
    return client.create_vendor(
        {"APDivisionNo": "01", "VendorNo": "apitest", "VendorName": "API Test Co"},
        idempotency_key="vendor-apitest",
    )["key"]


def bill_header(vendor: dict, invoice_no: str, amount: str = "300.00") -> dict:
    return {
        **vendor,
        "InvoiceNo": invoice_no,
        "InvoiceDate": "2026-03-02",
        "InvoiceDueDate": "2026-04-01",
        "InvoiceAmt": amount,
        "ExpenseAcctKey": "000000012",
    }


def payment(vendor: dict, invoice_no: str, check: str, amount: str) -> dict:
    return {
        **vendor,
        "InvoiceNo": invoice_no,
        "CheckNo": check,
        "PaymentAmount": amount,
        "PaymentDate": "2026-03-06",
    }


# -- vendors ----------------------------------------------------------------------
def test_create_vendor_writes_it_and_a_repeat_is_replayed(client, reader):
    values = {"APDivisionNo": "1", "VendorName": "Numbered Supplies"}
    first = client.create_vendor(values, idempotency_key="vendor-numbered")
    again = client.create_vendor(values, idempotency_key="vendor-numbered")

    assert first["created"] and not first["replayed"]
    assert again == {**first, "replayed": True}
    number = first["key"]["VendorNo"]
    assert len(number) == 7
    assert reader.vendor("1", number)["VendorName"] == "Numbered Supplies"


def test_create_vendor_with_a_reference_finds_the_earlier_vendor(client):
    values = {"APDivisionNo": "01", "VendorNo": "REFVEND", "VendorName": "Ref Vendor"}
    reference = {"column": "Reference", "value": "XERO-C-1"}
    first = client.create_vendor(values, idempotency_key="rv-1", reference=reference)
    second = client.create_vendor(values, idempotency_key="rv-2", reference=reference)

    assert first["created"] and not second["created"]
    assert (
        second["key"] == first["key"] == {"APDivisionNo": "01", "VendorNo": "REFVEND"}
    )


def test_create_vendor_refuses_a_division_not_on_file_naming_it(client):
    with pytest.raises(errors.ReferenceMissing) as caught:
        client.create_vendor(
            {"APDivisionNo": "09", "VendorName": "Nowhere"}, idempotency_key="v-09"
        )
    assert caught.value.field == "APDivisionNo"
    assert "Division 09 is not on file" in caught.value.message


def test_update_vendor_changes_it_once(client, reader, vendor):
    result = client.update_vendor(
        "01", "APITEST", {"City": "Irvine", "State": "CA"}, idempotency_key="vu-1"
    )
    again = client.update_vendor(
        "01", "APITEST", {"City": "Irvine", "State": "CA"}, idempotency_key="vu-1"
    )

    assert result["record"]["City"] == "Irvine" and not result["created"]
    assert again["replayed"]
    assert reader.vendor("01", "apitest")["State"] == "CA"


def test_update_vendor_refuses_a_read_only_column_naming_it(client, vendor):
    with pytest.raises(errors.ValidationFailed) as caught:
        client.update_vendor(
            "01", "APITEST", {"CurrentBalance": "0"}, idempotency_key="vu-bad"
        )
    assert caught.value.field == "CurrentBalance"


def test_update_vendor_of_an_unknown_vendor_names_the_vendor(client):
    with pytest.raises(errors.ReferenceMissing) as caught:
        client.update_vendor("01", "NOSUCH", {"City": "X"}, idempotency_key="vu-none")
    assert caught.value.field == "VendorNo"


# -- items --------------------------------------------------------------------------
def test_update_item_changes_it_and_a_repeat_is_replayed(client, reader):
    values = {"ItemCodeDesc": "HON file, 2 drawer", "SuggestedRetailPrice": "249"}
    first = client.update_item(ITEM.lower(), values, idempotency_key="item-1")
    again = client.update_item(ITEM.lower(), values, idempotency_key="item-1")

    assert first["key"] == {"ItemCode": ITEM}
    assert again == {**first, "replayed": True}
    row = reader.item(ITEM)
    assert row["ItemCodeDesc"] == "HON file, 2 drawer"
    assert row["SuggestedRetailPrice"] == Decimal("249")


def test_update_item_refuses_a_read_only_column_naming_it(client):
    with pytest.raises(errors.ValidationFailed) as caught:
        client.update_item(ITEM, {"AverageUnitCost": "1"}, idempotency_key="item-ro")
    assert caught.value.field == "AverageUnitCost"


def test_update_item_the_same_key_for_other_values_is_a_conflict(client):
    client.update_item(ITEM, {"Category2": "A"}, idempotency_key="item-k")
    with pytest.raises(errors.ConflictDetected) as caught:
        client.update_item(ITEM, {"Category2": "B"}, idempotency_key="item-k")
    assert caught.value.field == "idempotency_key"


# -- bills and payments ----------------------------------------------------------
def test_create_ap_invoice_enters_a_bill_once(client, reader, vendor):
    header = bill_header(vendor, "B-100")
    first = client.create_ap_invoice(
        header,
        idempotency_key="bill-100",
        reference={"column": "InvoiceNo", "value": "B-100"},
    )
    again = client.create_ap_invoice(
        header,
        idempotency_key="bill-100-again",
        reference={"column": "InvoiceNo", "value": "B-100"},
    )

    assert first["created"] and not again["created"]
    assert again["key"] == first["key"]
    row = reader.ap_open_invoice("01", "APITEST", "b-100")
    assert (row["InvoiceAmt"], row["Balance"]) == (Decimal("300"), Decimal("300"))
    assert row["InvoiceDueDate"] == date(2026, 4, 1)


def test_create_ap_invoice_refuses_an_unknown_account_naming_it(client, vendor):
    header = {**bill_header(vendor, "B-101"), "ExpenseAcctKey": "999999999"}
    with pytest.raises(errors.ReferenceMissing) as caught:
        client.create_ap_invoice(header, idempotency_key="bill-101")
    assert caught.value.field == "ExpenseAcctKey"


def test_record_ap_payment_reduces_the_balance_once_per_reference(
    client, reader, vendor
):
    client.create_ap_invoice(bill_header(vendor, "B-200"), idempotency_key="bill-200")
    values = payment(vendor, "B-200", "PMT-77", "120.50")
    reference = {"column": "CheckNo", "value": "PMT-77"}

    first = client.record_ap_payment(
        values, idempotency_key="ev-1", reference=reference
    )
    # The same Xero payment arriving again under another event's key.
    second = client.record_ap_payment(
        values, idempotency_key="ev-2", reference=reference
    )
    replay = client.record_ap_payment(
        values, idempotency_key="ev-1", reference=reference
    )

    assert first["created"] and first["record"]["Balance"] == "179.50"
    assert (second["created"], second["key"], second["record"]) == (
        False,
        first["key"],
        first["record"],
    )
    assert replay == {**first, "replayed": True}
    assert reader.ap_open_invoice("01", "APITEST", "B-200")["Balance"] == Decimal(
        "179.50"
    )
    assert reader.vendor("01", "APITEST")["CurrentBalance"] >= Decimal("179.50")


def test_record_ap_payment_refuses_an_overpayment_naming_the_amount(
    client, reader, vendor
):
    client.create_ap_invoice(
        bill_header(vendor, "B-300", "50.00"), idempotency_key="bill-300"
    )
    with pytest.raises(errors.ValidationFailed) as caught:
        client.record_ap_payment(
            payment(vendor, "B-300", "PMT-78", "50.01"), idempotency_key="ev-3"
        )
    assert caught.value.field == "PaymentAmount"
    assert reader.ap_open_invoice("01", "APITEST", "B-300")["Balance"] == Decimal("50")


def test_record_ap_payment_refuses_an_unknown_invoice_naming_it(client, vendor):
    with pytest.raises(errors.ReferenceMissing) as caught:
        client.record_ap_payment(
            payment(vendor, "NO-SUCH", "PMT-79", "1"), idempotency_key="ev-4"
        )
    assert caught.value.field == "InvoiceNo"


def test_a_reference_that_disagrees_with_the_check_number_is_a_bad_request(
    client, vendor
):
    with pytest.raises(errors.ValidationFailed) as caught:
        client.record_ap_payment(
            payment(vendor, "B-200", "PMT-80", "1"),
            idempotency_key="ev-5",
            reference={"column": "CheckNo", "value": "OTHER"},
        )
    assert caught.value.field == "values.CheckNo"


# -- what the flows rely on --------------------------------------------------------
def test_a_sales_order_through_the_agent_commits_item_warehouse_quantity(
    client, reader
):
    before = reader.quantities([ITEM], "000")[0]["on_sales_order"]
    client.create_sales_order(
        {
            "ARDivisionNo": "01",
            "CustomerNo": "ABF",
            "OrderDate": "2026-03-02",
            "ShipExpireDate": "2026-03-09",
        },
        [{"ItemCode": ITEM, "QuantityOrdered": 4}],
        idempotency_key="so-allocation",
    )

    after = reader.quantities([ITEM], "000")[0]["on_sales_order"]
    assert after == before + 4


def test_the_demo_purchase_cycle_writes_a_po_and_its_bill_once(sage, client, reader):
    day = date(2026, 3, 3)
    order, bill = seed_activity.purchase_cycle(client, sage.db, day=day, tag="D0001")
    again = seed_activity.purchase_cycle(client, sage.db, day=day, tag="D0001")

    assert again[0]["replayed"] and again[1]["replayed"]
    po = reader.purchase_order(order["key"]["PurchaseOrderNo"])
    assert len(po["lines"]) == 1
    row = reader.ap_open_invoice(bill["key"]["APDivisionNo"], po["VendorNo"], "D0001")
    assert row["PurchaseOrderNo"] == po["PurchaseOrderNo"]
    assert row["InvoiceAmt"] == po["lines"][0]["ExtensionAmt"]
