"""A Shopify order (the webhook's Order resource) as the neutral order both
Xero and Sage 100 are written from.

Everything the two documents must agree on is decided here once: the
customer's facts, standardised addresses, each line's quantity and price, the
order-level discount, shipping, and how Shopify's tax is split over the lines
(``allocate``), so the Xero invoice and the Sage order add up to the total the
shopper paid. Bad input fails here, before any write, naming the field in
Shopify's own terms (``line_items[1].quantity``).
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from integrations.engine.errors import ValidationFailed
from integrations.services import addresses

CENT = Decimal("0.01")
ZERO = Decimal(0)


def order_id(body: Any) -> str:
    """The order's id as text (Shopify's 64-bit integer)."""
    if not isinstance(body, dict):
        raise ValidationFailed("A Shopify order must be a JSON object.", field="body")
    value = body.get("id")
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value):
        raise ValidationFailed("A Shopify order needs a numeric id.", field="id")
    text = str(value).strip()
    if not text.isdigit():
        raise ValidationFailed(f"{value!r} is not a Shopify order id.", field="id")
    return text


def parse(body: dict) -> dict:
    """The neutral order: JSON-safe (amounts as decimal strings)."""
    identifier = order_id(body)
    name = str(body.get("name") or f"#{body.get('order_number') or identifier}")
    currency = str(body.get("currency") or "").strip().upper()
    if len(currency) != 3 or not currency.isalpha():
        raise ValidationFailed(
            f"Order {name} has no three-letter currency ({body.get('currency')!r}).",
            field="currency",
        )
    raw_lines = body.get("line_items")
    if not isinstance(raw_lines, list) or not raw_lines:
        raise ValidationFailed(f"Order {name} has no line items.", field="line_items")
    lines = [_line(name, item, index) for index, item in enumerate(raw_lines)]
    tax_lines = _tax_lines(body.get("tax_lines"), "tax_lines")
    customer = _customer(body)
    bill = _address(body.get("billing_address"))
    ship = (
        _address(body.get("shipping_address")) if body.get("shipping_address") else bill
    )
    discount = money_field(body.get("total_discounts") or "0", "total_discounts")
    shipping = [
        _shipping(item, index)
        for index, item in enumerate(body.get("shipping_lines") or [])
    ]
    total = money_field(body.get("total_price"), "total_price")
    total_tax = money_field(body.get("total_tax") or "0", "total_tax")
    return {
        "order_id": identifier,
        "name": name,
        "order_number": body.get("order_number"),
        "currency": currency,
        "order_date": date_field(body.get("created_at"), "created_at"),
        "processed_at": str(body.get("processed_at") or "")[:10],
        "financial_status": str(body.get("financial_status") or ""),
        "cancelled": bool(body.get("cancelled_at")),
        "taxes_included": bool(body.get("taxes_included")),
        "customer": customer,
        "bill_to": _as_dict(bill),
        "ship_to": _as_dict(ship),
        "address_flags": [
            *(f"Billing address: {flag}" for flag in bill.flags),
            *(f"Shipping address: {flag}" for flag in ship.flags),
        ],
        "lines": lines,
        "discount": {
            "amount": str(discount),
            "codes": ", ".join(
                str(code.get("code") or "")
                for code in body.get("discount_codes") or []
                if isinstance(code, dict)
            ),
        },
        "shipping": shipping,
        "tax_lines": tax_lines,
        "totals": {"total": str(total), "tax": str(total_tax)},
    }


def allocate(amounts: list[Decimal], total: Decimal) -> list[Decimal]:
    """``total`` split over ``amounts`` in proportion, to the cent, adding up
    exactly (the rounding remainder goes to the largest amount)."""
    base = sum(amounts, ZERO)
    if not amounts:
        return []
    if base == 0:
        shares = [ZERO] * len(amounts)
        shares[0] = total
        return shares
    shares = [(total * a / base).quantize(CENT, ROUND_HALF_UP) for a in amounts]
    largest = max(range(len(amounts)), key=lambda i: abs(amounts[i]))
    shares[largest] += total - sum(shares, ZERO)
    return shares


def amount(value: str | Decimal) -> Decimal:
    return Decimal(str(value))


# -- pieces ----------------------------------------------------------------------
def _line(order_name: str, item: Any, index: int) -> dict:
    where = f"line_items[{index}]"
    if not isinstance(item, dict):
        raise ValidationFailed(f"{where} must be an object.", field=where)
    sku = str(item.get("sku") or "").strip()
    label = sku or str(item.get("title") or item.get("name") or f"line {index + 1}")
    quantity = decimal_field(item.get("quantity"), f"{where}.quantity")
    if quantity <= 0:
        raise ValidationFailed(
            f"Order {order_name}, line {index + 1} ({label}): the quantity is "
            f"{quantity}, and an order line needs more than zero. Correct the "
            "payload (or the order in Shopify) and resubmit; nothing was written "
            "to Xero or Sage 100.",
            field=f"{where}.quantity",
        )
    if quantity != quantity.to_integral_value():
        raise ValidationFailed(
            f"Order {order_name}, line {index + 1} ({label}): Shopify quantities "
            f"are whole numbers, not {quantity}.",
            field=f"{where}.quantity",
        )
    if not sku:
        raise ValidationFailed(
            f"Order {order_name}, line {index + 1} ({label}) has no SKU: Xero and "
            "Sage 100 need an item code for every line. Give the variant a SKU "
            "in Shopify, or correct the payload, and resubmit.",
            field=f"{where}.sku",
        )
    price = money_field(item.get("price"), f"{where}.price")
    if price < 0:
        raise ValidationFailed(
            f"Order {order_name}, line {index + 1} ({sku}): the price {price} is "
            "negative.",
            field=f"{where}.price",
        )
    line_discount = sum(
        (
            money_field(allocation.get("amount"), f"{where}.discount_allocations")
            for allocation in item.get("discount_allocations") or []
            if isinstance(allocation, dict)
        ),
        ZERO,
    )
    return {
        "index": index,
        "id": str(item.get("id") or ""),
        "sku": sku,
        "title": str(item.get("name") or item.get("title") or sku)[:4000],
        "quantity": str(quantity.to_integral_value()),
        "unit_price": str(price),
        "discount": str(line_discount),
        "taxable": bool(item.get("taxable", True)),
        "tax_lines": _tax_lines(item.get("tax_lines"), f"{where}.tax_lines"),
    }


def _shipping(item: Any, index: int) -> dict:
    where = f"shipping_lines[{index}]"
    if not isinstance(item, dict):
        raise ValidationFailed(f"{where} must be an object.", field=where)
    return {
        "title": str(item.get("title") or item.get("code") or "Shipping"),
        "price": str(money_field(item.get("price") or "0", f"{where}.price")),
        "tax_lines": _tax_lines(item.get("tax_lines"), f"{where}.tax_lines"),
    }


def _tax_lines(value: Any, where: str) -> list[dict]:
    found = []
    for index, line in enumerate(value or []):
        if not isinstance(line, dict):
            raise ValidationFailed(f"{where}[{index}] must be an object.", field=where)
        found.append(
            {
                "title": str(line.get("title") or "").strip(),
                "rate": str(
                    decimal_field(line.get("rate") or 0, f"{where}[{index}].rate")
                ),
                "price": str(
                    money_field(line.get("price") or 0, f"{where}[{index}].price")
                ),
            }
        )
    return found


def _customer(body: dict) -> dict:
    customer = body.get("customer") if isinstance(body.get("customer"), dict) else {}
    billing = body.get("billing_address") or {}
    first = customer.get("first_name") or billing.get("first_name") or ""
    last = customer.get("last_name") or billing.get("last_name") or ""
    person = " ".join(part for part in (first, last) if part).strip()
    company = (billing.get("company") or "").strip()
    email = (customer.get("email") or body.get("email") or "").strip()
    name = company or person or email
    if not name:
        raise ValidationFailed(
            "The order names no customer (no company, name or e-mail): Xero and "
            "Sage 100 need one for the invoice and the order.",
            field="customer",
        )
    return {
        "id": str(customer.get("id") or ""),
        "name": name,
        "first_name": first,
        "last_name": last,
        "email": email,
        "phone": (customer.get("phone") or billing.get("phone") or "").strip(),
    }


def _address(value: Any) -> addresses.StandardAddress:
    value = value if isinstance(value, dict) else {}
    street = "\n".join(
        part for part in (value.get("address1"), value.get("address2")) if part
    )
    return addresses.standardise(
        addresses.Address(
            street=street,
            city=value.get("city") or "",
            state=value.get("province_code") or value.get("province") or "",
            postal_code=value.get("zip") or "",
            country=value.get("country_code") or value.get("country") or "",
        )
    )


def _as_dict(address: addresses.StandardAddress) -> dict:
    return {
        "lines": list(address.lines),
        "city": address.city,
        "state": address.state,
        "zip_code": address.zip_code,
        "country_code": address.country_code,
    }


def date_field(value: Any, where: str) -> str:
    """A Shopify timestamp's date; refused naming ``where`` when it is none."""
    text = str(value or "")[:10]
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise ValidationFailed(
            f"{value!r} is not a date (ISO 8601, e.g. 2026-12-02T10:00:00-05:00).",
            field=where,
        ) from None


def decimal_field(value: Any, where: str) -> Decimal:
    """A Shopify number (they come as strings); refused naming ``where``."""
    if isinstance(value, bool) or value is None or value == "":
        raise ValidationFailed(f"{where} is missing or not a number.", field=where)
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationFailed(f"{value!r} is not a number.", field=where) from None
    if not number.is_finite():
        raise ValidationFailed(f"{value!r} is not a number.", field=where)
    return number


def money_field(value: Any, where: str) -> Decimal:
    """A Shopify amount in cents, half up, as the shop rounds it."""
    return decimal_field(value, where).quantize(CENT, ROUND_HALF_UP)
