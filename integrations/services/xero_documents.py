"""Xero documents for an order: the ACCREC invoice, its payment, its voiding,
and for a refund the ACCRECCREDIT credit note and its cash refund.

Built from the neutral order (``services.shopify_orders``) and what the flow
resolved (contact, item codes, accounts, tax types). The invoice states each
line's tax (``TaxAmount``) as Shopify charged it, so Xero's totals are the
shop's to the cent; ``LineAmountTypes`` follows Shopify's ``taxes_included``.

Idempotency: each write carries an ``Idempotency-Key`` derived from the
record's key, and the flow reads before it creates (``find_invoice``), so a
retry after a lost answer finds the first invoice instead of making a second.
Credit notes likewise: ``find_credit_note`` by Reference before creating.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, date, datetime
from decimal import Decimal

from integrations.engine.errors import ReferenceMissing, ValidationFailed
from integrations.services import shopify_orders

LIVE = ("DRAFT", "SUBMITTED", "AUTHORISED", "PAID")  # not DELETED or VOIDED
_MS_DATE = re.compile(r"/Date\((-?\d+)([+-]\d{4})?\)/")


def key(record_key: str, step: str) -> str:
    """A short, stable Idempotency-Key for one write of one record (Xero
    allows 128 characters; the connector adds a batch suffix)."""
    digest = hashlib.sha256(record_key.encode()).hexdigest()[:40]
    return f"lb-{digest}-{step}"[:100]


def invoice_now(client, invoice_id: str) -> dict:
    """The invoice as Xero has it now (status, amounts due and paid)."""
    found = client.get_invoices(ids=[invoice_id])
    if not found:
        raise ReferenceMissing(
            f"Xero invoice {invoice_id} no longer exists.", field="order"
        )
    return found[0]


def batch_key(prefix: str, runs, documents: list[dict]) -> str:
    """One Idempotency-Key for a batch write: the records' keys and what is
    sent, so a retry of the same write replays and a different one is new."""
    text = json.dumps(
        [[run.record.idempotency_key for run in runs], documents],
        sort_keys=True,
        default=str,
    )
    return f"lb-{prefix}-{hashlib.sha256(text.encode()).hexdigest()[:48]}"


def one(results, *, kind: str, doing: str = "creating it") -> dict:
    """The single document a save returned, or its refusal as a taxonomy error."""
    (result,) = results
    if not result.ok:
        raise result.error(kind=kind, doing=doing)
    return result.document


def quoted(value: str, field: str) -> str:
    """A value for a ``where`` clause, refused if it could change the clause."""
    if '"' in value or "\\" in value:
        raise ValidationFailed(
            f"{value!r} cannot be looked up in Xero (it holds a quote).", field=field
        )
    return f'"{value}"'


def find_invoice(client, reference: str, contact_id: str = "") -> dict | None:
    """Our invoice for this order if Xero already has it (read before create)."""
    where = f'Type=="ACCREC" AND Reference=={quoted(reference, "name")}'
    found = [
        invoice
        for invoice in client.get_invoices(where=where)
        if invoice.get("Status") in LIVE
        and (
            not contact_id
            or (invoice.get("Contact") or {}).get("ContactID") in ("", None, contact_id)
        )
    ]
    if len(found) > 1:
        numbers = ", ".join(
            str(i.get("InvoiceNumber") or i["InvoiceID"]) for i in found
        )
        raise ValidationFailed(
            f"Xero already has several sales invoices with reference {reference} "
            f"({numbers}): void the extra ones in Xero, then resubmit.",
            field="name",
        )
    return found[0] if found else None


def find_credit_note(client, reference: str, contact_id: str = "") -> dict | None:
    """Our sales credit note with this Reference if Xero already has it."""
    where = f'Type=="ACCRECCREDIT" AND Reference=={quoted(reference, "id")}'
    found = [
        note
        for note in client.get_credit_notes(where=where)
        if note.get("Status") in LIVE
        and (
            not contact_id
            or (note.get("Contact") or {}).get("ContactID") in ("", None, contact_id)
        )
    ]
    if len(found) > 1:
        numbers = ", ".join(
            str(n.get("CreditNoteNumber") or n["CreditNoteID"]) for n in found
        )
        raise ValidationFailed(
            f"Xero already has several sales credit notes with reference "
            f"{reference} ({numbers}): void the extra ones in Xero, then resubmit.",
            field="id",
        )
    return found[0] if found else None


def credit_note_now(client, credit_note_id: str) -> dict:
    """The credit note as Xero has it now (remaining credit, allocations,
    payments); Xero's list read is the one that filters by id."""
    where = f"CreditNoteID==Guid({quoted(credit_note_id, 'id')})"
    found = client.get_credit_notes(where=where)
    if not found:
        raise ReferenceMissing(
            f"Xero credit note {credit_note_id} no longer exists.", field="id"
        )
    return found[0]


def refund_reference(order_name: str, refund_id: str) -> str:
    """The credit note's Reference: the order name and the Shopify refund id."""
    return f"{order_name} refund {refund_id}"[:255]


def credit_note(
    *,
    contact_id: str,
    on: str,
    reference: str,
    currency_code: str,
    line_amount_types: str,
    lines: list[dict],
) -> dict:
    """The AUTHORISED ACCRECCREDIT credit note. ``lines``: Description,
    Quantity, UnitAmount, AccountCode, TaxType, TaxAmount and, for item
    lines, ItemCode, as the invoice line it gives back."""
    return {
        "Type": "ACCRECCREDIT",
        "Contact": {"ContactID": contact_id},
        "Date": on,
        "Reference": reference,
        "Status": "AUTHORISED",
        "CurrencyCode": currency_code,
        "LineAmountTypes": line_amount_types,
        "LineItems": [
            {key: value for key, value in line.items() if value not in (None, "")}
            for line in lines
        ],
    }


def credit_total(lines: list[dict], line_amount_types: str) -> Decimal:
    """What the credit note comes to: its lines, plus their tax unless the
    amounts include it."""
    amounts = sum(
        (Decimal(line["Quantity"]) * Decimal(line["UnitAmount"]) for line in lines),
        Decimal(0),
    )
    if line_amount_types == "Inclusive":
        return amounts
    return amounts + sum((Decimal(line["TaxAmount"]) for line in lines), Decimal(0))


def refund_payment(
    credit_note_id: str, amount: Decimal, on: str, account_code: str, reference: str
) -> dict:
    """Cash paid back against a credit note (Xero: a refund is a Payment on
    the credit note from the bank account)."""
    return {
        "CreditNote": {"CreditNoteID": credit_note_id},
        "Account": {"Code": account_code},
        "Date": on,
        "Amount": amount,
        "Reference": reference[:255],
    }


def invoice(order: dict, resolved: dict) -> dict:
    """The ACCREC invoice (AUTHORISED) for the order."""
    lines = []
    for line, xero_line in zip(order["lines"], resolved["lines"], strict=True):
        entry = {
            "Description": line["title"],
            "Quantity": Decimal(line["quantity"]),
            "UnitAmount": Decimal(line["unit_price"]),
            "AccountCode": xero_line["account_code"],
            "TaxType": xero_line["tax_type"],
            "TaxAmount": Decimal(xero_line["tax"]),
        }
        if xero_line.get("item_code"):
            entry["ItemCode"] = xero_line["item_code"]
        lines.append(entry)
    for extra in resolved["extra_lines"]:
        lines.append(
            {
                "Description": extra["description"],
                "Quantity": Decimal(1),
                "UnitAmount": Decimal(extra["amount"]),
                "AccountCode": extra["account_code"],
                "TaxType": extra["tax_type"],
                "TaxAmount": Decimal(extra["tax"]),
            }
        )
    document = {
        "Type": "ACCREC",
        "Contact": {"ContactID": resolved["contact"]["contact_id"]},
        "Date": order["order_date"],
        "DueDate": resolved["due_date"],
        "Reference": order["name"],
        "Status": "AUTHORISED",
        "CurrencyCode": order["currency"],
        "LineAmountTypes": "Inclusive" if order["taxes_included"] else "Exclusive",
        "LineItems": lines,
    }
    return document


def money_lines(order: dict) -> list[dict]:
    """Every amount the invoice will carry, with whether Shopify taxed it and
    the tax Shopify stated for it (None when only the order total is known)."""
    found = []
    for line in order["lines"]:
        amount = shopify_orders.amount(line["unit_price"]) * Decimal(line["quantity"])
        stated = _stated(line["tax_lines"])
        found.append(
            {"kind": "line", "amount": amount, "taxed": line["taxable"], "tax": stated}
        )
    discount = shopify_orders.amount(order["discount"]["amount"])
    if discount:
        found.append(
            {
                "kind": "discount",
                "amount": -discount,
                "taxed": any(line["taxable"] for line in order["lines"]),
                "tax": None,
            }
        )
    for shipping in order["shipping"]:
        price = shopify_orders.amount(shipping["price"])
        if price:
            stated = _stated(shipping["tax_lines"])
            found.append(
                {
                    "kind": "shipping",
                    "amount": price,
                    "taxed": bool(shipping["tax_lines"]),
                    "tax": stated,
                    "title": shipping["title"],
                }
            )
    return found


def split_tax(order: dict, lines: list[dict]) -> list[Decimal]:
    """Each money line's tax: as Shopify stated it where it did, the rest of the
    order's total tax spread over the other taxed lines by amount."""
    total = shopify_orders.amount(order["totals"]["tax"])
    taxes = [line["tax"] if line["tax"] is not None else None for line in lines]
    stated = sum((t for t in taxes if t is not None), Decimal(0))
    open_lines = [
        i for i, line in enumerate(lines) if line["taxed"] and taxes[i] is None
    ]
    remaining = total - stated
    result = [t if t is not None else Decimal(0) for t in taxes]
    if open_lines:
        shares = shopify_orders.allocate(
            [lines[i]["amount"] for i in open_lines], remaining
        )
        for i, share in zip(open_lines, shares, strict=True):
            result[i] = share
    elif remaining:
        taxed = [i for i, line in enumerate(lines) if line["taxed"]] or [0]
        largest = max(taxed, key=lambda i: abs(lines[i]["amount"]))
        result[largest] += remaining
    return result


def payment(
    invoice_id: str, amount: Decimal, on: str, account_code: str, reference: str
) -> dict:
    return {
        "Invoice": {"InvoiceID": invoice_id},
        "Account": {"Code": account_code},
        "Date": on,
        "Amount": amount,
        "Reference": reference[:255],
    }


def parse_date(value) -> date | None:
    """Xero's ``/Date(1439434356790+0000)/`` or ISO text as a date."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value)
    found = _MS_DATE.match(text)
    if found:
        return datetime.fromtimestamp(int(found[1]) / 1000, tz=UTC).date()
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def require(found: dict | None, what: str, field: str) -> dict:
    if found is None:
        raise ReferenceMissing(f"{what} is not in Xero.", field=field)
    return found


def _stated(tax_lines: list[dict]) -> Decimal | None:
    if not tax_lines:
        return None
    return sum((shopify_orders.amount(t["price"]) for t in tax_lines), Decimal(0))
