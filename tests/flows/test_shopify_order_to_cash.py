"""Shopify orders become one Xero invoice and one Sage 100 order, then get paid.

The shop and the Sage 100 company (with its agent) are the real simulators
over HTTPS; Xero is the in-memory stand-in (tests/support/fake_xero.py), so
these tests are about the flow's decisions. tests/proof/ runs the same path
against the Xero simulator.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from integrations.engine import runner
from integrations.engine.errors import Unavailable, ValidationFailed
from integrations.models import (
    Alert,
    ConnectionStatus,
    CrossReference,
    ErrorCategory,
    MatchDecision,
    RecordStatus,
    SyncRecord,
)
from integrations.services import inbox
from tests.factories import AlertRuleFactory, FlowConfigFactory
from tests.support.order_to_cash import (
    STATUS_FLOW,
    OrderToCash,
    stock_sage_items,
)
from tests.support.sage100 import running_sage100
from tests.support.shopify import running_shopify

pytestmark = pytest.mark.django_db


@pytest.fixture
def sage(tmp_path):
    with running_sage100(tmp_path / "sage100") as company:
        yield company


@pytest.fixture
def shop(tmp_path):
    with running_shopify(tmp_path / "shopify", webhook_url=None, secret="s") as shop:
        yield shop


@pytest.fixture
def o2c(shop, sage, books):
    wired = OrderToCash.wire(
        shop, sage, xero_settings={"tenant_id": "tenant-1"}, xero_credentials={}
    )
    stock_sage_items(wired.config.target_connection)
    return wired


def _order(o2c, lines=(("TRAIL-TENT-2P", 2), ("HEADLAMP-300", 1)), **kw) -> dict:
    order = o2c.shopify.shop.create_order(list(lines), **kw)
    o2c.deliver("orders/create", order, f"create-{order['id']}")
    return order


def _run(record):
    runner.run_record(record.pk)
    record.refresh_from_db()
    return record


def _due_now(record) -> None:
    type(record).objects.filter(pk=record.pk).update(next_attempt_at=timezone.now())


def test_order_becomes_one_invoice_and_one_sales_order(o2c, books):
    before = o2c.on_sales_order("TRAIL-TENT-2P")
    order = _order(
        o2c, discount=("SAVE10", Decimal("10.00")), shipping=("UPS", Decimal("7.50"))
    )

    (record,) = o2c.records("order")
    record = _run(record)

    assert record.status == RecordStatus.SUCCEEDED, record.error_message
    (invoice,) = books.invoices.values()
    assert invoice["Type"] == "ACCREC" and invoice["Status"] == "AUTHORISED"
    assert invoice["Reference"] == order["name"]
    assert invoice["LineAmountTypes"] == "Exclusive"
    assert invoice["Total"] == Decimal(order["total_price"])
    assert invoice["TotalTax"] == Decimal(order["total_tax"])
    assert [line.get("ItemCode") for line in invoice["LineItems"]] == [
        "TRAIL-TENT-2P", "HEADLAMP-300", None, None,
    ]  # fmt: skip
    assert {line["TaxType"] for line in invoice["LineItems"][:3]} == {"TAX001"}
    assert invoice["LineItems"][3]["TaxType"] == "NONE"  # shipping was not taxed
    (sales_order,) = o2c.sage_orders(order["id"])
    sage_total = sum(
        Decimal(str(sales_order[name] or 0))
        for name in ("TaxableAmt", "NonTaxableAmt", "SalesTaxAmt", "FreightAmt")
    ) - Decimal(str(sales_order["DiscountAmt"] or 0))
    assert sage_total == Decimal(order["total_price"])
    assert o2c.on_sales_order("TRAIL-TENT-2P") == before + 2
    assert sales_order["OrderStatus"] == "O"  # AUTHORISED → Open, by default
    assert record.target_ids["invoice_number"] == invoice["InvoiceNumber"]
    assert record.target_ids["sales_order_no"] == sales_order["SalesOrderNo"]
    tags = o2c.shopify.shop.order(order["id"])["tags"]
    assert f"xero:{invoice['InvoiceNumber']}" in tags
    assert f"sage:{sales_order['SalesOrderNo']}" in tags


def test_new_customer_is_created_once_on_both_sides_and_remembered(o2c, books):
    first = _order(o2c)
    o2c.run_all()
    second = o2c.shopify.shop.create_order([("STOVE-MINI", 1)])
    o2c.deliver("orders/create", second, "create-second")

    records = o2c.run_all()

    assert [r.status for r in records] == [RecordStatus.SUCCEEDED] * 2
    assert len(books.contacts) == 1
    customers = {
        o2c.sage_orders(order["id"])[0]["CustomerNo"] for order in (first, second)
    }
    assert len(customers) == 1
    assert records[1].target_ids["contact_action"] == "bound"
    assert records[1].target_ids["customer_action"] == "bound"


def test_redelivered_and_re_sent_events_make_one_record(o2c, books):
    order = o2c.shopify.shop.create_order([("STOVE-MINI", 1)])
    for _ in range(5):
        o2c.deliver("orders/create", order, "event-1")
    o2c.deliver("orders/create", order, "event-2")  # a new event id, same order

    assert len(o2c.records()) == 1
    o2c.run_all()

    assert len(books.invoices) == 1
    assert len(o2c.sage_orders(order["id"])) == 1


def test_xero_done_and_sage_down_retry_creates_only_the_sage_order(o2c, books):
    order = _order(o2c)
    (record,) = o2c.records("order")

    with o2c.sage_agent_down():
        record = _run(record)
    assert record.status == RecordStatus.RETRY_SCHEDULED, record.error_message
    assert len(books.invoices) == 1
    assert o2c.sage_orders(order["id"]) == []
    _due_now(record)
    record = _run(record)

    assert record.status == RecordStatus.SUCCEEDED, record.error_message
    assert len(books.invoices) == 1
    assert [m for m, _ in books.calls].count("save_invoices") == 1
    assert len(o2c.sage_orders(order["id"])) == 1


def test_an_invoice_whose_answer_was_lost_is_found_not_created_again(o2c, books):
    order = _order(o2c)
    (record,) = o2c.records("order")
    books.fail("save_invoices", Unavailable("Xero did not answer."))

    # The first attempt: contact created, invoice call lost before Xero saved.
    record = _run(record)
    assert record.status == RecordStatus.RETRY_SCHEDULED
    # Xero saved it after all (as when only the answer is lost).
    books.invoices.clear()
    client_books_invoice = {
        "InvoiceID": "3f8c3c34-0000-4000-8000-000000000001",
        "InvoiceNumber": "INV-0900",
        "Type": "ACCREC",
        "Status": "AUTHORISED",
        "Reference": order["name"],
        "Contact": {"ContactID": next(iter(books.contacts))},
        "Total": Decimal(order["total_price"]),
        "AmountDue": Decimal(order["total_price"]),
        "AmountPaid": Decimal(0),
        "Payments": [],
    }
    books.invoices[client_books_invoice["InvoiceID"]] = client_books_invoice
    _due_now(record)
    record = _run(record)

    assert record.status == RecordStatus.SUCCEEDED, record.error_message
    assert list(books.invoices) == [client_books_invoice["InvoiceID"]]
    assert record.target_ids["invoice_number"] == "INV-0900"


def test_unknown_sku_needs_attention_before_any_write(o2c, books):
    o2c.shopify.shop.add_variant("MYSTERY-BOX", "Mystery", "Default", Decimal("5"))
    order = _order(o2c, lines=[("STOVE-MINI", 1), ("MYSTERY-BOX", 1)])
    customers = o2c.sage_rows("SELECT COUNT(*) AS n FROM AR_Customer")[0]["n"]

    (record,) = o2c.records("order")
    record = _run(record)

    assert record.status == RecordStatus.NEEDS_ATTENTION
    assert record.error_category == ErrorCategory.REFERENTIAL
    assert record.error_field == "line_items[1].sku"
    assert "MYSTERY-BOX" in record.error_message
    assert books.writes == []
    assert o2c.sage_orders(order["id"]) == []
    assert o2c.sage_rows("SELECT COUNT(*) AS n FROM AR_Customer")[0]["n"] == customers


def test_sku_missing_only_in_xero_is_refused_before_any_write(o2c, books):
    books.items = [i for i in books.items if i["Code"] != "STOVE-MINI"]
    order = _order(o2c, lines=[("STOVE-MINI", 1)])

    (record,) = o2c.records("order")
    record = _run(record)

    assert record.status == RecordStatus.NEEDS_ATTENTION
    assert record.error_field == "line_items[0].sku"
    assert "Xero" in record.error_message
    assert books.writes == [] and o2c.sage_orders(order["id"]) == []


def test_negative_quantity_halts_the_record_and_raises_an_alert(o2c, books):
    AlertRuleFactory(name="Bad data", category=ErrorCategory.VALIDATION)
    order = o2c.shopify.shop.create_order([("STOVE-MINI", 1)])
    order["line_items"][0]["quantity"] = -3
    o2c.deliver("orders/create", order, "bad-quantity")

    (record,) = o2c.records("order")
    record = _run(record)

    assert record.status == RecordStatus.NEEDS_ATTENTION
    assert record.error_category == ErrorCategory.VALIDATION
    assert record.error_field == "line_items[0].quantity"
    assert record.next_attempt_at is None  # halted: no retry is scheduled
    assert Alert.objects.filter(record=record).count() == 1
    assert books.calls == []  # refused before Xero was even asked
    assert o2c.sage_orders(order["id"]) == []


def test_paid_order_gets_one_payment_and_the_sage_order_follows(o2c, books):
    order = _order(o2c)
    o2c.run_all()
    paid = o2c.shopify.shop.mark_paid(order["id"])
    o2c.deliver("orders/paid", paid, "paid-1")
    o2c.deliver("orders/paid", paid, "paid-1")

    (payment,) = o2c.records("payment")
    payment = _run(payment)

    assert payment.status == RecordStatus.SUCCEEDED, payment.error_message
    (invoice,) = books.invoices.values()
    assert invoice["Status"] == "PAID" and invoice["AmountDue"] == 0
    (made,) = books.payments.values()
    assert made["Amount"] == Decimal(order["total_price"])
    assert made["Account"] == {"Code": "090"}
    (sales_order,) = o2c.sage_orders(order["id"])
    assert sales_order["OrderStatus"] == "C"  # PAID → closed by default
    assert "xero-status:paid" in o2c.shopify.shop.order(order["id"])["tags"]


def test_payment_refused_because_a_refund_lowered_the_amount_due_retries(o2c, books):
    order = _order(o2c)
    o2c.run_all()
    paid = o2c.shopify.shop.mark_paid(order["id"])
    o2c.deliver("orders/paid", paid, "paid-1")
    (invoice,) = books.invoices.values()
    # A refund's credit note is allocated between our read and our payment.
    credited = Decimal("10.00")

    def refund_allocated() -> None:
        invoice["AmountDue"] -= credited
        invoice["AmountCredited"] = credited

    books.before_next("create_payments", refund_allocated)
    books.fail(
        "create_payments",
        ValidationFailed("Payment amount exceeds the amount due on this invoice."),
    )

    (payment,) = o2c.records("payment")
    payment = _run(payment)
    assert payment.status == RecordStatus.RETRY_SCHEDULED, payment.error_message

    _due_now(payment)
    payment = _run(payment)
    assert payment.status == RecordStatus.SUCCEEDED, payment.error_message
    (made,) = books.payments.values()
    assert made["Amount"] == Decimal(order["total_price"]) - credited


def test_payment_waits_for_its_order_then_goes_through(o2c, books):
    order = _order(o2c)
    paid = o2c.shopify.shop.mark_paid(order["id"])
    o2c.deliver("orders/paid", paid, "paid-early")
    (payment,) = o2c.records("payment")

    payment = _run(payment)
    assert payment.status == RecordStatus.RETRY_SCHEDULED
    assert books.payments == {}
    (placed,) = o2c.records("order")
    _run(placed)
    _due_now(payment)
    payment = _run(payment)

    assert payment.status == RecordStatus.SUCCEEDED, payment.error_message
    assert len(books.payments) == 1


def test_status_table_can_keep_paid_orders_open(o2c, books):
    CrossReference.objects.create(
        kind="status",
        source_connection=o2c.xero_connection,
        target_connection=o2c.config.target_connection,
        source_value="PAID",
        target_value="O",
    )
    order = _order(o2c)
    o2c.run_all()
    o2c.deliver("orders/paid", o2c.shopify.shop.mark_paid(order["id"]), "paid")

    o2c.run_all()

    (sales_order,) = o2c.sage_orders(order["id"])
    assert sales_order["OrderStatus"] == "O"


def test_cancelled_unpaid_order_voids_the_invoice_and_closes_the_order(o2c, books):
    order = _order(o2c)
    o2c.run_all()
    before = o2c.on_sales_order("TRAIL-TENT-2P")
    o2c.deliver("orders/cancelled", o2c.shopify.shop.cancel(order["id"]), "cancel")

    (cancellation,) = o2c.records("cancellation")
    cancellation = _run(cancellation)

    assert cancellation.status == RecordStatus.SUCCEEDED, cancellation.error_message
    (invoice,) = books.invoices.values()
    assert invoice["Status"] == "VOIDED"
    (sales_order,) = o2c.sage_orders(order["id"])
    assert sales_order["OrderStatus"] == "C"
    assert o2c.on_sales_order("TRAIL-TENT-2P") == before - 2
    tags = o2c.shopify.shop.order(order["id"])["tags"]
    assert f"xero:{invoice['InvoiceNumber']}" in tags  # the number, not the id
    assert "xero-status:voided" in tags


def test_an_order_cancelled_before_it_went_through_is_not_sent(o2c, books):
    order = _order(o2c)
    o2c.deliver("orders/cancelled", o2c.shopify.shop.cancel(order["id"]), "cancel")

    (placed,) = o2c.records("order")
    placed = _run(placed)

    assert placed.status == RecordStatus.NEEDS_ATTENTION
    assert placed.error_field == "cancelled_at"
    assert books.writes == []


def test_existing_xero_contact_with_the_same_email_is_used(o2c, books):
    books.contacts["c-1"] = {
        "ContactID": "c-1",
        "Name": "Robert Norman",
        "EmailAddress": "bob.norman@mail.example.com",
        "ContactStatus": "ACTIVE",
    }
    _order(o2c)

    (record,) = o2c.run_all()

    assert record.status == RecordStatus.SUCCEEDED, record.error_message
    assert list(books.contacts) == ["c-1"]
    (invoice,) = books.invoices.values()
    assert invoice["Contact"] == {"ContactID": "c-1"}


def test_likely_duplicate_xero_contact_is_flagged_not_created(o2c, books):
    books.contacts["c-2"] = {
        "ContactID": "c-2",
        "Name": "Bob Norman",
        "EmailAddress": "b.norman@work.example.com",
        "ContactStatus": "ACTIVE",
    }
    _order(o2c)

    (record,) = o2c.run_all()

    assert record.status == RecordStatus.NEEDS_ATTENTION
    assert record.error_category == ErrorCategory.DUPLICATE
    assert record.step_state["candidates"] == ["c-2"]
    assert "merge" in record.error_message
    assert books.writes == []

    # A person says it is the same contact: the resubmitted order uses it.
    MatchDecision.objects.create(
        kind="contact",
        source_connection=o2c.config.source_connection,
        target_connection=o2c.xero_connection,
        source_value=str(o2c.shopify.shop.customers[
            "bob.norman@mail.example.com"]["id"]),
        target_value="c-2",
        verdict="same",
    )  # fmt: skip
    type(record).objects.filter(pk=record.pk).update(status=RecordStatus.PENDING)
    record = _run(record)
    assert record.status == RecordStatus.SUCCEEDED, record.error_message
    assert list(books.contacts) == ["c-2"]


def test_currency_xero_does_not_have_is_refused(o2c, books):
    books.currencies = [{"Code": "EUR"}]
    _order(o2c)

    (record,) = o2c.run_all()

    assert record.status == RecordStatus.NEEDS_ATTENTION
    assert record.error_field == "currency"
    assert books.writes == []


def test_invoice_paid_in_xero_closes_the_sage_order(o2c, books):
    order = _order(o2c)
    o2c.run_all()
    (invoice,) = books.invoices.values()
    invoice.update(Status="PAID", AmountDue=Decimal(0))  # a person, in Xero
    status_flow = FlowConfigFactory(
        flow=STATUS_FLOW,
        source_connection=o2c.xero_connection,
        target_connection=o2c.config.target_connection,
    )
    invoice_id = invoice["InvoiceID"]
    event = {
        "resourceUrl": f"https://api.xero.com/api.xro/2.0/Invoices/{invoice_id}",
        "resourceId": invoice_id,
        "eventDateUtc": "2026-12-02T10:00:00.000",
        "eventType": "UPDATE",
        "eventCategory": "INVOICE",
        "tenantId": "tenant-1",
        "tenantType": "ORGANISATION",
    }
    inbox.accept(
        o2c.xero_connection,
        body=b"{}",
        headers={},
        provider_event_id="xero:paid-event",
        topic="xero.invoice.update",
        signature_verified=True,
        parsed=event,
    )

    (record,) = SyncRecord.objects.filter(flow_config=status_flow)
    record = _run(record)

    assert record.status == RecordStatus.SUCCEEDED, record.error_message
    assert record.target_ids["sage_status"] == "C"
    assert o2c.sage_orders(order["id"])[0]["OrderStatus"] == "C"


def test_xero_needing_reauthorisation_parks_the_record_not_sage(o2c, books):
    o2c.xero_connection.status = ConnectionStatus.NEEDS_REAUTH
    o2c.xero_connection.save(update_fields=["status"])
    _order(o2c)

    (record,) = o2c.run_all()

    assert record.status == RecordStatus.RETRY_SCHEDULED
    assert record.error_category == ErrorCategory.AUTH
    o2c.config.target_connection.refresh_from_db()
    assert o2c.config.target_connection.status == ConnectionStatus.ACTIVE
    assert books.calls == []


def test_a_flow_without_its_xero_connection_says_which_option(o2c, books):
    o2c.config.options = {"xero_connection": "no-such-connection"}
    o2c.config.save(update_fields=["options"])
    _order(o2c)

    (record,) = o2c.run_all()

    assert record.status == RecordStatus.NEEDS_ATTENTION
    assert record.error_field == "options.xero_connection"
    assert "no-such-connection" in record.error_message
