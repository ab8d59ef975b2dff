"""A Shopify refund becomes one Xero credit note for the refunded lines:
allocated to the invoice while it has an amount due, refunded in cash once it
is paid.

The shop and the Sage 100 company are the real simulators; Xero is the
in-memory stand-in (tests/support/fake_xero.py). tests/proof/ runs a refund
through the Xero simulator and its contract checks.
"""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from integrations.engine import runner
from integrations.engine.errors import Unavailable
from integrations.models import ErrorCategory, RecordStatus
from integrations.services import reconciliation
from tests.support.fake_xero import FakeXeroClient
from tests.support.order_to_cash import xero_items

pytestmark = pytest.mark.django_db


def _placed(o2c, lines=(("TRAIL-TENT-2P", 2), ("HEADLAMP-300", 1)), **kw) -> dict:
    order = o2c.shopify.shop.create_order(list(lines), **kw)
    o2c.deliver("orders/create", order, f"create-{order['id']}")
    o2c.run_all()
    (placed,) = o2c.records("order")
    assert placed.status == RecordStatus.SUCCEEDED, placed.error_message
    return order


def _paid(o2c, order) -> None:
    o2c.deliver("orders/paid", o2c.shopify.shop.mark_paid(order["id"]), "paid")
    o2c.run_all()


def _refund_record(o2c):
    (record,) = o2c.records("refund")
    return record


def _run(record):
    runner.run_record(record.pk)
    record.refresh_from_db()
    return record


def test_a_paid_order_refund_is_one_credit_note_refunded_in_cash(o2c, books):
    order = _placed(o2c)
    _paid(o2c, order)
    refund = o2c.shopify.shop.refund(order["id"], [("TRAIL-TENT-2P", 1)])
    for _ in range(3):  # Shopify delivers at least once
        o2c.deliver("refunds/create", refund, f"refund-{refund['id']}")
    o2c.deliver("refunds/create", refund, "a-new-event-for-the-same-refund")

    record = _run(_refund_record(o2c))

    assert record.status == RecordStatus.SUCCEEDED, record.error_message
    (invoice,) = books.invoices.values()
    (note,) = books.credit_notes.values()
    assert note["Type"] == "ACCRECCREDIT"
    assert note["Reference"] == f"{order['name']} refund {refund['id']}"
    assert note["Contact"] == invoice["Contact"]
    assert note["CurrencyCode"] == "USD" and note["Date"] == refund["created_at"][:10]
    (line,) = note["LineItems"]
    sold = invoice["LineItems"][0]
    assert (line["ItemCode"], line["AccountCode"], line["TaxType"]) == (
        sold["ItemCode"], sold["AccountCode"], sold["TaxType"],
    )  # fmt: skip
    assert (line["Quantity"], line["UnitAmount"]) == (1, sold["UnitAmount"])
    refunded = refund["refund_line_items"][0]
    assert line["TaxAmount"] == Decimal(refunded["total_tax"])
    assert note["Total"] == Decimal(refund["transactions"][0]["amount"])
    # The invoice was paid: the credit goes back as cash from the bank account.
    assert note["Allocations"] == [] and note["Status"] == "PAID"
    (cash,) = [p for p in books.payments.values() if "CreditNote" in p]
    assert cash["Amount"] == note["Total"] and cash["Account"] == {"Code": "090"}
    assert invoice["Status"] == "PAID"
    assert record.target_ids["credit_note_number"] == note["CreditNoteNumber"]
    assert record.target_ids["refunded"] == str(note["Total"])
    assert record.target_ids["warnings"] == []


def test_a_refund_before_payment_is_allocated_to_the_invoice(o2c, books):
    order = _placed(o2c)
    refund = o2c.shopify.shop.refund(order["id"], [("HEADLAMP-300", 1)])
    o2c.deliver("refunds/create", refund, "refund")

    record = _run(_refund_record(o2c))

    assert record.status == RecordStatus.SUCCEEDED, record.error_message
    (invoice,) = books.invoices.values()
    (note,) = books.credit_notes.values()
    (allocation,) = note["Allocations"]
    assert allocation["Invoice"]["InvoiceID"] == invoice["InvoiceID"]
    assert allocation["Amount"] == note["Total"]
    assert invoice["AmountDue"] == Decimal(order["total_price"]) - note["Total"]
    assert [p for p in books.payments.values() if "CreditNote" in p] == []
    assert record.target_ids["allocated"] == str(note["Total"])
    # The payment that follows pays what is left, and the invoice is settled.
    _paid(o2c, order)
    assert invoice["InvoiceID"] in books.invoices
    assert books.invoices[invoice["InvoiceID"]]["Status"] == "PAID"


def test_discount_and_shipping_refunded_on_the_invoices_accounts(o2c, books):
    order = _placed(
        o2c,
        [("TRAIL-TENT-2P", 2)],
        discount=("SAVE10", Decimal("10.00")),
        shipping=("UPS", Decimal("7.50")),
    )
    _paid(o2c, order)
    refund = copy.deepcopy(o2c.shopify.shop.refund(order["id"], [("TRAIL-TENT-2P", 1)]))
    (line,) = refund["refund_line_items"]
    price = Decimal(line["line_item"]["price"])
    line["subtotal"] = str(price - Decimal("5.00"))  # half the order's discount
    line["total_tax"] = str(((price - 5) * Decimal("0.06")).quantize(Decimal("0.01")))
    refund["order_adjustments"] = [
        {"id": 1, "order_id": order["id"], "refund_id": refund["id"],
         "amount": "-7.50", "tax_amount": "0.00", "kind": "shipping_refund",
         "reason": "Shipping refund"},
    ]  # fmt: skip
    money_back = (
        Decimal(line["subtotal"]) + Decimal(line["total_tax"]) + Decimal("7.50")
    )
    refund["transactions"][0]["amount"] = str(money_back)
    o2c.deliver("refunds/create", refund, "refund-with-shipping")

    record = _run(_refund_record(o2c))

    assert record.status == RecordStatus.SUCCEEDED, record.error_message
    (invoice,) = books.invoices.values()
    shipping = invoice["LineItems"][-1]
    (note,) = books.credit_notes.values()
    item, discount, shipped = note["LineItems"]
    assert (item["ItemCode"], item["UnitAmount"]) == ("TRAIL-TENT-2P", price)
    assert discount["UnitAmount"] == Decimal("-5.00")
    assert discount["AccountCode"] == invoice["LineItems"][1]["AccountCode"]
    assert item["TaxAmount"] + discount["TaxAmount"] == Decimal(line["total_tax"])
    assert shipped["UnitAmount"] == Decimal("7.50")
    assert (shipped["AccountCode"], shipped["TaxType"]) == (
        shipping["AccountCode"], shipping["TaxType"],
    )  # fmt: skip
    assert note["Total"] == money_back
    assert record.target_ids["refunded"] == str(money_back)


def test_a_refund_for_an_order_never_invoiced_needs_attention(o2c, books):
    order = o2c.shopify.shop.create_order([("STOVE-MINI", 1)])  # never delivered
    refund = o2c.shopify.shop.refund(order["id"], [("STOVE-MINI", 1)])
    o2c.deliver("refunds/create", refund, "orphan-refund")

    record = _run(_refund_record(o2c))

    assert record.status == RecordStatus.NEEDS_ATTENTION
    assert record.error_category == ErrorCategory.REFERENTIAL
    assert record.error_field == "order"
    assert "never came through this flow" in record.error_message
    assert "no invoice of ours to credit" in record.error_message
    assert books.writes == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"quantity": 0}, "refund_line_items[0].quantity"),
        ({"quantity": 5}, "refund_line_items[0].quantity"),  # the order had 1
        ({"quantity": "one"}, "refund_line_items[0].quantity"),
        ({"subtotal": "-4.00"}, "refund_line_items[0].subtotal"),
        ({"subtotal": "999.00"}, "refund_line_items[0].subtotal"),
        ({"total_tax": "-1.00"}, "refund_line_items[0].total_tax"),
        ({"line_item_id": 123}, "refund_line_items[0].line_item_id"),
    ],
)
def test_an_invalid_refund_line_is_refused_naming_the_field(o2c, books, change, field):
    order = _placed(o2c, [("STOVE-MINI", 1)])
    refund = copy.deepcopy(o2c.shopify.shop.refund(order["id"], [("STOVE-MINI", 1)]))
    refund["refund_line_items"][0].update(change)
    o2c.deliver("refunds/create", refund, "bad-refund")
    writes = list(books.writes)

    record = _run(_refund_record(o2c))

    assert record.status == RecordStatus.NEEDS_ATTENTION
    assert record.error_category == ErrorCategory.VALIDATION
    assert record.error_field == field
    assert record.next_attempt_at is None
    assert books.writes == writes and books.credit_notes == {}


def test_a_credit_note_whose_answer_was_lost_is_found_by_reference(o2c, books):
    order = _placed(o2c)
    _paid(o2c, order)
    refund = o2c.shopify.shop.refund(order["id"], [("HEADLAMP-300", 1)])
    o2c.deliver("refunds/create", refund, "refund")
    books.fail("create_payments", Unavailable("Xero did not answer."))

    # Xero saved the credit note; the refund payment's answer was lost.
    record = _run(_refund_record(o2c))
    assert record.status == RecordStatus.RETRY_SCHEDULED, record.error_message
    assert len(books.credit_notes) == 1
    # A person resubmits from scratch (the record's memory of the write is gone).
    type(record).objects.filter(pk=record.pk).update(
        step_state={}, next_attempt_at=timezone.now()
    )
    record = _run(record)

    assert record.status == RecordStatus.SUCCEEDED, record.error_message
    (note,) = books.credit_notes.values()
    assert [m for m, _ in books.calls].count("save_credit_notes") == 1
    assert note["Status"] == "PAID" and len(note["Payments"]) == 1
    assert record.target_ids["credit_note_number"] == note["CreditNoteNumber"]
    assert "was used, not made again" in record.target_ids["warnings"][0]


def test_a_refund_waits_while_its_order_is_on_its_way(o2c, books):
    order = o2c.shopify.shop.create_order([("STOVE-MINI", 2)])
    o2c.deliver("orders/create", order, "create")
    refund = o2c.shopify.shop.refund(order["id"], [("STOVE-MINI", 1)])
    o2c.deliver("refunds/create", refund, "refund-early")
    record = _refund_record(o2c)

    record = _run(record)  # the order has not reached Xero yet
    assert record.status == RecordStatus.RETRY_SCHEDULED, record.error_message
    assert record.error_category == ErrorCategory.UNAVAILABLE
    o2c.run_all()
    type(record).objects.filter(pk=record.pk).update(next_attempt_at=timezone.now())
    record = _run(record)

    assert record.status == RecordStatus.SUCCEEDED, record.error_message
    assert len(books.credit_notes) == 1


def test_a_refunded_order_agrees_when_its_credit_note_matches(o2c, books):
    order = _placed(o2c)
    _paid(o2c, order)
    refund = o2c.shopify.shop.refund(order["id"], [("TRAIL-TENT-2P", 1)])
    o2c.deliver("refunds/create", refund, "refund")
    _run(_refund_record(o2c))

    (row,) = reconciliation.reconcile(o2c.config).rows

    assert row.problems == []
    money_back = Decimal(refund["transactions"][0]["amount"])
    assert row.shopify_refunded == row.xero_credited == money_back


def test_the_reconciliation_page_shows_refunded_beside_credited(
    o2c, books, admin_client
):
    order = _placed(o2c)
    _paid(o2c, order)
    refund = o2c.shopify.shop.refund(order["id"], [("TRAIL-TENT-2P", 1)])
    o2c.deliver("refunds/create", refund, "refund")
    _run(_refund_record(o2c))

    page = admin_client.get(reverse("admin:reconciliation") + "?all=1")

    money_back = Decimal(refund["transactions"][0]["amount"])
    assert f"{money_back} / {money_back}" in page.content.decode()


def test_a_refund_xero_does_not_match_is_listed_with_the_reason(o2c, books):
    order = _placed(o2c)
    _paid(o2c, order)
    refund = o2c.shopify.shop.refund(order["id"], [("HEADLAMP-300", 1)])
    o2c.deliver("refunds/create", refund, "refund")
    _run(_refund_record(o2c))
    (note,) = books.credit_notes.values()
    note["Total"] -= Decimal("1.00")  # changed by hand in Xero
    later = copy.deepcopy(o2c.shopify.shop.refund(order["id"], [("TRAIL-TENT-2P", 1)]))
    later["refund_line_items"][0]["quantity"] = 0
    o2c.deliver("refunds/create", later, "bad-refund")
    o2c.run_all()

    (row,) = reconciliation.reconcile(o2c.config).rows

    assert f"Refund {later['id']}'s record is needs attention." in row.problems
    assert any(
        p.startswith("Shopify refunded ") and "credit notes for the order" in p
        for p in row.problems
    )


def test_a_refund_of_an_order_needing_attention_runs_when_the_order_does(o2c, books):
    books.items = [i for i in books.items if i["Code"] != "STOVE-MINI"]
    order = o2c.shopify.shop.create_order([("STOVE-MINI", 2)])
    o2c.deliver("orders/create", order, "create")
    (placed,) = o2c.run_all()
    assert placed.status == RecordStatus.NEEDS_ATTENTION
    refund = o2c.shopify.shop.refund(order["id"], [("STOVE-MINI", 1)])
    o2c.deliver("refunds/create", refund, "refund")

    record = _run(_refund_record(o2c))
    assert record.status == RecordStatus.NEEDS_ATTENTION
    assert record.error_field == "order"
    assert f"Order {order['name']} itself needs attention" in record.error_message
    assert books.credit_notes == {}

    # The item is added in Xero and the order resubmitted: the refund follows.
    books.items = xero_items()
    type(placed).objects.filter(pk=placed.pk).update(status=RecordStatus.PENDING)
    _run(placed)
    record.refresh_from_db()
    assert record.status == RecordStatus.PENDING
    record = _run(record)

    assert record.status == RecordStatus.SUCCEEDED, record.error_message
    assert len(books.credit_notes) == 1


def test_an_invoice_paid_while_its_credit_was_allocated_gets_a_cash_refund(
    o2c, books, monkeypatch
):
    order = _placed(o2c)
    refund = o2c.shopify.shop.refund(order["id"], [("HEADLAMP-300", 1)])
    o2c.deliver("refunds/create", refund, "refund")
    allocate = FakeXeroClient.allocate_credit_note

    def paid_just_before(self, *args, **kwargs):
        (invoice,) = books.invoices.values()  # the shop's payment lands first
        self._payment(
            {"Invoice": {"InvoiceID": invoice["InvoiceID"]},
             "Amount": invoice["AmountDue"], "Reference": "Shopify"}
        )  # fmt: skip
        return allocate(self, *args, **kwargs)

    monkeypatch.setattr(FakeXeroClient, "allocate_credit_note", paid_just_before)
    record = _run(_refund_record(o2c))
    assert record.status == RecordStatus.RETRY_SCHEDULED, record.error_message
    assert "changed while its credit was being allocated" in record.error_message
    monkeypatch.undo()
    type(record).objects.filter(pk=record.pk).update(next_attempt_at=timezone.now())

    record = _run(record)

    assert record.status == RecordStatus.SUCCEEDED, record.error_message
    (note,) = books.credit_notes.values()
    assert note["Allocations"] == [] and note["Status"] == "PAID"
    assert record.target_ids["refunded"] == str(note["Total"])
