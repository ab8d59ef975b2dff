"""Vendors, item edits, bills and checks as the simulated A/P objects keep them."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import pytest

from integrations.agent.backends.base import BOIError, Reference

ITEM = "1001-HON-H252"


def number(value) -> Decimal:
    return Decimal(str(value or 0))


@pytest.fixture
def vendor(table) -> dict:
    """A seeded division-01 vendor on Net 30 terms."""
    return next(
        v for v in table("AP_Vendor", APDivisionNo="01") if v["TermsCode"] == "01"
    )


@pytest.fixture
def bill(backend, vendor):
    """Enter a bill for ``vendor``; returns the WriteResult."""

    def make(**values):
        header = {
            "APDivisionNo": "01",
            "VendorNo": vendor["VendorNo"],
            "InvoiceNo": "T-1001",
            "InvoiceDate": "2026-03-02",
            "InvoiceAmt": "250.00",
            "ExpenseAcctKey": "000000012",
            **values,
        }
        return backend.create_ap_invoice(header)

    return make


def pay(backend, invoice, **values):
    return backend.record_ap_payment(
        {
            "APDivisionNo": invoice.key["APDivisionNo"],
            "VendorNo": invoice.key["VendorNo"],
            "InvoiceNo": invoice.key["InvoiceNo"],
            "CheckNo": "XERO-1",
            "PaymentAmount": "100.00",
            "PaymentDate": "2026-03-05",
            **values,
        }
    )


# -- vendors --------------------------------------------------------------------
def test_a_vendor_is_keyed_by_division_and_an_upper_case_number(backend, table):
    vendor = backend.create_vendor(
        {"APDivisionNo": "1", "VendorNo": "acme", "VendorName": "Acme Freight"}
    )
    assert vendor.key == {"APDivisionNo": "01", "VendorNo": "ACME"}
    assert vendor.record["CountryCode"] == "USA"
    row = table("AP_Vendor", APDivisionNo="01", VendorNo="ACME")[0]
    assert row["VendorName"] == "Acme Freight"
    assert row["DateCreated"] and row["TimeUpdated"]


def test_a_vendor_number_longer_than_seven_is_refused_not_cut(backend):
    with pytest.raises(BOIError, match=r"The VendorNo is invalid\.") as caught:
        backend.create_vendor(
            {"APDivisionNo": "01", "VendorNo": "ACMEFREIGHT", "VendorName": "Acme"}
        )
    assert caught.value.column == "VendorNo"


def test_a_vendor_needs_its_division_on_file(backend):
    with pytest.raises(BOIError, match=r"Division 07 is not on file\.") as caught:
        backend.create_vendor({"APDivisionNo": "7", "VendorName": "Acme"})
    assert (caught.value.code, caught.value.column) == ("not_on_file", "APDivisionNo")


def test_a_vendor_without_a_number_takes_the_next_one(backend, table):
    first = backend.create_vendor({"APDivisionNo": "01", "VendorName": "Acme"})
    second = backend.create_vendor({"APDivisionNo": "01", "VendorName": "Bolt"})
    assert (first.key["VendorNo"], second.key["VendorNo"]) == ("0000001", "0000002")
    assert table("AP_Options")[0]["NextVendorNo"] == "0000003"


def test_without_vendor_numbering_a_vendor_number_is_required(backend, faults):
    faults.bulk_change("AP_Options", "A/P", {"AutoNumberVendors": "N"})
    with pytest.raises(BOIError, match=r"Required field VendorNo is missing\."):
        backend.create_vendor({"APDivisionNo": "01", "VendorName": "Acme"})


def test_an_existing_vendor_is_not_created_again(backend, vendor):
    with pytest.raises(BOIError, match="already exists") as caught:
        backend.create_vendor(
            {"APDivisionNo": "01", "VendorNo": vendor["VendorNo"], "VendorName": "X"}
        )
    assert caught.value.column == "VendorNo"


def test_a_vendor_update_changes_only_what_it_names(backend, table, vendor):
    result = backend.update_vendor(
        "1", vendor["VendorNo"].lower(), {"VendorName": "Renamed Ltd", "TermsCode": "5"}
    )
    assert not result.created
    row = table("AP_Vendor", APDivisionNo="01", VendorNo=vendor["VendorNo"])[0]
    assert (row["VendorName"], row["TermsCode"]) == ("Renamed Ltd", "05")
    assert row["City"] == vendor["City"]
    assert row["DateUpdated"] >= vendor["DateUpdated"]


@pytest.mark.parametrize(
    ("values", "column"),
    [
        ({"VendorNo": "OTHER"}, "VendorNo"),  # a key cannot change
        ({"CurrentBalance": "0"}, "CurrentBalance"),  # set by Sage
        ({"TermsCode": "77"}, "TermsCode"),  # not on file
        ({"Colour": "red"}, "Colour"),  # not in the IOList
    ],
)
def test_a_vendor_update_refuses_naming_the_column(backend, vendor, values, column):
    with pytest.raises(BOIError) as caught:
        backend.update_vendor("01", vendor["VendorNo"], values)
    assert caught.value.column == column


def test_a_missing_vendor_cannot_be_updated(backend):
    with pytest.raises(BOIError, match=r"Vendor 01-NOSUCH is not on file\.") as caught:
        backend.update_vendor("01", "nosuch", {"VendorName": "X"})
    assert caught.value.code == "not_found"


def test_a_vendor_another_user_holds_is_not_updated(backend, faults, vendor):
    faults.lock_record("AP_Vendor", ["01", vendor["VendorNo"]])
    with pytest.raises(BOIError) as caught:
        backend.update_vendor("01", vendor["VendorNo"], {"VendorName": "X"})
    assert caught.value.code == "locked"


# -- items ------------------------------------------------------------------------
def test_an_item_update_edits_description_prices_and_categories(backend, table):
    result = backend.update_item(
        ITEM.lower(),
        {
            "ItemCodeDesc": "HON 2-drawer file, black",
            "StandardUnitPrice": "199.5",
            "Category1": "FILING",
            "InactiveItem": "Y",
        },
    )
    assert result.key == {"ItemCode": ITEM}
    assert result.record["StandardUnitPrice"] == "199.5000"
    row = table("CI_Item", ItemCode=ITEM)[0]
    assert (row["ItemCodeDesc"], row["Category1"], row["InactiveItem"]) == (
        "HON 2-drawer file, black",
        "FILING",
        "Y",
    )


@pytest.mark.parametrize(
    ("values", "column"),
    [
        ({"AverageUnitCost": "1"}, "AverageUnitCost"),
        ({"TotalQuantityOnHand": "5"}, "TotalQuantityOnHand"),
        ({"LastSoldDate": "2026-03-01"}, "LastSoldDate"),
        ({"ItemCode": "OTHER"}, "ItemCode"),
        ({"ItemType": "5"}, "ItemType"),
        ({"InactiveItem": "maybe"}, "InactiveItem"),
        ({"DefaultWarehouseCode": "9"}, "DefaultWarehouseCode"),
        ({"PrimaryVendorNo": "NOSUCH"}, "VendorNo"),
    ],
)
def test_an_item_update_refuses_naming_the_column(backend, table, values, column):
    before = table("CI_Item", ItemCode=ITEM)[0]
    with pytest.raises(BOIError) as caught:
        backend.update_item(ITEM, values)
    assert caught.value.column == column
    assert table("CI_Item", ItemCode=ITEM)[0] == before


def test_a_missing_item_cannot_be_updated(backend):
    with pytest.raises(BOIError, match=r"Item NOSUCH is not on file\.") as caught:
        backend.update_item("nosuch", {"ItemCodeDesc": "X"})
    assert caught.value.code == "not_found"


# -- bills ------------------------------------------------------------------------
def test_a_bill_is_an_open_invoice_the_vendor_is_owed(bill, table, vendor):
    result = bill()
    assert result.object == "AP_Invoice"
    assert result.key == {
        "APDivisionNo": "01",
        "VendorNo": vendor["VendorNo"],
        "InvoiceNo": "T-1001",
    }
    assert result.record["Balance"] == result.record["InvoiceAmt"] == "250.00"
    assert result.record["InvoiceDueDate"] == "2026-04-01"  # Net 30 from the vendor
    after = table("AP_Vendor", APDivisionNo="01", VendorNo=vendor["VendorNo"])[0]
    assert number(after["CurrentBalance"]) == number(vendor["CurrentBalance"]) + 250


def test_a_bill_may_name_the_purchase_order_it_bills(bill, backend, vendor):
    order = backend.create_purchase_order(
        {
            "APDivisionNo": "01",
            "VendorNo": vendor["VendorNo"],
            "PurchaseOrderDate": "2026-03-02",
        },
        [{"ItemCode": ITEM, "QuantityOrdered": 2}],
    )
    number_ = order.key["PurchaseOrderNo"]
    assert bill(PurchaseOrderNo=int(number_)).record["PurchaseOrderNo"] == number_


@pytest.mark.parametrize(
    ("values", "column"),
    [
        ({"VendorNo": "NOSUCH"}, "VendorNo"),
        ({"InvoiceNo": ""}, "InvoiceNo"),
        ({"InvoiceDate": ""}, "InvoiceDate"),
        ({"InvoiceAmt": "0"}, "InvoiceAmt"),
        ({"InvoiceAmt": "lots"}, "InvoiceAmt"),
        ({"Balance": "10"}, "Balance"),  # the object sets it
        ({"InvoiceDueDate": "2026-01-01"}, "InvoiceDueDate"),
        ({"ExpenseAcctKey": "999999999"}, "ExpenseAcctKey"),
        ({"PurchaseOrderNo": "0000002"}, "PurchaseOrderNo"),  # another vendor's PO
        ({"InvoiceNo": "T-1001-TOO-LONG"}, "InvoiceNo"),
    ],
)
def test_a_bad_bill_is_refused_naming_the_column(bill, table, values, column):
    with pytest.raises(BOIError) as caught:
        bill(**values)
    assert caught.value.column == column
    assert table("AP_OpenInvoice", InvoiceNo="T-1001") == []


def test_the_same_bill_is_not_entered_twice(bill):
    bill()
    with pytest.raises(BOIError, match="already on file") as caught:
        bill()
    assert caught.value.column == "InvoiceNo"


# -- payments --------------------------------------------------------------------
def test_a_payment_lowers_the_invoice_and_the_vendor_balance(
    backend, bill, table, vendor
):
    invoice = bill()
    payment = pay(backend, invoice)
    assert payment.object == "AP_ManualCheck"
    assert payment.key == {**invoice.key, "CheckNo": "XERO-1"}
    assert payment.record["Balance"] == "150.00"
    assert payment.record["PaymentDate"] == "2026-03-05"
    row = table("AP_OpenInvoice", InvoiceNo="T-1001")[0]
    assert number(row["Balance"]) == Decimal("150")
    assert row["DateUpdated"] >= row["DateCreated"]
    after = table("AP_Vendor", APDivisionNo="01", VendorNo=vendor["VendorNo"])[0]
    assert number(after["CurrentBalance"]) == number(vendor["CurrentBalance"]) + 150


def test_a_payment_can_settle_the_invoice_exactly(backend, bill, table):
    invoice = bill()
    pay(backend, invoice, PaymentAmount="250")
    assert number(table("AP_OpenInvoice", InvoiceNo="T-1001")[0]["Balance"]) == 0


def test_an_overpayment_is_refused_naming_the_amount(backend, bill, table):
    invoice = bill()
    with pytest.raises(BOIError, match="more than the balance") as caught:
        pay(backend, invoice, PaymentAmount="250.01")
    assert caught.value.column == "PaymentAmount"
    assert number(table("AP_OpenInvoice", InvoiceNo="T-1001")[0]["Balance"]) == 250


def test_a_payment_for_an_invoice_not_on_file_is_refused(backend, bill):
    invoice = bill()
    with pytest.raises(BOIError, match=r"Invoice NOPE is not on file") as caught:
        pay(backend, invoice, InvoiceNo="nope")
    assert (caught.value.code, caught.value.column) == ("not_on_file", "InvoiceNo")


@pytest.mark.parametrize(
    ("values", "column"),
    [
        ({"PaymentAmount": "0"}, "PaymentAmount"),
        ({"PaymentAmount": "-5"}, "PaymentAmount"),
        ({"PaymentAmount": None}, "PaymentAmount"),
        ({"CheckNo": ""}, "CheckNo"),
        ({"CheckNo": "X" * 11}, "CheckNo"),
        ({"PaymentDate": "05/03/2026"}, "PaymentDate"),
        ({"VendorNo": "NOSUCH"}, "VendorNo"),
        ({"Memo": "x"}, "Memo"),
    ],
)
def test_a_bad_payment_is_refused_naming_the_column(backend, bill, values, column):
    invoice = bill()
    with pytest.raises(BOIError) as caught:
        pay(backend, invoice, **values)
    assert caught.value.column == column


def test_one_check_pays_an_invoice_once(backend, bill):
    invoice = bill()
    pay(backend, invoice, PaymentAmount="10")
    with pytest.raises(BOIError, match="already applied") as caught:
        pay(backend, invoice, PaymentAmount="10")
    assert caught.value.column == "CheckNo"


def test_find_returns_the_first_payment_by_its_check_number(backend, bill, vendor):
    invoice = bill()
    first = pay(backend, invoice, CheckNo="xero-9")
    scope = (("APDivisionNo", "01"), ("VendorNo", vendor["VendorNo"]))
    found = backend.find("AP_ManualCheck", Reference("CheckNo", "XERO-9", scope))
    assert (found.key, found.record, found.created) == (first.key, first.record, False)
    typed = (("APDivisionNo", "1"), ("VendorNo", vendor["VendorNo"].lower()))
    assert backend.find("AP_ManualCheck", Reference("CheckNo", "xero-9", typed))
    other = (("APDivisionNo", "01"), ("VendorNo", "SOMEONE"))
    assert backend.find("AP_ManualCheck", Reference("CheckNo", "XERO-9", other)) is None


def test_find_a_bill_by_its_invoice_number(backend, bill):
    invoice = bill()
    found = backend.find("AP_Invoice", Reference("InvoiceNo", "t-1001"))
    assert found.key == invoice.key


# -- the seeded company -----------------------------------------------------------
def test_seeded_vendor_balances_are_their_open_bills(table):
    owed: dict = defaultdict(Decimal)
    bills = table("AP_OpenInvoice")
    for invoice in bills:
        owed[invoice["APDivisionNo"], invoice["VendorNo"]] += number(invoice["Balance"])
        assert number(invoice["Balance"]) <= number(invoice["InvoiceAmt"])
        assert invoice["InvoiceDueDate"] >= invoice["InvoiceDate"]
    assert len(bills) >= 10
    assert any(b["PurchaseOrderNo"] for b in bills)
    assert any(number(b["Balance"]) < number(b["InvoiceAmt"]) for b in bills)
    for vendor in table("AP_Vendor"):
        key = (vendor["APDivisionNo"], vendor["VendorNo"])
        assert number(vendor["CurrentBalance"]) == owed[key], key


def test_seeded_bills_name_their_vendors_purchase_orders(table):
    for invoice in table("AP_OpenInvoice"):
        if not invoice["PurchaseOrderNo"]:
            continue
        order = table(
            "PO_PurchaseOrderHeader", PurchaseOrderNo=invoice["PurchaseOrderNo"]
        )
        assert (order[0]["APDivisionNo"], order[0]["VendorNo"]) == (
            invoice["APDivisionNo"],
            invoice["VendorNo"],
        )
