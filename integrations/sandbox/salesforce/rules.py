"""Per-object business rules: derived fields and the platform's own checks.

Each function gets the org's write context (``ctx``): ``get(sobject, id)``,
``children(sobject, field, parent_id)``, ``system_update(sobject, id, values)``,
``standard_pricebook_id``, ``multi_currency``, ``caller`` and ``now``. They run
under the org's lock inside the current transaction.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from integrations.sandbox.salesforce.errors import ApiError
from integrations.sandbox.salesforce.schema import OPPORTUNITY_STAGES

STAGES = {stage[0]: stage for stage in OPPORTUNITY_STAGES}


def _integrity(message: str, *fields: str) -> ApiError:
    return ApiError(
        "FIELD_INTEGRITY_EXCEPTION", f"field integrity exception: {message}", fields
    )


def _money(value) -> float:
    return float(Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def before_write(ctx, sobject: str, old: dict | None, new: dict, given: dict) -> None:
    """Checks and derived values before ``new`` (the record after the change) is
    stored; ``old`` is None on insert; ``given`` holds the fields the caller sent."""
    handler = BEFORE.get(sobject)
    if handler:
        handler(ctx, old, new, given)


def after_write(ctx, sobject: str, old: dict | None, new: dict | None) -> None:
    """Roll-ups onto parents after a child was inserted, changed or deleted."""
    handler = AFTER.get(sobject)
    if handler:
        handler(ctx, old, new)


def before_delete(ctx, sobject: str, record: dict) -> None:
    handler = DELETE_CHECKS.get(sobject)
    if handler:
        handler(ctx, record)


# -- Opportunity ----------------------------------------------------------------
def _opportunity(ctx, old, new, given) -> None:
    stage = STAGES[new["StageName"]]
    stage_changed = old is None or old["StageName"] != new["StageName"]
    if stage_changed and "Probability" not in given:
        new["Probability"] = stage[1]
    new["IsClosed"], new["IsWon"], new["ForecastCategoryName"] = stage[2:5]
    if old is not None and old.get("HasOpportunityLineItem"):
        if new["Pricebook2Id"] != old["Pricebook2Id"]:
            raise _integrity(
                "Pricebook2Id (price book cannot be changed while the opportunity "
                "has products)",
                "Pricebook2Id",
            )
        if ctx.multi_currency and new["CurrencyIsoCode"] != old["CurrencyIsoCode"]:
            raise _integrity(
                "CurrencyIsoCode (currency cannot be changed while the opportunity "
                "has products)",
                "CurrencyIsoCode",
            )
        new["Amount"] = old["Amount"]  # a roll-up of the products, not editable


def _price_entry(ctx, new, given, parent_label, parent) -> dict:
    """The line's price book entry, checked against its parent's price book."""
    entry_id = new.get("PricebookEntryId")
    if not entry_id:
        product_id = new.get("Product2Id")
        if not product_id:
            raise ApiError(
                "REQUIRED_FIELD_MISSING",
                "Required fields are missing: [PricebookEntryId]",
                ["PricebookEntryId"],
            )
        book = parent.get("Pricebook2Id") or ctx.standard_pricebook_id
        entry_id = ctx.find_entry(book, product_id, parent.get("CurrencyIsoCode"))
        if entry_id is None:
            raise _integrity(
                f"Product2Id (no active price book entry for this product in the "
                f"{parent_label}'s price book)",
                "Product2Id",
            )
        new["PricebookEntryId"] = entry_id
    entry = ctx.get("PricebookEntry", entry_id)
    if new.get("Product2Id") and new["Product2Id"] != entry["Product2Id"]:
        raise _integrity(
            "Product2Id (product does not match the price book entry)", "Product2Id"
        )
    if not entry["IsActive"]:
        raise _integrity(
            "PricebookEntryId (pricebook entry is inactive)", "PricebookEntryId"
        )
    if parent.get("Pricebook2Id") and parent["Pricebook2Id"] != entry["Pricebook2Id"]:
        raise _integrity(
            f"PricebookEntryId (pricebook entry is in a different pricebook than the "
            f"one assigned to the {parent_label})",
            "PricebookEntryId",
        )
    if ctx.multi_currency and entry["CurrencyIsoCode"] != parent["CurrencyIsoCode"]:
        raise _integrity(
            f"PricebookEntryId (pricebook entry currency code does not match "
            f"{parent_label} currency code)",
            "PricebookEntryId",
        )
    return entry


def _quantity(new) -> float:
    if not new["Quantity"]:
        raise _integrity("Quantity (quantity must be nonzero)", "Quantity")
    return new["Quantity"]


# -- OpportunityLineItem --------------------------------------------------------
def _opportunity_line(ctx, old, new, given) -> None:
    opportunity = ctx.get("Opportunity", new["OpportunityId"])
    if old is None:
        entry = _price_entry(ctx, new, given, "opportunity", opportunity)
        product = ctx.get("Product2", entry["Product2Id"])
        new["Product2Id"], new["ListPrice"] = entry["Product2Id"], entry["UnitPrice"]
        new["ProductCode"] = product["ProductCode"]
        new["Name"] = f"{opportunity['Name']} {product['Name']}"[:376]
        if ctx.multi_currency:
            new["CurrencyIsoCode"] = opportunity["CurrencyIsoCode"]
        if not opportunity["Pricebook2Id"]:
            ctx.system_update(
                "Opportunity",
                opportunity["Id"],
                {"Pricebook2Id": entry["Pricebook2Id"]},
            )
    has_unit, has_total = given.get("UnitPrice") is not None, "TotalPrice" in given
    if has_unit and has_total and given["TotalPrice"] is not None:
        raise _integrity(
            "TotalPrice (cannot specify both unit price and total price)", "TotalPrice"
        )
    quantity = _quantity(new)
    keep = 1 - (new["Discount"] or 0) / 100
    if has_total and given["TotalPrice"] is not None:
        new["UnitPrice"] = _money(new["TotalPrice"] / quantity / keep) if keep else 0.0
    elif new["UnitPrice"] is None:
        raise _integrity(
            "unknown (must specify either UnitPrice or TotalPrice)", "UnitPrice"
        )
    new["TotalPrice"] = _money(quantity * new["UnitPrice"] * keep)


def _roll_up_opportunity(ctx, old, new) -> None:
    for opportunity_id in {r["OpportunityId"] for r in (old, new) if r}:
        if ctx.get("Opportunity", opportunity_id) is None:
            continue  # deleted together with its lines
        lines = ctx.children("OpportunityLineItem", "OpportunityId", opportunity_id)
        ctx.system_update(
            "Opportunity",
            opportunity_id,
            {
                "Amount": _money(sum(line["TotalPrice"] or 0 for line in lines)),
                "HasOpportunityLineItem": bool(lines),
            },
        )


# -- Order and OrderItem ----------------------------------------------------------
def _order(ctx, old, new, given) -> None:
    if old is None:
        if new["Status"] != "Draft":
            raise ApiError(
                "FIELD_INTEGRITY_EXCEPTION",
                "You can't create an activated order. Create the order as a draft, "
                "then activate it.",
                ["Status"],
            )
        new["OrderNumber"] = ctx.next_number("Order")
        new["TotalAmount"] = 0.0
    else:
        items = ctx.children("OrderItem", "OrderId", new["Id"])
        if old["Status"] != "Draft" and new["AccountId"] != old["AccountId"]:
            raise ApiError(
                "FIELD_INTEGRITY_EXCEPTION",
                "Account ID: You can't change the account on an activated order.",
                ["AccountId"],
            )
        if items and new["Pricebook2Id"] != old["Pricebook2Id"]:
            raise _integrity(
                "Pricebook2Id (price book cannot be changed while the order has "
                "products)",
                "Pricebook2Id",
            )
        if old["Status"] == "Draft" and new["Status"] == "Activated":
            if not items:
                raise ApiError(
                    "FIELD_CUSTOM_VALIDATION_EXCEPTION",
                    "You can't activate an order without any order products.",
                    ["Status"],
                )
            new["ActivatedDate"], new["ActivatedById"] = ctx.now, ctx.caller.user_id
        elif new["Status"] == "Draft":
            new["ActivatedDate"] = new["ActivatedById"] = None
        new["TotalAmount"] = old["TotalAmount"]
    new["StatusCode"] = new["Status"]


def _order_item(ctx, old, new, given) -> None:
    order = ctx.get("Order", new["OrderId"])
    if order["Status"] != "Draft":
        raise ApiError(
            "FIELD_INTEGRITY_EXCEPTION",
            "You can't add, change or delete products on an activated order.",
            ["OrderId"],
        )
    if old is None:
        entry = _price_entry(ctx, new, given, "order", order)
        new["Product2Id"], new["ListPrice"] = entry["Product2Id"], entry["UnitPrice"]
        new["OrderItemNumber"] = ctx.next_number("OrderItem")
        if ctx.multi_currency:
            new["CurrencyIsoCode"] = order["CurrencyIsoCode"]
        if not order["Pricebook2Id"]:
            ctx.system_update(
                "Order", order["Id"], {"Pricebook2Id": entry["Pricebook2Id"]}
            )
    new["TotalPrice"] = _money(_quantity(new) * new["UnitPrice"])


def _roll_up_order(ctx, old, new) -> None:
    for order_id in {r["OrderId"] for r in (old, new) if r}:
        if ctx.get("Order", order_id) is None:
            continue
        items = ctx.children("OrderItem", "OrderId", order_id)
        total = _money(sum(item["TotalPrice"] or 0 for item in items))
        ctx.system_update("Order", order_id, {"TotalAmount": total})


def _order_item_delete(ctx, record) -> None:
    order = ctx.get("Order", record["OrderId"])
    if order is not None and order["Status"] != "Draft":
        raise ApiError(
            "FIELD_INTEGRITY_EXCEPTION",
            "You can't add, change or delete products on an activated order.",
            ["OrderId"],
        )


def _order_delete(ctx, record) -> None:
    if record["Status"] != "Draft":
        raise ApiError("DELETE_FAILED", "You can't delete an activated order.")


# -- Price books ----------------------------------------------------------------------
def _pricebook_entry(ctx, old, new, given) -> None:
    product = ctx.get("Product2", new["Product2Id"])
    new["Name"], new["ProductCode"] = product["Name"], product["ProductCode"]
    standard = ctx.standard_pricebook_id
    currency = new.get("CurrencyIsoCode")
    if old is None:
        if ctx.find_entry(
            new["Pricebook2Id"], new["Product2Id"], currency, active_only=False
        ):
            raise ApiError(
                "DUPLICATE_VALUE",
                "This price definition already exists in this price book",
            )
        if new["Pricebook2Id"] != standard and not ctx.find_entry(
            standard, new["Product2Id"], currency, active_only=False
        ):
            raise ApiError(
                "STANDARD_PRICE_NOT_DEFINED",
                "Before creating a custom price, create a standard price.",
            )
    if new["Pricebook2Id"] == standard and new["UseStandardPrice"]:
        raise _integrity(
            "UseStandardPrice (standard price entries cannot use the standard price)",
            "UseStandardPrice",
        )
    if new["UseStandardPrice"]:
        standard_entry = ctx.get(
            "PricebookEntry",
            ctx.find_entry(standard, new["Product2Id"], currency, active_only=False),
        )
        new["UnitPrice"] = standard_entry["UnitPrice"]


def _pricebook_entry_delete(ctx, record) -> None:
    for child in ("OpportunityLineItem", "OrderItem"):
        if ctx.children(child, "PricebookEntryId", record["Id"]):
            raise ApiError(
                "DELETE_FAILED",
                "Your attempt to delete this price book entry could not be completed "
                "because it is used by opportunity or order products.",
            )
    if record["Pricebook2Id"] == ctx.standard_pricebook_id:
        others = ctx.children("PricebookEntry", "Product2Id", record["Product2Id"])
        if any(entry["Id"] != record["Id"] for entry in others):
            raise ApiError(
                "DELETE_FAILED",
                "You can't delete a standard price while custom prices exist for "
                "the product.",
            )


def _pricebook_delete(ctx, record) -> None:
    if record["IsStandard"]:
        raise ApiError("DELETE_FAILED", "You can't delete the standard price book.")


def _product_delete(ctx, record) -> None:
    for child in ("OpportunityLineItem", "OrderItem"):
        if ctx.children(child, "Product2Id", record["Id"]):
            raise ApiError(
                "DELETE_FAILED",
                "Your attempt to delete this product could not be completed because "
                "it is used by opportunity or order products.",
            )


def _account_delete(ctx, record) -> None:
    if ctx.children("Order", "AccountId", record["Id"]):
        raise ApiError(
            "DELETE_FAILED",
            "Your attempt to delete this account could not be completed because it "
            "is associated with orders.",
        )


def _contact(ctx, old, new, given) -> None:
    new["Name"] = " ".join(p for p in (new["FirstName"], new["LastName"]) if p)


BEFORE = {
    "Opportunity": _opportunity,
    "OpportunityLineItem": _opportunity_line,
    "Order": _order,
    "OrderItem": _order_item,
    "PricebookEntry": _pricebook_entry,
    "Contact": _contact,
}
AFTER = {"OpportunityLineItem": _roll_up_opportunity, "OrderItem": _roll_up_order}
DELETE_CHECKS = {
    "Order": _order_delete,
    "OrderItem": _order_item_delete,
    "PricebookEntry": _pricebook_entry_delete,
    "Pricebook2": _pricebook_delete,
    "Product2": _product_delete,
    "Account": _account_delete,
}
