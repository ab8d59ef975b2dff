"""Contacts: customers and suppliers are one object in Xero.

Rules: a contact is identified by ContactID, ContactNumber or Name (spec
message otherwise); names are unique across ACTIVE contacts (spec message);
ContactNumber is unique; EmailAddress must look like one; DefaultCurrency must
be enabled. IsCustomer/IsSupplier are not written by clients: Xero sets them
when a sales or purchase document uses the contact.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from integrations.sandbox.xero.books import rules
from integrations.sandbox.xero.books.rules import Invalid, Problems
from integrations.sandbox.xero.books.state import Books

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
WRITABLE = (
    "ContactNumber",
    "AccountNumber",
    "Name",
    "FirstName",
    "LastName",
    "CompanyNumber",
    "EmailAddress",
    "BankAccountDetails",
    "TaxNumber",
    "AccountsReceivableTaxType",
    "AccountsPayableTaxType",
    "DefaultCurrency",
    "SalesDefaultAccountCode",
    "PurchasesDefaultAccountCode",
    "ContactPersons",
    "PaymentTerms",
)
ADDRESS_TYPES = ("POBOX", "STREET")


def find(books: Books, reference: dict) -> dict | None:
    """The contact a document's ``Contact`` names, by id, number, then name."""
    contact_id = rules.text(reference.get("ContactID"))
    if contact_id:
        return books.contacts.get(contact_id.lower())
    number = rules.text(reference.get("ContactNumber"))
    if number:
        found = books.contact_by("ContactNumber", number)
        if found:
            return found
    name = rules.text(reference.get("Name"))
    if name:
        return books.contact_by("Name", name)
    return None


def for_document(books: Books, reference: Any, problems: Problems) -> dict | None:
    """The document's contact; a name Xero does not know yet becomes a new contact
    (as Xero does), which the caller creates only if the document is valid."""
    if not isinstance(reference, dict) or not any(
        rules.text(reference.get(key)) for key in ("ContactID", "ContactNumber", "Name")
    ):
        problems.add(rules.CONTACT_IDENTIFIER)
        return None
    found = find(books, reference)
    if found is not None:
        return found
    if rules.text(reference.get("ContactID")):
        problems.add(rules.existing_not_found("Contact", "ContactID"))
        return None
    if not rules.text(reference.get("Name")):
        problems.add(rules.existing_not_found("Contact", "ContactNumber"))
        return None
    return None  # to be created from ``reference`` by ``save``


def save(
    books: Books, data: Any, *, create_only: bool, contact_id: str | None = None
) -> tuple[dict, bool]:
    """Create or update one contact; returns (record, created)."""
    if not isinstance(data, dict):
        raise Invalid("A Contact must be a JSON object.")
    problems = Problems()
    existing = _existing(books, data, contact_id, create_only, problems)
    problems.check()
    name = rules.text(data.get("Name")) if "Name" in data else None
    if existing is None and not name:
        if not any(rules.text(data.get(k)) for k in ("ContactID", "ContactNumber")):
            problems.add(rules.CONTACT_IDENTIFIER)
        else:
            problems.add("Contact name must be specified when creating a contact.")
    status = data.get("ContactStatus")
    if status is not None and status not in ("ACTIVE", "ARCHIVED"):
        problems.add(f"ContactStatus '{status}' is not valid; use ACTIVE or ARCHIVED.")
    final_status = status or (existing or {}).get("ContactStatus", "ACTIVE")
    final_name = name if name else (existing or {}).get("Name", "")
    if final_name and final_status == "ACTIVE":
        other = books.contact_by("Name", final_name)
        if other is not None and other is not existing:
            problems.add(rules.contact_name_taken(final_name))
    number = rules.text(data.get("ContactNumber"))
    if number:
        other = books.contact_by("ContactNumber", number)
        if other is not None and other is not existing:
            problems.add(
                "Another contact has this contact number. Please enter a different "
                "contact number."
            )
    email = data.get("EmailAddress")
    if email and not _EMAIL.match(str(email)):
        problems.add("Email address must be valid.")
    currency = data.get("DefaultCurrency")
    if currency and currency not in books.currencies:
        problems.add(rules.currency_not_enabled(str(currency)))
    for key in ("AccountsReceivableTaxType", "AccountsPayableTaxType"):
        if data.get(key) and data[key] not in books.tax_rates:
            problems.add(rules.tax_type_unknown(str(data[key])))
    for position, address in enumerate(data.get("Addresses") or []):
        if (
            not isinstance(address, dict)
            or address.get("AddressType") not in ADDRESS_TYPES
        ):
            problems.add(f"Addresses[{position}].AddressType must be POBOX or STREET.")
    problems.check()

    created = existing is None
    record = existing if existing is not None else _new(books, data)
    for key in WRITABLE:
        if key in data:
            value = data[key]
            record[key] = (
                value.strip() if isinstance(value, str) else copy.deepcopy(value)
            )
    if name:
        record["Name"] = name
    if status:
        record["ContactStatus"] = status
    if "Addresses" in data:
        _merge(record, "Addresses", "AddressType", data["Addresses"] or [])
    if "Phones" in data:
        _merge(record, "Phones", "PhoneType", data["Phones"] or [])
    books.changed("contacts", "CREATE" if created else "UPDATE", record)
    return record, created


def _existing(
    books: Books,
    data: dict,
    contact_id: str | None,
    create_only: bool,
    problems: Problems,
) -> dict | None:
    given_id = (contact_id or rules.text(data.get("ContactID"))).lower()
    if given_id:
        found = books.contacts.get(given_id)
        if create_only and found is not None:
            problems.add(rules.already_exists("Contact", "ContactID", given_id))
        elif not create_only and found is None:
            problems.add(rules.existing_not_found("Contact", "ContactID"))
        return None if create_only else found
    number = rules.text(data.get("ContactNumber"))
    if number and not create_only:
        return books.contact_by("ContactNumber", number)
    return None


def _new(books: Books, data: dict) -> dict:
    given = rules.text(data.get("ContactID")).lower()
    record = {
        "ContactID": given or books.new_id(),
        "ContactStatus": "ACTIVE",
        "Name": "",
        "Addresses": [{"AddressType": kind} for kind in ADDRESS_TYPES],
        "Phones": [{"PhoneType": kind} for kind in ("DEFAULT", "DDI", "FAX", "MOBILE")],
        "IsSupplier": False,
        "IsCustomer": False,
        "HasAttachments": False,
        "HasValidationErrors": False,
    }
    books.contacts[record["ContactID"]] = record
    return record


def _merge(record: dict, key: str, kind_field: str, given: list) -> None:
    """Xero keeps one address per AddressType and one phone per PhoneType."""
    current = {entry.get(kind_field): entry for entry in record.get(key, [])}
    for entry in given:
        if isinstance(entry, dict):
            kind = entry.get(kind_field) or "DEFAULT"
            current[kind] = {**copy.deepcopy(entry), kind_field: kind}
    record[key] = list(current.values())


def create_from_reference(books: Books, reference: dict) -> dict:
    """A document named a contact Xero did not have: Xero creates it."""
    record, _ = save(
        books,
        {k: v for k, v in reference.items() if k != "ContactID"},
        create_only=True,
    )
    return record


def summary(contact: dict) -> dict:
    """The contact as embedded in documents and payments."""
    found = {
        "ContactID": contact["ContactID"],
        "Name": contact.get("Name", ""),
        "ContactStatus": contact.get("ContactStatus", "ACTIVE"),
        "HasAttachments": False,
        "HasValidationErrors": False,
    }
    for key in ("ContactNumber", "EmailAddress"):
        if contact.get(key):
            found[key] = contact[key]
    return found


def mark_role(contact: dict, document_type: str) -> None:
    """Derived flags: Xero does not bump UpdatedDateUTC for them (API-FACTS)."""
    if document_type in ("ACCREC", "ACCRECCREDIT"):
        contact["IsCustomer"] = True
    else:
        contact["IsSupplier"] = True
