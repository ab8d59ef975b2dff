"""Paid Shopify orders reach Xero in batches: fifty payments, two calls.

The shop and Sage 100 are the real simulators over HTTPS; the fifty-order
test runs against the Xero simulator (every request keeps the OpenAPI
contract), the refusal tests against the in-memory stand-in, which lets
someone act in Xero between our read and our payment.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest
from django.utils import timezone

from integrations.engine import clients, runner
from integrations.engine.errors import Unavailable
from integrations.models import CrossReference, RecordStatus, SyncRecord
from tests.support.order_to_cash import OrderToCash, stock_sage_items, xero_items
from tests.support.sage100 import running_sage100
from tests.support.shopify import running_shopify
from tests.support.xero import running_xero

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


def _place(o2c, count: int) -> list[dict]:
    """``count`` orders, sent to Xero and Sage 100 (one batch)."""
    orders = []
    for n in range(count):
        order = o2c.shopify.shop.create_order(
            [("TRAIL-TENT-2P", 1)],
            customer={"first_name": "Ada", "last_name": "Lovelace",
                      "email": "ada@shoppers.example.com"},
        )  # fmt: skip
        o2c.deliver("orders/create", order, f"create-{n}")
        orders.append(order)
    _run_batch(o2c, "order")
    assert {r.status for r in o2c.records("order")} == {RecordStatus.SUCCEEDED}
    return orders


def _pay(o2c, orders: list[dict]) -> None:
    for order in orders:
        paid = o2c.shopify.shop.mark_paid(order["id"])
        o2c.deliver("orders/paid", paid, f"paid-{order['id']}")


def _run_batch(o2c, kind: str) -> dict[str, SyncRecord]:
    """One worker's claim: the oldest due record and its companions."""
    waiting = (RecordStatus.PENDING, RecordStatus.RETRY_SCHEDULED)
    first = next(r for r in o2c.records(kind) if r.status in waiting)
    runner.run_record(first.pk)
    return {r.source_id: r for r in o2c.records(kind)}


def _due_now(o2c) -> None:
    SyncRecord.objects.filter(
        flow_config=o2c.config, status=RecordStatus.RETRY_SCHEDULED
    ).update(next_attempt_at=timezone.now())


def test_fifty_paid_orders_make_one_invoice_read_and_one_payments_call(
    shop, sage, tmp_path
):
    with running_xero(tmp_path / "xero", tenants=1) as xero:
        settings, credentials = xero.connection()
        o2c = OrderToCash.wire(
            shop, sage, xero_settings=settings, xero_credentials=credentials,
            options={"write_back_tags": False},
        )  # fmt: skip
        stock_sage_items(o2c.config.target_connection)
        saved = clients.build(o2c.xero_connection).save_items(
            xero_items(), idempotency_key="payment-batch-items"
        )
        assert [r.errors for r in saved if not r.ok] == []
        orders = _place(o2c, 50)
        _pay(o2c, orders)
        before = len(xero.calls)

        records = _run_batch(o2c, "payment")

        assert [r.status for r in records.values()] == [RecordStatus.SUCCEEDED] * 50, [
            r.error_message for r in records.values()
        ]
        calls = Counter((method, path) for method, path, _ in xero.calls[before:])
        assert calls == {
            ("GET", "/api.xro/2.0/Invoices"): 1,
            ("PUT", "/api.xro/2.0/Payments"): 1,
        }
        organisation = xero.organisation(xero.tenants[0][0]).books
        ours = [i for i in organisation.invoices.values() if i["Type"] == "ACCREC"]
        assert {i["Status"] for i in ours} == {"PAID"}
        assert len(organisation.payments) == 50
        for order in orders:
            record = records[str(order["id"])]
            assert record.target_ids["invoice_status"] == "PAID"
            assert record.target_ids["amount"] == order["total_price"]
            assert "load (batch of 50)" in record.attempt_set.get().steps_run
            (sales_order,) = o2c.sage_orders(order["id"])
            assert sales_order["OrderStatus"] == "C"  # PAID → closed
        assert xero.problems == []


def test_a_payment_xero_refuses_fails_alone_and_the_batch_goes_on(o2c, books):
    orders = _place(o2c, 3)
    _pay(o2c, orders)
    invoices = {i["Reference"]: i for i in books.invoices.values()}
    refused = invoices[orders[1]["name"]]

    def sent_back_for_approval() -> None:
        refused["Status"] = "SUBMITTED"  # Xero takes no payment now

    books.before_next("create_payments", sent_back_for_approval)
    calls = len(books.calls)

    records = _run_batch(o2c, "payment")

    failed = records[str(orders[1]["id"])]
    assert failed.status == RecordStatus.NEEDS_ATTENTION, failed.error_message
    assert "payment" in failed.error_message.lower()
    for order in (orders[0], orders[2]):
        record = records[str(order["id"])]
        assert record.status == RecordStatus.SUCCEEDED, record.error_message
        assert "xero-status:paid" in o2c.shopify.shop.order(order["id"])["tags"]
        assert o2c.sage_orders(order["id"])[0]["OrderStatus"] == "C"
    assert "xero-status:paid" not in o2c.shopify.shop.order(orders[1]["id"])["tags"]
    assert len(books.payments) == 2
    made = Counter(method for method, _ in books.calls[calls:])
    # One read, one payments call, and one read again of the refused invoice.
    assert made == {"get_invoices": 2, "create_payments": 1}


def test_a_payment_refused_in_a_batch_after_a_refund_retries_alone(o2c, books):
    orders = _place(o2c, 3)
    _pay(o2c, orders)
    invoice = next(
        i for i in books.invoices.values() if i["Reference"] == orders[2]["name"]
    )
    credited = Decimal("10.00")

    def refund_allocated() -> None:
        invoice["AmountDue"] -= credited
        invoice["AmountCredited"] = credited

    books.before_next("create_payments", refund_allocated)

    records = _run_batch(o2c, "payment")

    again = records[str(orders[2]["id"])]
    assert again.status == RecordStatus.RETRY_SCHEDULED, again.error_message
    assert [records[str(o["id"])].status for o in orders[:2]] == [
        RecordStatus.SUCCEEDED
    ] * 2
    _due_now(o2c)
    records = _run_batch(o2c, "payment")

    again = records[str(orders[2]["id"])]
    assert again.status == RecordStatus.SUCCEEDED, again.error_message
    amounts = sorted(p["Amount"] for p in books.payments.values())
    total = Decimal(orders[2]["total_price"])
    assert amounts == sorted([total, total, total - credited])


def test_a_payment_whose_answer_was_lost_is_not_paid_twice(o2c, books):
    orders = _place(o2c, 2)
    _pay(o2c, orders)
    books.fail("create_payments", Unavailable("Xero did not answer."))

    records = _run_batch(o2c, "payment")
    assert {r.status for r in records.values()} == {RecordStatus.RETRY_SCHEDULED}
    # Xero had saved the first order's payment: only its answer was lost.
    first = next(
        i for i in books.invoices.values() if i["Reference"] == orders[0]["name"]
    )
    amount = Decimal(orders[0]["total_price"])
    first["Payments"].append(
        {"PaymentID": "lost-1", "Amount": amount,
         "Reference": f"Shopify {orders[0]['name']}"}
    )  # fmt: skip
    first["AmountPaid"], first["AmountDue"], first["Status"] = amount, 0, "PAID"
    _due_now(o2c)
    calls = len(books.calls)

    records = _run_batch(o2c, "payment")

    assert {r.status for r in records.values()} == {RecordStatus.SUCCEEDED}, [
        r.error_message for r in records.values()
    ]
    assert records[str(orders[0]["id"])].target_ids["invoice_status"] == "PAID"
    (made,) = books.payments.values()  # only the second order's payment
    assert made["Reference"] == f"Shopify {orders[1]['name']}"
    retry = Counter(method for method, _ in books.calls[calls:])
    assert retry == {"get_invoices": 1, "create_payments": 1}


def test_an_order_whose_write_back_failed_keeps_its_cross_references(o2c, books):
    source = o2c.config.source_connection
    url = source.settings["shop_url"]
    source.settings = {**source.settings, "shop_url": "https://127.0.0.1:9"}
    source.save(update_fields=["settings"])
    order = o2c.shopify.shop.create_order([("STOVE-MINI", 1)])
    o2c.deliver("orders/create", order, "create-1")

    (record,) = o2c.records("order")
    runner.run_record(record.pk)
    record.refresh_from_db()
    assert record.status == RecordStatus.RETRY_SCHEDULED, record.error_message
    assert record.attempt_set.get().steps_run[-1] == "confirm"
    source.settings = {**source.settings, "shop_url": url}
    source.save(update_fields=["settings"])
    _due_now(o2c)
    runner.run_record(record.pk)
    record.refresh_from_db()

    assert record.status == RecordStatus.SUCCEEDED, record.error_message
    assert len(books.invoices) == 1
    assert [m for m, _ in books.calls].count("save_invoices") == 1
    (sales_order,) = o2c.sage_orders(order["id"])
    bound = dict(
        CrossReference.objects.filter(
            source_connection=source, target_connection=o2c.config.target_connection
        ).values_list("kind", "target_value")
    )
    assert bound["order"] == sales_order["SalesOrderNo"]
    assert bound["customer"] == record.target_ids["customer"]
    assert (
        f"sage:{sales_order['SalesOrderNo']}"
        in o2c.shopify.shop.order(order["id"])["tags"]
    )
