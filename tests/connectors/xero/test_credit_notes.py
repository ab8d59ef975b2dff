"""Credit notes through the connector, against the simulated Xero over HTTPS:
saved in batches, allocated to an invoice, refunded in cash, found again by
Reference. The ``xero`` fixture fails a test whose requests broke the
contract."""

from __future__ import annotations

from decimal import Decimal

import pytest

from integrations.engine import errors
from integrations.services import xero_documents


def invoice(contact_id: str, amount: str = "25.00") -> dict:
    return {
        "Type": "ACCREC",
        "Contact": {"ContactID": contact_id},
        "Date": "2026-11-02",
        "DueDate": "2026-12-02",
        "Status": "AUTHORISED",
        "LineAmountTypes": "NoTax",
        "Reference": "#1001",
        "LineItems": [
            {
                "Description": "Blue widget",
                "Quantity": Decimal(1),
                "UnitAmount": Decimal(amount),
                "AccountCode": "200",
            }
        ],
    }


def credit_note(contact_id: str, amount: str = "10.00", **line) -> dict:
    return xero_documents.credit_note(
        contact_id=contact_id,
        on="2026-11-05",
        reference=xero_documents.refund_reference("#1001", "77"),
        currency_code="USD",
        line_amount_types="NoTax",
        lines=[
            {
                "Description": "Blue widget",
                "Quantity": Decimal(1),
                "UnitAmount": Decimal(amount),
                "AccountCode": "200",
                **line,
            }
        ],
    )


@pytest.fixture
def sold(client, customer) -> dict:
    (made,) = client.save_invoices(
        [invoice(customer["ContactID"])], create_only=True, idempotency_key="sold"
    )
    assert made.ok, made.errors
    return made.document


def test_credit_notes_go_in_one_batch_and_a_bad_one_fails_alone(
    client, customer, calls
):
    good = credit_note(customer["ContactID"])
    bad = credit_note(customer["ContactID"], ItemCode="NO-SUCH-ITEM")

    results = client.save_credit_notes(
        [good, bad], create_only=True, idempotency_key="notes-1"
    )

    assert [r.ok for r in results] == [True, False]
    made = results[0].document
    assert made["Type"] == "ACCRECCREDIT" and made["Status"] == "AUTHORISED"
    assert made["CreditNoteNumber"].startswith("CN-")
    assert Decimal(str(made["RemainingCredit"])) == Decimal("10.00")
    assert any("NO-SUCH-ITEM" in message for message in results[1].errors)
    assert calls.count("PUT", "/CreditNotes") == 1


def test_a_retried_credit_note_save_creates_nothing_twice(client, customer, xero):
    note = credit_note(customer["ContactID"])

    (first,) = client.save_credit_notes([note], create_only=True, idempotency_key="n")
    (again,) = client.save_credit_notes([note], create_only=True, idempotency_key="n")

    assert first.document["CreditNoteID"] == again.document["CreditNoteID"]
    found = client.get_credit_notes(
        where='Type=="ACCRECCREDIT" AND Reference=="#1001 refund 77"'
    )
    assert [n["CreditNoteID"] for n in found] == [first.document["CreditNoteID"]]


def test_allocation_applies_the_credit_to_the_invoice_once(client, customer, sold):
    (made,) = client.save_credit_notes(
        [credit_note(customer["ContactID"])], create_only=True, idempotency_key="a"
    )
    note_id = made.document["CreditNoteID"]

    for _ in range(2):  # a retry with the same key is answered, not applied again
        allocation = client.allocate_credit_note(
            note_id,
            sold["InvoiceID"],
            Decimal("10.00"),
            "2026-11-05",
            idempotency_key="allocate-1",
        )

    assert Decimal(str(allocation["Amount"])) == Decimal("10.00")
    (now,) = client.get_invoices(ids=[sold["InvoiceID"]])
    assert Decimal(str(now["AmountDue"])) == Decimal("15.00")
    assert Decimal(str(now["AmountCredited"])) == Decimal("10.00")
    note = xero_documents.credit_note_now(client, note_id)
    assert note["Status"] == "PAID"
    assert Decimal(str(note["RemainingCredit"])) == 0
    assert [a["Invoice"]["InvoiceID"] for a in note["Allocations"]] == [
        sold["InvoiceID"]
    ]


def test_allocating_to_a_paid_invoice_is_refused_in_xeros_words(client, customer, sold):
    (paid,) = client.create_payments(
        [xero_documents.payment(sold["InvoiceID"], Decimal("25.00"), "2026-11-03",
                                "090", "paid")],
        idempotency_key="pay-all",
    )  # fmt: skip
    assert paid.ok, paid.errors
    (made,) = client.save_credit_notes(
        [credit_note(customer["ContactID"])], create_only=True, idempotency_key="b"
    )

    with pytest.raises(errors.ValidationFailed) as refused:
        client.allocate_credit_note(
            made.document["CreditNoteID"],
            sold["InvoiceID"],
            Decimal("10.00"),
            "2026-11-05",
            idempotency_key="allocate-paid",
        )

    assert "already been paid off" in refused.value.message


def test_allocating_more_than_is_due_is_refused(client, customer, sold):
    (made,) = client.save_credit_notes(
        [credit_note(customer["ContactID"], amount="40.00")],
        create_only=True,
        idempotency_key="c",
    )

    with pytest.raises(errors.ValidationFailed) as refused:
        client.allocate_credit_note(
            made.document["CreditNoteID"],
            sold["InvoiceID"],
            Decimal("40.00"),
            "2026-11-05",
            idempotency_key="allocate-too-much",
        )

    assert "greater than amount outstanding" in refused.value.message


def test_a_cash_refund_is_a_payment_on_the_credit_note(client, customer):
    (made,) = client.save_credit_notes(
        [credit_note(customer["ContactID"])], create_only=True, idempotency_key="d"
    )
    note_id = made.document["CreditNoteID"]

    (refund,) = client.create_payments(
        [
            xero_documents.refund_payment(
                note_id, Decimal("10.00"), "2026-11-05", "090", "Shopify refund 77"
            )
        ],
        idempotency_key="refund-1",
    )

    assert refund.ok, refund.errors
    assert refund.document["PaymentType"] == "ARCREDITPAYMENT"
    note = xero_documents.credit_note_now(client, note_id)
    assert note["Status"] == "PAID"
    assert [p["Reference"] for p in note["Payments"]] == ["Shopify refund 77"]
