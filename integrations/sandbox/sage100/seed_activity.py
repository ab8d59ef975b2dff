"""The demo company's activity: posted and open invoices, open orders.

Kept consistent the way Sage keeps it: a customer's ``CurrentBalance`` is the
sum of its open invoice balances (past-due parts also counted in the aging
categories), ``OpenOrderAmt`` and the item-warehouse quantities on sales and
purchase order are the sums of the open orders.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from integrations.sandbox.sage100.seed_data import TERMS

if TYPE_CHECKING:
    from integrations.sandbox.sage100.seed import Rows


def invoices(rows: Rows) -> None:
    """Posted invoices (history); the recent ones are still open."""
    terms = {code: days for code, _, days, _, _ in TERMS}
    stocked = [
        r for r in rows.tables["IM_ItemWarehouse"] if r["WarehouseCode"] == "000"
    ]
    prices = {
        i["ItemCode"]: Decimal(i["StandardUnitPrice"])
        for i in rows.tables["CI_Item"]
        if i["ItemType"] == "1"
    }
    for n, customer in enumerate(rows.tables["AR_Customer"][::2]):
        for k in range(rows.rng.randint(1, 4)):
            number = f"{100 + n * 4 + k:07d}"
            invoiced = rows.today - timedelta(days=rows.rng.randint(1, 150))
            due = invoiced + timedelta(days=terms[customer["TermsCode"]])
            item = rows.rng.choice(stocked)["ItemCode"]
            quantity = rows.rng.randint(1, 12)
            amount = prices[item] * quantity
            key = {
                "ARDivisionNo": customer["ARDivisionNo"],
                "CustomerNo": customer["CustomerNo"],
            }
            rows.add(
                "AR_InvoiceHistoryHeader",
                InvoiceNo=number,
                HeaderSeqNo="000000",
                InvoiceType="IN",
                InvoiceDate=invoiced.isoformat(),
                InvoiceDueDate=due.isoformat(),
                **key,
                TermsCode=customer["TermsCode"],
                TaxableSalesAmt=f"{amount}",
                BillToName=customer["CustomerName"],
                DateCreated=invoiced.isoformat(),
            )
            rows.add(
                "AR_InvoiceHistoryDetail",
                InvoiceNo=number,
                HeaderSeqNo="000000",
                DetailSeqNo="000001",
                ItemCode=item,
                ItemType="1",
                WarehouseCode="000",
                QuantityShipped=quantity,
                UnitPrice=f"{prices[item]}",
                ExtensionAmt=f"{amount}",
            )
            if (rows.today - invoiced).days < 100 and customer["CustomerStatus"] == "A":
                paid = rows.money(0, float(amount) / 2) if k % 3 == 2 else Decimal(0)
                rows.add(
                    "AR_OpenInvoice",
                    **key,
                    InvoiceNo=number,
                    InvoiceType="IN",
                    InvoiceDate=invoiced.isoformat(),
                    InvoiceDueDate=due.isoformat(),
                    InvoiceAmt=f"{amount}",
                    Balance=f"{amount - paid}",
                    CustomerPONo=f"PO{rows.rng.randint(10000, 99999)}",
                )
    customers = {
        (c["ARDivisionNo"], c["CustomerNo"]): c for c in rows.tables["AR_Customer"]
    }
    for invoice in rows.tables["AR_OpenInvoice"]:
        customer = customers[invoice["ARDivisionNo"], invoice["CustomerNo"]]
        balance = Decimal(invoice["Balance"])
        late = (rows.today - date.fromisoformat(invoice["InvoiceDueDate"])).days
        customer["CurrentBalance"] = f"{Decimal(customer['CurrentBalance']) + balance}"
        if late > 0:  # past-due part of the balance, by 30-day category
            bucket = f"AgingCategory{min(4, 1 + (late - 1) // 30)}"
            customer[bucket] = f"{Decimal(customer[bucket]) + balance}"


def orders(rows: Rows) -> None:
    """Open sales orders (committing) and purchase orders."""
    customers = [c for c in rows.tables["AR_Customer"] if c["CustomerStatus"] == "A"]
    items = {i["ItemCode"]: i for i in rows.tables["CI_Item"]}
    stock = defaultdict(list)
    for row in rows.tables["IM_ItemWarehouse"]:
        if items[row["ItemCode"]]["InactiveItem"] == "N":
            stock[row["WarehouseCode"]].append(row)
    for n in range(40):
        customer = customers[(n * 7) % len(customers)]
        warehouse = "001" if customer["ARDivisionNo"] == "02" else "000"
        number, ordered = (
            f"{1001 + n:07d}",
            rows.today - timedelta(days=rows.rng.randint(0, 30)),
        )
        total = Decimal(0)
        for k in range(rows.rng.randint(1, 5)):
            place = rows.rng.choice(stock[warehouse])
            item, quantity = items[place["ItemCode"]], rows.rng.randint(1, 10)
            price = Decimal(item["StandardUnitPrice"])
            total += price * quantity
            rows.add(
                "SO_SalesOrderDetail",
                SalesOrderNo=number,
                LineKey=f"{k + 1:06d}",
                LineSeqNo=f"{k + 1:014d}",
                ItemCode=item["ItemCode"],
                ItemType="1",
                ItemCodeDesc=item["ItemCodeDesc"],
                WarehouseCode=warehouse,
                QuantityOrdered=quantity,
                UnitOfMeasure="EACH",
                UnitPrice=f"{price}",
                UnitCost=item["StandardUnitCost"],
                ExtensionAmt=f"{price * quantity}",
                Discount="N",
                SalesAcctKey=item["SalesAcctKey"],
                TaxClass="TX",
            )
            place["QuantityOnSalesOrder"] = (
                Decimal(place["QuantityOnSalesOrder"]) + quantity
            )
        address = {
            f"BillTo{k}": customer[v]
            for k, v in (
                ("Name", "CustomerName"),
                ("Address1", "AddressLine1"),
                ("City", "City"),
                ("State", "State"),
                ("ZipCode", "ZipCode"),
                ("CountryCode", "CountryCode"),
            )
        }
        rows.add(
            "SO_SalesOrderHeader",
            SalesOrderNo=number,
            OrderDate=ordered.isoformat(),
            OrderType="S",
            OrderStatus="H" if customer["CreditHold"] == "Y" else rows.rng.choice("NO"),
            ShipExpireDate=(ordered + timedelta(days=7)).isoformat(),
            ARDivisionNo=customer["ARDivisionNo"],
            CustomerNo=customer["CustomerNo"],
            **address,
            **{k.replace("BillTo", "ShipTo"): v for k, v in address.items()},
            CustomerPONo=f"PO-{40000 + n * 13}",
            WarehouseCode=warehouse,
            TermsCode=customer["TermsCode"],
            TaxSchedule=customer["TaxSchedule"],
            SalespersonDivisionNo=customer["SalespersonDivisionNo"],
            SalespersonNo=customer["SalespersonNo"],
            ShipVia=customer["ShipMethod"],
            TaxableAmt=f"{total}",
            DateCreated=ordered.isoformat(),
        )
        customer["OpenOrderAmt"] = f"{Decimal(customer['OpenOrderAmt']) + total}"
    for n in range(10):
        vendor = rows.tables["AP_Vendor"][n]
        number, amount = f"{n + 1:07d}", Decimal(0)
        for k, place in enumerate(rows.rng.sample(stock["000"], 3)):
            cost, quantity = (
                Decimal(items[place["ItemCode"]]["StandardUnitCost"]),
                10 * (k + 1),
            )
            amount += cost * quantity
            rows.add(
                "PO_PurchaseOrderDetail",
                PurchaseOrderNo=number,
                LineKey=f"{k + 1:06d}",
                LineSeqNo=f"{k + 1:014d}",
                ItemCode=place["ItemCode"],
                ItemType="1",
                ItemCodeDesc=items[place["ItemCode"]]["ItemCodeDesc"],
                WarehouseCode="000",
                QuantityOrdered=quantity,
                UnitOfMeasure="EACH",
                UnitCost=f"{cost}",
                ExtensionAmt=f"{cost * quantity}",
            )
            place["QuantityOnPurchaseOrder"] = (
                Decimal(place["QuantityOnPurchaseOrder"]) + quantity
            )
        rows.add(
            "PO_PurchaseOrderHeader",
            PurchaseOrderNo=number,
            OrderStatus="O",
            PurchaseOrderDate=(rows.today - timedelta(days=n)).isoformat(),
            APDivisionNo=vendor["APDivisionNo"],
            VendorNo=vendor["VendorNo"],
            WarehouseCode="000",
            TermsCode=vendor["TermsCode"],
            NonTaxableAmt=f"{amount}",
        )
    for place in rows.tables["IM_ItemWarehouse"]:
        for name in ("QuantityOnSalesOrder", "QuantityOnPurchaseOrder"):
            place[name] = f"{Decimal(place[name]):.4f}"
