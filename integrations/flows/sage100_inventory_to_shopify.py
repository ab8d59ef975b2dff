"""Stock to Shopify: what Sage 100 can sell becomes the shop's available quantity.

The flow subscribes to the Sage 100 inventory change feed
(``sage100.inventory``, table IM_ItemWarehouse). A change in one of the
warehouses the flow counts (option ``warehouses``, default ``["000"]``) sets
the available quantity of every variant whose SKU stands for the item (see
``services/shopify_inventory``) at one Shopify location (option
``location``). Changes in other warehouses are skipped without a call.

Available = the sum over the counted warehouses of Sage's available quantity,
by the Sage connection's ``available_formula`` (default on hand - on sales
order - on back order) or the flow's own ``available_formula``, exactly as
``sage100_inventory_to_salesforce`` computes it; rounded down to whole units
and never below zero.

A worker claims up to 40 due changes (Shopify's bucket holds 40 calls) and
handles them together: one Sage read for the batch, the catalogue from the
shared cache, one read of the current levels per 50 inventory items, and one
write per inventory item whose level differs. The quantities are Sage's at the
time of the write, so a late retry of an old change never puts an old
quantity back, and one item changed five times in a batch is written once.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from integrations.connectors.sage100.settings import parse_formula
from integrations.engine.errors import (
    RateLimited,
    ReferenceMissing,
    SyncError,
    ValidationFailed,
)
from integrations.flows.base import Flow, RecordSpec, Run
from integrations.flows.registry import register
from integrations.models import System
from integrations.services import item_codes, shopify_inventory

BATCH_SIZE = 40
DEFAULT_WAREHOUSES = ("000",)


@dataclass(frozen=True)
class _Match:
    variants: list[dict]  # the shop's variants for the item, with their sku
    how: str  # how the SKUs were found, in words
    skus: list[str]


def _item(body: Any) -> tuple[str, str]:
    key = body.get("key") if isinstance(body, dict) else None
    if not isinstance(key, dict) or not key.get("ItemCode"):
        raise ValidationFailed(
            "An inventory change needs ItemCode and WarehouseCode.", field="key"
        )
    return str(key["ItemCode"]), str(key.get("WarehouseCode") or "")


@register
class Sage100InventoryToShopify(Flow):
    name = "sage100_inventory_to_shopify"
    title = "Sage 100 stock levels → Shopify available quantities"
    source, target = System.SAGE100, System.SHOPIFY
    topics = frozenset({"sage100.inventory"})
    batch_size = BATCH_SIZE
    # Writes one number chosen by its options; it has no mapping set.
    mapping_scopes = ()

    def records_from_event(self, body: Any, *, topic: str) -> list[RecordSpec]:
        if not isinstance(body, dict) or not isinstance(body.get("key"), dict):
            raise ValidationFailed("A change event needs a key object.", field="key")
        key = "|".join(str(value) for value in body["key"].values())
        return [RecordSpec("IM_ItemWarehouse", key, body)]

    def is_up_to_date(self, run: Run) -> bool:
        """A warehouse the flow does not count changes nothing in the shop."""
        _, warehouse = _item(run.payload)
        counted = shopify_inventory.warehouses(
            run.option("warehouses", list(DEFAULT_WAREHOUSES))
        )
        return warehouse.upper() not in counted

    def transform(self, run: Run, raw: Any) -> dict:
        item, warehouse = _item(raw)
        if not warehouse:
            raise ValidationFailed(
                "An inventory change needs ItemCode and WarehouseCode.", field="key"
            )
        return {"item": item, "warehouse": warehouse}

    def load_batch(self, runs: list[Run], documents: list[dict]) -> list:
        run = runs[0]
        connection = run.flow_config.target_connection
        counted = shopify_inventory.warehouses(
            run.option("warehouses", list(DEFAULT_WAREHOUSES))
        )
        rules = item_codes.ItemCodeRules.from_options(run.option(item_codes.OPTION, {}))
        place = shopify_inventory.location(
            connection, run.target, run.option(shopify_inventory.LOCATION_OPTION, "")
        )
        location_id = int(place["id"])
        items = sorted({document["item"] for document in documents})
        quantities = self._available(run, items, counted)
        matched = self._variants(run, connection, items, rules)

        wanted: dict[int, int] = {}  # inventory item → available
        for item, match in matched.items():
            for variant in match.variants:
                wanted[variant["inventory_item_id"]] = quantities.get(item, 0)
        current = {
            int(level["inventory_item_id"]): level.get("available")
            for level in run.target.inventory_levels(wanted, [location_id])
            if int(level.get("location_id") or 0) == location_id
        }
        outcome: dict[int, Any] = {}
        stop: SyncError | None = None
        for inventory_item_id, quantity in wanted.items():
            if stop is not None:
                outcome[inventory_item_id] = stop
            elif current.get(inventory_item_id) == quantity:
                outcome[inventory_item_id] = "unchanged"
            else:
                try:
                    run.target.set_inventory_level(
                        inventory_item_id, location_id, quantity, patient=True
                    )
                    outcome[inventory_item_id] = "set"
                except RateLimited as exc:
                    # The bucket stayed full: the rest wait for the retry.
                    stop = outcome[inventory_item_id] = exc
                except (ValidationFailed, ReferenceMissing) as exc:
                    outcome[inventory_item_id] = exc
        self._drop_removed(run, connection, outcome)
        return [
            self._result(document, matched, quantities, outcome, place)
            for document in documents
        ]

    def _drop_removed(self, run: Run, connection, outcome: dict) -> None:
        """A refused write is most likely a variant removed since the catalogue
        was read: a fresh copy tells, and a removed one is no longer written."""
        refused = [i for i, r in outcome.items() if isinstance(r, ValidationFailed)]
        refused += [i for i, r in outcome.items() if isinstance(r, ReferenceMissing)]
        if not refused:
            return
        fresh = shopify_inventory.catalogue(connection, run.target, fresh=True)
        still = {
            variant["inventory_item_id"]
            for variants in fresh.by_sku.values()
            for variant in variants
        }
        for inventory_item_id in refused:
            if inventory_item_id not in still:
                outcome[inventory_item_id] = "removed"

    def _available(
        self, run: Run, items: list[str], counted: tuple[str, ...]
    ) -> dict[str, int]:
        """Per item: what the counted warehouses can sell, in whole units."""
        formula = None
        if run.option("available_formula", ""):
            try:
                formula = parse_formula(run.options["available_formula"])
            except ValidationFailed as exc:
                exc.field = "options.available_formula"
                raise
        amounts: dict[str, list[Decimal]] = {item: [] for item in items}
        for row in run.source.reader.quantities(items):
            if str(row["WarehouseCode"]).upper() not in counted:
                continue
            if formula is None:
                value = Decimal(str(row.get("available") or 0))
            else:
                value = sum(
                    (sign * Decimal(str(row.get(name) or 0)) for sign, name in formula),
                    Decimal(0),
                )
            amounts.setdefault(row["ItemCode"], []).append(value)
        return {
            item: shopify_inventory.available(values)
            for item, values in amounts.items()
        }

    def _variants(self, run: Run, connection, items: list[str], rules) -> dict:
        """Per item: (the shop's variants for it, how its SKUs were found)."""
        config = run.flow_config
        shop = shopify_inventory.catalogue(connection, run.target)
        for attempt in (0, 1):
            mapped = shopify_inventory.skus_for_items(
                items,
                sage_id=config.source_connection_id,
                shopify_id=config.target_connection_id,
                skus=shop.by_sku,
                rules=rules,
            )
            missing = any(
                not skus or not any(sku in shop.by_sku for sku in skus)
                for skus, _ in mapped.values()
            )
            if (
                not missing
                or attempt
                or (shop.age() < shopify_inventory.FRESH_ENOUGH_SECONDS)
            ):
                break
            # A variant added since the cached read is found in a fresh one.
            shop = shopify_inventory.catalogue(connection, run.target, fresh=True)
        return {
            item: _Match(
                variants=[
                    {**variant, "sku": sku}
                    for sku in skus
                    for variant in shop.by_sku.get(sku, [])
                ],
                how=how,
                skus=skus,
            )
            for item, (skus, how) in mapped.items()
        }

    def _result(self, document, matched, quantities, outcome, place) -> Any:
        item = document["item"]
        match = matched[item]
        variants, how = match.variants, match.how
        if not variants:
            if match.skus:
                return {
                    "skipped": f"Sage item {item} maps to SKU "
                    f"{', '.join(match.skus)} ({how}), but no variant in the shop has "
                    "that SKU: nothing written."
                }
            return {
                "skipped": f"No Shopify variant has a SKU for Sage item {item} "
                "(no item cross-reference, and no SKU matches the ItemCode): "
                "the item is not sold in the shop, nothing written."
            }
        for variant in variants:
            result = outcome.get(variant["inventory_item_id"])
            if isinstance(result, BaseException):
                return result
        variants = [v for v in variants if outcome[v["inventory_item_id"]] != "removed"]
        if not variants:
            return {
                "skipped": f"The shop's variant for Sage item {item} was removed "
                "from Shopify: nothing written."
            }
        quantity = quantities.get(item, 0)
        changed = [v for v in variants if outcome[v["inventory_item_id"]] == "set"]
        return {
            "shopify_inventory_item_id": ",".join(
                str(v["inventory_item_id"]) for v in variants
            ),
            "sku": ",".join(dict.fromkeys(v["sku"] for v in variants)),
            "location_id": str(place["id"]),
            "available": quantity,
            "written": (
                f"available {quantity} at {place.get('name')} set on "
                f"{len(changed)} of {len(variants)} variant(s) ({how})"
                if changed
                else f"available {quantity} at {place.get('name')} already "
                f"in Shopify ({how})"
            ),
        }
