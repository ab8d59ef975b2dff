"""What a Sage 100 purchase order, A/P invoice and Xero payment become
(``services.procure_to_pay``): plain functions, no systems."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from integrations.engine.errors import ValidationFailed
from integrations.services import procure_to_pay as p2p
from integrations.services import supplier_contacts

CONTACT = "0b6c7f1e-0000-4000-8000-000000000001"
PAYMENT = "3f1a9c2e-5b7d-4e11-9a0b-6c2d8e4f1a77"


def open_invoice(**overrides) -> dict:
    return {
        "APDivisionNo": "1",
        "VendorNo": "acme",
        "InvoiceNo": "inv-100",
        "InvoiceDate": date(2026, 3, 2),
        "InvoiceDueDate": date(2026, 4, 1),
        "InvoiceAmt": Decimal("1250.00"),
        "Balance": Decimal("1250.00"),
        "ExpenseAcctKey": "000000007",
        "PurchaseOrderNo": "0000042",
        **overrides,
    }


def a_bill(**overrides) -> dict:
    return p2p.bill(
        open_invoice(**overrides),
        contact_id=CONTACT,
        account_code="300",
        tax_type="NONE",
        currency="USD",
    )


def test_bill_carries_sage_number_dates_supplier_and_amount():
    bill = a_bill()

    assert bill["Type"] == "ACCPAY"
    assert bill["InvoiceNumber"] == "INV-100"
    assert bill["Contact"] == {"ContactID": CONTACT}
    assert (bill["Date"], bill["DueDate"]) == ("2026-03-02", "2026-04-01")
    assert bill["Reference"] == "PO 0000042"
    assert bill["Status"] == "AUTHORISED"
    assert bill["CurrencyCode"] == "USD"
    (line,) = bill["LineItems"]
    assert line["UnitAmount"] == Decimal("1250.00")
    assert (line["AccountCode"], line["TaxType"]) == ("300", "NONE")


def test_bill_total_is_what_sage_owes_whatever_the_tax_rate():
    assert a_bill()["LineAmountTypes"] == "Inclusive"


def test_bill_from_an_event_copy_reads_iso_dates_and_text_amounts():
    bill = a_bill(
        InvoiceDate="2026-03-02", InvoiceDueDate="", InvoiceAmt="99.5", Balance="99.5"
    )

    assert (bill["Date"], bill["DueDate"]) == ("2026-03-02", "2026-03-02")
    assert bill["LineItems"][0]["UnitAmount"] == Decimal("99.50")


def test_bill_without_a_purchase_order_has_no_reference():
    assert "Reference" not in a_bill(PurchaseOrderNo="")


@pytest.mark.parametrize("amount", ["0", "-5.00"])
def test_bill_of_no_positive_amount_is_refused_naming_the_field(amount):
    with pytest.raises(ValidationFailed) as caught:
        a_bill(InvoiceAmt=amount)

    assert caught.value.field == "InvoiceAmt"


def test_bill_status_other_than_draft_submitted_or_authorised_is_refused():
    with pytest.raises(ValidationFailed) as caught:
        p2p.bill(
            open_invoice(),
            contact_id=CONTACT,
            account_code="300",
            tax_type="NONE",
            currency="USD",
            status="PAID",
        )

    assert caught.value.field == "options.bill_status"


def test_an_unparseable_amount_names_the_field():
    with pytest.raises(ValidationFailed) as caught:
        a_bill(InvoiceAmt="twelve")

    assert caught.value.field == "InvoiceAmt"


def test_bill_changes_are_empty_when_xero_already_agrees():
    wanted = a_bill()
    current = {
        **wanted,
        "Total": Decimal("1250.00"),
        "Date": "/Date(1772409600000+0000)/",  # 2026-03-02
        "DueDate": "2026-04-01T00:00:00",
        "LineItems": [{"AccountCode": "300", "TaxType": "NONE"}],
    }

    assert p2p.bill_changes(wanted, current) == []


def test_bill_changes_name_the_amount_that_moved():
    wanted = a_bill(InvoiceAmt="1300.00")
    current = {**a_bill(), "Total": Decimal("1250.00")}

    assert p2p.bill_changes(wanted, current) == ["amount 1250.00 → 1300.00"]


def test_invoice_key_is_the_change_feeds_key_text_normalised():
    assert p2p.invoice_key(open_invoice()) == "01|ACME|INV-100"
    assert p2p.parse_invoice_key("01|ACME|INV-100") == {
        "APDivisionNo": "01",
        "VendorNo": "ACME",
        "InvoiceNo": "INV-100",
    }


def test_vendor_key_is_the_cross_reference_form_master_data_uses():
    assert p2p.vendor_key("1", "acme") == "01-ACME"


# -- purchase orders ----------------------------------------------------------------


def purchase_order_header(**overrides) -> dict:
    return {
        "PurchaseOrderNo": "42",
        "PurchaseOrderDate": date(2026, 3, 1),
        "RequiredExpireDate": date(2026, 3, 15),
        "OrderStatus": "O",
        "APDivisionNo": "01",
        "VendorNo": "ACME",
        "Comment": "",
        "FreightAmt": Decimal("0"),
        "lines": [
            {
                "ItemCode": "WIDGET-1",
                "ItemType": "1",
                "ItemCodeDesc": "Widget",
                "QuantityOrdered": Decimal("10.0000"),
                "UnitCost": Decimal("2.5000"),
            },
            {"ItemCode": "/C", "ItemType": "4", "ItemCodeDesc": "Deliver to dock 2"},
            {
                "ItemCode": "GADGET",
                "ItemType": "1",
                "ItemCodeDesc": "",
                "QuantityOrdered": "3",
                "UnitCost": "7.125",
            },
        ],
        **overrides,
    }


def po_lines(header=None, **options) -> list[dict]:
    return p2p.purchase_order_lines(
        header or purchase_order_header(),
        account_code="300",
        tax_type="NONE",
        item_codes=options.get("item_codes", {"WIDGET-1": "WIDGET-1"}),
        freight_account_code=options.get("freight", "300"),
    )


def test_purchase_order_lines_skip_comments_and_name_known_items():
    first, second = po_lines()

    assert first["ItemCode"] == "WIDGET-1"
    assert (first["Quantity"], first["UnitAmount"]) == (Decimal(10), Decimal("2.50"))
    assert "ItemCode" not in second  # Xero has no item GADGET: by description
    assert second["Description"] == "GADGET"
    assert second["UnitAmount"] == Decimal("7.13")  # Xero keeps cents


def test_purchase_order_freight_becomes_its_own_line():
    lines = po_lines(purchase_order_header(FreightAmt="15.00"), freight="310")

    assert lines[-1] == {
        "Description": "Freight",
        "Quantity": Decimal(1),
        "UnitAmount": Decimal("15.00"),
        "AccountCode": "310",
        "TaxType": "NONE",
    }


def test_purchase_order_with_a_negative_quantity_names_the_line():
    header = purchase_order_header()
    header["lines"][0]["QuantityOrdered"] = "-1"

    with pytest.raises(ValidationFailed) as caught:
        po_lines(header)

    assert caught.value.field == "lines.0.QuantityOrdered"


def test_purchase_order_without_priced_lines_is_refused():
    header = purchase_order_header(lines=[{"ItemType": "4", "ItemCodeDesc": "note"}])

    with pytest.raises(ValidationFailed) as caught:
        po_lines(header)

    assert caught.value.field == "lines"


def test_purchase_order_document_carries_number_dates_supplier():
    document = p2p.purchase_order(
        purchase_order_header(),
        contact_id=CONTACT,
        status="AUTHORISED",
        lines=po_lines(),
        currency="USD",
    )

    assert document["PurchaseOrderNumber"] == "0000042"
    assert (document["Date"], document["DeliveryDate"]) == ("2026-03-01", "2026-03-15")
    assert document["Reference"] == "Sage 100 PO 0000042"
    assert document["Contact"] == {"ContactID": CONTACT}
    assert "Type" not in document


@pytest.mark.parametrize(
    ("code", "mapped", "expected"),
    [
        ("N", None, "AUTHORISED"),
        ("B", None, "AUTHORISED"),
        ("C", None, "BILLED"),
        ("X", None, "DELETED"),
        ("N", "draft", "DRAFT"),
    ],
)
def test_purchase_order_status_by_default_or_cross_reference(code, mapped, expected):
    assert p2p.purchase_order_status(code, mapped) == expected


def test_purchase_order_status_mapped_to_nonsense_is_refused():
    with pytest.raises(ValidationFailed) as caught:
        p2p.purchase_order_status("O", "OPEN")

    assert caught.value.field == "OrderStatus"


# -- payments back to Sage ----------------------------------------------------------


def test_check_number_is_ten_characters_from_the_payment_id():
    assert p2p.check_no(PAYMENT) == "X3F1A9C2E5"
    assert p2p.check_no(PAYMENT.upper()) == p2p.check_no(PAYMENT)
    assert len(p2p.check_no(PAYMENT, "XP")) == 10


def test_check_number_prefix_too_long_is_refused_naming_the_option():
    with pytest.raises(ValidationFailed) as caught:
        p2p.check_no(PAYMENT, "XERO")

    assert caught.value.field == "options.check_no_prefix"


def test_payment_values_are_what_the_agent_records():
    values = p2p.payment_values(
        {
            "PaymentID": PAYMENT,
            "Amount": Decimal("400"),
            "Date": "/Date(1772409600000)/",
        },
        p2p.parse_invoice_key("01|ACME|INV-100"),
        bank_code="b",
    )

    assert values == {
        "APDivisionNo": "01",
        "VendorNo": "ACME",
        "InvoiceNo": "INV-100",
        "CheckNo": "X3F1A9C2E5",
        "PaymentAmount": "400.00",
        "PaymentDate": "2026-03-02",
        "BankCode": "B",
    }


def test_payment_without_a_positive_amount_is_refused():
    with pytest.raises(ValidationFailed) as caught:
        p2p.payment_values(
            {"PaymentID": PAYMENT, "Amount": "0", "Date": "2026-03-02"},
            p2p.parse_invoice_key("01|ACME|INV-100"),
        )

    assert caught.value.field == "Amount"


def test_payment_words_say_amount_date_reference_and_bill():
    words = p2p.payment_words(
        {"Amount": "120.00", "Date": "2026-03-02", "Reference": "CHK 1042"}, "INV-7"
    )

    assert words == (
        "Xero payment of 120.00 on 2026-03-02 (reference CHK 1042) on bill INV-7"
    )


# -- supplier contacts --------------------------------------------------------------


def test_new_supplier_contact_has_the_vendors_name_email_and_address():
    document = supplier_contacts.contact_document(
        {
            "APDivisionNo": "01",
            "VendorNo": "ACME",
            "VendorName": "Acme Supplies",
            "EmailAddress": "ap@acme.example",
            "AddressLine1": "1 Main St",
            "City": "Springfield",
            "State": "IL",
            "ZipCode": "62701",
        }
    )

    assert document["Name"] == "Acme Supplies"
    assert document["EmailAddress"] == "ap@acme.example"
    assert document["Addresses"][0]["AddressLine1"] == "1 Main St"


def test_supplier_contact_of_a_vendor_without_a_name_is_refused():
    with pytest.raises(ValidationFailed) as caught:
        supplier_contacts.contact_document(
            {"APDivisionNo": "01", "VendorNo": "ACME", "VendorName": ""}
        )

    assert caught.value.field == "VendorName"
