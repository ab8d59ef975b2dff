"""Vendors, purchase orders, A/P invoices, the chart and "changed since", over ODBC."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from integrations.engine.errors import ValidationFailed
from integrations.sandbox.sage100.business import SimulatorBackend
from tests.connectors.sage100.conftest import insert
from tests.support.changefeeds import write

DAY = datetime(2026, 3, 2)


@pytest.fixture
def payables(company):
    """Two vendors, a PO with two lines, two bills and a small chart."""
    insert(company, "AP_Division", APDivisionNo="01", DivisionDescription="Domestic")
    for no, name, at in (
        ("AIRWAY", "Airway Freight", DAY.replace(hour=9)),
        ("BOISE", "Boise Paper", DAY.replace(hour=15, minute=30)),
    ):
        write(
            company,
            "AP_Vendor",
            at,
            APDivisionNo="01",
            VendorNo=no,
            VendorName=name,
            TermsCode="01",
            CurrentBalance="0",
        )
    write(
        company,
        "PO_PurchaseOrderHeader",
        DAY.replace(hour=11),
        PurchaseOrderNo="0000042",
        PurchaseOrderDate="2026-03-02",
        OrderStatus="O",
        APDivisionNo="01",
        VendorNo="BOISE",
        NonTaxableAmt="130.00",
    )
    for key, seq, code, qty in (
        ("000002", "00000000000001", "2480-8-50", "10"),  # shown first
        ("000001", "00000000000002", "1001-HON-H252", "1"),
    ):
        insert(
            company,
            "PO_PurchaseOrderDetail",
            PurchaseOrderNo="0000042",
            LineKey=key,
            LineSeqNo=seq,
            ItemCode=code,
            ItemType="1",
            WarehouseCode="000",
            QuantityOrdered=qty,
            UnitCost="10.0000" if code == "2480-8-50" else "30.0000",
            ExtensionAmt="100.00" if code == "2480-8-50" else "30.00",
        )
    for invoice, amount, balance, at in (
        ("INV-1", "130.00", "130.00", DAY.replace(hour=12)),
        ("INV-0", "80.00", "20.00", datetime(2026, 2, 20, 16)),
    ):
        write(
            company,
            "AP_OpenInvoice",
            at,
            APDivisionNo="01",
            VendorNo="BOISE",
            InvoiceNo=invoice,
            InvoiceDate=at.date().isoformat(),
            InvoiceDueDate="2026-04-01",
            InvoiceAmt=amount,
            Balance=balance,
            ExpenseAcctKey="000000003",
            PurchaseOrderNo="0000042" if invoice == "INV-1" else "",
        )
    for n, (account, text, kind, status) in enumerate(
        (
            ("1300-00-00", "Inventory", "CA", "A"),
            ("2000-00-00", "Accounts Payable", "CL", "A"),
            ("6900-00-00", "Old expenses", "EX", "I"),
        ),
        1,
    ):
        insert(
            company,
            "GL_Account",
            AccountKey=f"{n:09d}",
            Account=account,
            AccountDesc=text,
            AccountType=kind,
            Status=status,
        )
    return company


def test_a_vendor_is_found_by_division_and_number_as_typed(reader, payables):
    row = reader.vendor("1", "airway")
    assert row["VendorName"] == "Airway Freight"
    assert row["CurrentBalance"] == Decimal("0")
    assert reader.vendor("01", "NOBODY") is None


def test_a_vendor_number_longer_than_sage_allows_is_refused(reader, payables):
    with pytest.raises(ValidationFailed) as caught:
        reader.vendor("01", "AIRWAYFREIGHT")
    assert caught.value.field == "VendorNo"


def test_a_purchase_order_comes_with_its_lines_in_display_order(reader, payables):
    order = reader.purchase_order("42")
    assert (order["PurchaseOrderNo"], order["VendorNo"]) == ("0000042", "BOISE")
    assert [line["ItemCode"] for line in order["lines"]] == [
        "2480-8-50",
        "1001-HON-H252",
    ]
    assert order["lines"][0]["ExtensionAmt"] == Decimal("100")
    assert order["PurchaseOrderDate"] == date(2026, 3, 2)
    assert reader.purchase_order("43") is None


def test_an_ap_invoice_is_found_by_vendor_and_its_own_number(reader, payables):
    row = reader.ap_open_invoice("1", "boise", "inv-0")
    assert (row["InvoiceAmt"], row["Balance"]) == (Decimal("80"), Decimal("20"))
    assert row["InvoiceDueDate"] == date(2026, 4, 1)
    assert reader.ap_open_invoice("01", "AIRWAY", "INV-0") is None


def test_the_chart_of_accounts_keeps_key_and_printable_number(reader, payables):
    accounts = reader.gl_accounts()
    assert [(a["AccountKey"], a["Account"]) for a in accounts][:2] == [
        ("000000001", "1300-00-00"),
        ("000000002", "2000-00-00"),
    ]
    active = reader.gl_accounts(active_only=True)
    assert "6900-00-00" not in {a["Account"] for a in active}


def test_vendors_changed_since_compare_the_time_of_day(reader, payables):
    rows = reader.vendors_changed_since(DAY.replace(hour=10))
    assert [row["VendorNo"] for row in rows] == ["BOISE"]
    everyone = reader.vendors_changed_since(DAY)
    assert [row["VendorNo"] for row in everyone] == ["AIRWAY", "BOISE"]  # by stamp


def test_purchase_orders_changed_since_carry_their_lines(reader, payables):
    rows = reader.purchase_orders_changed_since(DAY.replace(hour=10))
    assert [row["PurchaseOrderNo"] for row in rows] == ["0000042"]
    assert len(rows[0]["lines"]) == 2
    bare = reader.purchase_orders_changed_since(DAY, lines=False)
    assert "lines" not in bare[0]
    assert reader.purchase_orders_changed_since(DAY.replace(hour=12)) == []


def test_ap_invoices_changed_since_leave_older_ones_out(reader, payables):
    rows = reader.ap_invoices_changed_since(DAY)
    assert [row["InvoiceNo"] for row in rows] == ["INV-1"]


def test_a_payment_entered_in_sage_shows_as_a_changed_invoice(
    reader, payables, company
):
    backend = SimulatorBackend(company.root, "ABC", user="hub")
    since = datetime.now().replace(microsecond=0)
    backend.record_ap_payment(
        {
            "APDivisionNo": "01",
            "VendorNo": "BOISE",
            "InvoiceNo": "INV-0",
            "CheckNo": "X1",
            "PaymentAmount": "20",
        }
    )

    rows = reader.ap_invoices_changed_since(since)
    assert [(row["InvoiceNo"], row["Balance"]) for row in rows] == [
        ("INV-0", Decimal("0"))
    ]


def test_customers_and_items_changed_since(reader, company):
    at = DAY.replace(hour=14)
    write(company, "AR_Customer", at, ARDivisionNo="01", CustomerNo="NEWCO")
    write(company, "CI_Item", DAY.replace(hour=8), ItemCode="OLD-1")
    write(company, "CI_Item", DAY.replace(hour=13), ItemCode="NEW-1")

    since = DAY.replace(hour=12)
    assert [r["CustomerNo"] for r in reader.customers_changed_since(since)] == ["NEWCO"]
    assert [r["ItemCode"] for r in reader.items_changed_since(since)] == ["NEW-1"]


def test_changed_since_needs_a_date_and_time(reader):
    with pytest.raises(ValidationFailed) as caught:
        reader.vendors_changed_since(date(2026, 3, 2))
    assert caught.value.field == "since"
