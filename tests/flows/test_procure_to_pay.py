"""Procure-to-pay end to end, over real HTTP: the Sage 100 simulator (ODBC and
its agent), the Xero simulator (its Accounting API, every request and answer
checked against Xero's OpenAPI contract), the change feeds and the runner.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from integrations.models import (
    ChangeFeed,
    CrossReference,
    ErrorCategory,
    RecordStatus,
)
from integrations.services import changefeeds, polling
from tests.support.procure_to_pay import (
    BILL_FLOW,
    PAYMENT_FLOW,
    PO_FLOW,
    VENDOR,
    World,
    drain,
    records,
    running_world,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world(tmp_path, redis_conn):
    with running_world(tmp_path) as world:
        yield world
        assert world.xero.problems == []


def billed(world: World, number: str, amount: str, vendor=VENDOR) -> str:
    """A bill entered in Sage 100 and sent to Xero; its Xero InvoiceID."""
    world.enter_bill(number, amount, vendor=vendor)
    [record] = world.bill_published(vendor, number)
    drain()
    record.refresh_from_db()
    assert record.status == RecordStatus.SUCCEEDED, record.error_message
    return record.target_ids["bill_id"]


def failed(done) -> list[str]:
    return [
        f"{r.source_id}: {r.error_message}"
        for r in done
        if r.status != RecordStatus.SUCCEEDED
    ]


def xero_bill(world: World, bill_id: str) -> dict:
    [found] = world.client.get_invoices(ids=[bill_id])
    return found


# -- purchase orders ----------------------------------------------------------------


def test_a_sage_purchase_order_becomes_one_xero_purchase_order(world):
    world.configure(PO_FLOW)
    number = world.enter_purchase_order(
        [
            {"ItemCode": "1001-HON-H252", "QuantityOrdered": 3},
            {"ItemCode": "4001-AVR-B3020", "QuantityOrdered": 10},
        ],
        comment="Reorder for March",
    )
    key = {"PurchaseOrderNo": number}
    world.published("PO_PurchaseOrderHeader", key)
    world.published("PO_PurchaseOrderHeader", key)  # saved twice in Sage

    drain()

    assert [r.status for r in records(PO_FLOW)] == [RecordStatus.SUCCEEDED] * 2
    [order] = world.client.get_purchase_orders()
    assert world.xero_writes("/PurchaseOrders") == 1
    assert order["PurchaseOrderNumber"] == number
    assert order["Status"] == "AUTHORISED"
    assert order["Reference"] == "Reorder for March"
    assert order["Contact"]["Name"] == "Evergreen Paper Mills"
    lines = world.reader.purchase_order(number)["lines"]
    assert [line["Quantity"] for line in order["LineItems"]] == [
        Decimal(str(line["QuantityOrdered"])) for line in lines
    ]
    assert {line["AccountCode"] for line in order["LineItems"]} == {"300"}
    assert CrossReference.objects.get(kind="vendor").source_value == "01-EVERPAP"
    assert (
        CrossReference.objects.get(
            kind="purchase_order", source_value=number
        ).target_value
        == order["PurchaseOrderID"]
    )


def test_a_purchase_order_completed_in_sage_is_billed_in_xero(world):
    world.configure(PO_FLOW)
    number = world.enter_purchase_order(
        [{"ItemCode": "1001-HON-H252", "QuantityOrdered": 1}]
    )
    world.published("PO_PurchaseOrderHeader", {"PurchaseOrderNo": number})
    drain()
    world.set_sage(
        "PO_PurchaseOrderHeader", "PurchaseOrderNo = ?", (number,), OrderStatus="C"
    )

    world.published("PO_PurchaseOrderHeader", {"PurchaseOrderNo": number})
    drain()

    [order] = world.client.get_purchase_orders()
    assert order["Status"] == "BILLED"
    assert records(PO_FLOW)[-1].target_ids["status"] == "BILLED"


def test_a_cancelled_po_xero_never_had_is_not_sent(world):
    world.configure(PO_FLOW)
    number = world.enter_purchase_order(
        [{"ItemCode": "1001-HON-H252", "QuantityOrdered": 1}]
    )
    world.set_sage(
        "PO_PurchaseOrderHeader", "PurchaseOrderNo = ?", (number,), OrderStatus="X"
    )

    world.published("PO_PurchaseOrderHeader", {"PurchaseOrderNo": number})
    drain()

    [record] = records(PO_FLOW)
    assert record.status == RecordStatus.SUCCEEDED
    assert "cancelled" in record.target_ids["skipped"]
    assert world.xero_writes("/PurchaseOrders") == 0


def test_a_po_whose_answer_was_lost_is_looked_for_before_it_is_sent_again(world):
    world.configure(PO_FLOW)
    number = world.enter_purchase_order(
        [{"ItemCode": "1001-HON-H252", "QuantityOrdered": 2}]
    )
    world.published("PO_PurchaseOrderHeader", {"PurchaseOrderNo": number})
    drain()
    [first] = records(PO_FLOW)
    # The next attempt sent it and never heard back: no link was kept.
    CrossReference.objects.filter(kind="purchase_order").delete()
    [retry] = world.published("PO_PurchaseOrderHeader", {"PurchaseOrderNo": number})
    retry.step_state = {"sending": timezone.now().isoformat()}
    retry.save(update_fields=["step_state"])

    drain()

    retry.refresh_from_db()
    assert world.xero_reads("/PurchaseOrders") == 1  # looked for it once
    assert (
        retry.target_ids["purchase_order_id"] == (first.target_ids["purchase_order_id"])
    )
    assert len(world.client.get_purchase_orders()) == 1
    assert "sending" not in retry.step_state


# -- bills ----------------------------------------------------------------------------


def test_a_sage_ap_invoice_becomes_an_authorised_bill_for_the_supplier(world):
    world.configure(BILL_FLOW)
    CrossReference.objects.create(
        kind="gl_account",
        source_connection=world.sage_connection,
        target_connection=world.xero_connection,
        source_value="6100-00-00",
        target_value="310",
    )

    bill = xero_bill(world, billed(world, "R-2026-03", "1250.00"))

    assert bill["Type"] == "ACCPAY"
    assert bill["InvoiceNumber"] == "R-2026-03"
    assert bill["Status"] == "AUTHORISED"
    assert bill["Total"] == Decimal("1250.00")
    assert bill["Contact"]["Name"] == "Evergreen Paper Mills"
    assert bill["LineItems"][0]["AccountCode"] == "310"  # Rent, by the GL xref
    assert bill["CurrencyCode"] == "USD"


def test_a_bill_keyed_in_xero_already_is_found_not_made_twice(world):
    world.configure(BILL_FLOW)
    first = billed(world, "B-1", "80.00")
    # The link is lost (a restore, a person's clean-up): read before create.
    CrossReference.objects.filter(kind="ap_invoice").delete()
    world.set_sage(
        "AP_OpenInvoice", "InvoiceNo = ?", ("B-1",), DateUpdated="2026-01-01"
    )

    world.bill_published(VENDOR, "B-1")
    drain()

    last = records(BILL_FLOW)[-1]
    assert last.status == RecordStatus.SUCCEEDED
    assert last.target_ids["bill_id"] == first
    assert last.target_ids["note"] == "Xero already has this bill"
    assert world.xero_writes("/Invoices") == 1


def test_an_amount_changed_in_sage_updates_the_unpaid_bill(world):
    world.configure(BILL_FLOW)
    bill_id = billed(world, "B-2", "100.00")
    world.set_sage(
        "AP_OpenInvoice",
        "InvoiceNo = ?",
        ("B-2",),
        InvoiceAmt="120.00",
        Balance="120.00",
    )

    world.bill_published(VENDOR, "B-2")
    drain()

    assert xero_bill(world, bill_id)["Total"] == Decimal("120.00")
    assert records(BILL_FLOW)[-1].target_ids["note"].startswith("updated: amount")
    assert len(world.client.get_invoices(invoice_numbers=["B-2"])) == 1


def test_a_change_to_a_bill_already_paid_in_xero_needs_attention(world):
    world.configure(BILL_FLOW)
    bill_id = billed(world, "B-3", "100.00")
    world.pay_in_xero(bill_id, "100.00", "CHK 77")
    world.set_sage(
        "AP_OpenInvoice",
        "InvoiceNo = ?",
        ("B-3",),
        InvoiceAmt="150.00",
        Balance="150.00",
    )

    world.bill_published(VENDOR, "B-3")
    drain()

    last = records(BILL_FLOW)[-1]
    assert last.status == RecordStatus.NEEDS_ATTENTION
    assert last.error_category == ErrorCategory.VALIDATION
    assert "already paid" in last.error_message
    assert "amount 100.00 → 150.00" in last.error_message
    assert xero_bill(world, bill_id)["Total"] == Decimal("100.00")


def test_an_unchanged_bill_costs_no_write(world):
    world.configure(BILL_FLOW)
    billed(world, "B-4", "55.00")

    world.bill_published(VENDOR, "B-4")  # e.g. a payment stamped the row
    drain()

    assert records(BILL_FLOW)[-1].target_ids["note"] == "Xero already has this bill"
    assert world.xero_writes("/Invoices") == 1


def test_a_bill_paid_in_full_in_sage_before_it_reached_xero_is_not_sent(world):
    world.configure(BILL_FLOW)
    world.enter_bill("B-5", "75.00")
    world.agent.record_ap_payment(
        {
            "APDivisionNo": VENDOR[0],
            "VendorNo": VENDOR[1],
            "InvoiceNo": "B-5",
            "CheckNo": "9001",
            "PaymentAmount": "75.00",
        },
        idempotency_key="test-sage-check-9001",
    )

    world.bill_published(VENDOR, "B-5")
    drain()

    [record] = records(BILL_FLOW)
    assert record.status == RecordStatus.SUCCEEDED
    assert "paid in full in Sage 100" in record.target_ids["skipped"]
    assert world.xero_writes("/Invoices") == 0


def test_many_bills_go_in_batches_of_fifty_and_a_bad_one_fails_alone(world):
    world.configure(BILL_FLOW)
    vendors = world.vendors(6)
    stale = vendors[-1]
    # Its supplier contact was deleted in Xero: Xero refuses its bill alone.
    CrossReference.objects.create(
        kind="vendor",
        source_connection=world.sage_connection,
        target_connection=world.xero_connection,
        source_value=f"{stale[0]}-{stale[1]}",
        target_value="4a0b7cde-1111-4222-8333-944455556666",
    )
    numbers = []
    for n in range(119):
        vendor = vendors[n % 5]
        numbers.append((vendor, f"M{n:04d}"))
        world.enter_bill(f"M{n:04d}", f"{100 + n}.25", vendor=vendor)
    world.enter_bill("BAD-1", "10.00", vendor=stale)
    numbers.append((stale, "BAD-1"))
    for vendor, number in numbers:
        world.bill_published(vendor, number)

    drain()

    statuses = {r.source_id: r for r in records(BILL_FLOW)}
    bad = statuses.pop(f"{stale[0]}|{stale[1]}|BAD-1")
    assert bad.status == RecordStatus.NEEDS_ATTENTION
    assert "Contact" in bad.error_message
    assert not failed(statuses.values())
    assert world.xero_writes("/Invoices") == 3
    assert len(world.client.get_invoices(where='Type=="ACCPAY"')) == 119


def test_the_ap_invoice_change_feed_sends_each_open_invoice(world):
    world.configure(BILL_FLOW)
    feed = ChangeFeed.objects.create(
        connection=world.sage_connection, table="AP_OpenInvoice"
    )
    assert feed.topic == "sage100.ap_invoice"

    result = changefeeds.poll_feed(feed.pk)
    drain()

    assert result.created == 14  # the seeded company's open invoices
    done = records(BILL_FLOW)
    assert not failed(done)
    sent = [r for r in done if "bill_id" in r.target_ids]
    assert len(world.client.get_invoices(where='Type=="ACCPAY"')) == len(sent)
    assert world.xero_writes("/Invoices") == 1


# -- payments back to Sage ------------------------------------------------------------


@pytest.fixture
def paid_bill(world):
    """A bill from Sage, 400.00 of its 1000.00 paid in Xero."""
    world.configure(BILL_FLOW)
    world.configure(PAYMENT_FLOW)
    bill_id = billed(world, "P-1", "1000.00")
    payment = world.pay_in_xero(bill_id, "400.00", "CHK 1042")
    return bill_id, payment


def test_a_bill_paid_in_xero_lowers_the_sage_balance_once(world, paid_bill):
    bill_id, payment = paid_bill

    first = datetime.now()
    world.invoice_event(bill_id, first)
    world.invoice_event(bill_id, first + timedelta(seconds=1))
    world.invoice_event(bill_id, first)  # the same delivery again: no record
    drain()
    payment_config = records(PAYMENT_FLOW)[0].flow_config
    polling.poll(payment_config.pk)  # the poll sees the same payment
    drain()

    payments = records(PAYMENT_FLOW)
    assert len(payments) == 3
    assert {r.status for r in payments} == {RecordStatus.SUCCEEDED}
    assert world.balance(VENDOR, "P-1") == Decimal("600.00")
    check = payments[0].target_ids
    assert check["check_no"].startswith("X")
    assert check["reference"] == "CHK 1042"
    assert check["balance"] in ("600.00", "600")
    xref = CrossReference.objects.get(kind="ap_payment")
    assert xref.source_value == payment["PaymentID"]
    assert xref.target_value == f"01|EVERPAP|P-1|{check['check_no']}"


def test_a_payment_bigger_than_sages_balance_needs_attention_in_plain_words(
    world, paid_bill
):
    bill_id, _ = paid_bill
    # Someone paid 700.00 of it in Sage 100 too: only 300.00 is left there.
    world.agent.record_ap_payment(
        {
            "APDivisionNo": "01",
            "VendorNo": "EVERPAP",
            "InvoiceNo": "P-1",
            "CheckNo": "5001",
            "PaymentAmount": "700.00",
        },
        idempotency_key="test-sage-check-5001",
    )

    world.invoice_event(bill_id)
    drain()

    [record] = records(PAYMENT_FLOW)
    assert record.status == RecordStatus.NEEDS_ATTENTION
    assert record.error_message.startswith("Xero payment of 400.00 on "), (
        record.error_message
    )
    assert "more than Sage 100 still shows owing" in record.error_message
    assert "balance 300" in record.error_message
    assert world.balance(VENDOR, "P-1") == Decimal("300.00")


def test_a_payment_of_a_bill_sage_does_not_have_needs_attention(world):
    [supplier] = world.client.save_contacts(
        [{"Name": "Kept-in-Xero Supplies"}], idempotency_key="test-contact-1"
    )
    [bill] = world.client.save_invoices(
        [
            {
                "Type": "ACCPAY",
                "Contact": {"ContactID": supplier.document["ContactID"]},
                "InvoiceNumber": "XO-1",
                "Status": "AUTHORISED",
                "LineItems": [
                    {"Description": "Cleaning", "Quantity": 1, "UnitAmount": 50,
                     "AccountCode": "300"}
                ],
            }
        ],
        idempotency_key="test-bill-xo-1",
    )  # fmt: skip
    world.pay_in_xero(bill.document["InvoiceID"], "50.00", "EFT 9")

    polling.poll(world.configure(PAYMENT_FLOW).pk)
    drain()

    [record] = records(PAYMENT_FLOW)
    assert record.status == RecordStatus.NEEDS_ATTENTION
    assert record.error_category == ErrorCategory.REFERENTIAL
    assert "(reference EFT 9) on bill XO-1" in record.error_message
    assert "not a Sage 100 A/P invoice" in record.error_message


def test_an_event_about_an_invoice_we_did_not_bill_reads_nothing(world):
    world.configure(PAYMENT_FLOW)
    before = len(world.xero.calls)

    world.invoice_event("9d1f4c1e-2222-4333-8444-955566667777")
    drain()

    [record] = records(PAYMENT_FLOW)
    assert record.status == RecordStatus.SUCCEEDED
    assert len(world.xero.calls) == before
