"""Refunds over real HTTP: the shop posts ``refunds/create`` to our portal, and
the flow writes the credit note to the Xero simulator through xero-python.

Every request Xero saw is checked against its OpenAPI contract
(``xero.problems`` stays empty); the simulator applies Xero's own rules for
allocations (approved documents, one contact, no more than is due) and for
refunds (a Payment on the credit note from a bank account).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from integrations.models import RecordStatus
from tests.proof.test_order_to_cash import (
    SECRET,
    SLUG,
    books,
    invoices_for,
    record_of,
    run,
    wire,
)
from tests.support.sage100 import running_sage100
from tests.support.shopify import running_shopify
from tests.support.xero import running_xero

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def xero(tmp_path):
    with running_xero(tmp_path / "xero", tenants=1) as running:
        yield running


@pytest.fixture
def o2c(tmp_path, live_server, xero, redis_conn):
    address = f"{live_server.url}/api/v1/inbound/shopify/{SLUG}/webhook"
    with (
        running_sage100(tmp_path / "sage100") as sage,
        running_shopify(
            tmp_path / "shopify", webhook_url=address, secret=SECRET
        ) as shop,
    ):
        shop.sender.session.trust_env = False  # plain HTTP, no proxy
        yield wire(shop, sage, xero)


def credit_notes_for(xero, reference: str) -> list[dict]:
    return [
        note
        for note in books(xero).credit_notes.values()
        if note.get("Reference") == reference
    ]


def refund_record(o2c, order_id):
    return record_of(o2c, "refund", order_id)


def test_a_refund_before_payment_is_a_credit_note_allocated_to_the_invoice(o2c, xero):
    shop = o2c.shopify.shop
    order = shop.create_order([("TRAIL-TENT-2P", 2), ("HEADLAMP-300", 1)])
    placed = run(record_of(o2c, "order", order["id"]))
    assert placed.status == RecordStatus.SUCCEEDED, placed.error_message

    refund = shop.refund(order["id"], [("TRAIL-TENT-2P", 1)])
    record = run(refund_record(o2c, order["id"]))

    assert record.status == RecordStatus.SUCCEEDED, record.error_message
    (invoice,) = invoices_for(xero, order["name"])
    (note,) = credit_notes_for(xero, f"{order['name']} refund {refund['id']}")
    assert note["Type"] == "ACCRECCREDIT"
    assert note["_contact"] == invoice["_contact"]
    money_back = Decimal(refund["transactions"][0]["amount"])
    assert Decimal(str(note["Total"])) == money_back
    (line,) = note["LineItems"]
    sold = invoice["LineItems"][0]
    assert (line["ItemCode"], line["AccountCode"], line["TaxType"]) == (
        sold["ItemCode"], sold["AccountCode"], sold["TaxType"],
    )  # fmt: skip
    (allocation,) = note["Allocations"]
    assert allocation["Invoice"]["InvoiceID"] == invoice["InvoiceID"]
    assert note["Status"] == "PAID" and note["RemainingCredit"] == 0
    assert invoice["AmountCredited"] == money_back
    assert invoice["AmountDue"] == Decimal(order["total_price"]) - money_back
    assert record.target_ids["allocated"] == str(money_back)

    # The shop's payment settles what is left; nothing is paid twice.
    shop.mark_paid(order["id"])
    payment = run(record_of(o2c, "payment", order["id"]))
    assert payment.status == RecordStatus.SUCCEEDED, payment.error_message
    (invoice,) = invoices_for(xero, order["name"])
    assert invoice["Status"] == "PAID" and invoice["AmountDue"] == 0
    assert xero.problems == []


def test_a_refund_of_a_paid_order_is_paid_back_from_the_bank(o2c, xero):
    shop = o2c.shopify.shop
    order = shop.create_order([("HEADLAMP-300", 3)])
    assert run(record_of(o2c, "order", order["id"])).status == RecordStatus.SUCCEEDED
    shop.mark_paid(order["id"])
    assert run(record_of(o2c, "payment", order["id"])).status == (
        RecordStatus.SUCCEEDED
    )

    refund = shop.refund(order["id"], [("HEADLAMP-300", 2)])
    record = run(refund_record(o2c, order["id"]))

    assert record.status == RecordStatus.SUCCEEDED, record.error_message
    (note,) = credit_notes_for(xero, f"{order['name']} refund {refund['id']}")
    money_back = Decimal(refund["transactions"][0]["amount"])
    assert note["Allocations"] == []
    assert note["Status"] == "PAID" and note["RemainingCredit"] == 0
    (cash,) = [
        p
        for p in books(xero).payments.values()
        if p["PaymentType"] == "ARCREDITPAYMENT"
    ]
    assert cash["Amount"] == money_back
    assert cash["_document"] == note["CreditNoteID"]
    assert record.target_ids["refunded"] == str(money_back)
    assert xero.problems == []
