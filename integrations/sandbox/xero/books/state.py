"""One organisation's records, held in memory in Xero's own field names.

Records are plain dicts shaped like the API's JSON (amounts as Decimal, dates
already in ``/Date(ms+0000)/`` form), so reading is rendering and the ``where``
filter works on what a client sees. Keys starting with ``_`` are private.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from integrations.sandbox.xero.books import dates

# Collections whose changes Xero announces by webhook (xero-webhooks.yaml).
EVENT_CATEGORIES = {
    "contacts": "CONTACT",
    "invoices": "INVOICE",
    "credit_notes": "CREDITNOTE",
}


@dataclass
class Books:
    """The records and counters; the Organisation guards it with its lock."""

    tenant_id: str
    name: str
    base_currency: str
    clock: Callable[[], float]
    accounts: dict[str, dict] = field(default_factory=dict)
    tax_rates: dict[str, dict] = field(default_factory=dict)  # by TaxType
    currencies: dict[str, dict] = field(default_factory=dict)  # by Code
    rates: dict[str, Decimal] = field(default_factory=dict)  # units per base unit
    contacts: dict[str, dict] = field(default_factory=dict)
    items: dict[str, dict] = field(default_factory=dict)
    invoices: dict[str, dict] = field(default_factory=dict)
    credit_notes: dict[str, dict] = field(default_factory=dict)
    payments: dict[str, dict] = field(default_factory=dict)
    purchase_orders: dict[str, dict] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    events: list[tuple[str, str, str]] = field(default_factory=list)
    created: float = 0.0

    # -- time and ids ----------------------------------------------------------
    def now(self) -> str:
        return dates.msdate(dates.from_timestamp(self.clock()))

    def today(self) -> date:
        return dates.from_timestamp(self.clock()).date()

    @staticmethod
    def new_id() -> str:
        return str(uuid.uuid4())

    def next_number(self, prefix: str, taken: Callable[[str], bool]) -> str:
        """Xero's "next number" setting: prefix + 4 digits, skipping used ones."""
        while True:
            self.counters[prefix] = self.counters.get(prefix, 0) + 1
            candidate = f"{prefix}{self.counters[prefix]:04d}"
            if not taken(candidate):
                return candidate

    def changed(self, collection: str, event_type: str, record: dict) -> None:
        """Stamp UpdatedDateUTC and queue the webhook event, if Xero sends one."""
        record["UpdatedDateUTC"] = self.now()
        category = EVENT_CATEGORIES.get(collection)
        if category:
            id_field = {
                "contacts": "ContactID",
                "invoices": "InvoiceID",
                "credit_notes": "CreditNoteID",
            }[collection]
            self.events.append((category, event_type, record[id_field]))

    # -- look-ups -------------------------------------------------------------
    def account_by_code(self, code: str) -> dict | None:
        wanted = code.strip().upper()
        for account in self.accounts.values():
            if str(account.get("Code", "")).upper() == wanted:
                return account
        return None

    def contact_by(self, field_name: str, value: str) -> dict | None:
        wanted = value.strip().lower()
        for contact in self.contacts.values():
            if str(contact.get(field_name) or "").strip().lower() == wanted and (
                field_name != "Name" or contact.get("ContactStatus") == "ACTIVE"
            ):
                return contact
        return None

    def item_by_code(self, code: str) -> dict | None:
        wanted = code.strip().lower()
        for item in self.items.values():
            if item["Code"].lower() == wanted:
                return item
        return None

    def invoice_by_number(self, number: str, kind: str | None = None) -> dict | None:
        for invoice in self.invoices.values():
            if (
                invoice.get("InvoiceNumber") == number
                and invoice["Status"] != "DELETED"
                and (kind is None or invoice["Type"] == kind)
            ):
                return invoice
        return None

    def rate_for(self, currency: str) -> Decimal:
        if currency == self.base_currency:
            return Decimal(1)
        return self.rates.get(currency, Decimal(1))
