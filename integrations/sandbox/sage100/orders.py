"""Sales and purchase orders as ``SO_SalesOrder_bus`` / ``PO_PurchaseOrder_bus``.

The rules follow SAGE100-FACTS.md section 4: header defaults come from the
customer (or vendor), lines from the item, numbers from the module counter;
a committed order moves ``AR_Customer.OpenOrderAmt`` and the item-warehouse
quantities; credit limit, credit hold and duplicate customer POs behave as the
company's S/O options say.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from integrations.agent.backends.base import BOIError, WriteResult
from integrations.sandbox.sage100 import rules, store
from integrations.sandbox.sage100.store import Txn

HEADER, DETAIL = "SO_SalesOrderHeader", "SO_SalesOrderDetail"
HISTORY = "SO_SalesOrderHistoryHeader"
PO_HEADER, PO_DETAIL = "PO_PurchaseOrderHeader", "PO_PurchaseOrderDetail"
COMPUTED = ("TaxableAmt", "NonTaxableAmt")  # the object totals the lines itself
# Quotes, master and repeating orders commit neither quantities nor credit.
COMMITTING = ("S", "B")
STATUSES = ("N", "O", "H", "C")
BILL_TO = {
    "BillToName": "CustomerName",
    "BillToAddress1": "AddressLine1",
    "BillToAddress2": "AddressLine2",
    "BillToAddress3": "AddressLine3",
    "BillToCity": "City",
    "BillToState": "State",
    "BillToZipCode": "ZipCode",
    "BillToCountryCode": "CountryCode",
}
FROM_CUSTOMER = {
    "TermsCode": "TermsCode",
    "TaxSchedule": "TaxSchedule",
    "SalespersonDivisionNo": "SalespersonDivisionNo",
    "SalespersonNo": "SalespersonNo",
    "ShipVia": "ShipMethod",
}
SHIP_TO = {
    f"ShipTo{part}": f"BillTo{part}"
    for part in ("Name", "Address1", "Address2", "Address3", "City", "State")
} | {"ShipToZipCode": "BillToZipCode", "ShipToCountryCode": "BillToCountryCode"}


# -- sales orders ------------------------------------------------------------
def create_sales_order(
    txn: Txn, header: dict[str, Any], lines: list[dict[str, Any]]
) -> WriteResult:
    data = txn.apply(HEADER, header, protected=COMPUTED)
    division, customer_no = data.get("ARDivisionNo"), data.get("CustomerNo")
    if not customer_no:
        raise rules.missing("CustomerNo")
    if not division:
        raise rules.missing("ARDivisionNo")
    customer = store.customer(txn, division, customer_no)
    if customer["CustomerStatus"] == "I":
        raise BOIError(
            f"Customer {division}-{customer_no} is inactive.", column="CustomerNo"
        )
    if data.get("OrderStatus") == "C":
        raise rules.invalid("OrderStatus")  # closing is not how an order starts
    store.terms(txn, data.get("TermsCode") or "")
    order_no = data.get("SalesOrderNo") or store.next_number(
        txn, "SO_Options", "NextSalesOrderNo", _order_taken(txn)
    )
    if _order_taken(txn)(order_no):
        raise BOIError(f"Sales order {order_no} already exists.", column="SalesOrderNo")
    row = {**_defaults(txn, customer, data), **data, "SalesOrderNo": order_no}
    store.warehouse(txn, row["WarehouseCode"])
    details = [_line(txn, row, n, line) for n, line in enumerate(lines, 1)]
    for name in ("OrderDate", "ShipExpireDate"):
        if not row.get(name):
            raise rules.missing(name)
    row.update(_totals(details))
    total = order_total(row)
    committing = row.get("OrderType", "S") in COMMITTING
    warnings = _credit(txn, customer, total, row) if committing else []
    warnings += _duplicate_po(txn, row)
    customer_key = {"ARDivisionNo": division, "CustomerNo": customer_no}
    if committing:
        txn.check_unlocked("AR_Customer", customer_key)
    txn.insert(HEADER, row)
    for detail in details:
        txn.insert(DETAIL, detail)
    if committing:
        _commit(txn, customer_key, total, details, sign=1)
    return _result(txn, order_no, warnings)


def update_order_status(txn: Txn, sales_order_no: str, status: str) -> WriteResult:
    """N/O/H just change; C closes: the order moves to history, commitments go."""
    status = str(status or "").upper()
    if status not in STATUSES:
        raise rules.invalid("OrderStatus")
    key = txn.normalise_key(HEADER, {"SalesOrderNo": sales_order_no})
    order_no = key["SalesOrderNo"]
    row = txn.get(HEADER, key)
    if row is None:
        closed = txn.get(HISTORY, key)
        if closed is not None and status == "C" and closed["OrderStatus"] == "C":
            return WriteResult(
                "SO_SalesOrder",
                key,
                txn.record(HISTORY, closed),
                warnings=[f"Sales order {order_no} is already closed."],
                created=False,
            )
        raise BOIError(
            f"Sales order {order_no} is not on file.",
            code="not_found",
            column="SalesOrderNo",
        )
    txn.check_unlocked(HEADER, key)
    if status != "C":
        txn.update(HEADER, key, {"OrderStatus": status})
        return _result(txn, order_no, [], created=False)
    customer_key = {
        "ARDivisionNo": row["ARDivisionNo"],
        "CustomerNo": row["CustomerNo"],
    }
    details = txn.select(DETAIL, key)
    if row["OrderType"] in COMMITTING:
        txn.check_unlocked("AR_Customer", customer_key)
        _commit(txn, customer_key, order_total(row), details, sign=-1)
    history_columns = txn.columns(HISTORY)
    kept = {
        name: value
        for name, value in row.items()
        if name.lower() in history_columns and name not in store.CREATED + store.UPDATED
    }
    txn.insert(HISTORY, {**kept, "OrderStatus": "C"})
    created = {name: row[name] for name in store.CREATED}
    txn.update(HISTORY, key, created, stamp=False)  # it is the same order
    txn.delete(DETAIL, key)
    txn.delete(HEADER, key)
    return WriteResult(
        "SO_SalesOrder", key, txn.record(HISTORY, txn.get(HISTORY, key)), created=False
    )


def order_total(row: dict[str, Any]) -> Decimal:
    """What the order adds to the customer's open order amount."""
    amount = sum(
        rules.decimal(row.get(name))
        for name in ("TaxableAmt", "NonTaxableAmt", "SalesTaxAmt", "FreightAmt")
    )
    return amount - rules.decimal(row.get("DiscountAmt"))


def _order_taken(txn: Txn):
    def taken(number: str) -> bool:
        key = {"SalesOrderNo": number}
        return txn.get(HEADER, key) is not None or txn.get(HISTORY, key) is not None

    return taken


def _defaults(txn: Txn, customer: dict, data: dict) -> dict[str, Any]:
    """Header values the object fills in from the customer when not given."""
    values: dict[str, Any] = {"OrderType": "S", "OrderStatus": "N"}
    values["WarehouseCode"] = "000"
    values.update({target: customer[source] for target, source in BILL_TO.items()})
    values.update(
        {target: customer[source] for target, source in FROM_CUSTOMER.items()}
    )
    code = data.get("ShipToCode") or customer["PrimaryShipToCode"]
    if code:
        address = store.ship_to(
            txn, customer["ARDivisionNo"], customer["CustomerNo"], code
        )
        values["ShipToCode"] = code
        values.update({name: address[name] for name in SHIP_TO if name in address})
    else:
        values.update({target: values[source] for target, source in SHIP_TO.items()})
    return values


def _line(txn: Txn, header: dict, number: int, values: dict) -> dict[str, Any]:
    data = txn.apply(DETAIL, values, protected=("SalesOrderNo",))
    code = data.get("ItemCode")
    if not code:
        raise rules.missing("ItemCode")
    warehouse = data.get("WarehouseCode") or header["WarehouseCode"]
    store.warehouse(txn, warehouse)
    item = store.item(txn, code, warehouse_code=warehouse)
    if data.get("ItemType") not in (None, item["ItemType"]):
        raise rules.invalid("ItemType")
    line = {
        "ItemType": item["ItemType"],
        "ItemCodeDesc": item["ItemCodeDesc"],
        "UnitOfMeasure": item["SalesUnitOfMeasure"],
        "UnitPrice": txn.value(DETAIL, "UnitPrice", item["StandardUnitPrice"]),
        "UnitCost": txn.value(DETAIL, "UnitCost", item["StandardUnitCost"]),
        "SalesAcctKey": item["SalesAcctKey"],
        "TaxClass": item["TaxClass"],
        "Discount": "N",
        "PromiseDate": header.get("ShipExpireDate"),
        **data,
        "SalesOrderNo": header["SalesOrderNo"],
        "LineKey": f"{number:06d}",
        "LineSeqNo": f"{number:014d}",
        "WarehouseCode": warehouse,
    }
    quantity = rules.decimal(line.get("QuantityOrdered"))
    if quantity < 0:
        raise rules.invalid("QuantityOrdered")
    if "ExtensionAmt" not in data and line["ItemType"] != "4":
        gross = quantity * rules.decimal(line["UnitPrice"])
        discount = rules.decimal(line.get("LineDiscountPercent")) / 100
        line["ExtensionAmt"] = txn.value(DETAIL, "ExtensionAmt", gross * (1 - discount))
    return line


def _totals(details: list[dict]) -> dict[str, str]:
    taxable = non_taxable = Decimal(0)
    for line in details:
        amount = rules.decimal(line.get("ExtensionAmt"))
        if (line.get("TaxClass") or "TX") == "NT":
            non_taxable += amount
        else:
            taxable += amount
    return {
        "TaxableAmt": f"{rules.quantize(taxable, 2):f}",
        "NonTaxableAmt": f"{rules.quantize(non_taxable, 2):f}",
    }


def _credit(txn: Txn, customer: dict, total: Decimal, row: dict) -> list[str]:
    """Credit hold or an order above available credit: hold it, or refuse it."""
    limit = rules.decimal(customer["CreditLimit"])
    available = (
        limit
        - rules.decimal(customer["CurrentBalance"])
        - rules.decimal(customer["OpenOrderAmt"])
    )
    on_hold = customer["CreditHold"] == "Y"
    if not on_hold and not (limit > 0 and total > available):
        return []
    who = f"{customer['ARDivisionNo']}-{customer['CustomerNo']}"
    if txn.option("SO_Options", "AllowCreditOverride") != "Y":
        message = (
            "The customer is on credit hold."
            if on_hold
            else "The order exceeds the customer's credit limit."
        )
        raise BOIError(message, code="invalid", column="CustomerNo")
    row["OrderStatus"] = "H"
    if on_hold:
        return [f"Customer {who} is on credit hold; the order is on hold."]
    return [
        f"The order exceeds the customer's credit limit (available "
        f"{rules.quantize(available, 2)}); the order is on hold."
    ]


def _duplicate_po(txn: Txn, row: dict) -> list[str]:
    po = row.get("CustomerPONo")
    if not po:
        return []
    earlier = txn.select(
        HEADER,
        {
            "ARDivisionNo": row["ARDivisionNo"],
            "CustomerNo": row["CustomerNo"],
            "CustomerPONo": po,
        },
    )
    if not earlier:
        return []
    message = (
        f"Customer PO {po} is already on sales order {earlier[0]['SalesOrderNo']}."
    )
    if txn.option("SO_Options", "AllowDuplicatePONo") != "Y":
        raise BOIError(message, code="invalid", column="CustomerPONo")
    return [message]


def _commit(txn: Txn, customer_key, total: Decimal, details, *, sign: int) -> None:
    """Open order amount and quantity on sales order follow the open orders."""
    txn.add("AR_Customer", customer_key, "OpenOrderAmt", sign * total)
    for line in details:
        if line.get("ItemType") == "1":
            txn.add(
                "IM_ItemWarehouse",
                {"ItemCode": line["ItemCode"], "WarehouseCode": line["WarehouseCode"]},
                "QuantityOnSalesOrder",
                sign * rules.decimal(line.get("QuantityOrdered")),
            )


def _result(txn: Txn, order_no: str, warnings, *, created=True) -> WriteResult:
    key = {"SalesOrderNo": order_no}
    return WriteResult(
        "SO_SalesOrder",
        key,
        txn.record(HEADER, txn.get(HEADER, key)),
        [txn.record(DETAIL, line) for line in txn.select(DETAIL, key)],
        warnings=list(warnings),
        created=created,
    )


# -- purchase orders ---------------------------------------------------------
def create_purchase_order(
    txn: Txn, header: dict[str, Any], lines: list[dict[str, Any]]
) -> WriteResult:
    data = txn.apply(PO_HEADER, header, protected=COMPUTED)
    division, vendor_no = data.get("APDivisionNo"), data.get("VendorNo")
    if not vendor_no:
        raise rules.missing("VendorNo")
    if not division:
        raise rules.missing("APDivisionNo")
    vendor = store.vendor(txn, division, vendor_no)

    def taken(number: str) -> bool:
        return txn.get(PO_HEADER, {"PurchaseOrderNo": number}) is not None

    order_no = data.get("PurchaseOrderNo") or store.next_number(
        txn, "PO_Options", "NextPurchaseOrderNo", taken
    )
    if taken(order_no):
        raise BOIError(
            f"Purchase order {order_no} already exists.", column="PurchaseOrderNo"
        )
    row = {
        "OrderStatus": "N",
        "WarehouseCode": "000",
        "TermsCode": vendor["TermsCode"],
        **data,
        "PurchaseOrderNo": order_no,
    }
    store.warehouse(txn, row["WarehouseCode"])
    details = [_po_line(txn, row, n, line) for n, line in enumerate(lines, 1)]
    if not row.get("PurchaseOrderDate"):
        raise rules.missing("PurchaseOrderDate")
    amount = sum((rules.decimal(d.get("ExtensionAmt")) for d in details), Decimal(0))
    row.update(TaxableAmt="0.00", NonTaxableAmt=f"{rules.quantize(amount, 2):f}")
    txn.insert(PO_HEADER, row)
    for detail in details:
        txn.insert(PO_DETAIL, detail)
        if detail["ItemType"] == "1":
            txn.add(
                "IM_ItemWarehouse",
                {
                    "ItemCode": detail["ItemCode"],
                    "WarehouseCode": detail["WarehouseCode"],
                },
                "QuantityOnPurchaseOrder",
                rules.decimal(detail.get("QuantityOrdered")),
            )
    key = {"PurchaseOrderNo": order_no}
    return WriteResult(
        "PO_PurchaseOrder",
        key,
        txn.record(PO_HEADER, txn.get(PO_HEADER, key)),
        [txn.record(PO_DETAIL, line) for line in txn.select(PO_DETAIL, key)],
    )


def _po_line(txn: Txn, header: dict, number: int, values: dict) -> dict[str, Any]:
    data = txn.apply(PO_DETAIL, values, protected=("PurchaseOrderNo",))
    code = data.get("ItemCode")
    if not code:
        raise rules.missing("ItemCode")
    warehouse = data.get("WarehouseCode") or header["WarehouseCode"]
    store.warehouse(txn, warehouse)
    item = store.item(txn, code, warehouse_code=warehouse)
    line = {
        "ItemType": item["ItemType"],
        "ItemCodeDesc": item["ItemCodeDesc"],
        "UnitOfMeasure": item["PurchaseUnitOfMeasure"],
        "UnitCost": txn.value(PO_DETAIL, "UnitCost", item["StandardUnitCost"]),
        "RequiredDate": header.get("RequiredExpireDate"),
        **data,
        "PurchaseOrderNo": header["PurchaseOrderNo"],
        "LineKey": f"{number:06d}",
        "LineSeqNo": f"{number:014d}",
        "WarehouseCode": warehouse,
    }
    quantity = rules.decimal(line.get("QuantityOrdered"))
    if quantity < 0:
        raise rules.invalid("QuantityOrdered")
    if "ExtensionAmt" not in data:
        gross = quantity * rules.decimal(line["UnitCost"])
        line["ExtensionAmt"] = txn.value(PO_DETAIL, "ExtensionAmt", gross)
    return line
