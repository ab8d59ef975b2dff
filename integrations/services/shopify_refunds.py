"""A Shopify refund (the ``refunds/create`` webhook's Refund resource) as the
neutral refund the Xero credit note is written from.

Shopify's Refund names its order (``order_id``), the order lines it gives
back (``refund_line_items``: ``line_item_id``, ``quantity``, ``subtotal``,
``total_tax``, the ``line_item`` itself), refunded shipping (an
``order_adjustments`` entry of kind ``shipping_refund``, or in newer API
versions ``refund_shipping_lines``), any difference between what Shopify
worked out and what the merchant refunded (kind ``refund_discrepancy``), and
the money movements (``transactions`` of kind ``refund``). Adjustment amounts
are negative when money goes back to the shopper, so the credit is their
negation. Bad input fails here, before any write, naming the field in
Shopify's terms (``refund_line_items[0].quantity``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from integrations.engine.errors import ValidationFailed
from integrations.services.shopify_orders import (
    ZERO,
    date_field,
    decimal_field,
    money_field,
)

SHIPPING_REFUND = "shipping_refund"


def ids(body: Any) -> tuple[str, str]:
    """(order id, refund id) as text: the record is keyed by both."""
    if not isinstance(body, dict):
        raise ValidationFailed("A Shopify refund must be a JSON object.", field="body")
    return _id(body.get("order_id"), "order_id"), _id(body.get("id"), "id")


def parse(body: dict) -> dict:
    """The neutral refund: JSON-safe, amounts as decimal strings, each credit
    positive (money back to the shopper)."""
    order_id, refund_id = ids(body)
    when = body.get("processed_at") or body.get("created_at")
    raw_lines = body.get("refund_line_items")
    if raw_lines is None:
        raw_lines = []
    if not isinstance(raw_lines, list):
        raise ValidationFailed(
            f"Refund {refund_id}: refund_line_items must be a list.",
            field="refund_line_items",
        )
    lines = [_line(refund_id, item, index) for index, item in enumerate(raw_lines)]
    shipping, adjustments = _adjustments(refund_id, body)
    transactions = body.get("transactions")
    refunded = None
    if isinstance(transactions, list):
        refunded = str(_money_back(transactions))
    return {
        "refund_id": refund_id,
        "order_id": order_id,
        "date": date_field(
            when, "processed_at" if body.get("processed_at") else "created_at"
        ),
        "note": str(body.get("note") or "")[:500],
        "lines": lines,
        "shipping": shipping,
        "adjustments": adjustments,
        # None: the payload carried no transactions, so Shopify's money movement
        # is unknown (taken to be what the lines credit).
        "refunded": refunded,
    }


# -- pieces ----------------------------------------------------------------------
def _id(value: Any, where: str) -> str:
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value):
        raise ValidationFailed(
            f"A Shopify refund needs a numeric {where}.", field=where
        )
    text = str(value).strip()
    if not text.isdigit():
        raise ValidationFailed(f"{value!r} is not a Shopify id.", field=where)
    return text


def _line(refund_id: str, item: Any, index: int) -> dict:
    where = f"refund_line_items[{index}]"
    if not isinstance(item, dict):
        raise ValidationFailed(f"{where} must be an object.", field=where)
    line_item = item.get("line_item") if isinstance(item.get("line_item"), dict) else {}
    sku = str(line_item.get("sku") or "").strip()
    label = sku or str(line_item.get("name") or line_item.get("title") or "")
    label = f" ({label})" if label else ""
    quantity = decimal_field(item.get("quantity"), f"{where}.quantity")
    if quantity <= 0 or quantity != quantity.to_integral_value():
        raise ValidationFailed(
            f"Refund {refund_id}, line {index + 1}{label}: the quantity is "
            f"{quantity}; a refunded line gives back a whole number of items, more "
            "than zero. Correct the payload and resubmit; nothing was written to "
            "Xero.",
            field=f"{where}.quantity",
        )
    line_item_id = item.get("line_item_id") or line_item.get("id")
    if isinstance(line_item_id, bool) or not str(line_item_id or "").strip().isdigit():
        raise ValidationFailed(
            f"Refund {refund_id}, line {index + 1}{label} does not say which order "
            "line it refunds.",
            field=f"{where}.line_item_id",
        )
    subtotal = _amount(item, "subtotal", where)
    tax = _amount(item, "total_tax", where, default="0")
    for name, value in (("subtotal", subtotal), ("total_tax", tax)):
        if value < 0:
            raise ValidationFailed(
                f"Refund {refund_id}, line {index + 1}{label}: {name} is {value}; "
                "a refunded amount cannot be negative.",
                field=f"{where}.{name}",
            )
    return {
        "index": index,
        "line_item_id": str(line_item_id).strip(),
        "sku": sku,
        "title": str(line_item.get("name") or line_item.get("title") or sku)[:4000],
        "quantity": str(quantity.to_integral_value()),
        "subtotal": str(subtotal),
        "tax": str(tax),
    }


def _amount(item: dict, name: str, where: str, default: str | None = None) -> Decimal:
    """``subtotal``, else the shop-currency amount of ``subtotal_set``."""
    value = item.get(name)
    if value in (None, ""):
        value = _shop_money(item.get(f"{name}_set"))
    if value in (None, ""):
        if default is None:
            raise ValidationFailed(
                f"{where}.{name} is missing: Shopify states each refunded line's "
                "amount.",
                field=f"{where}.{name}",
            )
        value = default
    return money_field(value, f"{where}.{name}")


def _shop_money(value: Any) -> Any:
    if isinstance(value, dict) and isinstance(value.get("shop_money"), dict):
        return value["shop_money"].get("amount")
    return None


def _adjustments(refund_id: str, body: dict) -> tuple[list[dict], list[dict]]:
    """Refunded shipping and other adjustments, each as a positive credit."""
    shipping, other = [], []
    for index, item in enumerate(body.get("order_adjustments") or []):
        where = f"order_adjustments[{index}]"
        if not isinstance(item, dict):
            raise ValidationFailed(f"{where} must be an object.", field=where)
        amount = -money_field(item.get("amount") or "0", f"{where}.amount")
        tax = -money_field(item.get("tax_amount") or "0", f"{where}.tax_amount")
        if not amount and not tax:
            continue
        entry = {
            "where": where,
            "amount": str(amount),
            "tax": str(tax),
            "reason": str(item.get("reason") or item.get("kind") or "Refund")[:200],
        }
        if item.get("kind") == SHIPPING_REFUND:
            if amount < 0:
                raise ValidationFailed(
                    f"Refund {refund_id}: {where} refunds {amount} of shipping; "
                    "refunded shipping cannot be negative.",
                    field=f"{where}.amount",
                )
            shipping.append(entry)
        else:
            other.append(entry)
    if not shipping:  # newer API versions: refund_shipping_lines
        for index, item in enumerate(body.get("refund_shipping_lines") or []):
            where = f"refund_shipping_lines[{index}]"
            if not isinstance(item, dict):
                raise ValidationFailed(f"{where} must be an object.", field=where)
            amount = money_field(
                _shop_money(item.get("subtotal_amount_set")) or "0",
                f"{where}.subtotal_amount_set",
            )
            if amount < 0:
                raise ValidationFailed(
                    f"Refund {refund_id}: {where} refunds {amount} of shipping; "
                    "refunded shipping cannot be negative.",
                    field=f"{where}.subtotal_amount_set",
                )
            tax = money_field(
                _shop_money(item.get("total_tax_amount_set")) or "0",
                f"{where}.total_tax_amount_set",
            )
            if amount or tax:
                shipping.append(
                    {"where": where, "amount": str(amount), "tax": str(tax),
                     "reason": "Shipping refund"}
                )  # fmt: skip
    return shipping, other


def _money_back(transactions: list) -> Decimal:
    """What Shopify paid back: its successful ``refund`` transactions."""
    total = ZERO
    for index, item in enumerate(transactions):
        if not isinstance(item, dict) or item.get("kind") != "refund":
            continue
        if item.get("status") not in (None, "", "success"):
            continue
        total += money_field(item.get("amount") or "0", f"transactions[{index}].amount")
    return total


def value(refund: dict, *, taxes_included: bool) -> Decimal:
    """What the refund gives back, as its credit note totals it: lines,
    shipping and adjustments, with their tax unless prices include it."""
    entries = [
        *((line["subtotal"], line["tax"]) for line in refund["lines"]),
        *((entry["amount"], entry["tax"]) for entry in refund["shipping"]),
        *((entry["amount"], entry["tax"]) for entry in refund["adjustments"]),
    ]
    total = ZERO
    for amount, tax in entries:
        total += Decimal(amount) + (ZERO if taxes_included else Decimal(tax))
    return total
