"""Demo data shaped like Sage's ABC sample company: a small office distributor.

Deterministic for a given ``rng_seed`` (and ``today``), consistent the way
Sage keeps it: customer balances are the sum of their open invoices, open
order amounts and quantities on sales / purchase order are the sum of the open
orders, counters sit past every seeded number, and every stamped row is
stamped. One transaction, well under a second for a few hundred customers.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from integrations.sandbox.sage100 import rules, seed_activity
from integrations.sandbox.sage100.database import CompanyDatabase, SimulatorError
from integrations.sandbox.sage100.schema import TABLES
from integrations.sandbox.sage100.seed_data import (
    CITIES,
    FIRST,
    GL,
    ITEMS,
    MISC,
    SECOND,
    STREETS,
    TERMS,
    VENDOR_KINDS,
)

CENT = Decimal("0.01")


class Rows:
    """Rows collected per table, written with Sage's blanks and stamps."""

    def __init__(self, rng_seed: int, today: date) -> None:
        self.rng, self.today = random.Random(rng_seed), today
        # Stamps draw from their own generator, so the data does not depend
        # on the day it was seeded.
        self.clock = random.Random(rng_seed + 1)
        self.tables: dict[str, list[dict]] = defaultdict(list)
        self.blanks: dict[str, dict] = {}

    def add(self, table: str, **values) -> dict:
        if table not in self.blanks:
            self.blanks[table] = {c.name: rules.blank(c) for c in TABLES[table].columns}
        row = dict(self.blanks[table])
        row.update(values)
        if TABLES[table].stamped:
            created = self.today - timedelta(days=self.clock.randint(30, 900))
            if "DateCreated" in values:
                created = date.fromisoformat(values["DateCreated"])
            age = (self.today - created).days
            updated = created + timedelta(days=self.clock.randint(0, max(0, age)))
            row.update(
                DateCreated=created.isoformat(),
                TimeCreated=self.hours(),
                UserCreatedKey="0000000001",
                DateUpdated=updated.isoformat(),
                TimeUpdated=self.hours(),
                UserUpdatedKey=self.clock.choice(("0000000001", "0000000002")),
            )
        self.tables[table].append(row)
        return row

    def hours(self) -> str:
        return f"{self.clock.randint(7 * 3600, 18 * 3600) / 3600:.5f}"

    def money(self, low: float, high: float) -> Decimal:
        return Decimal(str(self.rng.uniform(low, high))).quantize(CENT)


def seed(
    db: CompanyDatabase,
    *,
    customers: int = 300,
    rng_seed: int = 100,
    today: date | None = None,
) -> dict[str, int]:
    """Fill a freshly created company; returns the row count per table."""
    today = today or date.today()
    rows = Rows(rng_seed, today)
    with db.connect() as con:
        if con.execute("SELECT COUNT(*) FROM AR_Customer").fetchone()[0]:
            raise SimulatorError(
                f"Company {db.company} already has data; reset it first."
            )
        _masters(rows)
        _customers(rows, customers)
        _items(rows)
        seed_activity.invoices(rows)
        seed_activity.orders(rows)
        seed_activity.ap_invoices(rows)
        con.execute(
            "UPDATE SY_Company SET CompanyName = ?",
            ("ABC Distribution and Service Corp.",),
        )
        con.executemany(
            "INSERT OR IGNORE INTO SIM_User VALUES (?, ?)",
            [("ADMIN", "0000000001"), ("JANE", "0000000002")],
        )
        for table, batch in rows.tables.items():
            names = list(batch[0])
            con.executemany(
                f'INSERT INTO "{table}" ({", ".join(names)}) '
                f"VALUES ({', '.join('?' * len(names))})",
                [tuple(row[n] for n in names) for row in batch],
            )
        _counters(con, rows)
    return {table: len(batch) for table, batch in rows.tables.items()}


def _masters(rows: Rows) -> None:
    for number, text in (("01", "Division 01 - West"), ("02", "Division 02 - East")):
        rows.add("AR_Division", ARDivisionNo=number, DivisionDescription=text)
    for number, text in (("00", "Default"), ("01", "Domestic Vendors")):
        rows.add("AP_Division", APDivisionNo=number, DivisionDescription=text)
    for code, text, due, discount_days, rate in TERMS:
        rows.add(
            "AR_TermsCode",
            TermsCode=code,
            TermsCodeDesc=text,
            DaysBeforeDue=due,
            DiscountDays=discount_days,
            DiscountRate=rate,
        )
    for code, text in (("000", "Central Warehouse"), ("001", "East Warehouse")):
        rows.add("IM_Warehouse", WarehouseCode=code, WarehouseDesc=text)
    for n, (account, text, kind) in enumerate(GL, 1):
        rows.add(
            "GL_Account",
            AccountKey=f"{n:09d}",
            Account=account,
            AccountDesc=text,
            AccountType=kind,
            Status="A",
        )
    codes = _Codes()
    for n in range(25):
        name = f"{rows.rng.choice(FIRST)} {rows.rng.choice(VENDOR_KINDS)}"
        vendor_no = codes.make(name)
        rows.add(
            "AP_Vendor",
            APDivisionNo="01" if n < 20 else "00",
            VendorNo=vendor_no,
            VendorName=name,
            TermsCode=rows.rng.choice(("01", "05")),
            **_address(rows),
            TelephoneNo=_phone(rows),
        )


def _customers(rows: Rows, count: int) -> None:
    codes = _Codes("ABF")
    for n in range(count):
        if n == 0:
            name, number, division = "American Business Futures", "ABF", "01"
        else:
            name = f"{rows.rng.choice(FIRST)} {rows.rng.choice(SECOND)}"[:30]
            number, division = codes.make(name), "01" if n % 5 < 3 else "02"
        domain = "".join(ch for ch in "".join(name.lower().split()[:2]) if ch.isalnum())
        limit = rows.rng.choice((0, 5000, 10000, 25000, 50000))
        hold, inactive = n % 23 == 7, n % 29 == 11
        rows.add(
            "AR_Customer",
            ARDivisionNo=division,
            CustomerNo=number,
            CustomerName=name,
            **_address(rows),
            TelephoneNo=_phone(rows),
            EmailAddress=f"ap@{domain}.com",
            URLAddress=f"www.{domain}.com",
            TermsCode=rows.rng.choice(("01", "01", "02", "05", "00")),
            SalespersonDivisionNo=division,
            SalespersonNo=f"{division}{rows.rng.randint(1, 4):02d}",
            SortField=name.upper()[:10],
            CustomerStatus="I" if inactive else "A",
            CustomerType=rows.rng.choice(("RET", "WHL", "GOV")),
            TaxSchedule="DEFAULT",
            CreditLimit=f"{limit}.00",
            CreditHold="Y" if hold else "N",
            ShipMethod=rows.rng.choice(("UPS GROUND", "FEDEX", "WILL CALL")),
            DateEstablished=(
                rows.today - timedelta(days=rows.rng.randint(200, 4000))
            ).isoformat(),
        )
        if n % 10 == 0:
            rows.add(
                "AR_CustomerShipAddress",
                ARDivisionNo=division,
                CustomerNo=number,
                ShipToCode="WHSE",
                ShipToName=f"{name[:20]} Warehouse",
                **{f"ShipTo{k}": v for k, v in _ship_address(rows).items()},
            )


def _items(rows: Rows) -> None:
    vendors = rows.tables["AP_Vendor"]
    for series, line, maker, models, text, (low, high) in ITEMS:
        for i, model in enumerate(models.split()):
            cost = rows.money(low, high)
            code = f"{series}-{maker}-{model}"
            vendor = vendors[(len(rows.tables["CI_Item"])) % 20]
            rows.add(
                "CI_Item",
                ItemCode=code,
                ItemType="1",
                ItemCodeDesc=f"{text} {model}",
                ProductLine=line,
                ProductType="F",
                Valuation="2",
                StandardUnitOfMeasure="EACH",
                SalesUnitOfMeasure="EACH",
                PurchaseUnitOfMeasure="EACH",
                StandardUnitCost=f"{cost}",
                AverageUnitCost=f"{cost}",
                StandardUnitPrice=f"{(cost * Decimal('1.55')).quantize(CENT)}",
                SuggestedRetailPrice=f"{(cost * Decimal('1.9')).quantize(CENT)}",
                TaxClass="TX",
                DefaultWarehouseCode="000",
                PrimaryAPDivisionNo="01",
                PrimaryVendorNo=vendor["VendorNo"],
                InactiveItem="Y" if i == 7 else "N",
                SalesAcctKey="000000006",
                CostOfGoodsSoldAcctKey="000000010",
                InventoryAcctKey="000000003",
                UseInSO="Y",
                UseInPO="Y",
                AllowBackOrders="Y",
            )
            # Every fourth item is stocked in the central warehouse only.
            for warehouse in ("000",) if i % 4 == 3 else ("000", "001"):
                rows.add(
                    "IM_ItemWarehouse",
                    ItemCode=code,
                    WarehouseCode=warehouse,
                    QuantityOnHand=rows.rng.randint(0, 400),
                    AverageCost=f"{cost}",
                    ReorderPointQty=rows.rng.choice((10, 20, 50)),
                )
    for code, kind, text in MISC:
        rows.add(
            "CI_Item",
            ItemCode=code,
            ItemType=kind,
            ItemCodeDesc=text,
            InactiveItem="N",
            UseInSO="Y",
            UseInPO="N",
            TaxClass="NT",
            SalesAcctKey="000000005",
        )
    on_hand: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows.tables["IM_ItemWarehouse"]:
        on_hand[row["ItemCode"]] += Decimal(row["QuantityOnHand"])
    for item in rows.tables["CI_Item"]:
        item["TotalQuantityOnHand"] = f"{on_hand[item['ItemCode']]:.4f}"


def _counters(con, rows: Rows) -> None:
    def after(table: str, column: str) -> str:
        return f"{max(int(r[column]) for r in rows.tables[table]) + 1:07d}"

    con.execute(
        "UPDATE AR_Options SET AutoNumberCustomers = 'Y', NextCustomerNo = '0000001'"
    )
    con.execute(
        "UPDATE SO_Options SET NextSalesOrderNo = ?, NextInvoiceNo = ?",
        (
            after("SO_SalesOrderHeader", "SalesOrderNo"),
            after("AR_InvoiceHistoryHeader", "InvoiceNo"),
        ),
    )
    con.execute(
        "UPDATE PO_Options SET NextPurchaseOrderNo = ?",
        (after("PO_PurchaseOrderHeader", "PurchaseOrderNo"),),
    )
    con.execute(
        "INSERT OR REPLACE INTO AP_Options "
        "(ModuleCode, NextVendorNo, AutoNumberVendors) VALUES ('A/P', '0000001', 'Y')"
    )


class _Codes:
    """Customer or vendor numbers the way people make them: letters of the name."""

    def __init__(self, *used: str) -> None:
        self.used = set(used)
        self.suffix: dict[str, int] = defaultdict(int)

    def make(self, name: str) -> str:
        words = [w for w in name.upper().replace(".", "").split() if w.isalpha()]
        base = (words[0][:4] + (words[1][:3] if len(words) > 1 else ""))[:7]
        code = base
        while code in self.used:
            self.suffix[base[:5]] += 1
            code = f"{base[:5]}{self.suffix[base[:5]]:02d}"
        self.used.add(code)
        return code


def _address(rows: Rows) -> dict[str, str]:
    city, state, zip3 = rows.rng.choice(CITIES)
    return {
        "AddressLine1": f"{rows.rng.randint(100, 9999)} {rows.rng.choice(STREETS)}",
        "City": city,
        "State": state,
        "ZipCode": f"{zip3}{rows.rng.randint(10, 99)}",
        "CountryCode": "USA",
    }


def _ship_address(rows: Rows) -> dict[str, str]:
    address = _address(rows)
    return {
        "Address1": address["AddressLine1"],
        "City": address["City"],
        "State": address["State"],
        "ZipCode": address["ZipCode"],
        "CountryCode": "USA",
    }


def _phone(rows: Rows) -> str:
    return f"({rows.rng.randint(201, 989)}) 555-{rows.rng.randint(1000, 9999)}"
