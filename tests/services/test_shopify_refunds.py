"""Shopify's Refund resource read as the neutral refund: credits positive,
shipping from either payload shape, bad fields named."""

from __future__ import annotations

from decimal import Decimal

import pytest

from integrations.engine.errors import ValidationFailed
from integrations.services import shopify_refunds


def refund(**changes) -> dict:
    body = {
        "id": 929361465,
        "order_id": 450789469,
        "created_at": "2026-12-02T10:00:00-05:00",
        "processed_at": "2026-12-03T09:00:00-05:00",
        "refund_line_items": [
            {
                "id": 1,
                "quantity": 1,
                "line_item_id": 466157049,
                "subtotal": "199.00",
                "total_tax": "11.94",
                "line_item": {"id": 466157049, "sku": "TRAIL-TENT-2P"},
            }
        ],
        "order_adjustments": [
            {"amount": "-5.00", "tax_amount": "-0.30", "kind": "shipping_refund",
             "reason": "Shipping refund"},
            {"amount": "1.00", "tax_amount": "0.00", "kind": "refund_discrepancy",
             "reason": "Refund discrepancy"},
        ],
        "transactions": [
            {"kind": "refund", "status": "success", "amount": "215.24"},
            {"kind": "refund", "status": "failure", "amount": "215.24"},
        ],
    }  # fmt: skip
    body.update(changes)
    return body


def test_a_refund_reads_as_positive_credits_of_its_lines_and_shipping():
    parsed = shopify_refunds.parse(refund())

    assert (parsed["order_id"], parsed["refund_id"]) == ("450789469", "929361465")
    assert parsed["date"] == "2026-12-03"
    (line,) = parsed["lines"]
    assert (line["quantity"], line["subtotal"], line["tax"]) == ("1", "199.00", "11.94")
    (shipping,) = parsed["shipping"]
    assert (shipping["amount"], shipping["tax"]) == ("5.00", "0.30")
    (other,) = parsed["adjustments"]
    assert other["amount"] == "-1.00"  # refunded a dollar less than worked out
    assert parsed["refunded"] == "215.24"  # the failed transaction paid nothing
    assert shopify_refunds.value(parsed, taxes_included=False) == Decimal("215.24")
    assert shopify_refunds.value(parsed, taxes_included=True) == Decimal("203.00")


def test_newer_payloads_give_amounts_as_money_sets_and_shipping_lines():
    body = refund(order_adjustments=[], transactions=None)
    line = body["refund_line_items"][0]
    del line["subtotal"], line["total_tax"]
    line["subtotal_set"] = {"shop_money": {"amount": "199.00", "currency_code": "USD"}}
    line["total_tax_set"] = {"shop_money": {"amount": "11.94", "currency_code": "USD"}}
    body["refund_shipping_lines"] = [
        {"id": 7, "subtotal_amount_set": {"shop_money": {"amount": "7.50"}}}
    ]

    parsed = shopify_refunds.parse(body)

    assert parsed["lines"][0]["subtotal"] == "199.00"
    assert [s["amount"] for s in parsed["shipping"]] == ["7.50"]
    assert parsed["refunded"] is None  # no transactions: unknown, not zero


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"quantity": -1}, "refund_line_items[0].quantity"),
        ({"quantity": 1.5}, "refund_line_items[0].quantity"),
        ({"subtotal": None}, "refund_line_items[0].subtotal"),
        ({"subtotal": "abc"}, "refund_line_items[0].subtotal"),
        ({"total_tax": "-0.01"}, "refund_line_items[0].total_tax"),
        ({"line_item_id": None, "line_item": {}}, "refund_line_items[0].line_item_id"),
    ],
)
def test_a_bad_refund_line_names_its_field(change, field):
    body = refund()
    body["refund_line_items"][0].update(change)

    with pytest.raises(ValidationFailed) as refused:
        shopify_refunds.parse(body)

    assert refused.value.field == field


def test_a_refund_without_its_order_id_names_it():
    with pytest.raises(ValidationFailed) as refused:
        shopify_refunds.ids(refund(order_id=None))

    assert refused.value.field == "order_id"
