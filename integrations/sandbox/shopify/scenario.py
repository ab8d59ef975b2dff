"""A small shop's day, for the demo: what the shop sells and what happens.

The shop sells office supplies the demo's Sage 100 company stocks, under the
same item codes (Xero's demo items carry them too), and one product under a
shop SKU of its own (``PAPER-CASE-BR20``) that a cross-reference maps. Three
customers order through the day: orders are placed (``orders/create``), most
are paid (``orders/paid``), one is cancelled before it is paid, one paid order
is partly refunded (``refunds/create``), and one order carries a SKU neither
Sage 100 nor Xero knows (``GIFT-WRAP``), so the hub shows it under Needs
attention.
"""

from __future__ import annotations

import logging
import threading
from decimal import Decimal

from integrations.sandbox.shopify.shop import Shop

logger = logging.getLogger(__name__)

# (SKU, product, variant, price). All but the last two are Sage ItemCodes.
CATALOGUE = (
    ("4001-AVR-L5160", "Avery Address Labels", "L5160, 30 per sheet", "18.50"),
    ("3001-GLB-C20", "Global Office Chair", "C20", "189.00"),
    ("2001-STL-D100", "Steelcase Desk", "D100", "429.00"),
    ("5001-HEW-M401", "HP LaserJet Printer", "M401", "349.00"),
    ("1001-HON-H252", "HON File Cabinet", "H252, 2 drawers", "219.00"),
    ("PAPER-CASE-BR20", "Boise Copy Paper", "Case of 10 reams", "54.90"),
    ("GIFT-WRAP", "Gift wrapping", "Default Title", "4.95"),
)
# The shop SKU that is not a Sage ItemCode, and the item it stands for.
SKU_ALIASES = {"PAPER-CASE-BR20": "6001-BOI-BR20"}
UNKNOWN_SKU = "GIFT-WRAP"

CUSTOMERS = {
    "maria": {
        "first_name": "Maria",
        "last_name": "Lopez",
        "email": "maria.lopez@mail.example.com",
        "phone": "+1-512-555-0142",
        "address1": "1405 Barton Springs Road",
        "city": "Austin",
        "province": "Texas",
        "province_code": "TX",
        "zip": "78704",
    },
    "kevin": {
        "first_name": "Kevin",
        "last_name": "Osei",
        "email": "kevin.osei@mail.example.com",
        "phone": "+1-614-555-0187",
        "address1": "77 East Gay Street",
        "city": "Columbus",
        "province": "Ohio",
        "province_code": "OH",
        "zip": "43215",
    },
    "priya": {
        "first_name": "Priya",
        "last_name": "Nair",
        "email": "priya@hillside-bakery.example.com",
        "phone": "+1-503-555-0163",
        "address1": "2210 NE Alberta Street",
        "city": "Portland",
        "province": "Oregon",
        "province_code": "OR",
        "zip": "97211",
        "company": "Hillside Bakery",
    },
}


def _order(customer: str, *lines: tuple[str, int], **extra) -> dict:
    return {"customer": customer, "lines": list(lines), **extra}


# The day, one step per tick: (action, order label, details).
DAY = (
    ("create", "A", _order("maria", ("PAPER-CASE-BR20", 2), ("4001-AVR-L5160", 1))),
    ("pay", "A", {}),
    (
        "create",
        "B",
        _order("kevin", ("3001-GLB-C20", 1), shipping=("UPS Ground", "15.00")),
    ),
    ("create", "C", _order("priya", ("2001-STL-D100", 1), ("3001-GLB-C20", 2))),
    ("pay", "B", {}),
    ("create", "D", _order("maria", ("PAPER-CASE-BR20", 1), (UNKNOWN_SKU, 1))),
    ("create", "E", _order("kevin", ("5001-HEW-M401", 1), ("4001-AVR-L5160", 2))),
    ("cancel", "C", {"reason": "customer"}),
    ("pay", "E", {}),
    (
        "create",
        "F",
        _order("priya", ("1001-HON-H252", 1), discount=("WELCOME10", "20.00")),
    ),
    ("pay", "F", {}),
    ("refund", "E", {"lines": [("4001-AVR-L5160", 2)]}),
)


def stock(shop: Shop, available: int = 50) -> None:
    """Put the demo catalogue on the shop's shelves."""
    for sku, title, variant, price in CATALOGUE:
        if sku not in shop.variants:
            shop.add_variant(sku, title, variant, Decimal(price), available=available)


def play_step(shop: Shop, orders: dict[str, int], step: tuple) -> dict:
    """Do one step of the day; ``orders`` maps labels to the shop's order ids."""
    action, label, details = step
    if action == "create":
        shipping = details.get("shipping")
        discount = details.get("discount")
        order = shop.create_order(
            list(details["lines"]),
            customer=CUSTOMERS[details["customer"]],
            shipping=(shipping[0], Decimal(shipping[1]))
            if shipping
            else ("Standard Shipping", Decimal("0.00")),
            discount=(discount[0], Decimal(discount[1])) if discount else None,
        )
        orders[label] = order["id"]
        return order
    order_id = orders[label]
    if action == "pay":
        return shop.mark_paid(order_id)
    if action == "cancel":
        return shop.cancel(order_id, details.get("reason", "customer"))
    if action == "refund":
        return shop.refund(order_id, list(details["lines"]))
    raise ValueError(f"Unknown step {action!r}")


def play(shop: Shop, seconds: float, stop: threading.Event) -> dict[str, int]:
    """Play the day, one step every ``seconds``; returns the orders placed."""
    orders: dict[str, int] = {}
    for step in DAY:
        if stop.wait(seconds):
            break
        try:
            play_step(shop, orders, step)
        except Exception:  # the demo goes on with the next step
            logger.exception("Could not play %s of order %s", step[0], step[1])
    return orders
