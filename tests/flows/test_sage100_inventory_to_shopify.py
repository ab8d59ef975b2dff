"""Sage 100 stock changes set the shop's available quantities, over the real
Sage 100 simulator (ODBC) and the simulated Shopify Admin API (HTTPS)."""

from __future__ import annotations

import json
import sqlite3
from decimal import Decimal

import pytest

from integrations.engine import runner
from integrations.models import (
    AttemptOutcome,
    CrossReference,
    RecordStatus,
    SyncRecord,
    System,
)
from integrations.sandbox.shopify.admin_api import LeakyBucket
from integrations.services import flow_designer, inbox
from tests.factories import ConnectionFactory, FlowConfigFactory
from tests.support.sage100 import running_sage100
from tests.support.shopify import running_shopify

pytestmark = pytest.mark.django_db

FLOW = "sage100_inventory_to_shopify"


@pytest.fixture
def company(tmp_path):
    with running_sage100(tmp_path / "sage100") as company:
        yield company


@pytest.fixture
def shopify(tmp_path):
    with running_shopify(tmp_path / "shopify", webhook_url=None, secret="s") as shop:
        yield shop


@pytest.fixture
def connections(company, shopify):
    settings, credentials = shopify.connection()
    sage = ConnectionFactory(
        system=System.SAGE100,
        settings=company.connection_settings(),
        credentials=company.credentials,
    )
    shop = ConnectionFactory(
        system=System.SHOPIFY, settings=settings, credentials=credentials
    )
    return sage, shop


def _config(connections, **options):
    sage, shop = connections
    return FlowConfigFactory(
        flow=FLOW, source_connection=sage, target_connection=shop, options=options
    )


def _stock(company) -> dict[tuple[str, str], tuple]:
    """(item, warehouse) → (on hand, on sales order, on back order)."""
    with sqlite3.connect(company.db.path) as db:
        rows = db.execute(
            "SELECT ItemCode, WarehouseCode, QuantityOnHand, QuantityOnSalesOrder, "
            "QuantityOnBackOrder FROM IM_ItemWarehouse ORDER BY ItemCode, WarehouseCode"
        ).fetchall()
    return {(r[0], r[1]): tuple(Decimal(str(v or 0)) for v in r[2:]) for r in rows}


def _set_stock(company, item, warehouse, on_hand, on_order=0, back_order=0) -> None:
    with sqlite3.connect(company.db.path) as db:
        db.execute(
            "UPDATE IM_ItemWarehouse SET QuantityOnHand = ?, QuantityOnSalesOrder = ?, "
            "QuantityOnBackOrder = ? WHERE ItemCode = ? AND WarehouseCode = ?",
            (on_hand, on_order, back_order, item, warehouse),
        )


def _items_in_both_warehouses(company) -> list[str]:
    stock = _stock(company)
    return sorted(
        item
        for item, warehouse in stock
        if warehouse == "000" and (item, "001") in stock
    )


def _change(item: str, warehouse: str = "000", on_hand: int = 1) -> dict:
    return {
        "table": "IM_ItemWarehouse",
        "topic": "sage100.inventory",
        "key": {"ItemCode": item, "WarehouseCode": warehouse},
        "change": "changed",
        "row": {
            "ItemCode": item,
            "WarehouseCode": warehouse,
            "QuantityOnHand": on_hand,
        },
    }


def _publish(sage, body: dict, event_id: str) -> list[SyncRecord]:
    return inbox.accept(
        sage,
        body=json.dumps(body).encode(),
        headers={},
        provider_event_id=event_id,
        topic="sage100.inventory",
        signature_verified=True,
    ).records


def _run(records) -> list[SyncRecord]:
    for record in records:
        runner.run_record(record.pk)
    for record in records:
        record.refresh_from_db()
    return records


def _level(shopify, sku: str, location_id: int | None = None) -> int | None:
    variant = shopify.shop.variants[sku]
    where = location_id or shopify.shop.location_id
    return shopify.shop.inventory.get((variant.inventory_item_id, where))


def _calls(shopify, method: str, part: str) -> int:
    return sum(
        1
        for verb, path, _ in shopify.server.api.calls
        if verb == method and part in path
    )


def _sell(shopify, sku: str, available: int = 0):
    return shopify.shop.add_variant(
        sku, f"Product {sku}", "Default Title", Decimal("10"), available=available
    )


def test_a_stock_change_sets_the_variants_available_quantity(
    connections, company, shopify, redis_conn
):
    sage, _ = connections
    _config(connections)
    item = _items_in_both_warehouses(company)[0]
    _set_stock(company, item, "000", on_hand=120, on_order=15, back_order=5)
    _set_stock(company, item, "001", on_hand=999)  # not counted by default
    _sell(shopify, item, available=3)

    (record,) = _run(_publish(sage, _change(item, on_hand=1), "e1"))

    assert record.status == RecordStatus.SUCCEEDED, record.error_message
    # on hand - on sales order - on back order, of warehouse 000 only; Sage's
    # quantity now, not the event's copy.
    assert _level(shopify, item) == 100
    assert record.target_ids["available"] == 100
    assert record.target_ids["sku"] == item
    assert "set on 1 of 1 variant" in record.target_ids["written"]


def test_the_flows_own_formula_and_counted_warehouses_are_used(
    connections, company, shopify, redis_conn
):
    sage, _ = connections
    _config(
        connections,
        warehouses=["000", "001"],
        available_formula="on_hand - on_sales_order",
    )
    item = _items_in_both_warehouses(company)[0]
    _set_stock(company, item, "000", on_hand=10, on_order=4, back_order=3)
    _set_stock(company, item, "001", on_hand=7, on_order=0, back_order=2)
    _sell(shopify, item)

    (record,) = _run(_publish(sage, _change(item, "001"), "e1"))

    assert record.status == RecordStatus.SUCCEEDED, record.error_message
    assert _level(shopify, item) == (10 - 4) + 7


def test_a_change_in_a_warehouse_the_flow_does_not_count_is_skipped_without_calls(
    connections, company, shopify, redis_conn
):
    sage, _ = connections
    _config(connections)
    item = _items_in_both_warehouses(company)[0]
    _sell(shopify, item, available=5)

    (record,) = _run(_publish(sage, _change(item, "001"), "e1"))

    assert record.status == RecordStatus.SUCCEEDED
    assert record.attempt_set.get().outcome == AttemptOutcome.SKIPPED
    assert shopify.server.api.calls == []
    assert _level(shopify, item) == 5


def test_an_item_the_shop_does_not_sell_is_skipped_in_plain_words(
    connections, company, shopify, redis_conn
):
    sage, _ = connections
    _config(connections)
    item = _items_in_both_warehouses(company)[0]

    (record,) = _run(_publish(sage, _change(item), "e1"))

    assert record.status == RecordStatus.SUCCEEDED, record.error_message
    assert record.error_message == ""
    assert (
        f"No Shopify variant has a SKU for Sage item {item}"
        in (record.target_ids["skipped"])
    )
    assert _calls(shopify, "POST", "inventory_levels/set") == 0


def test_the_order_to_cash_item_cross_reference_is_read_backwards(
    connections, company, shopify, redis_conn
):
    sage, shop = connections
    _config(connections)
    item = _items_in_both_warehouses(company)[0]
    _set_stock(company, item, "000", on_hand=42)
    # What order-to-cash reads: Shopify SKU → Sage ItemCode.
    CrossReference.objects.create(
        kind="item",
        source_connection=shop,
        target_connection=sage,
        source_value="TRAIL-TENT-2P",
        target_value=item,
    )

    (record,) = _run(_publish(sage, _change(item), "e1"))

    assert record.status == RecordStatus.SUCCEEDED, record.error_message
    assert _level(shopify, "TRAIL-TENT-2P") == 42
    assert "order-to-cash item cross-reference" in record.target_ids["written"]


def test_a_cross_reference_entered_on_this_flow_wins_over_a_matching_sku(
    connections, company, shopify, redis_conn
):
    sage, shop = connections
    _config(connections)
    item = _items_in_both_warehouses(company)[0]
    _set_stock(company, item, "000", on_hand=8)
    _sell(shopify, item, available=1)
    CrossReference.objects.create(
        kind="item",
        source_connection=sage,
        target_connection=shop,
        source_value=item,
        target_value="STOVE-MINI",
    )

    (record,) = _run(_publish(sage, _change(item), "e1"))

    assert record.status == RecordStatus.SUCCEEDED, record.error_message
    assert _level(shopify, "STOVE-MINI") == 8
    assert _level(shopify, item) == 1


def test_skus_match_item_codes_by_the_item_code_rules(
    connections, company, shopify, redis_conn
):
    sage, _ = connections
    _config(connections, item_codes={"remove_prefixes": ["WEB-"]})
    item = _items_in_both_warehouses(company)[0]
    _set_stock(company, item, "000", on_hand=6)
    sku = f"web-{item.lower()}"
    _sell(shopify, sku)

    (record,) = _run(_publish(sage, _change(item), "e1"))

    assert record.status == RecordStatus.SUCCEEDED, record.error_message
    assert _level(shopify, sku) == 6


def test_negative_and_fractional_availability_becomes_whole_units_from_zero(
    connections, company, shopify, redis_conn
):
    sage, _ = connections
    _config(connections)
    short, partial = _items_in_both_warehouses(company)[:2]
    _set_stock(company, short, "000", on_hand=2, on_order=5)
    _set_stock(company, partial, "000", on_hand="7.75")
    _sell(shopify, short, available=9)
    _sell(shopify, partial)

    _run(_publish(sage, _change(short), "e1") + _publish(sage, _change(partial), "e2"))

    assert _level(shopify, short) == 0
    assert _level(shopify, partial) == 7


def test_an_unknown_location_needs_attention_naming_the_option(
    connections, company, shopify, redis_conn
):
    sage, _ = connections
    _config(connections, location="Nowhere")
    item = _items_in_both_warehouses(company)[0]
    _sell(shopify, item, available=4)

    (record,) = _run(_publish(sage, _change(item), "e1"))

    assert record.status == RecordStatus.NEEDS_ATTENTION
    assert record.error_field == "options.location"
    assert "'Nowhere'" in record.error_message
    assert "Main Warehouse" in record.error_message
    assert _level(shopify, item) == 4


def test_a_shop_with_several_locations_needs_the_option(
    connections, company, shopify, redis_conn
):
    sage, _ = connections
    shopify.shop.add_location("Outlet")
    _config(connections)
    item = _items_in_both_warehouses(company)[0]
    _sell(shopify, item)

    (record,) = _run(_publish(sage, _change(item), "e1"))

    assert record.status == RecordStatus.NEEDS_ATTENTION
    assert record.error_field == "options.location"
    assert "Outlet" in record.error_message


def test_the_location_can_be_named_and_is_stocked_there(
    connections, company, shopify, redis_conn
):
    sage, _ = connections
    outlet = shopify.shop.add_location("Outlet")
    _config(connections, location="outlet")
    item = _items_in_both_warehouses(company)[0]
    _set_stock(company, item, "000", on_hand=11)
    _sell(shopify, item, available=2)

    (record,) = _run(_publish(sage, _change(item), "e1"))

    assert record.status == RecordStatus.SUCCEEDED, record.error_message
    assert _level(shopify, item, outlet["id"]) == 11
    assert _level(shopify, item) == 2  # the main location is left alone
    assert record.target_ids["location_id"] == str(outlet["id"])


def test_a_batch_reads_once_and_writes_each_changed_item_once(
    connections, company, shopify, redis_conn
):
    sage, _ = connections
    _config(connections)
    items = _items_in_both_warehouses(company)[:10]
    stock = _stock(company)
    for item in items:
        _sell(shopify, item)
    # One item already shows Sage's quantity: no write for it.
    on_hand, on_order, back_order = stock[(items[0], "000")]
    already = max(0, int(on_hand - on_order - back_order))
    _sell(shopify, items[0], available=already)
    made = []
    for n in range(30):  # every item changes three times
        made += _publish(sage, _change(items[n % 10], on_hand=n), f"e{n}")

    _run(made)

    assert {r.status for r in made} == {RecordStatus.SUCCEEDED}
    assert _calls(shopify, "GET", "products.json") == 1
    assert _calls(shopify, "GET", "locations.json") == 1
    assert _calls(shopify, "GET", "inventory_levels.json") == 1
    assert _calls(shopify, "POST", "inventory_levels/set") == 9
    for item in items:
        on_hand, on_order, back_order = stock[(item, "000")]
        assert _level(shopify, item) == max(0, int(on_hand - on_order - back_order))


def test_the_catalogue_is_cached_between_batches(
    connections, company, shopify, redis_conn
):
    sage, _ = connections
    _config(connections)
    first, second = _items_in_both_warehouses(company)[:2]
    _sell(shopify, first)
    _sell(shopify, second)

    _run(_publish(sage, _change(first), "e1"))
    _run(_publish(sage, _change(second), "e2"))

    assert _calls(shopify, "GET", "products.json") == 1
    assert _calls(shopify, "GET", "locations.json") == 1


def test_a_full_bucket_leaves_the_rest_of_the_batch_to_retry(
    connections, company, shopify, redis_conn
):
    sage, shop = connections
    shop.settings = {**shop.settings, "rate_limit_wait": 0}
    shop.save()
    _config(connections)
    items = _items_in_both_warehouses(company)[:4]
    for item in items:
        _set_stock(company, item, "000", on_hand=50)
        _sell(shopify, item)
    # A bucket that never leaks: room for the three reads and two writes.
    shopify.server.api.bucket = LeakyBucket(size=5, clock=lambda: 0.0)
    made = []
    for n, item in enumerate(items):
        made += _publish(sage, _change(item), f"e{n}")

    _run(made)

    statuses = [record.status for record in made]
    assert statuses.count(RecordStatus.SUCCEEDED) == 2
    assert statuses.count(RecordStatus.RETRY_SCHEDULED) == 2
    waiting = [r for r in made if r.status == RecordStatus.RETRY_SCHEDULED]
    assert all(r.error_category == "rate_limited" for r in waiting)
    assert sorted(_level(shopify, item) for item in items) == [0, 0, 50, 50]


def test_the_flow_designer_lists_its_topic_and_the_item_cross_reference(
    connections, redis_conn
):
    config = _config(connections)

    steps = {step.key: step for step in flow_designer.steps(config)}

    assert "Listens to: sage100.inventory." in steps["trigger"].details
    assert "batches of up to 40" in steps["load"].summary
    assert [k["kind"] for k in flow_designer.xref_kinds(config)] == ["item"]


def test_a_variant_added_after_the_cached_read_is_found_once_the_copy_is_a_minute_old(
    connections, company, shopify, redis_conn
):
    sage, shop = connections
    _config(connections)
    first, later = _items_in_both_warehouses(company)[:2]
    _set_stock(company, later, "000", on_hand=13)
    _sell(shopify, first)
    _run(_publish(sage, _change(first), "e1"))
    _sell(shopify, later)

    (young,) = _run(_publish(sage, _change(later), "e2"))
    (key,) = redis_conn.keys(f"ledgerbridge:shopify-inventory:{shop.pk}:*:catalogue")
    cached = json.loads(redis_conn.get(key))
    redis_conn.set(key, json.dumps({**cached, "read_at": cached["read_at"] - 61}))
    (old,) = _run(_publish(sage, _change(later), "e3"))

    # A young copy is trusted (an item the shop does not sell costs no reads).
    assert "skipped" in young.target_ids
    assert old.status == RecordStatus.SUCCEEDED, old.error_message
    assert _level(shopify, later) == 13
    assert _calls(shopify, "GET", "products.json") == 2


def test_a_variant_removed_since_the_cached_read_is_skipped_not_failed(
    connections, company, shopify, redis_conn
):
    sage, _ = connections
    _config(connections)
    item = _items_in_both_warehouses(company)[0]
    _set_stock(company, item, "000", on_hand=30)
    _sell(shopify, item)
    _run(_publish(sage, _change(item), "e1"))
    shopify.shop.remove_variant(item)
    _set_stock(company, item, "000", on_hand=31)

    (record,) = _run(_publish(sage, _change(item), "e2"))

    assert record.status == RecordStatus.SUCCEEDED, record.error_message
    assert "was removed from Shopify" in record.target_ids["skipped"]
    assert _calls(shopify, "GET", "products.json") == 2


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"warehouses": "   "}, "options.warehouses"),
        ({"warehouses": [0]}, "options.warehouses"),
        ({"available_formula": "on_hand * 2"}, "options.available_formula"),
    ],
)
def test_a_bad_option_needs_attention_naming_it(
    connections, company, shopify, redis_conn, options, field
):
    sage, _ = connections
    _config(connections, **options)
    item = _items_in_both_warehouses(company)[0]
    _sell(shopify, item, available=4)

    (record,) = _run(_publish(sage, _change(item), "e1"))

    assert record.status == RecordStatus.NEEDS_ATTENTION
    assert record.error_field == field
    assert _level(shopify, item) == 4
