"""Which Shopify inventory items stand for a Sage 100 item, and where to stock them.

Shopify keeps stock per inventory item (one per variant) and location; Sage
keeps it per ItemCode and warehouse. The link is the variant's SKU, the same
one order-to-cash turns into a Sage ItemCode. Going back, an ItemCode's SKUs
are, in this order:

1. the item cross-reference entered on this flow (Sage ItemCode → SKU);
2. order-to-cash's item cross-reference (SKU → ItemCode) read backwards;
3. every SKU whose normalised form (the ``item_codes`` rules, as order-to-cash
   applies them) is the ItemCode, unless that SKU is cross-referenced to
   another item.

The catalogue (SKU → inventory items) and the locations are read from Shopify
once every few minutes per shop and shared by every worker through Redis, so a
stock change costs its writes, not a walk through every product page. A SKU
not in the cached copy is looked for in a fresh one, but at most once a minute.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass

from redis.exceptions import RedisError

from integrations.engine.errors import ValidationFailed
from integrations.models import CrossReference
from integrations.services import cross_references, item_codes

TTL_SECONDS = 300
# A cached catalogue younger than this is not re-read for a missing SKU: an
# item that is simply not sold in the shop would otherwise re-read it each time.
FRESH_ENOUGH_SECONDS = 60
LOCATION_OPTION = "location"


@dataclass(frozen=True)
class Catalogue:
    """SKU → the variants carrying it (``inventory_item_id``, ``variant_id``,
    ``title``), and when it was read from Shopify."""

    by_sku: dict[str, list[dict]]
    read_at: float

    def age(self) -> float:
        return time.time() - self.read_at


def _key(connection, what: str) -> str:
    place = str((connection.settings or {}).get("shop_url", ""))
    digest = hashlib.sha256(place.encode()).hexdigest()[:16]
    return f"ledgerbridge:shopify-inventory:{connection.pk}:{digest}:{what}"


def _redis():
    from integrations.engine.dispatch import queue

    return queue().connection


def _cached(connection, what: str) -> dict | None:
    try:
        raw = _redis().get(_key(connection, what))
    except RedisError:
        return None
    return json.loads(raw) if raw else None


def _store(connection, what: str, value: dict) -> None:
    # The cache only saves calls; without Redis every batch reads afresh.
    with contextlib.suppress(RedisError):
        _redis().set(_key(connection, what), json.dumps(value), ex=TTL_SECONDS)


def catalogue(connection, client, *, fresh: bool = False) -> Catalogue:
    """The shop's SKUs and their inventory items (cached unless ``fresh``)."""
    if not fresh:
        cached = _cached(connection, "catalogue")
        if cached:
            return Catalogue(cached["by_sku"], cached["read_at"])
    by_sku: dict[str, list[dict]] = {}
    for variant in client.variants():
        sku = str(variant.get("sku") or "").strip()
        if not sku or not variant.get("inventory_item_id"):
            continue  # a variant without a SKU cannot be matched to Sage
        title = " - ".join(
            part
            for part in (variant.get("product_title"), variant.get("title"))
            if part and part != "Default Title"
        )
        by_sku.setdefault(sku, []).append(
            {
                "inventory_item_id": int(variant["inventory_item_id"]),
                "variant_id": int(variant.get("id") or 0),
                "title": title,
            }
        )
    found = Catalogue(by_sku, time.time())
    _store(connection, "catalogue", {"by_sku": by_sku, "read_at": found.read_at})
    return found


def forget(connection) -> None:
    """Drop the cached catalogue and locations (a variant went away)."""
    with contextlib.suppress(RedisError):
        _redis().delete(_key(connection, "catalogue"), _key(connection, "locations"))


def location(connection, client, wanted) -> dict:
    """The active location the option names (its id or its name); with no
    option, the shop's only active location. Anything else fails naming the
    option, with the shop's locations listed."""
    where = f"options.{LOCATION_OPTION}"
    for fresh in (False, True):
        cached = None if fresh else _cached(connection, "locations")
        if cached is None:
            cached = {"locations": client.locations()}
            _store(connection, "locations", cached)
        active = [row for row in cached["locations"] if row.get("active", True)]
        text = str(wanted if wanted is not None else "").strip()
        if not text:
            if len(active) == 1:
                return active[0]
            if not fresh:
                continue
            raise ValidationFailed(
                f"The shop has {len(active)} active locations: set the flow's option "
                f"{LOCATION_OPTION} to the one Sage 100's stock is for "
                f"({_names(active)}).",
                field=where,
            )
        found = [
            row
            for row in active
            if str(row.get("id")) == text
            or str(row.get("name", "")).strip().lower() == text.lower()
        ]
        if len(found) == 1:
            return found[0]
    raise ValidationFailed(
        f"The flow's option {LOCATION_OPTION} is {text!r}, but the shop has no "
        f"single active location with that id or name. Its locations: "
        f"{_names(active)}.",
        field=where,
    )


def _names(rows: list[dict]) -> str:
    return ", ".join(f"{row.get('name')} ({row.get('id')})" for row in rows) or "none"


def warehouses(value) -> tuple[str, ...]:
    """The option ``warehouses``: a list of Sage warehouse codes (or one code,
    or codes separated by commas)."""
    if isinstance(value, str):
        value = [part for part in value.split(",")]
    if not isinstance(value, list | tuple) or not all(
        isinstance(code, str) and code.strip() for code in value
    ):
        raise ValidationFailed(
            "The flow's option warehouses must list Sage 100 warehouse codes, e.g. "
            '["000"].',
            field="options.warehouses",
        )
    codes = tuple(dict.fromkeys(code.strip().upper() for code in value))
    if not codes:
        raise ValidationFailed(
            "The flow's option warehouses names no warehouse.",
            field="options.warehouses",
        )
    return codes


def skus_for_items(
    items: Iterable[str],
    *,
    sage_id: int,
    shopify_id: int,
    skus: Iterable[str],
    rules: item_codes.ItemCodeRules,
) -> dict[str, tuple[list[str], str]]:
    """Per ItemCode: the shop's SKUs for it and how they were found (the three
    steps of the module docstring). Items with no SKU get ``([], "")``."""
    wanted = sorted(set(items))
    known = set(skus)
    direct = cross_references.many("item", sage_id, shopify_id, wanted)
    backwards: dict[str, list[str]] = {}
    for sku, code in CrossReference.objects.filter(
        kind="item",
        source_connection_id=shopify_id,
        target_connection_id=sage_id,
        target_value__in=wanted,
    ).values_list("source_value", "target_value"):
        backwards.setdefault(code, []).append(sku)
    # SKUs that order-to-cash sends to a named item: no rule may take them.
    taken = dict(
        CrossReference.objects.filter(
            kind="item",
            source_connection_id=shopify_id,
            target_connection_id=sage_id,
            source_value__in=known,
        ).values_list("source_value", "target_value")
    )
    by_rule: dict[str, list[str]] = {}
    for sku in sorted(known):
        if sku in taken:
            continue
        code, _ = rules.apply(sku)
        by_rule.setdefault(code, []).append(sku)
    found: dict[str, tuple[list[str], str]] = {}
    for code in wanted:
        if direct.get(code):
            found[code] = ([direct[code]], "item cross-reference (Sage → Shopify)")
        elif backwards.get(code):
            found[code] = (
                sorted(backwards[code]),
                "order-to-cash item cross-reference (Shopify → Sage)",
            )
        elif by_rule.get(code):
            found[code] = (by_rule[code], "SKU matches the ItemCode")
        else:
            found[code] = ([], "")
    return found


def available(amounts: Iterable) -> int:
    """Whole units Shopify may sell: the sum, rounded down, never below zero."""
    total = sum(amounts, 0)
    return max(0, int(total // 1))
