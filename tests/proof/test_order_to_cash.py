"""Order-to-cash over real HTTP: the Shopify, Xero and Sage 100 simulators.

The shop signs and posts its webhooks to our portal on a real port; the flow
reaches Xero through xero-python and the Sage 100 company through ODBC and
its agent, all over loopback. Every request Xero sees is checked against its
OpenAPI contract (``xero.problems`` stays empty).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from decimal import Decimal

import pytest
import requests
from django.utils import timezone

from integrations.engine import clients, runner
from integrations.models import (
    Alert,
    ErrorCategory,
    InboundEvent,
    RecordStatus,
    SyncRecord,
)
from integrations.sandbox.shopify.shop import Shop
from integrations.sandbox.shopify.webhooks import hmac_sha256_base64
from tests.factories import AlertRuleFactory, FlowConfigFactory
from tests.support import workers
from tests.support.order_to_cash import (
    STATUS_FLOW,
    OrderToCash,
    stock_sage_items,
    xero_items,
)
from tests.support.sage100 import running_sage100
from tests.support.shopify import running_shopify
from tests.support.xero import running_xero

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "proof-shopify-webhook-secret"
XERO_SLUG, XERO_KEY = "o2c-xero", "proof-xero-webhook-key"
SLUG = "o2c-shop"
WRITES = ("PUT", "POST", "DELETE")


def wait_until(check: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out waiting for {what}.")
        time.sleep(0.05)


@pytest.fixture
def xero(tmp_path):
    with running_xero(tmp_path / "xero", tenants=1) as running:
        yield running


@pytest.fixture
def sage(tmp_path):
    with running_sage100(tmp_path / "sage100") as company:
        yield company


@pytest.fixture
def shop(tmp_path, live_server):
    address = f"{live_server.url}/api/v1/inbound/shopify/{SLUG}/webhook"
    with running_shopify(
        tmp_path / "shopify", webhook_url=address, secret=SECRET
    ) as running:
        running.sender.session.trust_env = False  # plain HTTP, no proxy
        yield running


@pytest.fixture
def o2c(shop, sage, xero, redis_conn):
    return wire(shop, sage, xero)


def wire(shop, sage, xero, **options) -> OrderToCash:
    """Connections and the flow, Sage and Xero stocked with the shop's items."""
    settings, credentials = xero.connection()
    wired = OrderToCash.wire(
        shop,
        sage,
        xero_settings=settings,
        xero_credentials=credentials,
        shopify_slug=SLUG,
        **options,
    )
    stock_sage_items(wired.config.target_connection)
    results = clients.build(wired.xero_connection).save_items(
        xero_items(), idempotency_key="proof-items"
    )
    assert [r.errors for r in results if not r.ok] == []
    return wired


def books(xero):
    (tenant_id, _), *_ = xero.tenants
    return xero.organisation(tenant_id).books


def invoices_for(xero, reference: str) -> list[dict]:
    return [
        invoice
        for invoice in books(xero).invoices.values()
        if invoice.get("Reference") == reference and invoice.get("Type") == "ACCREC"
    ]


def xero_writes(xero) -> list[tuple[str, str, int]]:
    return [call for call in xero.calls if call[0] in WRITES]


def record_of(o2c, kind: str, order_id) -> SyncRecord:
    wait_until(
        lambda: SyncRecord.objects.filter(
            flow_config=o2c.config, source_object_type=kind, source_id=str(order_id)
        ).exists(),
        f"the {kind} webhook to arrive",
    )
    return SyncRecord.objects.get(
        flow_config=o2c.config, source_object_type=kind, source_id=str(order_id)
    )


def run(record: SyncRecord) -> SyncRecord:
    runner.run_record(record.pk)
    record.refresh_from_db()
    return record


def test_an_order_is_one_invoice_and_one_sage_order_and_its_payment_lands(o2c, xero):
    order = o2c.shopify.shop.create_order(
        [("TRAIL-TENT-2P", 2), ("HEADLAMP-300", 3)],
        discount=("WELCOME", Decimal("15.00")),
        shipping=("UPS Ground", Decimal("9.90")),
    )

    placed = run(record_of(o2c, "order", order["id"]))

    assert placed.status == RecordStatus.SUCCEEDED, placed.error_message
    (invoice,) = invoices_for(xero, order["name"])
    assert invoice["Status"] == "AUTHORISED"
    assert Decimal(str(invoice["Total"])) == Decimal(order["total_price"])
    assert Decimal(str(invoice["TotalTax"])) == Decimal(order["total_tax"])
    (sales_order,) = o2c.sage_orders(order["id"])
    assert sales_order["SalesOrderNo"] == placed.target_ids["sales_order_no"]
    assert Decimal(str(sales_order["SalesTaxAmt"])) == Decimal(order["total_tax"])
    lines = o2c.sage_rows(
        "SELECT ItemCode, QuantityOrdered, UnitPrice FROM SO_SalesOrderDetail "
        "WHERE SalesOrderNo = ? ORDER BY LineKey",
        sales_order["SalesOrderNo"],
    )
    assert [(r["ItemCode"], Decimal(str(r["QuantityOrdered"]))) for r in lines] == [
        ("TRAIL-TENT-2P", 2),
        ("HEADLAMP-300", 3),
    ]
    tags = o2c.shopify.shop.order(order["id"])["tags"]
    assert f"xero:{invoice['InvoiceNumber']}" in tags

    o2c.shopify.shop.mark_paid(order["id"])
    payment = run(record_of(o2c, "payment", order["id"]))

    assert payment.status == RecordStatus.SUCCEEDED, payment.error_message
    (invoice,) = invoices_for(xero, order["name"])
    assert invoice["Status"] == "PAID"
    assert Decimal(str(invoice["AmountDue"])) == 0
    (made,) = books(xero).payments.values()
    assert Decimal(str(made["Amount"])) == Decimal(order["total_price"])
    assert xero.problems == []


@pytest.mark.workers
def test_five_deliveries_of_the_webhook_make_one_of_each(o2c, xero, shop):
    order = shop.shop.create_order([("STOVE-MINI", 2)])

    def delivered() -> int:
        return sum(
            event.deliveries
            for event in InboundEvent.objects.filter(topic="shopify.orders/create")
        )

    def settled(count: int) -> bool:
        """Stored ``count`` times and the shop has seen the last 200."""
        return delivered() == count and len(shop.sender.delivered) == 1

    wait_until(lambda: settled(1), "the first delivery")
    for expected in range(2, 6):
        assert shop.sender.redeliver()
        wait_until(lambda n=expected: settled(n), f"delivery {expected}")
    assert InboundEvent.objects.filter(topic="shopify.orders/create").count() == 1

    workers.wait_all([workers.start_worker(), workers.start_worker()])

    (record,) = SyncRecord.objects.filter(flow_config=o2c.config)
    assert record.status == RecordStatus.SUCCEEDED, record.error_message
    assert len(invoices_for(xero, order["name"])) == 1
    assert len(o2c.sage_orders(order["id"])) == 1
    assert xero.problems == []


def test_xero_done_and_sage_down_the_retry_creates_only_the_sage_order(o2c, xero):
    order = o2c.shopify.shop.create_order([("DOWN-BAG-REG", 1)])
    record = record_of(o2c, "order", order["id"])

    with o2c.sage_agent_down():
        record = run(record)
    assert record.status == RecordStatus.RETRY_SCHEDULED, record.error_message
    assert len(invoices_for(xero, order["name"])) == 1
    assert o2c.sage_orders(order["id"]) == []
    invoice_writes = [c for c in xero_writes(xero) if c[1] == "/Invoices"]

    SyncRecord.objects.filter(pk=record.pk).update(next_attempt_at=timezone.now())
    record = run(record)

    assert record.status == RecordStatus.SUCCEEDED, record.error_message
    assert len(invoices_for(xero, order["name"])) == 1
    assert [c for c in xero_writes(xero) if c[1] == "/Invoices"] == invoice_writes
    assert len(o2c.sage_orders(order["id"])) == 1
    assert xero.problems == []


def test_an_unknown_item_code_needs_attention_before_any_write(o2c, xero):
    o2c.shopify.shop.add_variant(
        "GHOST-LANTERN", "Ghost Lantern", "Default Title", Decimal("19.00")
    )
    order = o2c.shopify.shop.create_order([("STOVE-MINI", 1), ("GHOST-LANTERN", 1)])
    writes_before = xero_writes(xero)
    customers = o2c.sage_rows("SELECT COUNT(*) AS n FROM AR_Customer")[0]["n"]

    record = run(record_of(o2c, "order", order["id"]))

    assert record.status == RecordStatus.NEEDS_ATTENTION
    assert record.error_category == ErrorCategory.REFERENTIAL
    assert record.error_field == "line_items[1].sku"
    assert "GHOST-LANTERN" in record.error_message
    assert xero_writes(xero) == writes_before
    assert invoices_for(xero, order["name"]) == []
    assert o2c.sage_orders(order["id"]) == []
    assert o2c.sage_rows("SELECT COUNT(*) AS n FROM AR_Customer")[0]["n"] == customers
    assert xero.problems == []


def test_a_negative_quantity_is_a_validation_error_halted_and_alerted(
    o2c, xero, live_server
):
    AlertRuleFactory(name="Order data", category=ErrorCategory.VALIDATION)
    # A shop's order body, signed as the shop signs, with a bad quantity.
    order = Shop().create_order([("STOVE-MINI", 1), ("HEADLAMP-300", 2)])
    order["line_items"][0]["quantity"] = -1
    body = json.dumps(order).encode()
    calls_before = list(xero.calls)

    answer = requests.post(
        f"{live_server.url}/api/v1/inbound/shopify/{SLUG}/webhook",
        data=body,
        headers={
            "Content-Type": "application/json",
            "X-Shopify-Hmac-Sha256": hmac_sha256_base64(SECRET, body),
            "X-Shopify-Topic": "orders/create",
            "X-Shopify-Event-Id": "negative-quantity-event",
        },
        timeout=10,
    )
    assert answer.status_code == 200
    record = run(record_of(o2c, "order", order["id"]))

    assert record.status == RecordStatus.NEEDS_ATTENTION
    assert record.error_category == ErrorCategory.VALIDATION
    assert record.error_field == "line_items[0].quantity"
    assert record.next_attempt_at is None
    assert Alert.objects.filter(record=record).count() == 1
    assert xero.calls == calls_before  # Xero was not even asked
    assert o2c.sage_orders(order["id"]) == []


def test_an_invoice_paid_in_xero_closes_the_sage_order_by_webhook(
    shop, sage, tmp_path, live_server, redis_conn
):
    hook = f"{live_server.url}/api/v1/inbound/xero/{XERO_SLUG}/webhook"
    with running_xero(
        tmp_path / "xero-hooked", tenants=1, webhook_url=hook, webhook_key=XERO_KEY
    ) as xero:
        xero.sender.session.trust_env = False
        o2c = wire(shop, sage, xero, xero_slug=XERO_SLUG)
        status_flow = FlowConfigFactory(
            flow=STATUS_FLOW,
            source_connection=o2c.xero_connection,
            target_connection=o2c.config.target_connection,
        )
        order = shop.shop.create_order([("HEADLAMP-300", 1)])
        placed = run(record_of(o2c, "order", order["id"]))
        assert placed.status == RecordStatus.SUCCEEDED, placed.error_message
        (invoice,) = invoices_for(xero, order["name"])

        # A person records the payment in Xero; Xero tells the hub.
        (result,) = clients.build(o2c.xero_connection).create_payments(
            [
                {
                    "Invoice": {"InvoiceID": invoice["InvoiceID"]},
                    "Account": {"Code": "090"},
                    "Date": order["created_at"][:10],
                    "Amount": Decimal(order["total_price"]),
                }
            ],
            idempotency_key="paid-by-hand",
        )
        assert result.ok, result.errors

        def status_records():
            return SyncRecord.objects.filter(flow_config=status_flow)

        wait_until(lambda: status_records().exists(), "Xero's invoice webhook")
        for record in status_records():
            record = run(record)
            assert record.status == RecordStatus.SUCCEEDED, record.error_message

        (sales_order,) = o2c.sage_orders(order["id"])
        assert sales_order["OrderStatus"] == "C"
        assert xero.problems == []
