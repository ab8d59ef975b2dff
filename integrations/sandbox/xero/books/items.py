"""Items (Xero's price list): Code is the key clients use on invoice lines.

Rules: Code is required and unique (spec message "Price List Item with Code
''abc'' already exists" on create); POST updates by ItemID or Code; sales and
purchase details must name valid accounts and tax types; a tracked inventory
item needs an inventory asset account and a COGS account, as in Xero.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from integrations.sandbox.xero.books import chart, rules
from integrations.sandbox.xero.books.rules import Invalid, Problems
from integrations.sandbox.xero.books.state import Books

DETAILS = ("SalesDetails", "PurchaseDetails")


def save(
    books: Books,
    data: Any,
    *,
    create_only: bool,
    unitdp: int,
    item_id: str | None = None,
) -> tuple[dict, bool]:
    if not isinstance(data, dict):
        raise Invalid("An Item must be a JSON object.")
    problems = Problems()
    existing = None
    given_id = (item_id or rules.text(data.get("ItemID"))).lower()
    code = rules.text(data.get("Code"))
    if given_id:
        existing = books.items.get(given_id)
        if create_only and existing is not None:
            problems.add(rules.already_exists("Item", "ItemID", given_id))
        if not create_only and existing is None:
            problems.add(rules.existing_not_found("Item", "ItemID"))
    elif code:
        found = books.item_by_code(code)
        if found is not None:
            if create_only:
                problems.add(rules.item_code_taken(code))
            else:
                existing = found
    if existing is None and not code:
        problems.add("Item Code must be specified.")
    if code and existing is not None:
        other = books.item_by_code(code)
        if other is not None and other is not existing:
            problems.add(rules.item_code_taken(code))
    details: dict[str, dict] = {}
    for key in DETAILS:
        given = data.get(key)
        if given is None:
            continue
        if not isinstance(given, dict):
            problems.add(f"{key} must be an object.")
            continue
        details[key] = _details(books, key, given, unitdp, problems)
    tracked = data.get("IsTrackedAsInventory")
    if tracked is None and existing is not None:
        tracked = existing.get("IsTrackedAsInventory", False)
    if tracked:
        asset = rules.text(
            data.get("InventoryAssetAccountCode")
            or (existing or {}).get("InventoryAssetAccountCode")
        )
        account = books.account_by_code(asset) if asset else None
        if account is None or account.get("Type") != "INVENTORY":
            problems.add(
                "InventoryAssetAccountCode must be an inventory account for a tracked "
                "item."
            )
        purchase = details.get("PurchaseDetails") or (existing or {}).get(
            "PurchaseDetails", {}
        )
        if not purchase.get("COGSAccountCode"):
            problems.add(
                "PurchaseDetails.COGSAccountCode must be given for a tracked item."
            )
    problems.check()

    created = existing is None
    record = existing or {
        "ItemID": given_id or books.new_id(),
        "Code": code,
        "IsSold": False,
        "IsPurchased": False,
        "IsTrackedAsInventory": False,
    }
    if code:
        record["Code"] = code
    for key in ("Name", "Description", "PurchaseDescription"):
        if key in data:
            record[key] = data[key]
    for key, value in details.items():
        record[key] = {**record.get(key, {}), **value}
        flag = "IsSold" if key == "SalesDetails" else "IsPurchased"
        record[flag] = True
    for flag in ("IsSold", "IsPurchased"):
        if flag in data:
            record[flag] = bool(data[flag])
    if tracked:
        record["IsTrackedAsInventory"] = True
        record["InventoryAssetAccountCode"] = rules.text(
            data.get("InventoryAssetAccountCode")
            or record.get("InventoryAssetAccountCode")
        )
        record.setdefault("QuantityOnHand", Decimal("0.00"))
        record.setdefault("TotalCostPool", Decimal("0.00"))
    elif tracked is not None:
        record["IsTrackedAsInventory"] = False
    books.items[record["ItemID"]] = record
    books.changed("items", "CREATE" if created else "UPDATE", record)
    return record, created


def _details(
    books: Books, key: str, given: dict, unitdp: int, problems: Problems
) -> dict:
    found: dict = {}
    price = rules.decimal(given.get("UnitPrice"), f"{key}.UnitPrice", problems)
    if price is not None:
        found["UnitPrice"] = rules.unit(price, unitdp)
    account = None
    for field in ("AccountCode", "COGSAccountCode"):
        code = rules.text(given.get(field))
        if code:
            checked = books.account_by_code(code)
            if checked is None or checked.get("Status") != "ACTIVE":
                problems.add(rules.account_not_valid(code))
            elif field == "AccountCode":
                account = checked
            found[field] = code
    tax_type = rules.text(given.get("TaxType"))
    if tax_type:
        chart.tax_rate(books, tax_type, account, problems)
        found["TaxType"] = tax_type
    return copy.deepcopy(found)
