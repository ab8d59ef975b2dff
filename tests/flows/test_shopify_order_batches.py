"""New Shopify orders reach Xero in batches: fifty orders, one invoice call.

The Shopify, Sage 100 and Xero simulators run over HTTPS on loopback; the
engine claims the flow's due records as one batch (``batch_size``), as a
worker does, and every request Xero saw must keep its OpenAPI contract.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest
from django.utils import timezone

from integrations.engine import clients, runner
from integrations.engine.errors import Unavailable
from integrations.models import RecordStatus, SyncRecord
from integrations.services import xero_reference
from tests.support.fake_xero import fake_xero
from tests.support.order_to_cash import OrderToCash, stock_sage_items, xero_items
from tests.support.sage100 import running_sage100
from tests.support.shopify import running_shopify
from tests.support.xero import running_xero

pytestmark = pytest.mark.django_db

FIRST = [
    "Ada",
    "Bela",
    "Cyra",
    "Dov",
    "Enzo",
    "Fen",
    "Gus",
    "Hana",
    "Ivo",
    "Juno",
    "Kai",
    "Lior",
    "Mina",
    "Nils",
    "Oona",
    "Pim",
    "Rhea",
    "Sven",
    "Tove",
    "Uri",
]
LAST = [
    "Abernathy",
    "Brightwater",
    "Castellanos",
    "Dunmore",
    "Eriksdottir",
    "Fairweather",
    "Galloway",
    "Hollingsworth",
    "Ingersoll",
    "Jablonski",
    "Kowalczyk",
    "Lindqvist",
    "Montgomery",
    "Nakamura",
    "Oyelaran",
    "Pemberton",
    "Quintero",
    "Rasmussen",
    "Szczepanski",
    "Thistlewood",
]
STREETS = ["Birch", "Cedar", "Harbor", "Mill", "Ridge", "Summit", "Willow"]
CITIES = [("Boise", "ID", "83702"), ("Fargo", "ND", "58102"),
          ("Eugene", "OR", "97401"), ("Tulsa", "OK", "74103"),
          ("Reno", "NV", "89501")]  # fmt: skip


@pytest.fixture
def xero(tmp_path):
    with running_xero(tmp_path / "xero", tenants=1) as running:
        yield running


@pytest.fixture
def sage(tmp_path):
    with running_sage100(tmp_path / "sage100") as company:
        yield company


@pytest.fixture
def shop(tmp_path):
    with running_shopify(tmp_path / "shopify", webhook_url=None, secret="s") as shop:
        yield shop


def _wire(shop, sage, xero, **options) -> OrderToCash:
    settings, credentials = xero.connection()
    wired = OrderToCash.wire(
        shop, sage, xero_settings=settings, xero_credentials=credentials,
        options=options,
    )  # fmt: skip
    stock_sage_items(wired.config.target_connection)
    results = clients.build(wired.xero_connection).save_items(
        xero_items(), idempotency_key="batch-test-items"
    )
    assert [r.errors for r in results if not r.ok] == []
    return wired


def _shopper(n: int) -> dict:
    """Shoppers unlike each other (and unlike Sage's own customers)."""
    first, last = FIRST[n % len(FIRST)], LAST[(n * 7) % len(LAST)]
    city, state, zip_code = CITIES[n % len(CITIES)]
    return {
        "first_name": first,
        "last_name": last,
        "email": f"{first}.{last}@shoppers.example.com".lower(),
        "phone": f"+1-208-555-{1000 + 37 * n:04d}",
        "address1": f"{100 + 7 * n} {STREETS[n % len(STREETS)]} Rd",
        "city": city,
        "province_code": state,
        "zip": zip_code,
    }


def _orders(o2c, count: int, shoppers: int, lines=(("TRAIL-TENT-2P", 1),)) -> list:
    placed = []
    for n in range(count):
        order = o2c.shopify.shop.create_order(
            list(lines), customer=_shopper(n % shoppers)
        )
        o2c.deliver("orders/create", order, f"create-{order['id']}")
        placed.append(order)
    return placed


def _xero_calls(xero, since: int = 0) -> Counter:
    return Counter((method, path) for method, path, _ in xero.calls[since:])


def _run_batch(o2c) -> list[SyncRecord]:
    """One worker's claim: the oldest due record and up to 49 companions."""
    waiting = (RecordStatus.PENDING, RecordStatus.RETRY_SCHEDULED)
    first = next(r for r in o2c.records("order") if r.status in waiting)
    runner.run_record(first.pk)
    return o2c.records("order")


def test_fifty_orders_of_twenty_new_shoppers_make_one_invoice_call(shop, sage, xero):
    o2c = _wire(shop, sage, xero, write_back_tags=False)
    orders = _orders(o2c, 50, shoppers=20)
    before = len(xero.calls)

    records = _run_batch(o2c)

    assert [r.status for r in records] == [RecordStatus.SUCCEEDED] * 50, [
        r.error_message for r in records if r.status != RecordStatus.SUCCEEDED
    ]
    calls = _xero_calls(xero, before)
    assert calls[("PUT", "/api.xro/2.0/Invoices")] == 1
    assert calls[("PUT", "/api.xro/2.0/Contacts")] == 1  # the 20 new shoppers
    assert calls[("GET", "/api.xro/2.0/Contacts")] <= 2  # looked for together
    assert calls[("GET", "/api.xro/2.0/Invoices")] == 0
    organisation = xero.organisation(xero.tenants[0][0]).books
    references = {
        invoice["Reference"]
        for invoice in organisation.invoices.values()
        if invoice.get("Type") == "ACCREC"
    }
    assert references == {order["name"] for order in orders}
    emails = {str(c.get("EmailAddress")) for c in organisation.contacts.values()}
    assert {_shopper(n)["email"] for n in range(20)} <= emails
    for order in orders:
        assert len(o2c.sage_orders(order["id"])) == 1
    created = Counter(r.target_ids["contact_action"] for r in records)
    assert created == {"created": 50}  # 20 contacts, each shared by its orders
    assert len({r.target_ids["contact_id"] for r in records}) == 20
    assert xero.problems == []

    # The same shoppers again: cross-referenced, so one call for fifty orders.
    _orders(o2c, 50, shoppers=20)
    before = len(xero.calls)
    records = _run_batch(o2c)

    assert {r.status for r in records} == {RecordStatus.SUCCEEDED}
    assert _xero_calls(xero, before) == {("PUT", "/api.xro/2.0/Invoices"): 1}
    assert xero.problems == []


def test_an_invoice_xero_refuses_fails_alone_and_the_batch_goes_on(shop, sage, xero):
    o2c = _wire(shop, sage, xero)
    # The hub's cached item list still has STOVE-MINI; Xero no longer does.
    connection = o2c.xero_connection
    xero_reference.read(connection, clients.build(connection), "items", fresh=True)
    organisation = xero.organisation(xero.tenants[0][0]).books
    (stove,) = [k for k, i in organisation.items.items() if i["Code"] == "STOVE-MINI"]
    del organisation.items[stove]
    good = _orders(o2c, 4, shoppers=2)
    (bad,) = _orders(o2c, 1, shoppers=1, lines=(("STOVE-MINI", 1),))
    before = len(xero.calls)

    records = {r.source_id: r for r in _run_batch(o2c)}

    refused = records[str(bad["id"])]
    assert refused.status == RecordStatus.NEEDS_ATTENTION
    assert "STOVE-MINI" in refused.error_message
    assert o2c.sage_orders(bad["id"]) == []
    for order in good:
        record = records[str(order["id"])]
        assert record.status == RecordStatus.SUCCEEDED, record.error_message
        assert len(o2c.sage_orders(order["id"])) == 1
        assert (
            f"xero:{record.target_ids['invoice_number']}"
            in (o2c.shopify.shop.order(order["id"])["tags"])
        )
    assert _xero_calls(xero, before)[("PUT", "/api.xro/2.0/Invoices")] == 1
    steps = refused.attempt_set.get().steps_run
    assert "load (batch of 5)" in steps
    assert xero.problems == []


def test_a_batch_whose_answer_was_lost_is_looked_for_once_and_not_sent_twice(
    shop, sage, redis_conn
):
    with fake_xero() as books:
        books.items = xero_items()
        o2c = OrderToCash.wire(
            shop, sage, xero_settings={"tenant_id": "tenant-1"}, xero_credentials={},
            options={"write_back_tags": False},
        )  # fmt: skip
        stock_sage_items(o2c.config.target_connection)
        orders = _orders(o2c, 3, shoppers=3)
        books.fail("save_invoices", Unavailable("Xero did not answer."))

        records = _run_batch(o2c)
        assert {r.status for r in records} == {RecordStatus.RETRY_SCHEDULED}
        assert books.invoices == {} and o2c.sage_orders(orders[0]["id"]) == []
        # Xero had saved two of them after all: only the answer was lost.
        for n, (order, record) in enumerate(zip(orders[:2], records, strict=False)):
            contact = record.step_state["resolved"]["contact"]["contact_id"]
            books.invoices[f"lost-{n}"] = {
                "InvoiceID": f"lost-{n}", "InvoiceNumber": f"INV-09{n}0",
                "Type": "ACCREC", "Status": "AUTHORISED",
                "Reference": order["name"], "Contact": {"ContactID": contact},
                "Total": Decimal(order["total_price"]), "Payments": [],
            }  # fmt: skip
        SyncRecord.objects.filter(flow_config=o2c.config).update(
            next_attempt_at=timezone.now()
        )
        calls_before = len(books.calls)

        records = _run_batch(o2c)

        assert {r.status for r in records} == {RecordStatus.SUCCEEDED}, [
            r.error_message for r in records
        ]
        retry = Counter(method for method, _ in books.calls[calls_before:])
        assert retry["get_invoices"] == 1  # the three looked for together
        assert retry["save_invoices"] == 1  # only the one Xero did not have
        assert len(books.invoices) == 3
        assert [r.target_ids["invoice_number"] for r in records[:2]] == [
            "INV-0900", "INV-0910",
        ]  # fmt: skip
        for order in orders:
            assert len(o2c.sage_orders(order["id"])) == 1
