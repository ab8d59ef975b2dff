"""Keys written the way Sage 100 stores them (SAGE100-FACTS.md section 1).

A lookup with ``"1"``/``"abf"``/``"123"`` must find division ``"01"``, customer
``"ABF"`` and order ``"0000123"``: Sage compares stored strings exactly, so the
connector normalises every key before it reaches a WHERE clause. A value longer
than its field is refused, naming the field, never cut: a cut key can find (or,
through the agent, change) a different record.
"""

from __future__ import annotations

import re

from integrations.engine.errors import ValidationFailed

# Keys are printable ASCII ("ABF", "0000001", "1001-HON-H252"); a control
# character or an accented letter is a mistake upstream, not a Sage key.
_CODE = re.compile(r"^[\x21-\x7e][\x20-\x7e]*$")
_DOC = re.compile(r"^[A-Z0-9-]+$")
_REF = re.compile(r"^\s*(\d{1,2})-(.+)$")


def _text(value: object, field: str) -> str:
    if value is None:
        raise ValidationFailed(f"{field} is required.", field=field)
    text = str(value).strip()
    if not text:
        raise ValidationFailed(f"{field} is required.", field=field)
    return text


def _fits(text: str, length: int, field: str) -> str:
    if len(text) > length:
        raise ValidationFailed(
            f"{field} {text!r} is longer than Sage 100's {length} characters.",
            field=field,
        )
    return text


def division(value: object, field: str = "ARDivisionNo") -> str:
    """Two digits, zero-filled: ``"1"`` → ``"01"``; ``"00"`` when divisions are off."""
    text = _text(value, field)
    if not text.isdigit():
        raise ValidationFailed(
            f"{field} must be digits (e.g. 01), not {text!r}.", field=field
        )
    return _fits(text, 2, field).zfill(2)


def _code(value: object, length: int, field: str) -> str:
    text = _fits(_text(value, field).upper(), length, field)
    if not _CODE.match(text):
        raise ValidationFailed(
            f"{field} {text!r} holds characters Sage 100 keys do not use "
            "(printable ASCII only).",
            field=field,
        )
    return text


def customer_no(value: object, field: str = "CustomerNo") -> str:
    return _code(value, 20, field)


def item_code(value: object, field: str = "ItemCode") -> str:
    return _code(value, 30, field)


def vendor_no(value: object, field: str = "VendorNo") -> str:
    return _code(value, 7, field)


def ap_invoice_no(value: object, field: str = "InvoiceNo") -> str:
    """An A/P invoice number is the vendor's own: 10 characters, upper-case,
    never zero-filled (SAGE100-FACTS.md section 2 keys it with the vendor)."""
    return _code(value, 10, field)


def _charnum(value: object, length: int, field: str) -> str:
    """CHARNUM: digits are zero-filled; letters (a site's own prefixes) are kept.

    Sage zero-fills what is typed as a number; an alphanumeric number is stored
    as typed, upper-cased [INFERRED].
    """
    text = _fits(_text(value, field).upper(), length, field)
    if not _DOC.match(text):
        raise ValidationFailed(
            f"{field} {text!r} must be letters and digits only.", field=field
        )
    return text.zfill(length) if text.isdigit() else text


def document_no(value: object, field: str) -> str:
    """SalesOrderNo, InvoiceNo, PurchaseOrderNo: 7 characters, "123" → "0000123"."""
    return _charnum(value, 7, field)


def sales_order_no(value: object) -> str:
    return document_no(value, "SalesOrderNo")


def invoice_no(value: object) -> str:
    return document_no(value, "InvoiceNo")


def purchase_order_no(value: object) -> str:
    return document_no(value, "PurchaseOrderNo")


def warehouse_code(value: object, field: str = "WarehouseCode") -> str:
    return _charnum(value, 3, field)


def customer_po(value: object, field: str = "CustomerPONo") -> str:
    """Free text up to 15; kept as typed (Sage does not upper-case it)."""
    return _fits(_text(value, field), 15, field)


def customer_ref(text: object, field: str = "customer") -> tuple[str | None, str]:
    """Sage's display form "01-ABF" → ("01", "ABF"); "ABF" → (None, "ABF").

    A customer number may itself contain a hyphen; callers that get no match
    for the split form should also try the whole text (``find_customer`` does).
    """
    raw = _text(text, field)
    found = _REF.match(raw)
    if found:
        return division(found.group(1), field), customer_no(found.group(2), field)
    return None, customer_no(raw, field)


def display(division_no: str, customer: str) -> str:
    """The form Sage shows and cross-references store: ``01-ABF``."""
    return f"{division_no}-{customer}"
