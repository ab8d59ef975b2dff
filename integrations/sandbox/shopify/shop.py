"""The simulated shop: a catalogue, orders, refunds, locations and inventory levels.

Orders are built in the shape of Shopify's Order resource as the fixture
``contracts/shopify/shopify_python_api-fixtures/order.json`` shows it (same
keys, money as decimal strings, ISO 8601 times with the shop's UTC offset).
Every change is published to ``on_event`` listeners as a ``ShopEvent`` with
the webhook topic and its body, which the webhook sender turns into deliveries.
"""

from __future__ import annotations

import copy
import datetime as dt
import secrets
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
TOPICS = ("orders/create", "orders/paid", "orders/cancelled", "refunds/create")
CANCEL_REASONS = ("customer", "fraud", "inventory", "declined", "other")
TAG_LIMIT = 40  # characters per order tag (Order resource docs)


def money(value: Decimal) -> str:
    return str(Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Variant:
    sku: str
    title: str
    variant_title: str
    price: Decimal
    product_id: int
    variant_id: int
    inventory_item_id: int
    grams: int = 200
    vendor: str = "LedgerBridge Outfitters"


@dataclass(frozen=True)
class ShopEvent:
    """One thing that happened; every subscription to ``topic`` gets ``body``
    with the same ``event_id``."""

    topic: str
    body: dict
    event_id: str
    triggered_at: str


@dataclass
class _Ids:
    next: int = 450789469

    def take(self) -> int:
        self.next += 1 + secrets.randbelow(9000)
        return self.next


DEFAULT_CATALOGUE = (
    ("TRAIL-TENT-2P", "Trail Tent", "2 person", "249.00"),
    ("TRAIL-TENT-4P", "Trail Tent", "4 person", "389.00"),
    ("DOWN-BAG-REG", "Down Sleeping Bag", "Regular", "179.50"),
    ("HEADLAMP-300", "Headlamp 300 lm", "Black", "34.95"),
    ("STOVE-MINI", "Mini Camp Stove", "Default Title", "59.00"),
)

DEFAULT_CUSTOMER = {
    "first_name": "Bob",
    "last_name": "Norman",
    "email": "bob.norman@mail.example.com",
    "phone": "+1-502-555-0199",
    "address1": "92 Chestnut Street",
    "address2": "",
    "city": "Louisville",
    "province": "Kentucky",
    "province_code": "KY",
    "zip": "40202",
    "country": "United States",
    "country_code": "US",
    "company": None,
}


@dataclass
class Shop:
    """A thread-safe in-memory shop. ``now`` may be replaced for tests."""

    domain: str = "ledgerbridge-demo.myshopify.com"
    currency: str = "USD"
    tax_rate: Decimal = Decimal("0.06")
    tax_title: str = "State Tax"
    utc_offset_hours: int = -5
    location_id: int = 655441491
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)
    orders: dict[int, dict] = field(default_factory=dict)
    refunds: dict[int, dict] = field(default_factory=dict)
    variants: dict[str, Variant] = field(default_factory=dict)
    inventory: dict[tuple[int, int], int] = field(default_factory=dict)
    customers: dict[str, dict] = field(default_factory=dict)
    location_name: str = "Main Warehouse"
    locations: dict[int, dict] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._lock = threading.RLock()
        self._listeners: list[Callable[[ShopEvent], None]] = []
        self._ids = _Ids()
        self._order_number = 1000
        self._created: dict[int, str] = {}  # product id → created_at
        self.locations.setdefault(
            self.location_id, self._location(self.location_id, self.location_name)
        )
        for sku, title, variant_title, price in DEFAULT_CATALOGUE:
            self.add_variant(sku, title, variant_title, Decimal(price), available=25)

    # -- plumbing ---------------------------------------------------------
    def on_event(self, callback: Callable[[ShopEvent], None]) -> None:
        self._listeners.append(callback)

    def timestamp(self) -> str:
        offset = dt.timezone(dt.timedelta(hours=self.utc_offset_hours))
        return self.now().astimezone(offset).replace(microsecond=0).isoformat()

    def _publish(self, topic: str, body: dict) -> ShopEvent:
        event = ShopEvent(
            topic,
            copy.deepcopy(body),
            str(uuid.uuid4()),
            self.now().isoformat(timespec="milliseconds"),
        )
        for listener in list(self._listeners):
            listener(event)
        return event

    # -- catalogue and inventory -----------------------------------------
    def add_variant(
        self,
        sku: str,
        title: str,
        variant_title: str,
        price: Decimal,
        *,
        available: int = 0,
        product_id: int | None = None,
    ) -> Variant:
        """A new variant (of a new product, or of ``product_id``), stocked at
        the shop's first location. ``sku`` is the catalogue's key here; a
        variant without a SKU is added as ``""``."""
        with self._lock:
            variant = Variant(
                sku=sku,
                title=title,
                variant_title=variant_title,
                price=Decimal(price),
                product_id=product_id or self._ids.take(),
                variant_id=self._ids.take(),
                inventory_item_id=self._ids.take(),
            )
            self._created.setdefault(variant.product_id, self.timestamp())
            self.variants[sku] = variant
            self.inventory[(variant.inventory_item_id, self.location_id)] = available
            return variant

    def remove_variant(self, sku: str) -> None:
        """Delete a variant (and its inventory item's levels) from the shop."""
        with self._lock:
            variant = self.variants.pop(sku)
            for key in [k for k in self.inventory if k[0] == variant.inventory_item_id]:
                del self.inventory[key]

    def add_location(self, name: str, *, active: bool = True) -> dict:
        """Another place the shop stocks from (Settings > Locations)."""
        with self._lock:
            location = self._location(self._ids.take(), name, active=active)
            self.locations[location["id"]] = location
            return copy.deepcopy(location)

    def _location(self, location_id: int, name: str, *, active: bool = True) -> dict:
        now = self.timestamp()
        return {
            "id": location_id,
            "name": name,
            "address1": "92 Chestnut Street",
            "address2": None,
            "city": "Louisville",
            "zip": "40202",
            "province": "Kentucky",
            "country": "US",
            "phone": "",
            "created_at": now,
            "updated_at": now,
            "country_code": "US",
            "country_name": "United States",
            "province_code": "KY",
            "legacy": False,
            "active": active,
            "admin_graphql_api_id": f"gid://shopify/Location/{location_id}",
            "localized_country_name": "United States",
            "localized_province_name": "Kentucky",
        }

    def products(self) -> list[dict]:
        """Every product with its variants, oldest first, in the shape of the
        REST Product resource (variants carry ``sku`` and ``inventory_item_id``)."""
        with self._lock:
            by_product: dict[int, list[Variant]] = {}
            for variant in self.variants.values():
                by_product.setdefault(variant.product_id, []).append(variant)
            return [
                self._product(product_id, sorted(group, key=lambda v: v.variant_id))
                for product_id, group in sorted(by_product.items())
            ]

    def inventory_levels(
        self, inventory_item_ids: set[int] | None, location_ids: set[int] | None
    ) -> list[dict]:
        """The levels of these items at these locations (None: any)."""
        with self._lock:
            return [
                self._level(item, location, available)
                for (item, location), available in sorted(self.inventory.items())
                if (inventory_item_ids is None or item in inventory_item_ids)
                and (location_ids is None or location in location_ids)
            ]

    def _product(self, product_id: int, variants: list[Variant]) -> dict:
        first = variants[0]
        created = self._created.get(product_id) or self.timestamp()
        handle = "-".join(first.title.lower().split())
        return {
            "id": product_id,
            "title": first.title,
            "body_html": f"<p>{first.title}</p>",
            "vendor": first.vendor,
            "product_type": "Outdoor",
            "created_at": created,
            "handle": handle,
            "updated_at": created,
            "published_at": created,
            "template_suffix": None,
            "published_scope": "global",
            "tags": "",
            "status": "active",
            "admin_graphql_api_id": f"gid://shopify/Product/{product_id}",
            "variants": [
                self._variant(variant, position, created)
                for position, variant in enumerate(variants, start=1)
            ],
            "options": [
                {
                    "id": product_id + 1,
                    "product_id": product_id,
                    "name": "Title",
                    "position": 1,
                    "values": [v.variant_title for v in variants],
                }
            ],
            "images": [],
            "image": None,
        }

    def _variant(self, variant: Variant, position: int, created: str) -> dict:
        quantity = sum(
            available
            for (item, _), available in self.inventory.items()
            if item == variant.inventory_item_id
        )
        return {
            "id": variant.variant_id,
            "product_id": variant.product_id,
            "title": variant.variant_title,
            "price": money(variant.price),
            "position": position,
            "inventory_policy": "deny",
            "compare_at_price": None,
            "option1": variant.variant_title,
            "option2": None,
            "option3": None,
            "created_at": created,
            "updated_at": created,
            "taxable": True,
            "barcode": None,
            "fulfillment_service": "manual",
            "grams": variant.grams,
            "inventory_management": "shopify",
            "requires_shipping": True,
            "sku": variant.sku or None,
            "weight": variant.grams / 1000,
            "weight_unit": "kg",
            "inventory_item_id": variant.inventory_item_id,
            "inventory_quantity": quantity,
            "old_inventory_quantity": quantity,
            "admin_graphql_api_id": f"gid://shopify/ProductVariant/{variant.variant_id}",
            "image_id": None,
        }

    def _level(self, inventory_item_id: int, location_id: int, available: int):
        return {
            "inventory_item_id": inventory_item_id,
            "location_id": location_id,
            "available": available,
            "updated_at": self.timestamp(),
            "admin_graphql_api_id": (
                "gid://shopify/InventoryLevel/"
                f"{location_id}?inventory_item_id={inventory_item_id}"
            ),
        }

    def set_inventory(self, inventory_item_id: int, location_id: int, available: int):
        """Shopify connects the item to the location first when it is not
        stocked there yet; an inactive or unknown location is refused."""
        with self._lock:
            if not self.locations.get(location_id, {}).get("active"):
                raise LookupError("location_id")
            if not any(
                v.inventory_item_id == inventory_item_id for v in self.variants.values()
            ):
                raise LookupError("inventory_item_id")
            self.inventory[(inventory_item_id, location_id)] = available
            return self._level(inventory_item_id, location_id, available)

    # -- orders -----------------------------------------------------------
    def create_order(
        self,
        lines: list[tuple[str, int]],
        *,
        customer: dict | None = None,
        discount: tuple[str, Decimal] | None = None,
        shipping: tuple[str, Decimal] = ("Standard Shipping", Decimal("0.00")),
        note: str | None = None,
    ) -> dict:
        """Place an order (financial_status "authorized") and publish
        orders/create. ``lines`` are (sku, quantity); ``customer`` uses the keys
        of DEFAULT_CUSTOMER."""
        with self._lock:
            person = {**DEFAULT_CUSTOMER, **(customer or {})}
            order = self._build_order(lines, person, discount, shipping, note)
            self.orders[order["id"]] = order
            self._publish("orders/create", order)
            return copy.deepcopy(order)

    def mark_paid(self, order_id: int) -> dict:
        with self._lock:
            order = self._order(order_id)
            order["financial_status"] = "paid"
            order["processed_at"] = order["updated_at"] = self.timestamp()
            self._publish("orders/paid", order)
            return copy.deepcopy(order)

    def cancel(self, order_id: int, reason: str = "customer") -> dict:
        if reason not in CANCEL_REASONS:
            raise ValueError(f"reason must be one of {', '.join(CANCEL_REASONS)}")
        with self._lock:
            order = self._order(order_id)
            order["cancel_reason"] = reason
            order["cancelled_at"] = order["closed_at"] = self.timestamp()
            order["updated_at"] = order["cancelled_at"]
            if order["financial_status"] == "authorized":
                order["financial_status"] = "voided"
            self._publish("orders/cancelled", order)
            return copy.deepcopy(order)

    def refund(self, order_id: int, lines: list[tuple[str, int]]) -> dict:
        """Refund ``lines`` (sku, quantity) of a paid order; publishes
        refunds/create with a Refund resource."""
        with self._lock:
            order = self._order(order_id)
            refund_id, now = self._ids.take(), self.timestamp()
            refund_lines, amount = [], Decimal("0")
            for sku, quantity in lines:
                item = next(i for i in order["line_items"] if i["sku"] == sku)
                subtotal = Decimal(item["price"]) * quantity
                tax = (subtotal * self.tax_rate).quantize(CENT, ROUND_HALF_UP)
                amount += subtotal + tax
                refund_lines.append(
                    {
                        "id": self._ids.take(),
                        "quantity": quantity,
                        "line_item_id": item["id"],
                        "location_id": self.location_id,
                        "restock_type": "return",
                        "subtotal": money(subtotal),
                        "total_tax": money(tax),
                        "line_item": copy.deepcopy(item),
                    }
                )
            refund = {
                "id": refund_id,
                "admin_graphql_api_id": f"gid://shopify/Refund/{refund_id}",
                "order_id": order_id,
                "created_at": now,
                "processed_at": now,
                "note": None,
                "restock": True,
                "user_id": None,
                "refund_line_items": refund_lines,
                "transactions": [
                    {
                        "id": self._ids.take(),
                        "order_id": order_id,
                        "kind": "refund",
                        "gateway": order["gateway"],
                        "status": "success",
                        "amount": money(amount),
                        "currency": order["currency"],
                        "created_at": now,
                    }
                ],
                "order_adjustments": [],
            }
            self.refunds[refund_id] = refund
            order["financial_status"] = "partially_refunded"
            order["updated_at"] = now
            self._publish("refunds/create", refund)
            return copy.deepcopy(refund)

    def update_order(
        self, order_id: int, *, note: str | None = None, tags: str | None = None
    ) -> dict:
        """What PUT orders/{id}.json changes; no webhook (we don't simulate
        orders/updated)."""
        with self._lock:
            order = self._order(order_id)
            if note is not None:
                order["note"] = note
            if tags is not None:
                order["tags"] = ", ".join(
                    t.strip() for t in tags.split(",") if t.strip()
                )
            order["updated_at"] = self.timestamp()
            return copy.deepcopy(order)

    def order(self, order_id: int) -> dict:
        with self._lock:
            return copy.deepcopy(self._order(order_id))

    def _order(self, order_id: int) -> dict:
        try:
            return self.orders[order_id]
        except KeyError:
            raise LookupError("order_id") from None

    def _customer(self, person: dict, now: str) -> dict:
        known = self.customers.get(person["email"])
        if known is None:
            customer_id = self._ids.take()
            known = {
                "accepts_marketing": False,
                "created_at": now,
                "email": person["email"],
                "first_name": person["first_name"],
                "id": customer_id,
                "last_name": person["last_name"],
                "last_order_id": None,
                "multipass_identifier": None,
                "note": None,
                "orders_count": 0,
                "state": "disabled",
                "total_spent": "0.00",
                "updated_at": now,
                "verified_email": True,
                "tags": "",
                "last_order_name": None,
                "default_address": {
                    **_address(person),
                    "id": self._ids.take(),
                    "country_name": person["country"],
                    "default": True,
                },
            }
            for key in ("latitude", "longitude"):
                known["default_address"].pop(key)
            self.customers[person["email"]] = known
        return known

    def _build_order(self, lines, person, discount, shipping, note) -> dict:
        if not lines:
            raise ValueError("an order needs at least one line")
        now = self.timestamp()
        order_id = self._ids.take()
        self._order_number += 1
        line_items, line_total = [], Decimal("0")
        for sku, quantity in lines:
            variant = self.variants[sku]
            if quantity < 1:
                raise ValueError("quantity must be at least 1")
            line_total += variant.price * quantity
            line_items.append(_line_item(self._ids.take(), variant, quantity))
        discount_amount = discount[1] if discount else Decimal("0")
        subtotal = line_total - discount_amount
        tax = (subtotal * self.tax_rate).quantize(CENT, ROUND_HALF_UP)
        shipping_title, shipping_price = shipping
        total = subtotal + tax + shipping_price
        customer = self._customer(person, now)
        customer["orders_count"] += 1
        customer["last_order_id"] = order_id
        customer["last_order_name"] = f"#{self._order_number}"
        return {
            "buyer_accepts_marketing": False,
            "cancel_reason": None,
            "cancelled_at": None,
            "cart_token": secrets.token_hex(16),
            "checkout_token": secrets.token_hex(16),
            "closed_at": None,
            "confirmed": True,
            "created_at": now,
            "currency": self.currency,
            "email": person["email"],
            "financial_status": "authorized",
            "fulfillment_status": None,
            "gateway": "shopify_payments",
            "id": order_id,
            "landing_site": "/",
            "location_id": None,
            "name": f"#{self._order_number}",
            "note": note,
            "number": self._order_number - 1000,
            "reference": secrets.token_hex(4),
            "referring_site": "",
            "source": None,
            "subtotal_price": money(subtotal),
            "taxes_included": False,
            "test": False,
            "token": secrets.token_hex(16),
            "total_discounts": money(discount_amount),
            "total_line_items_price": money(line_total),
            "total_price": money(total),
            "total_price_usd": money(total),
            "total_tax": money(tax),
            "total_weight": sum(i["grams"] * i["quantity"] for i in line_items),
            "updated_at": now,
            "user_id": None,
            "browser_ip": "198.51.100.24",
            "landing_site_ref": "",
            "order_number": self._order_number,
            "discount_codes": (
                [{"code": discount[0], "amount": money(discount[1])}]
                if discount
                else []
            ),
            "note_attributes": [],
            "processing_method": "direct",
            "checkout_id": self._ids.take(),
            "source_name": "web",
            "tax_lines": [
                {
                    "price": money(tax),
                    "rate": float(self.tax_rate),
                    "title": self.tax_title,
                }
            ],
            "line_items": line_items,
            "shipping_lines": [
                {
                    "code": shipping_title,
                    "price": money(shipping_price),
                    "source": "shopify",
                    "title": shipping_title,
                }
            ],
            "payment_details": {
                "avs_result_code": "Y",
                "credit_card_bin": "424242",
                "cvv_result_code": "M",
                "credit_card_number": "•••• •••• •••• 4242",
                "credit_card_company": "Visa",
            },
            "billing_address": _address(person),
            "shipping_address": _address(person),
            "fulfillments": [],
            "client_details": {
                "accept_language": "en-US",
                "browser_ip": "198.51.100.24",
                "session_hash": None,
                "user_agent": "Mozilla/5.0",
            },
            "customer": copy.deepcopy(customer),
            "tags": "",
            "admin_graphql_api_id": f"gid://shopify/Order/{order_id}",
            "processed_at": now,
        }


def _address(person: dict) -> dict:
    return {
        "address1": person["address1"],
        "address2": person["address2"],
        "city": person["city"],
        "company": person["company"],
        "country": person["country"],
        "first_name": person["first_name"],
        "last_name": person["last_name"],
        "latitude": "38.2527",
        "longitude": "-85.7585",
        "phone": person["phone"],
        "province": person["province"],
        "zip": person["zip"],
        "name": f"{person['first_name']} {person['last_name']}",
        "country_code": person["country_code"],
        "province_code": person["province_code"],
    }


def _line_item(line_id: int, variant: Variant, quantity: int) -> dict:
    return {
        "fulfillment_service": "manual",
        "fulfillment_status": None,
        "grams": variant.grams,
        "id": line_id,
        "price": money(variant.price),
        "product_id": variant.product_id,
        "quantity": quantity,
        "requires_shipping": True,
        "sku": variant.sku,
        "title": variant.title,
        "variant_id": variant.variant_id,
        "variant_title": variant.variant_title,
        "vendor": variant.vendor,
        "name": f"{variant.title} - {variant.variant_title}",
        "variant_inventory_management": "shopify",
        "properties": [],
        "product_exists": True,
    }
