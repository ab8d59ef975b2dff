"""Invoices, credit notes and purchase orders: one engine for lines and totals.

Per line: ItemCode must exist (defaults Description, UnitAmount, AccountCode
and TaxType from the item's sales or purchase details); AccountCode must be an
active, non-bank account; TaxType must exist and suit the account's class;
Quantity must not be negative (Xero: "Quantity must not be less than zero");
negative UnitAmounts (discount lines) are allowed but a document total may not
be negative (that is a credit note). Amounts: LineAmount = Quantity *
UnitAmount * (1 - DiscountRate/100), tax per line at the rate's EffectiveRate,
Exclusive/Inclusive/NoTax as Xero computes them, all rounded half-up to cents.

Life cycle (rules.INVOICE_TRANSITIONS): DRAFT/SUBMITTED may be edited,
approved or deleted; AUTHORISED may be edited while nothing is paid or
credited, and voided only then; PAID, VOIDED and DELETED are final.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from integrations.sandbox.xero.books import chart, contacts, dates, rules
from integrations.sandbox.xero.books.rules import Invalid, Problems
from integrations.sandbox.xero.books.state import Books

_UUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
LINE_AMOUNT_TYPES = {
    "exclusive": "Exclusive",
    "inclusive": "Inclusive",
    "notax": "NoTax",
}
PURCHASE_TYPES = {"ACCPAY", "ACCPAYCREDIT", None}


@dataclass(frozen=True)
class Kind:
    """What differs between invoices, credit notes and purchase orders."""

    collection: str
    name: str
    id_field: str
    number_field: str
    types: tuple[str | None, ...]
    prefixes: dict[str | None, str]
    transitions: dict[str, set[str]]
    create_statuses: set[str]
    number_taken: str
    account_required: set[str] = field(default_factory=set)
    terms_days: int | None = 30


INVOICE = Kind(
    "invoices",
    "Invoice",
    "InvoiceID",
    "InvoiceNumber",
    ("ACCREC", "ACCPAY"),
    {"ACCREC": "INV-"},
    rules.INVOICE_TRANSITIONS,
    rules.INVOICE_CREATE_STATUSES,
    rules.INVOICE_NUMBER_UNIQUE,
    {"AUTHORISED", "SUBMITTED"},
)
CREDIT_NOTE = Kind(
    "credit_notes",
    "CreditNote",
    "CreditNoteID",
    "CreditNoteNumber",
    ("ACCRECCREDIT", "ACCPAYCREDIT"),
    {"ACCRECCREDIT": "CN-"},
    rules.INVOICE_TRANSITIONS,
    rules.INVOICE_CREATE_STATUSES,
    "Credit Note # must be unique.",
    {"AUTHORISED", "SUBMITTED"},
    None,
)
PURCHASE_ORDER = Kind(
    "purchase_orders",
    "PurchaseOrder",
    "PurchaseOrderID",
    "PurchaseOrderNumber",
    (None,),
    {None: "PO-"},
    rules.PURCHASE_ORDER_TRANSITIONS,
    {"DRAFT", "SUBMITTED", "AUTHORISED"},
    rules.ORDER_NUMBER_UNIQUE,
    set(),
    None,
)
_KEEP = {
    "Invoice": (
        "Reference",
        "SentToContact",
        "ExpectedPaymentDate",
        "PlannedPaymentDate",
        "BrandingThemeID",
        "Url",
    ),
    "CreditNote": ("Reference", "BrandingThemeID"),
    "PurchaseOrder": (
        "Reference",
        "SentToContact",
        "DeliveryAddress",
        "AttentionTo",
        "Telephone",
        "DeliveryInstructions",
        "BrandingThemeID",
    ),
}
_DATES = {
    "Invoice": ("Date", "DueDate", "ExpectedPaymentDate", "PlannedPaymentDate"),
    "CreditNote": ("Date", "DueDate"),
    "PurchaseOrder": ("Date", "DeliveryDate", "ExpectedArrivalDate"),
}
# Fields that cannot change once money is allocated to the document.
_LOCKED_BY_PAYMENT = (
    "LineItems",
    "Contact",
    "CurrencyCode",
    "LineAmountTypes",
    "CurrencyRate",
)


def collection(books: Books, kind: Kind) -> dict[str, dict]:
    return getattr(books, kind.collection)


def save(
    books: Books,
    kind: Kind,
    data: Any,
    *,
    create_only: bool,
    unitdp: int = 2,
    document_id: str | None = None,
) -> tuple[dict, bool]:
    """Create or update one document; (record, created). Raises Invalid."""
    if not isinstance(data, dict):
        raise Invalid(f"An {kind.name} must be a JSON object.")
    records = collection(books, kind)
    problems = Problems()
    existing = _existing(books, kind, records, data, document_id, create_only, problems)
    old = existing or {}

    doc_type = data.get("Type", old.get("Type")) if kind.types != (None,) else None
    if doc_type not in kind.types:
        if doc_type is None:
            problems.add(
                f"{kind.name} Type must be specified "
                f"({' or '.join(map(str, kind.types))})."
            )
        else:
            problems.add(f"{kind.name} Type '{doc_type}' is not valid here.")
    elif existing is not None and doc_type != old.get("Type"):
        problems.add(f"The Type of an existing {kind.name} cannot be changed.")

    status = data.get("Status") or old.get("Status") or "DRAFT"
    _check_status(kind, existing, status, data, problems)

    contact = None
    new_contact = None
    if "Contact" in data or existing is None:
        contact = contacts.for_document(books, data.get("Contact"), problems)
        reference = data.get("Contact")
        if (
            contact is None
            and isinstance(reference, dict)
            and rules.text(reference.get("Name"))
            and not rules.text(reference.get("ContactID"))
        ):
            new_contact = reference
    else:
        contact = books.contacts.get(old["_contact"])

    currency = rules.text(data.get("CurrencyCode")) or old.get("CurrencyCode")
    if not currency:
        currency = (contact or {}).get("DefaultCurrency") or books.base_currency
    if currency not in books.currencies:
        problems.add(rules.currency_not_enabled(currency))
    rate = rules.decimal(data.get("CurrencyRate"), "CurrencyRate", problems)
    if rate is not None and rate <= 0:
        problems.add("CurrencyRate must be greater than zero.")
    if rate is None:
        rate = old.get("CurrencyRate") if "CurrencyCode" not in data else None
        rate = rate or books.rate_for(currency)
    if currency == books.base_currency:
        rate = Decimal(1)

    when = _dates(books, kind, data, old, problems)

    lat_given = data.get("LineAmountTypes", old.get("LineAmountTypes", "Exclusive"))
    line_amount_types = LINE_AMOUNT_TYPES.get(str(lat_given).lower())
    if line_amount_types is None:
        problems.add(
            f"LineAmountTypes '{lat_given}' is not valid; use Exclusive, Inclusive "
            "or NoTax."
        )
        line_amount_types = "Exclusive"

    given_lines = (
        data.get("LineItems") if "LineItems" in data else old.get("LineItems", [])
    )
    if not isinstance(given_lines, list):
        problems.add("LineItems must be a list.")
        given_lines = []
    require_account = status in kind.account_required
    lines = [
        _line(
            books, doc_type, line, unitdp, line_amount_types, require_account, problems
        )
        for line in given_lines
    ]
    if status in ("AUTHORISED", "SUBMITTED") and not lines:
        problems.add(
            f"A {kind.name} must have at least one line item to be {status.lower()}."
        )
    totals = _totals(lines, line_amount_types)
    if totals["Total"] < 0:
        problems.add(
            f"The total of a {kind.name} must not be negative; raise a credit note "
            "instead."
        )

    number = (
        rules.text(data.get(kind.number_field))
        if kind.number_field in data
        else old.get(kind.number_field, "")
    )
    if doc_type in kind.prefixes and number:
        other = _by_number(records, kind, number, doc_type)
        if other is not None and other is not existing:
            problems.add(kind.number_taken)
    problems.check()

    # -- valid: write -------------------------------------------------------
    if new_contact is not None:
        contact = contacts.create_from_reference(books, new_contact)
    assert contact is not None
    contacts.mark_role(contact, doc_type or "ACCPAY")
    created = existing is None
    record = existing if existing is not None else _new(books, kind, data, doc_type)
    if doc_type in kind.prefixes and not number:
        number = books.next_number(
            kind.prefixes[doc_type],
            lambda n: _by_number(records, kind, n, doc_type) is not None,
        )
    if number or kind.number_field in data:
        record[kind.number_field] = number
    record["_contact"] = contact["ContactID"]
    record["Contact"] = contacts.summary(contact)
    record["Status"] = status
    record["LineAmountTypes"] = line_amount_types
    record["LineItems"] = lines
    record["CurrencyCode"] = currency
    record["CurrencyRate"] = rate
    record.update(when)
    record.update(totals)
    for key in _KEEP[kind.name]:
        if key in data and key not in _DATES[kind.name]:
            record[key] = copy.deepcopy(data[key])
    refresh_amounts(kind, record)
    records[record[kind.id_field]] = record
    books.changed(kind.collection, "CREATE" if created else "UPDATE", record)
    return record, created


def _existing(
    books: Books,
    kind: Kind,
    records: dict[str, dict],
    data: dict,
    document_id: str | None,
    create_only: bool,
    problems: Problems,
) -> dict | None:
    given_id = (document_id or rules.text(data.get(kind.id_field))).lower()
    if given_id:
        if not _UUID.match(given_id):
            problems.add(f"{kind.id_field} '{given_id}' is not a valid id.")
            return None
        found = records.get(given_id)
        if create_only and found is not None:
            problems.add(rules.already_exists(kind.name, kind.id_field, given_id))
            return None
        if not create_only and found is None:
            problems.add(rules.existing_not_found(_spaced(kind.name), kind.id_field))
        return found
    number = rules.text(data.get(kind.number_field))
    doc_type = data.get("Type") if kind.types != (None,) else None
    if number and doc_type in kind.prefixes:
        found = _by_number(records, kind, number, doc_type)
        if found is not None:
            if create_only:
                problems.add(kind.number_taken)
                return None
            return found
    return None


def _spaced(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r" \1", name)


def _by_number(
    records: dict[str, dict], kind: Kind, number: str, doc_type: str | None
) -> dict | None:
    for record in records.values():
        if (
            record.get(kind.number_field) == number
            and record.get("Type") == doc_type
            and record["Status"] != "DELETED"
        ):
            return record
    return None


def _check_status(
    kind: Kind, existing: dict | None, status: str, data: dict, problems: Problems
) -> None:
    if status not in kind.transitions:
        problems.add(f"{kind.name} Status '{status}' is not valid.")
        return
    if existing is None:
        if status not in kind.create_statuses:
            problems.add(
                f"A new {kind.name} must be "
                + ", ".join(sorted(kind.create_statuses))
                + f"; '{status}' is not allowed."
            )
        return
    current = existing["Status"]
    settled = existing.get("AmountPaid", 0) or existing.get("AmountCredited", 0)
    if current == "PAID" or (
        settled
        and (
            status in ("VOIDED", "DELETED")
            or any(k in data for k in _LOCKED_BY_PAYMENT)
        )
    ):
        problems.add(rules.HAS_PAYMENTS)
        return
    if status not in kind.transitions[current]:
        problems.add(
            rules.NOT_VALID_STATUS
            if kind is INVOICE
            else f"{kind.name} not of valid status for modification"
        )


def _dates(books: Books, kind: Kind, data: dict, old: dict, problems: Problems) -> dict:
    found: dict[str, str] = {}
    for key in _DATES[kind.name]:
        if data.get(key) in (None, ""):
            if key in old:
                found[key] = old[key]
            continue
        try:
            found[key] = dates.msdate(dates.parse_day(data[key]))
        except dates.BadDate:
            problems.add(f"{key} '{data[key]}' is not a valid date.")
    if "Date" not in found:
        found["Date"] = dates.msdate(books.today())
    if kind.terms_days and "DueDate" not in found and "Date" in found:
        day = dates.parse_day(found["Date"]) + timedelta(days=kind.terms_days)
        found["DueDate"] = dates.msdate(day)
    if (
        "DueDate" in found
        and "Date" in found
        and dates.parse(found["DueDate"]) < dates.parse(found["Date"])
    ):
        problems.add("DueDate must not be before Date.")
    return found


def _line(
    books: Books,
    doc_type: str | None,
    given: Any,
    unitdp: int,
    line_amount_types: str,
    require_account: bool,
    problems: Problems,
) -> dict:
    if not isinstance(given, dict):
        problems.add("Each line item must be an object.")
        return {}
    purchase = doc_type in PURCHASE_TYPES
    line: dict = {}
    code = rules.text(given.get("ItemCode"))
    item = books.item_by_code(code) if code else None
    details: dict = {}
    if code and item is None:
        problems.add(rules.item_code_unknown(code))
    elif item is not None:
        details = item.get("PurchaseDetails" if purchase else "SalesDetails") or {}
        line["ItemCode"] = item["Code"]
        line["Item"] = {"ItemID": item["ItemID"], "Code": item["Code"]}
        if item.get("Name"):
            line["Item"]["Name"] = item["Name"]
    description = given.get("Description")
    if description in (None, "") and item is not None:
        description = (
            (item.get("PurchaseDescription") if purchase else None)
            or item.get("Description")
            or item.get("Name")
        )
    if description in (None, "") and item is None and not code:
        problems.add("Each line item must have a Description or an ItemCode.")
    if description not in (None, ""):
        line["Description"] = description

    quantity = rules.decimal(given.get("Quantity"), "Quantity", problems)
    unit_amount = rules.decimal(given.get("UnitAmount"), "UnitAmount", problems)
    given_amount = rules.decimal(given.get("LineAmount"), "LineAmount", problems)
    discount = rules.decimal(given.get("DiscountRate"), "DiscountRate", problems)
    if quantity is None:
        quantity = Decimal(1)
    if quantity < 0:
        problems.add(rules.negative_quantity(quantity))
    if unit_amount is None:
        if given_amount is not None and quantity:
            unit_amount = given_amount / quantity
        else:
            unit_amount = Decimal(str(details.get("UnitPrice", 0)))
    if discount is not None and not Decimal(0) <= discount <= Decimal(100):
        problems.add(f"The discount rate '{discount:.2f}' is invalid.")
    quantity = quantity.quantize(rules.FOUR)
    unit_amount = rules.unit(unit_amount, unitdp)
    gross = quantity * unit_amount
    amount = rules.money(gross * (1 - (discount or 0) / Decimal(100)))

    account = None
    account_code = rules.text(given.get("AccountCode")) or details.get(
        "AccountCode", ""
    )
    if not account_code and rules.text(given.get("AccountID")):
        by_id = books.accounts.get(rules.text(given["AccountID"]).lower())
        account_code = by_id["Code"] if by_id else ""
        if by_id is None:
            problems.add(f"AccountID '{given['AccountID']}' is not a valid account.")
    if account_code:
        account = chart.line_account(books, account_code, problems)
        line["AccountCode"] = account_code
        if account is not None:
            line["AccountID"] = account["AccountID"]
    elif require_account:
        problems.add(
            "Account code must be specified on every line item of an approved document."
        )

    tax_type = (
        rules.text(given.get("TaxType"))
        or details.get("TaxType")
        or (account or {}).get("TaxType")
        or ("INPUT" if purchase else "OUTPUT")
    )
    if line_amount_types == "NoTax":
        tax_type, percent = "NONE", Decimal(0)
        if "NONE" not in books.tax_rates:
            percent = Decimal(0)
    else:
        percent = chart.tax_rate(books, tax_type, account, problems)
    if line_amount_types == "Inclusive":
        tax = rules.money(amount - amount / (1 + percent / 100))
    else:
        tax = rules.money(amount * percent / 100)

    line_id = rules.text(given.get("LineItemID"))
    line.update(
        {
            "LineItemID": line_id.lower() if _UUID.match(line_id) else books.new_id(),
            "Quantity": quantity,
            "UnitAmount": unit_amount,
            "TaxType": tax_type,
            "TaxAmount": tax,
            "LineAmount": amount,
            "Tracking": copy.deepcopy(given.get("Tracking") or []),
        }
    )
    if discount:
        line["DiscountRate"] = rules.money(discount)
        line["_discount"] = rules.money(gross) - amount
    return line


def _totals(lines: list[dict], line_amount_types: str) -> dict:
    amounts = sum((line.get("LineAmount", Decimal(0)) for line in lines), Decimal(0))
    tax = sum((line.get("TaxAmount", Decimal(0)) for line in lines), Decimal(0))
    discount = sum((line.get("_discount", Decimal(0)) for line in lines), Decimal(0))
    if line_amount_types == "Inclusive":
        sub_total, total = amounts - tax, amounts
    else:
        sub_total, total = amounts, amounts + tax
    return {
        "SubTotal": rules.money(sub_total),
        "TotalTax": rules.money(tax),
        "Total": rules.money(total),
        "TotalDiscount": rules.money(discount),
    }


def _new(books: Books, kind: Kind, data: dict, doc_type: str | None) -> dict:
    given_id = rules.text(data.get(kind.id_field)).lower()
    record: dict = {kind.id_field: given_id or books.new_id(), "HasAttachments": False}
    if doc_type is not None:
        record["Type"] = doc_type
    if kind is INVOICE:
        record.update(
            {
                "AmountPaid": Decimal(0),
                "AmountCredited": Decimal(0),
                "Payments": [],
                "CreditNotes": [],
                "Prepayments": [],
                "Overpayments": [],
                "SentToContact": False,
                "HasErrors": False,
                "IsDiscounted": False,
            }
        )
    elif kind is CREDIT_NOTE:
        record.update(
            {
                "AppliedAmount": Decimal(0),
                "Allocations": [],
                "Payments": [],
                "HasErrors": False,
            }
        )
    return record


def refresh_amounts(kind: Kind, record: dict) -> None:
    """AmountDue / RemainingCredit from the total less what is paid or allocated;
    a fully settled approved document becomes PAID (and back, if a payment is
    deleted)."""
    total = record["Total"]
    if kind is INVOICE:
        record["IsDiscounted"] = bool(record.get("TotalDiscount"))
        settled = record.get("AmountPaid", Decimal(0)) + record.get(
            "AmountCredited", Decimal(0)
        )
        if record["Status"] in ("VOIDED", "DELETED"):
            record["AmountDue"] = Decimal(0)
            return
        record["AmountDue"] = rules.money(total - settled)
        _settle(record, settled)
    elif kind is CREDIT_NOTE:
        used = record.get("AppliedAmount", Decimal(0))
        if record["Status"] in ("VOIDED", "DELETED"):
            record["RemainingCredit"] = Decimal(0)
            return
        record["RemainingCredit"] = rules.money(total - used)
        _settle(record, used)


def _settle(record: dict, settled: Decimal) -> None:
    if record["Status"] == "AUTHORISED" and settled > 0 and settled >= record["Total"]:
        record["Status"] = "PAID"
    elif record["Status"] == "PAID" and settled < record["Total"]:
        record["Status"] = "AUTHORISED"
        record.pop("FullyPaidOnDate", None)


def allocate(books: Books, credit_note: dict, data: Any) -> dict:
    """PUT /CreditNotes/{id}/Allocations: apply credit to an invoice of the same
    side and contact, at most the remaining credit and the amount due."""
    if not isinstance(data, dict):
        raise Invalid("An Allocation must be an object.")
    problems = Problems()
    reference = data.get("Invoice") or {}
    invoice = books.invoices.get(rules.text(reference.get("InvoiceID")).lower())
    if invoice is None and rules.text(reference.get("InvoiceNumber")):
        invoice = books.invoice_by_number(rules.text(reference["InvoiceNumber"]))
    amount = rules.decimal(data.get("Amount"), "Amount", problems)
    if invoice is None:
        problems.add(rules.NOT_FOUND)
    if amount is None or amount <= 0:
        problems.add("Allocation Amount must be greater than zero.")
    problems.check()
    assert invoice is not None and amount is not None
    amount = rules.money(amount)
    # Xero's own words where a real answer shows them (rules.ALLOCATION_*).
    if invoice["Status"] == "PAID":
        problems.add(rules.ALLOCATION_PAID_OFF)
    elif credit_note["Status"] != "AUTHORISED" or invoice["Status"] != "AUTHORISED":
        problems.add("Credit notes can only be allocated between approved documents.")
    if {credit_note["Type"], invoice["Type"]} not in (
        {"ACCRECCREDIT", "ACCREC"},
        {"ACCPAYCREDIT", "ACCPAY"},
    ):
        problems.add(rules.ALLOCATION_WRONG_TYPE)
    if credit_note["_contact"] != invoice["_contact"]:
        problems.add("The credit note and the invoice must be for the same contact.")
    if credit_note["CurrencyCode"] != invoice["CurrencyCode"]:
        problems.add("The credit note and the invoice must be in the same currency.")
    if amount > credit_note.get("RemainingCredit", Decimal(0)):
        problems.add(
            "The amount allocated exceeds the remaining credit on this credit note."
        )
    if invoice["Status"] != "PAID" and amount > invoice.get("AmountDue", Decimal(0)):
        problems.add(rules.ALLOCATION_EXCEEDS)
    problems.check()
    when = dates.msdate(books.today())
    if data.get("Date"):
        try:
            when = dates.msdate(dates.parse_day(data["Date"]))
        except dates.BadDate:
            raise Invalid(f"Date '{data['Date']}' is not a valid date.") from None
    allocation = {
        "AllocationID": books.new_id(),
        "Amount": amount,
        "Date": when,
        "Invoice": {
            "InvoiceID": invoice["InvoiceID"],
            "InvoiceNumber": invoice.get("InvoiceNumber", ""),
        },
        "CreditNote": {
            "CreditNoteID": credit_note["CreditNoteID"],
            "CreditNoteNumber": credit_note.get("CreditNoteNumber", ""),
        },
    }
    credit_note["AppliedAmount"] += amount
    credit_note["Allocations"].append(allocation)
    invoice["AmountCredited"] += amount
    invoice["CreditNotes"].append(
        {
            "CreditNoteID": credit_note["CreditNoteID"],
            "CreditNoteNumber": credit_note.get("CreditNoteNumber", ""),
            "AppliedAmount": amount,
            "Total": credit_note["Total"],
        }
    )
    refresh_amounts(CREDIT_NOTE, credit_note)
    refresh_amounts(INVOICE, invoice)
    if invoice["Status"] == "PAID":
        invoice["FullyPaidOnDate"] = when
    books.changed("credit_notes", "UPDATE", credit_note)
    books.changed("invoices", "UPDATE", invoice)
    return allocation
