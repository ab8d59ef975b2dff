"""A Shopify order as the neutral order, and the tax split the invoice uses."""

import copy
import json
from decimal import Decimal

import pytest

from integrations.engine.errors import ValidationFailed
from integrations.sandbox.contracts import contract
from integrations.services import shopify_orders, xero_documents


@pytest.fixture
def fixture_order() -> dict:
    """Shopify's own sample order (contracts/shopify, the orders/create body)."""
    path = contract("shopify/shopify_python_api-fixtures/order.json")
    return json.loads(path.read_text())["order"]


def test_fixture_order_becomes_the_neutral_order(fixture_order):
    order = shopify_orders.parse(fixture_order)

    assert order["order_id"] == str(fixture_order["id"])
    assert order["name"] == fixture_order["name"]
    assert order["currency"] == "USD"
    assert order["totals"] == {"total": "409.94", "tax": "11.94"}
    assert [line["sku"] for line in order["lines"]] == [
        item["sku"] for item in fixture_order["line_items"]
    ]
    assert order["lines"][0]["quantity"] == str(
        fixture_order["line_items"][0]["quantity"]
    )
    assert order["customer"]["email"] == "bob.norman@hostmail.com"
    assert order["bill_to"]["state"] == "KY"


def test_negative_quantity_is_refused_naming_the_line(fixture_order):
    body = copy.deepcopy(fixture_order)
    body["line_items"][0]["quantity"] = -2

    with pytest.raises(ValidationFailed) as caught:
        shopify_orders.parse(body)

    assert caught.value.field == "line_items[0].quantity"
    assert "-2" in caught.value.message


def test_zero_quantity_is_refused_too(fixture_order):
    body = copy.deepcopy(fixture_order)
    body["line_items"][0]["quantity"] = 0

    with pytest.raises(ValidationFailed, match="more than zero"):
        shopify_orders.parse(body)


def test_a_line_without_sku_is_refused(fixture_order):
    body = copy.deepcopy(fixture_order)
    body["line_items"][0]["sku"] = None

    with pytest.raises(ValidationFailed) as caught:
        shopify_orders.parse(body)

    assert caught.value.field == "line_items[0].sku"


def test_an_order_without_id_is_refused(fixture_order):
    body = copy.deepcopy(fixture_order)
    del body["id"]

    with pytest.raises(ValidationFailed) as caught:
        shopify_orders.parse(body)

    assert caught.value.field == "id"


def test_allocation_adds_up_to_the_cent():
    shares = shopify_orders.allocate(
        [Decimal("10.00"), Decimal("10.00"), Decimal("10.00")], Decimal("1.00")
    )

    assert sum(shares) == Decimal("1.00")
    assert sorted(shares) == [Decimal("0.33"), Decimal("0.33"), Decimal("0.34")]


def _order(**changes) -> dict:
    order = {
        "lines": [
            {"unit_price": "249.00", "quantity": "2", "taxable": True, "tax_lines": []},
            {"unit_price": "34.95", "quantity": "1", "taxable": True, "tax_lines": []},
        ],
        "discount": {"amount": "10.00", "codes": "SAVE10"},
        "shipping": [{"title": "Standard", "price": "7.50", "tax_lines": []}],
        "totals": {"tax": "31.50", "total": "561.95"},
    }
    order.update(changes)
    return order


def test_order_tax_is_spread_over_taxed_lines_and_the_discount():
    order = _order()
    lines = xero_documents.money_lines(order)

    taxes = xero_documents.split_tax(order, lines)

    assert [line["kind"] for line in lines] == ["line", "line", "discount", "shipping"]
    assert sum(taxes) == Decimal("31.50")
    assert taxes[2] < 0  # the discount takes its share of tax away
    assert taxes[3] == 0  # Shopify did not tax the shipping
    net = sum(line["amount"] for line in lines)
    assert net + sum(taxes) == Decimal("561.95")


def test_tax_stated_per_line_is_kept_as_stated():
    order = _order(discount={"amount": "0", "codes": ""}, shipping=[])
    order["lines"][0]["tax_lines"] = [
        {"title": "State", "rate": "0.06", "price": "29.88"}
    ]
    order["lines"][1]["tax_lines"] = [
        {"title": "State", "rate": "0.06", "price": "2.10"}
    ]
    order["totals"]["tax"] = "31.98"

    taxes = xero_documents.split_tax(order, xero_documents.money_lines(order))

    assert taxes == [Decimal("29.88"), Decimal("2.10")]


def test_idempotency_keys_are_short_stable_and_per_step():
    first = xero_documents.key("shopify_order:7:order:450789470:create", "invoice")

    assert first == xero_documents.key(
        "shopify_order:7:order:450789470:create", "invoice"
    )
    assert first != xero_documents.key(
        "shopify_order:7:order:450789470:create", "payment"
    )
    assert len(first) <= 100


def test_xero_dates_are_read_in_both_spellings():
    assert str(xero_documents.parse_date("/Date(1764633600000+0000)/")) == (
        "2025-12-02"
    )
    assert str(xero_documents.parse_date("2026-12-02T00:00:00")) == "2026-12-02"
