"""Payments: money received against a sales invoice or paid against a bill.

Rules (Xero's payments page and error messages): the document is found by
InvoiceID or InvoiceNumber (CreditNoteID/Number for refunds); it must be
AUTHORISED; the amount must be positive ("Payment amounts must be positive
amounts") and at most the amount due ("Payment amount exceeds the amount
outstanding on this document"); the account, by AccountID or Code, must be a
bank account or one with payments enabled. A payment that settles the
document makes it PAID. Payments cannot be edited, only deleted (which
re-opens the document).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from integrations.sandbox.xero.books import contacts, dates, documents, rules
from integrations.sandbox.xero.books.rules import Invalid, Problems
from integrations.sandbox.xero.books.state import Books

PAYMENT_TYPES = {
    "ACCREC": "ACCRECPAYMENT",
    "ACCPAY": "ACCPAYPAYMENT",
    "ACCRECCREDIT": "ARCREDITPAYMENT",
    "ACCPAYCREDIT": "APCREDITPAYMENT",
}


def create(books: Books, data: Any) -> dict:
    if not isinstance(data, dict):
        raise Invalid("A Payment must be a JSON object.")
    problems = Problems()
    if (
        rules.text(data.get("PaymentID"))
        and data["PaymentID"].lower() in books.payments
    ):
        raise Invalid(rules.already_exists("Payment", "PaymentID", data["PaymentID"]))
    document, kind = _document(books, data, problems)
    account = _account(books, data.get("Account"), problems)
    amount = rules.decimal(data.get("Amount"), "Amount", problems)
    if amount is None:
        problems.add("Payment Amount must be specified.")
    elif amount <= 0:
        problems.add(rules.PAYMENT_POSITIVE)
    problems.check()
    assert document is not None and kind is not None and amount is not None
    amount = rules.money(amount)
    if document["Status"] != "AUTHORISED":
        problems.add(
            f"Payments can only be made against approved (AUTHORISED) documents; this "
            f"{kind.name} is {document['Status']}."
        )
    outstanding = document.get("AmountDue", document.get("RemainingCredit", Decimal(0)))
    if document["Status"] == "AUTHORISED" and amount > outstanding:
        problems.add(rules.PAYMENT_EXCEEDS)
    when = dates.msdate(books.today())
    if data.get("Date"):
        try:
            when = dates.msdate(dates.parse_day(data["Date"]))
        except dates.BadDate:
            problems.add(f"Date '{data['Date']}' is not a valid date.")
    rate = rules.decimal(data.get("CurrencyRate"), "CurrencyRate", problems)
    if rate is not None and rate <= 0:
        problems.add("CurrencyRate must be greater than zero.")
    problems.check()
    assert account is not None
    rate = rate or document.get("CurrencyRate") or Decimal(1)
    payment = {
        "PaymentID": rules.text(data.get("PaymentID")).lower() or books.new_id(),
        "Date": when,
        "Amount": amount,
        "BankAmount": rules.money(amount / rate) if rate else amount,
        "CurrencyRate": rate,
        "Reference": str(data.get("Reference") or ""),
        "IsReconciled": bool(data.get("IsReconciled", False)),
        "Status": "AUTHORISED",
        "PaymentType": PAYMENT_TYPES[document["Type"]],
        "HasAccount": True,
        "HasValidationErrors": False,
        "_account": account["AccountID"],
        "_document": document[kind.id_field],
        "_kind": kind.collection,
    }
    books.payments[payment["PaymentID"]] = payment
    books.changed("payments", "CREATE", payment)
    document["Payments"].append(_on_document(payment))
    if kind is documents.INVOICE:
        document["AmountPaid"] += amount
    else:
        document["AppliedAmount"] += amount
    documents.refresh_amounts(kind, document)
    if document["Status"] == "PAID":
        document["FullyPaidOnDate"] = when
    books.changed(kind.collection, "UPDATE", document)
    return payment


def delete(books: Books, payment_id: str, data: Any) -> dict:
    """POST /Payments/{id} with Status DELETED: the only change Xero allows."""
    payment = books.payments.get(payment_id.lower())
    if payment is None:
        raise LookupError(payment_id)
    given = data.get("Payments", [data]) if isinstance(data, dict) else [data]
    status = given[0].get("Status") if given and isinstance(given[0], dict) else None
    if status != "DELETED":
        raise Invalid("Payments cannot be edited; set Status to DELETED to remove one.")
    if payment["Status"] == "DELETED":
        raise Invalid("This payment has already been deleted.")
    kind = (
        documents.INVOICE if payment["_kind"] == "invoices" else documents.CREDIT_NOTE
    )
    document = documents.collection(books, kind)[payment["_document"]]
    payment["Status"] = "DELETED"
    books.changed("payments", "UPDATE", payment)
    document["Payments"] = [
        p for p in document["Payments"] if p["PaymentID"] != payment["PaymentID"]
    ]
    if kind is documents.INVOICE:
        document["AmountPaid"] -= payment["Amount"]
    else:
        document["AppliedAmount"] -= payment["Amount"]
    documents.refresh_amounts(kind, document)
    books.changed(kind.collection, "UPDATE", document)
    return payment


def render(books: Books, payment: dict) -> dict:
    """The payment with its account and document summarised, as Xero shows it."""
    shown = {k: v for k, v in payment.items() if not k.startswith("_")}
    account = books.accounts[payment["_account"]]
    shown["Account"] = {"AccountID": account["AccountID"], "Code": account["Code"]}
    kind = (
        documents.INVOICE if payment["_kind"] == "invoices" else documents.CREDIT_NOTE
    )
    document = documents.collection(books, kind)[payment["_document"]]
    contact = books.contacts[document["_contact"]]
    summary = {
        "Type": document["Type"],
        kind.id_field: document[kind.id_field],
        kind.number_field: document.get(kind.number_field, ""),
        "Contact": contacts.summary(contact),
        "CurrencyCode": document["CurrencyCode"],
        "LineItems": [],
    }
    if kind is documents.INVOICE:
        shown["Invoice"] = summary
    else:
        shown["CreditNote"] = summary
    return shown


def _on_document(payment: dict) -> dict:
    return {
        "PaymentID": payment["PaymentID"],
        "Date": payment["Date"],
        "Amount": payment["Amount"],
        "CurrencyRate": payment["CurrencyRate"],
        "Reference": payment["Reference"],
        "HasAccount": True,
        "HasValidationErrors": False,
    }


def _document(
    books: Books, data: dict, problems: Problems
) -> tuple[dict | None, documents.Kind | None]:
    invoice = data.get("Invoice")
    credit = data.get("CreditNote")
    number = rules.text(data.get("InvoiceNumber"))
    credit_number = rules.text(data.get("CreditNoteNumber"))
    if isinstance(invoice, dict) or number:
        invoice = invoice if isinstance(invoice, dict) else {}
        found = None
        invoice_id = rules.text(invoice.get("InvoiceID")).lower()
        number = rules.text(invoice.get("InvoiceNumber")) or number
        if invoice_id:
            found = books.invoices.get(invoice_id)
        elif number:
            found = books.invoice_by_number(number)
        if found is None:
            problems.add(rules.NOT_FOUND)
        return found, documents.INVOICE
    if isinstance(credit, dict) or credit_number:
        credit = credit if isinstance(credit, dict) else {}
        found = None
        credit_id = rules.text(credit.get("CreditNoteID")).lower()
        credit_number = rules.text(credit.get("CreditNoteNumber")) or credit_number
        if credit_id:
            found = books.credit_notes.get(credit_id)
        elif credit_number:
            found = next(
                (
                    c
                    for c in books.credit_notes.values()
                    if c.get("CreditNoteNumber") == credit_number
                ),
                None,
            )
        if found is None:
            problems.add(rules.NOT_FOUND)
        return found, documents.CREDIT_NOTE
    problems.add(
        "A payment must name the document it pays: Invoice (InvoiceID or "
        "InvoiceNumber) or CreditNote."
    )
    return None, None


def _account(books: Books, reference: Any, problems: Problems) -> dict | None:
    if not isinstance(reference, dict):
        problems.add("A payment must name its Account by AccountID or Code.")
        return None
    account = None
    account_id = rules.text(reference.get("AccountID")).lower()
    code = rules.text(reference.get("Code"))
    if account_id:
        account = books.accounts.get(account_id)
    elif code:
        account = books.account_by_code(code)
    else:
        problems.add("A payment must name its Account by AccountID or Code.")
        return None
    if account is None or account.get("Status") != "ACTIVE":
        problems.add(
            f"Account '{account_id or code}' is not a valid account for payments."
        )
        return None
    if account.get("Type") != "BANK" and not account.get("EnablePaymentsToAccount"):
        problems.add(
            f"Account '{account['Code']}' is not a bank account and does not have "
            "payments enabled."
        )
        return None
    return account
