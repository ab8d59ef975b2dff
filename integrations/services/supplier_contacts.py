"""Which Xero supplier contact a Sage 100 vendor is, for a purchase document.

Two-way master data (``flows/master_data.py``) keeps vendors and supplier
contacts in step; a bill or a purchase order only needs to know the contact.
The same cross-reference table serves both (kind ``vendor``, Sage connection
→ Xero connection, ``01-ACME`` → ContactID), so a contact either one found or
made is found by the other. For a batch of documents, the vendors without a
cross-reference are looked for by name (Xero keeps contact names unique) and
the rest created in one call; each answer is remembered at once, because the
contact exists in Xero whatever becomes of the document.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from integrations.engine.errors import ReferenceMissing, SyncError, ValidationFailed
from integrations.services import cross_references
from integrations.services import master_data_fields as fields_
from integrations.services.master_data import is_blank
from integrations.services.master_data_links import held
from integrations.services.xero_documents import quoted

KIND = "vendor"
ARCHIVED = "ARCHIVED"
# Up to this many vendors are looked for one query each; more read the list.
LOOKUPS = 5


@dataclass(frozen=True)
class Pair:
    sage_id: int
    xero_id: int


def resolve(
    pair: Pair, xero, reader, vendor_keys: list[str]
) -> dict[str, str | SyncError]:
    """ContactID (or the reason there is none) for each ``01-ACME`` vendor key."""
    wanted = sorted(set(vendor_keys))
    found: dict[str, str | SyncError] = dict(
        cross_references.many(KIND, pair.sage_id, pair.xero_id, wanted)
    )
    missing = [key for key in wanted if key not in found]
    if not missing:
        return found
    rows: dict[str, dict] = {}
    for key in missing:
        division, _, number = key.partition("-")
        row = reader.vendor(division, number)
        if row is None:
            found[key] = ReferenceMissing(
                f"Vendor {key} is not in Sage 100 (deleted since the document was "
                "entered?).",
                field="VendorNo",
            )
        else:
            rows[key] = row
    if not rows:
        return found
    lock = f"ledgerbridge:lock:supplier-contacts:{pair.sage_id}:{pair.xero_id}"
    busy = (
        "Another worker has been creating Xero supplier contacts for these "
        "connections for two minutes; trying again shortly."
    )
    with held(lock, busy, timeout=300, wait=120):
        # Under the lock, look again: another worker may have just made them.
        bound = cross_references.many(KIND, pair.sage_id, pair.xero_id, list(rows))
        found.update(bound)
        rows = {key: row for key, row in rows.items() if key not in bound}
        matched = _by_name(xero, rows)
        for key, contact_id in matched.items():
            _link(pair, key, contact_id, "found by name")
            found[key] = contact_id
        new = {key: row for key, row in rows.items() if key not in matched}
        found.update(_create(pair, xero, new))
    return found


def contact_document(row: dict) -> dict:
    """A new supplier contact from an AP_Vendor row: the fields two-way master
    data keeps, in the shape it writes them."""
    entity = fields_.entity(fields_.VENDOR)
    values = {
        spec.name: spec.to_xero(value)
        for spec in entity.fields
        if not is_blank(value := entity.read_sage(row).get(spec.name))
    }
    document = entity.write_xero(values, {})
    if not str(document.get("Name") or "").strip():
        raise ValidationFailed(
            f"Sage 100 vendor {row.get('APDivisionNo')}-{row.get('VendorNo')} has "
            "no name; Xero needs one for a contact.",
            field="VendorName",
        )
    return document


def _by_name(xero, rows: dict[str, dict]) -> dict[str, str]:
    names = {key: str(row.get("VendorName") or "").strip() for key, row in rows.items()}
    names = {key: name for key, name in names.items() if name}
    if not names:
        return {}
    if len(names) > LOOKUPS:
        contacts = xero.get_contacts()
    else:
        contacts = []
        for name in names.values():
            if '"' in name or "\\" in name:
                continue  # cannot be quoted in a where clause: created instead
            contacts.extend(
                xero.get_contacts(where=f"Name=={quoted(name, 'VendorName')}")
            )
    by_name = {
        str(contact.get("Name") or "").strip().lower(): contact
        for contact in contacts
        if contact.get("ContactStatus") != ARCHIVED
    }
    return {
        key: str(by_name[name.lower()]["ContactID"])
        for key, name in names.items()
        if name.lower() in by_name
    }


def _create(pair: Pair, xero, rows: dict[str, dict]) -> dict[str, str | SyncError]:
    results: dict[str, str | SyncError] = {}
    documents: dict[str, dict] = {}
    for key, row in rows.items():
        try:
            documents[key] = contact_document(row)
        except SyncError as exc:
            results[key] = exc
    if not documents:
        return results
    # Xero keeps contact names unique: vendors of one name (a supplier on file
    # twice, or in two divisions) share the contact, as they would by name.
    by_name: dict[str, list[str]] = {}
    for key in sorted(documents):
        by_name.setdefault(documents[key]["Name"].strip().lower(), []).append(key)
    firsts = [keys_[0] for keys_ in by_name.values()]
    digest = hashlib.sha256(
        "|".join(f"{key}:{documents[key]['Name']}" for key in firsts).encode()
    ).hexdigest()[:40]
    answers = xero.save_contacts(
        [documents[key] for key in firsts],
        create_only=True,
        idempotency_key=f"lb-suppliers-{pair.sage_id}-{pair.xero_id}-{digest}",
    )
    for keys_, answer in zip(by_name.values(), answers, strict=True):
        for key in keys_:
            if answer.ok and answer.document.get("ContactID"):
                _link(pair, key, str(answer.document["ContactID"]), "created")
                results[key] = str(answer.document["ContactID"])
            else:
                results[key] = answer.error(kind="contact", doing="creating it")
    return results


def _link(pair: Pair, key: str, contact_id: str, how: str) -> None:
    cross_references.link(
        KIND,
        pair.sage_id,
        pair.xero_id,
        key,
        contact_id,
        note=f"Procure-to-pay: supplier contact {how}",
    )
