"""The simulated shop's webhook bodies have the shape of Shopify's fixtures."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from integrations.sandbox.contracts import contract
from integrations.sandbox.shopify.shop import Shop

# Keys newer API versions add to the 2014-era fixture (API-FACTS §3).
NEWER_ORDER_KEYS = {"tags", "admin_graphql_api_id", "processed_at"}


def fixture(name: str) -> dict:
    path = contract(f"shopify/shopify_python_api-fixtures/{name}")
    return json.loads(path.read_text())


def shape_problems(ours, theirs, where="order", extra=frozenset()) -> list[str]:
    """Differences in keys and types; a null in the fixture means "nullable"."""
    if theirs is None:
        return []
    if isinstance(theirs, dict):
        if not isinstance(ours, dict):
            return [f"{where} is {type(ours).__name__}, not an object"]
        problems = [f"{where}.{k} is missing" for k in theirs.keys() - ours.keys()]
        problems += [
            f"{where}.{k} is not in the fixture"
            for k in ours.keys() - theirs.keys() - extra
        ]
        for key in theirs.keys() & ours.keys():
            problems += shape_problems(ours[key], theirs[key], f"{where}.{key}")
        return problems
    if isinstance(theirs, list):
        if not isinstance(ours, list):
            return [f"{where} is not a list"]
        if not theirs:
            return []
        return [p for item in ours for p in shape_problems(item, theirs[0], where)]
    if type(ours) is not type(theirs):
        return [f"{where} is {type(ours).__name__}, not {type(theirs).__name__}"]
    return []


@pytest.fixture
def shop():
    return Shop()


@pytest.fixture
def published(shop):
    events = []
    shop.on_event(events.append)
    return events


def test_orders_create_body_has_the_fixture_shape(shop, published):
    shop.create_order(
        [("TRAIL-TENT-2P", 1), ("HEADLAMP-300", 2)], discount=("TENOFF", Decimal(10))
    )

    (event,) = published
    assert event.topic == "orders/create"
    theirs = fixture("order.json")["order"]
    assert shape_problems(event.body, theirs, extra=NEWER_ORDER_KEYS) == []


def test_order_values_are_realistic_and_add_up(shop, published):
    order = shop.create_order([("TRAIL-TENT-2P", 1), ("HEADLAMP-300", 2)])

    assert order["name"] == "#1001" and order["order_number"] == 1001
    assert order["total_line_items_price"] == "318.90"
    assert order["total_tax"] == "19.13"  # 6% of 318.90, rounded half up
    assert order["total_price"] == "338.03"
    assert order["created_at"][-6:] == "-05:00"
    assert [(i["sku"], i["quantity"], i["price"]) for i in order["line_items"]] == [
        ("TRAIL-TENT-2P", 1, "249.00"),
        ("HEADLAMP-300", 2, "34.95"),
    ]
    assert shop.create_order([("STOVE-MINI", 1)])["name"] == "#1002"


def test_paid_and_cancelled_bodies_keep_the_order_shape(shop, published):
    theirs = fixture("order.json")["order"]
    paid = shop.create_order([("STOVE-MINI", 1)])
    other = shop.create_order([("STOVE-MINI", 1)])

    shop.mark_paid(paid["id"])
    shop.cancel(other["id"], reason="inventory")

    topics = [event.topic for event in published]
    assert topics == [
        "orders/create",
        "orders/create",
        "orders/paid",
        "orders/cancelled",
    ]
    assert published[2].body["financial_status"] == "paid"
    assert published[3].body["cancel_reason"] == "inventory"
    for event in published[2:]:
        assert shape_problems(event.body, theirs, extra=NEWER_ORDER_KEYS) == []


def test_customer_matches_the_customer_fixture(shop, published):
    shop.create_order([("STOVE-MINI", 1)])

    customer = published[0].body["customer"]
    theirs = fixture("customer.json")["customer"]
    common = {k: theirs[k] for k in theirs.keys() & customer.keys()}
    assert shape_problems(customer, common, "customer", extra=customer.keys()) == []
    assert customer["email"] == "bob.norman@mail.example.com"


def test_refund_body_names_its_order_and_lines(shop, published):
    order = shop.create_order([("TRAIL-TENT-2P", 2)])
    shop.mark_paid(order["id"])

    refund = shop.refund(order["id"], [("TRAIL-TENT-2P", 1)])

    assert published[-1].topic == "refunds/create"
    assert refund["order_id"] == order["id"]
    (line,) = refund["refund_line_items"]
    assert line["line_item_id"] == order["line_items"][0]["id"]
    assert (line["subtotal"], line["total_tax"]) == ("249.00", "14.94")
    assert refund["transactions"][0]["amount"] == "263.94"


def test_every_event_has_its_own_id(shop, published):
    order = shop.create_order([("STOVE-MINI", 1)])
    shop.mark_paid(order["id"])

    assert published[0].event_id != published[1].event_id
