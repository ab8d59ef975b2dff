"""Procure-to-pay documents: Sage 100 purchase orders and A/P invoices as Xero
PurchaseOrders and ACCPAY bills, and Xero bill payments as Sage 100 checks.

Plain functions, no I/O: the flows (``flows/procure_to_pay.py``) read both
systems and hand the rows here. What a bill must say is decided once, here,
so the create, the update and the "is Xero already up to date?" check agree.

* A bill carries one line: AP_OpenInvoice keeps the amount and one expense
  account, not a distribution. ``LineAmountTypes`` is ``Inclusive``, so the
  bill's total in Xero is the amount Sage says the vendor is owed, whatever
  tax rate the line carries.
* A payment's Sage check number is made from its Xero PaymentID (Sage keeps
  ten characters; Xero's reference text is free and not unique), so a
  payment delivered twice, or by the webhook and the poll, finds its check.
"""

from __future__ import annotations

import re
from contextlib import suppress
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from integrations.connectors.sage100 import changes, keys
from integrations.engine.errors import ValidationFailed
from integrations.services.xero_documents import parse_date

BILL = "ACCPAY"
BILL_PAYMENT = "ACCPAYPAYMENT"
# Xero states of a bill that still exists (not DELETED or VOIDED).
LIVE = frozenset({"DRAFT", "SUBMITTED", "AUTHORISED", "PAID"})
EDITABLE = frozenset({"DRAFT", "SUBMITTED", "AUTHORISED"})
BILL_STATUSES = frozenset({"DRAFT", "SUBMITTED", "AUTHORISED"})
# Sage 100 PO OrderStatus → Xero PurchaseOrder Status, unless po_status
# cross-references (Sage code → Xero status) say otherwise.
DEFAULT_PO_STATUS = {
    "N": "AUTHORISED",
    "O": "AUTHORISED",
    "B": "AUTHORISED",
    "R": "AUTHORISED",
    "C": "BILLED",
    "X": "DELETED",
}
PO_STATUSES = frozenset({"DRAFT", "SUBMITTED", "AUTHORISED", "BILLED", "DELETED"})
# A PO is created in one of these; BILLED follows in a second write.
PO_CREATE_STATUSES = frozenset({"DRAFT", "SUBMITTED", "AUTHORISED"})
COMMENT_LINE = "4"  # PO_PurchaseOrderDetail.ItemType of a comment line
CENT = Decimal("0.01")
CHECK_NO_LENGTH = 10
_HEX = re.compile(r"[^0-9A-F]")
INVOICE_TABLE, PO_TABLE = "AP_OpenInvoice", "PO_PurchaseOrderHeader"


# -- keys ---------------------------------------------------------------------------


def invoice_key(row: dict) -> str:
    """``01|ACME|INV-100``: the change feed's key text of an A/P invoice."""
    return changes.key_text(INVOICE_TABLE, normalised_invoice_key(row))


def normalised_invoice_key(row: dict) -> dict[str, str]:
    return {
        "APDivisionNo": keys.division(row.get("APDivisionNo"), "APDivisionNo"),
        "VendorNo": keys.vendor_no(row.get("VendorNo")),
        "InvoiceNo": keys.ap_invoice_no(row.get("InvoiceNo")),
    }


def parse_invoice_key(text: str) -> dict[str, str]:
    return normalised_invoice_key(changes.parse_key(INVOICE_TABLE, text))


def vendor_key(division: Any, vendor_no: Any) -> str:
    """``01-ACME``: how vendors are cross-referenced (as master data does)."""
    return keys.display(
        keys.division(division, "APDivisionNo"), keys.vendor_no(vendor_no)
    )


def check_no(payment_id: str, prefix: str = "X") -> str:
    """The Sage check number of a Xero payment: the prefix and the PaymentID's
    first hex digits, ten characters in all, the same on every delivery."""
    digits = _HEX.sub("", str(payment_id).upper())
    prefix = str(prefix or "").strip().upper()
    room = CHECK_NO_LENGTH - len(prefix)
    if room < 8:
        raise ValidationFailed(
            f"The check number prefix {prefix!r} leaves fewer than 8 of Sage's 10 "
            "characters for the payment's id: use at most 2 characters.",
            field="options.check_no_prefix",
        )
    if len(digits) < room:
        raise ValidationFailed(
            f"{payment_id!r} is not a Xero PaymentID.", field="PaymentID"
        )
    return prefix + digits[:room]


# -- values -------------------------------------------------------------------------


def money(value: Any, field: str) -> Decimal:
    """A Sage or Xero amount as a Decimal of cents; refused when not a number."""
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationFailed(f"{value!r} is not an amount.", field=field) from None
    if not number.is_finite():
        raise ValidationFailed(f"{value!r} is not an amount.", field=field)
    return number.quantize(CENT, rounding=ROUND_HALF_UP)


def quantity(value: Any, field: str) -> Decimal:
    try:
        number = Decimal(str(value if value not in (None, "") else 0).strip())
    except (InvalidOperation, ValueError):
        raise ValidationFailed(f"{value!r} is not a quantity.", field=field) from None
    if not number.is_finite():
        raise ValidationFailed(f"{value!r} is not a quantity.", field=field)
    return number.normalize() if number else Decimal(0)


def iso_date(value: Any, field: str, *, required: bool = True) -> str:
    """Sage's date (a date, or ISO text in an event) as ``YYYY-MM-DD``."""
    if isinstance(value, date):
        return value.isoformat()[:10]
    if value in (None, ""):
        if required:
            raise ValidationFailed(f"{field} is required.", field=field)
        return ""
    try:
        return date.fromisoformat(str(value)[:10]).isoformat()
    except ValueError:
        raise ValidationFailed(f"{value!r} is not a date.", field=field) from None


def same_date(xero_value: Any, iso: str) -> bool:
    found = parse_date(xero_value)
    return (found.isoformat() if found else "") == (iso or "")


# -- purchase orders ----------------------------------------------------------------


def purchase_order_status(code: str, mapped: str | None) -> str:
    """Sage's OrderStatus as a Xero PurchaseOrder status."""
    status = (mapped or DEFAULT_PO_STATUS.get(code, "")).strip().upper()
    if status not in PO_STATUSES:
        shown = mapped or code
        raise ValidationFailed(
            f"Sage 100 purchase order status {code!r} maps to {shown!r}, which is "
            "not a Xero purchase order status (DRAFT, SUBMITTED, AUTHORISED, "
            "BILLED, DELETED): correct the po_status cross-reference.",
            field="OrderStatus",
        )
    return status


def purchase_order_lines(
    header: dict,
    *,
    account_code: str,
    tax_type: str,
    item_codes: dict[str, str],
    freight_account_code: str,
) -> list[dict]:
    """Xero LineItems for a Sage PO: one per detail line (comment lines left
    out), plus freight. ``item_codes``: Sage ItemCode → Xero Item Code, for
    the items Xero has; other lines go by description and account."""
    number = header.get("PurchaseOrderNo")
    lines = []
    for index, line in enumerate(header.get("lines") or []):
        if str(line.get("ItemType") or "") == COMMENT_LINE:
            continue
        where = f"lines.{index}"
        code = str(line.get("ItemCode") or "").strip()
        description = str(line.get("ItemCodeDesc") or "").strip() or code
        entry: dict[str, Any] = {
            "Description": description or f"PO {number} line {index + 1}",
            "Quantity": quantity(
                line.get("QuantityOrdered"), f"{where}.QuantityOrdered"
            ),
            # Xero keeps unit amounts to the cent unless asked for unitdp=4.
            "UnitAmount": money(line.get("UnitCost") or 0, f"{where}.UnitCost"),
            "AccountCode": account_code,
            "TaxType": tax_type,
        }
        if entry["Quantity"] < 0:
            raise ValidationFailed(
                f"Purchase order {number}, line {index + 1}: the quantity "
                f"{entry['Quantity']} is negative; Xero purchase orders take none.",
                field=f"{where}.QuantityOrdered",
            )
        if code and item_codes.get(code):
            entry["ItemCode"] = item_codes[code]
        lines.append(entry)
    freight = money(header.get("FreightAmt") or 0, "FreightAmt")
    if freight:
        lines.append(
            {
                "Description": "Freight",
                "Quantity": Decimal(1),
                "UnitAmount": freight,
                "AccountCode": freight_account_code,
                "TaxType": tax_type,
            }
        )
    if not lines:
        raise ValidationFailed(
            f"Purchase order {number} has no lines with an item or an amount; "
            "Xero needs at least one.",
            field="lines",
        )
    return lines


def purchase_order(
    header: dict,
    *,
    contact_id: str,
    status: str,
    lines: list[dict],
    currency: str,
) -> dict:
    """The Xero PurchaseOrder for a Sage 100 PO header (with its lines)."""
    number = keys.purchase_order_no(header.get("PurchaseOrderNo"))
    document: dict[str, Any] = {
        "PurchaseOrderNumber": number,
        "Contact": {"ContactID": contact_id},
        "Date": iso_date(header.get("PurchaseOrderDate"), "PurchaseOrderDate"),
        "Status": status,
        "CurrencyCode": currency,
        "LineAmountTypes": "Exclusive",
        "LineItems": lines,
    }
    delivery = iso_date(
        header.get("RequiredExpireDate"), "RequiredExpireDate", required=False
    )
    if delivery:
        document["DeliveryDate"] = delivery
    comment = str(header.get("Comment") or "").strip()
    document["Reference"] = (comment or f"Sage 100 PO {number}")[:255]
    return document


# -- bills --------------------------------------------------------------------------


def bill(
    row: dict,
    *,
    contact_id: str,
    account_code: str,
    tax_type: str,
    currency: str,
    status: str = "AUTHORISED",
) -> dict:
    """The ACCPAY bill for one AP_OpenInvoice row."""
    key = normalised_invoice_key(row)
    amount = money(row.get("InvoiceAmt"), "InvoiceAmt")
    if amount <= 0:
        raise ValidationFailed(
            f"A/P invoice {key['InvoiceNo']} has the amount {amount}; a bill needs "
            "a positive amount (credits are memos, not bills).",
            field="InvoiceAmt",
        )
    if status not in BILL_STATUSES:
        raise ValidationFailed(
            f"bill_status must be DRAFT, SUBMITTED or AUTHORISED, not {status!r}.",
            field="options.bill_status",
        )
    invoice_date = iso_date(row.get("InvoiceDate"), "InvoiceDate")
    due = iso_date(row.get("InvoiceDueDate"), "InvoiceDueDate", required=False)
    purchase_order_no = str(row.get("PurchaseOrderNo") or "").strip()
    description = f"Sage 100 A/P invoice {key['InvoiceNo']}"
    if purchase_order_no:
        description += f" (PO {purchase_order_no})"
    document: dict[str, Any] = {
        "Type": BILL,
        "InvoiceNumber": key["InvoiceNo"],
        "Contact": {"ContactID": contact_id},
        "Date": invoice_date,
        "DueDate": due or invoice_date,
        "Status": status,
        "CurrencyCode": currency,
        "LineAmountTypes": "Inclusive",
        "LineItems": [
            {
                "Description": description,
                "Quantity": Decimal(1),
                "UnitAmount": amount,
                "AccountCode": account_code,
                "TaxType": tax_type,
            }
        ],
    }
    if purchase_order_no:
        document["Reference"] = f"PO {purchase_order_no}"
    return document


def bill_changes(wanted: dict, current: dict) -> list[str]:
    """What differs between the bill Sage's invoice makes and Xero's bill, in
    words (empty: Xero is up to date)."""
    found = []
    total = current.get("Total")
    amount = wanted["LineItems"][0]["UnitAmount"]
    if total is None or money(total, "Total") != amount:
        shown = "none" if total is None else money(total, "Total")
        found.append(f"amount {shown} → {amount}")
    for name in ("Date", "DueDate"):
        if not same_date(current.get(name), wanted[name]):
            shown = parse_date(current.get(name))
            found.append(f"{name} {shown} → {wanted[name]}")
    if (current.get("Reference") or "") != wanted.get("Reference", ""):
        found.append(
            f"Reference {current.get('Reference') or '-'} → "
            f"{wanted.get('Reference') or '-'}"
        )
    contact = (current.get("Contact") or {}).get("ContactID")
    if contact and contact != wanted["Contact"]["ContactID"]:
        found.append("supplier")
    lines = current.get("LineItems") or []
    if lines and len(lines) == 1:
        line, want = lines[0], wanted["LineItems"][0]
        for name in ("AccountCode", "TaxType"):
            if line.get(name) and line.get(name) != want[name]:
                found.append(f"{name} {line.get(name)} → {want[name]}")
    return found


def amount_paid(document: dict) -> Decimal:
    paid = document.get("AmountPaid")
    if paid in (None, ""):
        return Decimal(0)
    return money(paid, "AmountPaid")


# -- payments back to Sage ----------------------------------------------------------


def payment_values(
    payment: dict,
    invoice: dict[str, str],
    *,
    prefix: str = "X",
    bank_code: str = "",
) -> dict[str, Any]:
    """The agent's ``record_ap_payment`` values for one Xero bill payment."""
    payment_id = str(payment.get("PaymentID") or "")
    amount = money(payment.get("Amount"), "Amount")
    if amount <= 0:
        raise ValidationFailed(
            f"Xero payment {payment_id} has the amount {amount}; only payments "
            "of a positive amount are recorded in Sage 100.",
            field="Amount",
        )
    paid_on = parse_date(payment.get("Date"))
    if paid_on is None:
        raise ValidationFailed(
            f"Xero payment {payment_id} has no date Sage 100 can use.", field="Date"
        )
    values: dict[str, Any] = {
        **invoice,
        "CheckNo": check_no(payment_id, prefix),
        "PaymentAmount": f"{amount:f}",
        "PaymentDate": paid_on.isoformat(),
    }
    if bank_code:
        values["BankCode"] = str(bank_code).strip().upper()
    return values


def payment_words(payment: dict, bill_number: str = "") -> str:
    """``Xero payment of 120.00 on 2026-03-02 (reference CHK 1042) on bill
    INV-7``, for messages a finance person reads."""
    amount = payment.get("Amount")
    with suppress(ValidationFailed):
        amount = money(amount, "Amount")
    paid_on = parse_date(payment.get("Date"))
    words = f"Xero payment of {amount}"
    if paid_on:
        words += f" on {paid_on.isoformat()}"
    if payment.get("Reference"):
        words += f" (reference {payment['Reference']})"
    if bill_number:
        words += f" on bill {bill_number}"
    return words
