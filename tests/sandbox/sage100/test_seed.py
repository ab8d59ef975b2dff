"""The demo company looks like Sage's ABC and adds up the way Sage keeps it."""

from __future__ import annotations

import re
import time
from collections import defaultdict
from decimal import Decimal

import pytest

from integrations.sandbox.sage100.database import CompanyDatabase, SimulatorError
from integrations.sandbox.sage100.schema import TABLES
from integrations.sandbox.sage100.seed import seed
from tests.sandbox.sage100.conftest import SEED_DAY


def money(value) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


def test_the_company_has_the_sample_companys_shape(table):
    customers = table("AR_Customer")
    assert len(customers) == 300
    assert {c["ARDivisionNo"] for c in customers} == {"01", "02"}
    abf = table("AR_Customer", ARDivisionNo="01", CustomerNo="ABF")
    assert abf[0]["CustomerName"] == "American Business Futures"
    assert any(c["CreditHold"] == "Y" for c in customers)
    assert any(c["CustomerStatus"] == "I" for c in customers)
    assert {r["TermsCode"] for r in table("AR_TermsCode")} == {"00", "01", "02", "05"}
    assert {r["WarehouseCode"] for r in table("IM_Warehouse")} == {"000", "001"}
    assert {r["APDivisionNo"] for r in table("AP_Division")} == {"00", "01"}
    assert len(table("AP_Vendor")) == 25
    assert len(table("SO_SalesOrderHeader")) == 40
    assert table("SY_Company")[0]["CompanyName"] == "ABC Distribution and Service Corp."


def test_items_have_sage_style_codes(table):
    codes = [r["ItemCode"] for r in table("CI_Item", ItemType="1")]
    assert 55 <= len(codes) <= 65
    assert "1001-HON-H252" in codes
    assert all(re.fullmatch(r"\d{4}-[A-Z]{3}-[A-Z0-9]+", code) for code in codes)


def test_gl_accounts_have_an_internal_key_and_a_printable_number(table):
    accounts = table("GL_Account")
    assert all(re.fullmatch(r"\d{9}", a["AccountKey"]) for a in accounts)
    assert "4000-00-00" in {a["Account"] for a in accounts}


def test_customer_balances_are_their_open_invoices(table):
    open_balance: dict = defaultdict(Decimal)
    for invoice in table("AR_OpenInvoice"):
        key = (invoice["ARDivisionNo"], invoice["CustomerNo"])
        open_balance[key] += money(invoice["Balance"])
    assert len(open_balance) > 50
    for customer in table("AR_Customer"):
        key = (customer["ARDivisionNo"], customer["CustomerNo"])
        assert money(customer["CurrentBalance"]) == open_balance[key], key
        aged = sum(money(customer[f"AgingCategory{n}"]) for n in range(1, 5))
        assert aged <= money(customer["CurrentBalance"])


def test_open_order_amounts_and_quantities_are_the_open_orders(table):
    amounts: dict = defaultdict(Decimal)
    for order in table("SO_SalesOrderHeader"):
        key = (order["ARDivisionNo"], order["CustomerNo"])
        amounts[key] += money(order["TaxableAmt"]) + money(order["NonTaxableAmt"])
    for customer in table("AR_Customer"):
        key = (customer["ARDivisionNo"], customer["CustomerNo"])
        assert money(customer["OpenOrderAmt"]) == amounts[key], key
    committed: dict = defaultdict(Decimal)
    for line in table("SO_SalesOrderDetail"):
        committed[line["ItemCode"], line["WarehouseCode"]] += Decimal(
            str(line["QuantityOrdered"])
        )
    on_order: dict = defaultdict(Decimal)
    for line in table("PO_PurchaseOrderDetail"):
        on_order[line["ItemCode"], line["WarehouseCode"]] += Decimal(
            str(line["QuantityOrdered"])
        )
    for row in table("IM_ItemWarehouse"):
        key = (row["ItemCode"], row["WarehouseCode"])
        assert Decimal(str(row["QuantityOnSalesOrder"])) == committed[key]
        assert Decimal(str(row["QuantityOnPurchaseOrder"])) == on_order[key]


def test_counters_sit_past_every_seeded_number(table):
    so = table("SO_Options")[0]
    orders = [r["SalesOrderNo"] for r in table("SO_SalesOrderHeader")]
    invoices = [r["InvoiceNo"] for r in table("AR_InvoiceHistoryHeader")]
    assert so["NextSalesOrderNo"] > max(orders)
    assert so["NextInvoiceNo"] > max(invoices)
    purchase = [r["PurchaseOrderNo"] for r in table("PO_PurchaseOrderHeader")]
    assert table("PO_Options")[0]["NextPurchaseOrderNo"] > max(purchase)


def test_every_stamped_row_is_stamped(table):
    for name in ("AR_Customer", "CI_Item", "SO_SalesOrderHeader", "AR_OpenInvoice"):
        assert TABLES[name].stamped
        for row in table(name):
            assert row["DateUpdated"] >= row["DateCreated"]
            assert row["DateUpdated"] <= SEED_DAY.isoformat()
            assert re.fullmatch(r"\d{1,2}\.\d{5}", row["TimeUpdated"])
            assert re.fullmatch(r"\d{10}", row["UserUpdatedKey"])


def _customers(root) -> list[tuple]:
    db = CompanyDatabase(root, "ABC")
    db.create()
    seed(db, customers=40, rng_seed=7)
    with db.connect() as connection:
        return connection.execute(
            "SELECT CustomerNo, CustomerName, CreditLimit FROM AR_Customer ORDER BY 1"
        ).fetchall()


def test_the_same_seed_makes_the_same_company(tmp_path):
    assert _customers(tmp_path / "a") == _customers(tmp_path / "b")


def test_seeding_a_fresh_company_is_quick(tmp_path):
    db = CompanyDatabase(tmp_path, "ABC")
    db.create()
    started = time.monotonic()
    seed(db)
    assert time.monotonic() - started < 5


def test_a_company_with_data_is_not_seeded_twice(company):
    with pytest.raises(SimulatorError, match="already has data"):
        seed(company)
