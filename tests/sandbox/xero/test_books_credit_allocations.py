"""Credit note allocations are refused in Xero's own words: to a paid invoice,
for more than is due, across sides (sales credit to a bill)."""

from __future__ import annotations

import pytest

from tests.sandbox.xero.books_client import BooksClient


@pytest.fixture
def books() -> BooksClient:
    return BooksClient()


def lines(amount):
    return [
        {
            "Description": "Desk",
            "Quantity": 1,
            "UnitAmount": amount,
            "AccountCode": "200",
        }
    ]


def credit(books, amount=30, kind="ACCRECCREDIT") -> dict:
    response = books.call(
        "PUT",
        "/CreditNotes",
        {
            "CreditNotes": [
                {
                    "Type": kind,
                    "Contact": {"Name": "American Office Supply"},
                    "Status": "AUTHORISED",
                    "LineAmountTypes": "NoTax",
                    "LineItems": lines(amount),
                }
            ]
        },
    )
    return response.body["CreditNotes"][0]


def allocate(books, note, invoice, amount) -> list[str]:
    response = books.call(
        "PUT",
        f"/CreditNotes/{note['CreditNoteID']}/Allocations",
        {
            "Allocations": [
                {
                    "Invoice": {"InvoiceID": invoice["InvoiceID"]},
                    "Amount": amount,
                    "Date": "2026-12-02",
                }
            ]
        },
        {"summarizeErrors": "false"},
    )
    (element,) = response.body.get("Allocations") or response.body["Elements"]
    return [e["Message"] for e in element.get("ValidationErrors") or []]


def invoice(books, amount=100, kind="ACCREC") -> dict:
    return books.invoice(
        Type=kind, Status="AUTHORISED", LineAmountTypes="NoTax", LineItems=lines(amount)
    )


def test_a_paid_invoice_has_already_been_paid_off(books):
    sold = invoice(books)
    books.call(
        "PUT",
        "/Payments",
        {
            "Payments": [
                {
                    "Invoice": {"InvoiceID": sold["InvoiceID"]},
                    "Account": {"Code": "090"},
                    "Amount": 100,
                    "Date": "2026-12-02",
                }
            ]
        },
    )

    assert allocate(books, credit(books), sold, 30) == [
        "The invoice you are trying to allocate to has already been paid off"
    ]


def test_more_than_is_due_cannot_be_allocated(books):
    assert allocate(books, credit(books, amount=150), invoice(books), 150) == [
        "Credit Note cannot be allocated as amount is greater than amount outstanding"
    ]


def test_sales_credit_cannot_go_to_a_bill(books):
    bill = invoice(books, kind="ACCPAY")

    assert "Credit Note cannot be allocated to an incorrect invoice type" in allocate(
        books, credit(books), bill, 30
    )
