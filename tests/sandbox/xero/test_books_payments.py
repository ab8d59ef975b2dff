"""Payments apply to invoices: AmountDue/AmountPaid, PAID when settled, and
Xero's refusals (draft, overpayment, non-bank account); credit notes too."""

from __future__ import annotations

import pytest

from tests.sandbox.xero.books_client import BooksClient


@pytest.fixture
def books() -> BooksClient:
    return BooksClient()


def authorised(books, amount=100):
    return books.invoice(
        Status="AUTHORISED",
        LineAmountTypes="NoTax",
        LineItems=[
            {
                "Description": "Desk",
                "Quantity": 1,
                "UnitAmount": amount,
                "AccountCode": "200",
            }
        ],
    )


def pay(books, invoice_ref, amount, *, account=None, summarize="false"):
    payment = {
        "Invoice": invoice_ref,
        "Account": account or {"Code": "090"},
        "Amount": amount,
        "Date": "2026-12-02",
        "Reference": "shop #1001",
    }
    return books.call(
        "PUT", "/Payments", {"Payments": [payment]}, {"summarizeErrors": summarize}
    )


def test_part_then_full_payment_marks_the_invoice_paid(books):
    invoice = authorised(books)
    first = pay(books, {"InvoiceID": invoice["InvoiceID"]}, 40)
    assert first.body["Payments"][0]["PaymentType"] == "ACCRECPAYMENT"
    current = books.get(f"/Invoices/{invoice['InvoiceID']}").body["Invoices"][0]
    assert (current["Status"], current["AmountPaid"], current["AmountDue"]) == (
        "AUTHORISED",
        40.0,
        60.0,
    )
    pay(books, {"InvoiceNumber": invoice["InvoiceNumber"]}, 60)
    current = books.get(f"/Invoices/{invoice['InvoiceID']}").body["Invoices"][0]
    assert (current["Status"], current["AmountDue"]) == ("PAID", 0.0)
    assert [p["Amount"] for p in current["Payments"]] == [40.0, 60.0]
    assert current["FullyPaidOnDate"] == "/Date(1796169600000+0000)/"


def test_single_payment_by_post(books):
    invoice = authorised(books)
    response = books.call(
        "POST",
        "/Payments",
        {
            "Invoice": {"InvoiceID": invoice["InvoiceID"]},
            "Account": {"Code": "090"},
            "Amount": 100,
        },
    )
    assert response.status == 200
    assert response.body["Payments"][0]["Invoice"]["InvoiceID"] == invoice["InvoiceID"]


@pytest.mark.parametrize(
    ("amount", "account", "message"),
    [
        (
            100.01,
            None,
            "Payment amount exceeds the amount outstanding on this document",
        ),
        (-5, None, "Payment amounts must be positive amounts"),
        (10, {"Code": "200"}, "is not a bank account"),
        (10, {"Code": "999"}, "is not a valid account"),
    ],
)
def test_bad_payments_are_refused(books, amount, account, message):
    invoice = authorised(books)
    response = pay(books, {"InvoiceID": invoice["InvoiceID"]}, amount, account=account)
    [errors] = books.errors_of(response, "Payments")
    assert any(message in error for error in errors), errors
    assert response.body["Payments"][0]["HasValidationErrors"] is True
    current = books.get(f"/Invoices/{invoice['InvoiceID']}").body["Invoices"][0]
    assert current["AmountPaid"] == 0


def test_draft_invoice_cannot_be_paid(books):
    draft = books.invoice()
    response = pay(books, {"InvoiceID": draft["InvoiceID"]}, 1, summarize="true")
    assert response.status == 400
    assert (
        "approved (AUTHORISED)"
        in response.body["Elements"][0]["ValidationErrors"][0]["Message"]
    )


def test_unknown_invoice_is_named(books):
    response = pay(books, {"InvoiceNumber": "INV-9999"}, 1)
    assert books.errors_of(response, "Payments") == [
        ["The document with the supplied id was not found for this endpoint."]
    ]


def test_paid_invoice_cannot_be_edited_or_voided(books):
    invoice = authorised(books)
    pay(books, {"InvoiceID": invoice["InvoiceID"]}, 100)
    for change in ({"Reference": "late edit"}, {"Status": "VOIDED"}):
        response = books.call(
            "POST", f"/Invoices/{invoice['InvoiceID']}", {"Invoices": [change]}
        )
        assert response.status == 400
        assert response.body["Elements"][0]["ValidationErrors"][0]["Message"] == (
            "This document cannot be edited as it has a payment or credit note "
            "allocated to it."
        )


def test_part_paid_invoice_cannot_be_voided(books):
    invoice = authorised(books)
    pay(books, {"InvoiceID": invoice["InvoiceID"]}, 10)
    response = books.call(
        "POST",
        f"/Invoices/{invoice['InvoiceID']}",
        {"Invoices": [{"Status": "VOIDED"}]},
    )
    assert response.status == 400


def test_deleting_a_payment_reopens_the_invoice(books):
    invoice = authorised(books)
    payment = pay(books, {"InvoiceID": invoice["InvoiceID"]}, 100).body["Payments"][0]
    response = books.call(
        "POST", f"/Payments/{payment['PaymentID']}", {"Status": "DELETED"}
    )
    assert response.body["Payments"][0]["Status"] == "DELETED"
    current = books.get(f"/Invoices/{invoice['InvoiceID']}").body["Invoices"][0]
    assert (current["Status"], current["AmountDue"], current["Payments"]) == (
        "AUTHORISED",
        100.0,
        [],
    )


def test_bill_payment_is_an_accpay_payment(books):
    bill = books.invoice(
        Type="ACCPAY",
        Contact={"Name": "HON Manufacturing"},
        Status="AUTHORISED",
        InvoiceNumber="H-77",
    )
    response = pay(books, {"InvoiceID": bill["InvoiceID"]}, bill["Total"])
    assert response.body["Payments"][0]["PaymentType"] == "ACCPAYPAYMENT"
    listed = books.get("/Payments", where='PaymentType=="ACCPAYPAYMENT"').body
    assert [p["Invoice"]["InvoiceNumber"] for p in listed["Payments"]] == ["H-77"]


def test_credit_note_allocation_settles_an_invoice(books):
    invoice = authorised(books, amount=50)
    credit = books.call(
        "PUT",
        "/CreditNotes",
        {
            "CreditNotes": [
                {
                    "Type": "ACCRECCREDIT",
                    "Contact": {"Name": "American Office Supply"},
                    "Status": "AUTHORISED",
                    "LineAmountTypes": "NoTax",
                    "LineItems": [
                        {
                            "Description": "Refund",
                            "Quantity": 1,
                            "UnitAmount": 50,
                            "AccountCode": "200",
                        }
                    ],
                }
            ]
        },
    ).body["CreditNotes"][0]
    assert credit["CreditNoteNumber"] == "CN-0001" and credit["RemainingCredit"] == 50
    response = books.call(
        "PUT",
        f"/CreditNotes/{credit['CreditNoteID']}/Allocations",
        {
            "Allocations": [
                {
                    "Invoice": {"InvoiceID": invoice["InvoiceID"]},
                    "Amount": 50,
                    "Date": "2026-12-02",
                }
            ]
        },
    )
    assert response.status == 200
    current = books.get(f"/Invoices/{invoice['InvoiceID']}").body["Invoices"][0]
    assert (current["Status"], current["AmountCredited"]) == ("PAID", 50.0)
    note = books.get(f"/CreditNotes/{credit['CreditNoteID']}").body["CreditNotes"][0]
    assert (note["Status"], note["RemainingCredit"]) == ("PAID", 0.0)
    assert ("CREDITNOTE", "UPDATE", credit["CreditNoteID"]) in books.events
