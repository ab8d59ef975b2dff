"""Xero's validation vocabulary: the refusal, money rounding, status transitions.

The contract marks almost nothing required (API-FACTS §1.3), so the business
rules live here. Messages copy Xero's wording where it is known (spec
examples, Xero API error pages); elsewhere they name the field and the value.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

TWO = Decimal("0.01")
FOUR = Decimal("0.0001")


class Invalid(Exception):
    """One element Xero refuses, with every ValidationError message for it."""

    def __init__(self, *messages: str) -> None:
        super().__init__("; ".join(messages))
        self.messages = list(messages)


class Problems:
    """Collects an element's messages so all of them come back at once, as Xero
    lists every ValidationError of an element rather than the first."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def add(self, message: str) -> None:
        if message not in self.messages:
            self.messages.append(message)

    def check(self) -> None:
        if self.messages:
            raise Invalid(*self.messages)


def money(value: Decimal) -> Decimal:
    return value.quantize(TWO, rounding=ROUND_HALF_UP)


def unit(value: Decimal, unitdp: int) -> Decimal:
    return value.quantize(FOUR if unitdp == 4 else TWO, rounding=ROUND_HALF_UP)


def decimal(value: Any, field: str, problems: Problems) -> Decimal | None:
    """A number field as Decimal; None if absent; a problem naming it if not a
    number (the server's contract check normally catches this first)."""
    if value is None:
        return None
    if isinstance(value, bool):
        problems.add(f"{field} must be a number.")
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        problems.add(f"{field} must be a number.")
        return None
    if not number.is_finite():
        problems.add(f"{field} must be a number.")
        return None
    return number


def text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


# -- messages ------------------------------------------------------------------
NOT_FOUND = "The document with the supplied id was not found for this endpoint."
CONTACT_IDENTIFIER = (
    "The Contact must contain at least 1 of the following elements to identify "
    "the contact: Name, ContactID, ContactNumber"
)
INVOICE_NUMBER_UNIQUE = "Invoice # must be unique."
ORDER_NUMBER_UNIQUE = "Order number must be unique"
PAYMENT_EXCEEDS = "Payment amount exceeds the amount outstanding on this document"
PAYMENT_POSITIVE = "Payment amounts must be positive amounts"
# Credit note allocations: Xero's answers as integrators have quoted them
# (waynerobinson/xeroizer#320).
ALLOCATION_PAID_OFF = (
    "The invoice you are trying to allocate to has already been paid off"
)
ALLOCATION_EXCEEDS = (
    "Credit Note cannot be allocated as amount is greater than amount outstanding"
)
ALLOCATION_WRONG_TYPE = "Credit Note cannot be allocated to an incorrect invoice type"
NOT_VALID_STATUS = "Invoice not of valid status for modification"
HAS_PAYMENTS = (
    "This document cannot be edited as it has a payment or credit note allocated to it."
)


def contact_name_taken(name: str) -> str:
    return (
        f"The contact name {name} is already assigned to another contact. The "
        "contact name must be unique across all active contacts."
    )


def item_code_taken(code: str) -> str:
    # The spec's example doubles the quotes; Xero's message does the same.
    return f"Price List Item with Code ''{code}'' already exists"


def currency_not_enabled(code: str) -> str:
    return f"Organisation is not subscribed to currency {code}"


def account_not_valid(code: str) -> str:
    return f"Account code '{code}' is not a valid code for this document."


def account_archived(code: str) -> str:
    return (
        f"Account code '{code}' has been archived, or has been deleted. Each line "
        "item must reference a valid account."
    )


def tax_type_unknown(tax_type: str) -> str:
    return (
        f"The TaxType code '{tax_type}' does not exist or cannot be used with this "
        "type of transaction."
    )


def tax_type_not_for_account(tax_type: str, code: str) -> str:
    return f"The TaxType code '{tax_type}' cannot be used with account code '{code}'."


def item_code_unknown(code: str) -> str:
    return f"Item code '{code}' is not valid"


def negative_quantity(quantity: Decimal) -> str:
    return (
        f"The quantity value '{quantity:.4f}' is invalid. Quantity must not be less "
        "than zero."
    )


def already_exists(kind: str, id_field: str, value: str) -> str:
    return (
        f"A {kind} with {id_field} {value} already exists. PUT only creates; use "
        "POST to update it."
    )


def existing_not_found(kind: str, id_field: str) -> str:
    # Shape of the spec's "An existing Credit Note with the specified
    # CreditNoteID could not be found".
    return f"An existing {kind} with the specified {id_field} could not be found"


# -- status transitions -----------------------------------------------------------
# Xero's invoice life cycle (developer.xero.com/documentation/api/accounting/
# invoices, "Invoice status codes"): drafts and submitted invoices may be
# approved or deleted; approved ones voided (only while nothing is paid);
# PAID is reached by payments alone.
INVOICE_CREATE_STATUSES = {"DRAFT", "SUBMITTED", "AUTHORISED"}
INVOICE_TRANSITIONS = {
    "DRAFT": {"DRAFT", "SUBMITTED", "AUTHORISED", "DELETED"},
    "SUBMITTED": {"DRAFT", "SUBMITTED", "AUTHORISED", "DELETED"},
    "AUTHORISED": {"AUTHORISED", "VOIDED"},
    "PAID": set(),
    "VOIDED": set(),
    "DELETED": set(),
}
PURCHASE_ORDER_TRANSITIONS = {
    "DRAFT": {"DRAFT", "SUBMITTED", "AUTHORISED", "DELETED"},
    "SUBMITTED": {"DRAFT", "SUBMITTED", "AUTHORISED", "DELETED"},
    "AUTHORISED": {"AUTHORISED", "BILLED", "DELETED"},
    "BILLED": {"BILLED", "AUTHORISED"},
    "DELETED": set(),
}
