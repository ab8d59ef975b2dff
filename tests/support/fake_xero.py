"""An in-memory stand-in for ``XeroClient``, for flow tests that are about the
flow's decisions rather than Xero's wire (the proof tests use the simulator).

It keeps the books the flows touch (contacts, items, accounts, tax rates,
currencies, invoices, payments, credit notes) with Xero's behaviour where the
flow depends on it: totals from the lines and their stated tax, AmountDue
falling with payments and credit allocated, PAID at zero, VOIDED only while
unpaid, allocations refused past the amount due, and an Idempotency-Key
that replays the first answer. ``fail`` makes the next calls of one method
raise, to play outages.
"""

from __future__ import annotations

import copy
import itertools
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal

from integrations.connectors.xero.client import ElementResult
from integrations.engine import clients
from integrations.engine.errors import ValidationFailed

_CLAUSE = re.compile(r'(\w+)=="([^"]*)"')
_CONTAINS = re.compile(r'(\w+)\.Contains\("([^"]*)"\)')


def _matches(document: dict, where: str) -> bool:
    """``A=="x" AND (B=="y" OR C.Contains("z"))``: AND, OR, parentheses, no case."""

    def term(text: str) -> bool:
        text = text.strip()
        if text.startswith("(") and text.endswith(")"):
            return _matches(document, text[1:-1])
        equal, contains = _CLAUSE.search(text), _CONTAINS.search(text)
        if equal:
            name, value = equal.groups()
            return str(document.get(name) or "").lower() == value.lower()
        if contains:
            name, value = contains.groups()
            return value.lower() in str(document.get(name) or "").lower()
        return True

    return any(
        all(term(part) for part in _top_level(group, " AND "))
        for group in _top_level(where, " OR ")
    )


def _top_level(text: str, separator: str) -> list[str]:
    """``text`` split at ``separator`` outside parentheses and quotes."""
    parts, depth, quoted, start, at = [], 0, False, 0, 0
    while at < len(text):
        char = text[at]
        if char == '"':
            quoted = not quoted
        elif not quoted and char in "()":
            depth += 1 if char == "(" else -1
        elif not quoted and depth == 0 and text.startswith(separator, at):
            parts.append(text[start:at])
            at += len(separator)
            start = at
            continue
        at += 1
    return [*parts, text[start:]]


@dataclass
class FakeBooks:
    contacts: dict[str, dict] = field(default_factory=dict)
    items: list[dict] = field(default_factory=list)
    accounts: list[dict] = field(default_factory=list)
    tax_rates: list[dict] = field(default_factory=list)
    currencies: list[dict] = field(default_factory=list)
    invoices: dict[str, dict] = field(default_factory=dict)
    payments: dict[str, dict] = field(default_factory=dict)
    credit_notes: dict[str, dict] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)  # (method, detail)
    failures: dict[str, list[Exception]] = field(default_factory=dict)
    meanwhile: dict[str, list[Callable[[], None]]] = field(default_factory=dict)
    replays: dict[str, list] = field(default_factory=dict)
    numbers: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @classmethod
    def demo(cls) -> FakeBooks:
        books = cls()
        books.accounts = [
            {"Code": "200", "Name": "Sales", "Type": "REVENUE", "Status": "ACTIVE"},
            {"Code": "260", "Name": "Other Revenue", "Type": "REVENUE",
             "Status": "ACTIVE"},
            {"Code": "090", "Name": "Bank", "Type": "BANK", "Status": "ACTIVE",
             "EnablePaymentsToAccount": True},
        ]  # fmt: skip
        books.tax_rates = [
            {"TaxType": "NONE", "Name": "Tax Exempt", "EffectiveRate": 0,
             "Status": "ACTIVE"},
            {"TaxType": "TAX001", "Name": "State Tax", "EffectiveRate": 6,
             "Status": "ACTIVE"},
        ]  # fmt: skip
        books.currencies = [{"Code": "USD"}, {"Code": "EUR"}]
        return books

    def fail(self, method: str, error: Exception, times: int = 1) -> None:
        self.failures.setdefault(method, []).extend([error] * times)

    def before_next(self, method: str, action: Callable[[], None]) -> None:
        """Someone else acts in Xero just before our next call of ``method``."""
        self.meanwhile.setdefault(method, []).append(action)

    @property
    def writes(self) -> list[tuple[str, str]]:
        writing = ("save", "create", "update", "allocate")
        return [c for c in self.calls if c[0].startswith(writing)]


class FakeXeroClient:
    system = "xero"

    def __init__(self, books: FakeBooks) -> None:
        self.books = books

    # -- plumbing -----------------------------------------------------------------
    def _enter(self, method: str, detail: str = "") -> None:
        self.books.calls.append((method, detail))
        if self.books.meanwhile.get(method):
            self.books.meanwhile[method].pop(0)()
        queued = self.books.failures.get(method)
        if queued:
            raise queued.pop(0)

    def _replayed(self, key: str, make):
        if key in self.books.replays:
            return copy.deepcopy(self.books.replays[key])
        answer = make()
        self.books.replays[key] = copy.deepcopy(answer)
        return answer

    # -- reading ------------------------------------------------------------------
    def get_contacts(self, *, where=None, ids=None, search_term=None, **_) -> list:
        self._enter("get_contacts", where or search_term or "")
        found = list(self.books.contacts.values())
        if ids:
            found = [c for c in found if c["ContactID"] in ids]
        if where:
            found = [c for c in found if _matches(c, where)]
        if search_term:
            term = search_term.lower()
            found = [
                c
                for c in found
                if term in (c.get("Name", "") + " " + c.get("EmailAddress", "")).lower()
            ]
        return copy.deepcopy(found)

    def get_items(self, **_) -> list:
        self._enter("get_items")
        return copy.deepcopy(self.books.items)

    def get_accounts(self, **_) -> list:
        self._enter("get_accounts")
        return copy.deepcopy(self.books.accounts)

    def get_tax_rates(self, **_) -> list:
        self._enter("get_tax_rates")
        return copy.deepcopy(self.books.tax_rates)

    def get_currencies(self) -> list:
        self._enter("get_currencies")
        return copy.deepcopy(self.books.currencies)

    def get_invoices(self, *, where=None, ids=None, **_) -> list:
        self._enter("get_invoices", where or ",".join(ids or []))
        found = list(self.books.invoices.values())
        if ids:
            found = [i for i in found if i["InvoiceID"] in ids]
        if where:
            found = [i for i in found if _matches(i, where)]
        return copy.deepcopy(found)

    # -- writing ------------------------------------------------------------------
    def save_contacts(self, contacts, *, create_only=False, idempotency_key):
        self._enter("save_contacts", idempotency_key)
        return self._replayed(
            idempotency_key, lambda: [self._contact(c) for c in contacts]
        )

    def _contact(self, contact: dict) -> ElementResult:
        names = {c["Name"].lower() for c in self.books.contacts.values()}
        if contact["Name"].lower() in names:
            return ElementResult(
                False, contact, [f"The contact name {contact['Name']} is taken."]
            )
        saved = {**contact, "ContactID": str(uuid.uuid4()), "ContactStatus": "ACTIVE"}
        self.books.contacts[saved["ContactID"]] = saved
        return ElementResult(True, copy.deepcopy(saved))

    def save_invoices(self, invoices, *, create_only=False, idempotency_key):
        self._enter("save_invoices", idempotency_key)
        return self._replayed(
            idempotency_key, lambda: [self._invoice(i) for i in invoices]
        )

    def _invoice(self, invoice: dict) -> ElementResult:
        codes = {i["Code"] for i in self.books.items}
        for line in invoice["LineItems"]:
            if line.get("ItemCode") and line["ItemCode"] not in codes:
                return ElementResult(
                    False, invoice, [f"Item code '{line['ItemCode']}' is not valid."]
                )
        lines = []
        for line in invoice["LineItems"]:
            amount = Decimal(str(line["Quantity"])) * Decimal(str(line["UnitAmount"]))
            lines.append({**line, "LineAmount": amount.quantize(Decimal("0.01"))})
        subtotal = sum((line["LineAmount"] for line in lines), Decimal(0))
        tax = sum((Decimal(str(line["TaxAmount"])) for line in lines), Decimal(0))
        if invoice.get("LineAmountTypes") == "Inclusive":
            subtotal -= tax
        total = subtotal + tax
        saved = {
            **invoice,
            "InvoiceID": str(uuid.uuid4()),
            "InvoiceNumber": f"INV-{next(self.books.numbers):04d}",
            "LineItems": lines,
            "SubTotal": subtotal,
            "TotalTax": tax,
            "Total": total,
            "AmountDue": total,
            "AmountPaid": Decimal(0),
            "Payments": [],
        }
        self.books.invoices[saved["InvoiceID"]] = saved
        return ElementResult(True, copy.deepcopy(saved))

    def update_invoice(self, invoice_id, invoice, *, idempotency_key) -> dict:
        self._enter("update_invoice", idempotency_key)
        saved = self.books.invoices[invoice_id]
        if invoice.get("Status") == "VOIDED":
            if saved["AmountPaid"]:
                raise ValidationFailed(
                    "Invoice has payments and cannot be voided.", field="Status"
                )
            saved["Status"] = "VOIDED"
            saved["AmountDue"] = Decimal(0)
        return copy.deepcopy(saved)

    def create_payments(self, payments, *, idempotency_key):
        self._enter("create_payments", idempotency_key)
        return self._replayed(
            idempotency_key, lambda: [self._payment(p) for p in payments]
        )

    def _payment(self, payment: dict) -> ElementResult:
        if "CreditNote" in payment:
            return self._refund(payment)
        invoice = self.books.invoices[payment["Invoice"]["InvoiceID"]]
        amount = Decimal(str(payment["Amount"]))
        if invoice["Status"] != "AUTHORISED" or amount > invoice["AmountDue"]:
            return ElementResult(False, payment, ["Payment amount exceeds due."])
        saved = {**payment, "PaymentID": str(uuid.uuid4()), "Amount": amount}
        self.books.payments[saved["PaymentID"]] = saved
        invoice["AmountPaid"] += amount
        invoice["AmountDue"] -= amount
        invoice["Payments"].append(
            {"PaymentID": saved["PaymentID"], "Amount": amount,
             "Reference": payment.get("Reference")}
        )  # fmt: skip
        if invoice["AmountDue"] == 0:
            invoice["Status"] = "PAID"
        return ElementResult(True, copy.deepcopy(saved))

    # -- credit notes (refunds) ------------------------------------------------------
    def get_credit_notes(self, *, where=None, **_) -> list:
        self._enter("get_credit_notes", where or "")
        groups = [_CREDIT_CLAUSE.findall(part) for part in (where or "").split(" OR ")]
        found = [
            note
            for note in self.books.credit_notes.values()
            if any(
                all(str(note.get(k, "")).lower() == v.lower() for k, v in group)
                for group in groups
            )
        ]
        return copy.deepcopy(found)

    def save_credit_notes(self, credit_notes, *, create_only=False, idempotency_key):
        self._enter("save_credit_notes", idempotency_key)
        return self._replayed(
            idempotency_key, lambda: [self._credit_note(n) for n in credit_notes]
        )

    def _credit_note(self, note: dict) -> ElementResult:
        codes = {i["Code"] for i in self.books.items}
        for line in note["LineItems"]:
            if line.get("ItemCode") and line["ItemCode"] not in codes:
                return ElementResult(
                    False, note, [f"Item code '{line['ItemCode']}' is not valid."]
                )
        amounts = sum(
            (Decimal(str(x["Quantity"])) * Decimal(str(x["UnitAmount"])))
            for x in note["LineItems"]
        )
        tax = sum(Decimal(str(x["TaxAmount"])) for x in note["LineItems"])
        total = amounts if note.get("LineAmountTypes") == "Inclusive" else amounts + tax
        saved = {
            **note,
            "CreditNoteID": str(uuid.uuid4()),
            "CreditNoteNumber": f"CN-{next(self.books.numbers):04d}",
            "Total": total.quantize(Decimal("0.01")),
            "TotalTax": tax,
            "RemainingCredit": total.quantize(Decimal("0.01")),
            "Allocations": [],
            "Payments": [],
        }
        self.books.credit_notes[saved["CreditNoteID"]] = saved
        return ElementResult(True, copy.deepcopy(saved))

    def allocate_credit_note(
        self, credit_note_id, invoice_id, amount, on, *, idempotency_key
    ) -> dict:
        self._enter("allocate_credit_note", idempotency_key)
        return self._replayed(
            idempotency_key,
            lambda: self._allocate(credit_note_id, invoice_id, Decimal(amount), on),
        )

    def _allocate(self, credit_note_id, invoice_id, amount, on) -> dict:
        """Xero's rules: both approved, one contact, within credit and due."""
        note = self.books.credit_notes[credit_note_id]
        invoice = self.books.invoices[invoice_id]
        if invoice["Status"] == "PAID":
            raise ValidationFailed(
                "The invoice you are trying to allocate to has already been paid off"
            )
        if amount > invoice["AmountDue"] or amount > note["RemainingCredit"]:
            raise ValidationFailed(
                "Credit Note cannot be allocated as amount is greater than amount "
                "outstanding"
            )
        allocation = {
            "AllocationID": str(uuid.uuid4()),
            "Amount": amount,
            "Date": on,
            "Invoice": {"InvoiceID": invoice_id},
        }
        note["Allocations"].append(allocation)
        note["RemainingCredit"] -= amount
        invoice["AmountDue"] -= amount
        invoice.setdefault("CreditNotes", []).append(
            {"CreditNoteID": credit_note_id, "AppliedAmount": amount}
        )
        if invoice["AmountDue"] == 0:
            invoice["Status"] = "PAID"
        if note["RemainingCredit"] == 0:
            note["Status"] = "PAID"
        return copy.deepcopy(allocation)

    def _refund(self, payment: dict) -> ElementResult:
        note = self.books.credit_notes[payment["CreditNote"]["CreditNoteID"]]
        amount = Decimal(str(payment["Amount"]))
        if note["Status"] != "AUTHORISED" or amount > note["RemainingCredit"]:
            return ElementResult(False, payment, ["Payment amount exceeds credit."])
        saved = {**payment, "PaymentID": str(uuid.uuid4()), "Amount": amount}
        self.books.payments[saved["PaymentID"]] = saved
        note["RemainingCredit"] -= amount
        note["Payments"].append(
            {"PaymentID": saved["PaymentID"], "Amount": amount,
             "Reference": payment.get("Reference")}
        )  # fmt: skip
        if note["RemainingCredit"] == 0:
            note["Status"] = "PAID"
        return ElementResult(True, copy.deepcopy(saved))


# ``Reference=="x"``, ``Type=="y"`` and ``CreditNoteID==Guid("z")``.
_CREDIT_CLAUSE = re.compile(r'(\w+)==(?:Guid\()?"([^"]*)"')


@contextmanager
def fake_xero(books: FakeBooks | None = None) -> Iterator[FakeBooks]:
    """Every Xero connection built while inside reaches ``books``."""
    books = books or FakeBooks.demo()
    clients._load_builtin()
    before = clients._builders["xero"]
    had_connection = "xero" in clients._with_connection
    clients.register("xero", lambda settings, credentials, **_: FakeXeroClient(books))
    try:
        yield books
    finally:
        clients.register("xero", before, with_connection=had_connection)
