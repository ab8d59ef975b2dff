"""The demo company's activity: posted and open invoices, open orders, bills.

Kept consistent the way Sage keeps it: a customer's ``CurrentBalance`` is the
sum of its open invoice balances (past-due parts also counted in the aging
categories), ``OpenOrderAmt`` and the item-warehouse quantities on sales and
purchase order are the sums of the open orders, and a vendor's
``CurrentBalance`` is the sum of its open A/P invoices.

``purchase_cycle`` plays one more purchase during a demo, through the agent.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from integrations.sandbox.sage100.seed_data import TERMS

if TYPE_CHECKING:
    from integrations.sandbox.sage100.database import CompanyDatabase
    from integrations.sandbox.sage100.seed import Rows

# GL_Account keys of the seeded chart (seed_data.GL, numbered from 1).
INVENTORY_ACCOUNT, RENT_ACCOUNT = "000000003", "000000012"


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


def ap_invoices(rows: Rows) -> None:
    """Vendors' bills: most purchase orders billed in full, some rent bills,
    a few partly paid, so procure-to-pay has open balances to show."""
    terms = {code: days for code, _, days, _, _ in TERMS}
    vendors = {(v["APDivisionNo"], v["VendorNo"]): v for v in rows.tables["AP_Vendor"]}
    bills = []
    for order in rows.tables["PO_PurchaseOrderHeader"][:8]:
        bills.append(
            (
                (order["APDivisionNo"], order["VendorNo"]),
                Decimal(order["NonTaxableAmt"]),
                INVENTORY_ACCOUNT,
                order["PurchaseOrderNo"],
            )
        )
    for vendor in rows.tables["AP_Vendor"][10:16]:
        amount = rows.money(400, 2500)
        key = (vendor["APDivisionNo"], vendor["VendorNo"])
        bills.append((key, amount, RENT_ACCOUNT, ""))
    for n, (key, amount, account, order_no) in enumerate(bills):
        vendor = vendors[key]
        invoiced = rows.today - timedelta(days=rows.rng.randint(1, 45))
        due = invoiced + timedelta(days=terms[vendor["TermsCode"]])
        paid = rows.money(1, float(amount) / 2) if n % 4 == 1 else Decimal(0)
        rows.add(
            "AP_OpenInvoice",
            APDivisionNo=key[0],
            VendorNo=key[1],
            InvoiceNo=f"{rows.rng.choice(('INV', 'B', 'A'))}{70000 + n * 37}",
            InvoiceDate=invoiced.isoformat(),
            InvoiceDueDate=due.isoformat(),
            InvoiceAmt=f"{amount}",
            Balance=f"{amount - paid}",
            ExpenseAcctKey=account,
            PurchaseOrderNo=order_no,
            DateCreated=invoiced.isoformat(),
        )
        vendor["CurrentBalance"] = (
            f"{Decimal(vendor['CurrentBalance']) + amount - paid}"
        )


def purchase_cycle(
    agent: Any, db: CompanyDatabase, *, day: date, tag: str
) -> tuple[dict, dict]:
    """One purchase during the demo: a purchase order for a vendor's item, then
    the vendor's bill for it, both entered through the agent as a Sage user
    would. ``agent`` is an ``AgentClient``; ``tag`` (up to 10 characters, e.g.
    ``"D0001"``) makes the bill's number and the writes' idempotency keys, so
    playing the same tag twice writes nothing new.
    """
    with db.connect() as con:
        found = con.execute(
            "SELECT i.ItemCode, i.StandardUnitCost, i.PrimaryAPDivisionNo, "
            "i.PrimaryVendorNo FROM CI_Item i JOIN AP_Vendor v "
            "ON v.APDivisionNo = i.PrimaryAPDivisionNo "
            "AND v.VendorNo = i.PrimaryVendorNo "
            "WHERE i.ItemType = '1' AND i.InactiveItem = 'N' AND i.UseInPO = 'Y' "
            "ORDER BY i.ItemCode"
        ).fetchall()
    if not found:
        raise ValueError(f"Company {db.company} has no item with a vendor on file.")
    item, cost, division, vendor_no = found[sum(map(ord, tag)) % len(found)]
    quantity = 5 + sum(map(ord, tag)) % 20
    order = agent.create_purchase_order(
        {
            "APDivisionNo": division,
            "VendorNo": vendor_no,
            "PurchaseOrderDate": day.isoformat(),
            "Comment": f"Demo purchase {tag}",
        },
        [{"ItemCode": item, "QuantityOrdered": quantity}],
        idempotency_key=f"demo-po-{tag}",
        reference={"column": "Comment", "value": f"Demo purchase {tag}"},
    )
    amount = Decimal(str(cost or 0)) * quantity
    bill = agent.create_ap_invoice(
        {
            "APDivisionNo": division,
            "VendorNo": vendor_no,
            "InvoiceNo": tag,
            "InvoiceDate": day.isoformat(),
            "InvoiceAmt": f"{amount:.2f}",
            "ExpenseAcctKey": INVENTORY_ACCOUNT,
            "PurchaseOrderNo": order["key"]["PurchaseOrderNo"],
        },
        idempotency_key=f"demo-bill-{tag}",
        reference={"column": "InvoiceNo", "value": tag},
    )
    return order, bill
