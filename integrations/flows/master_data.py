"""Two-way master data: customers, vendors and items the same in Sage 100 and Xero.

Five flows, one per direction and kind of change notice:

* ``sage100_customers_to_xero``, ``sage100_vendors_to_xero``,
  ``sage100_items_to_xero`` take the Sage 100 change feeds
  (``sage100.customer``, ``sage100.vendor``, ``sage100.item``);
* ``xero_contacts_to_sage100`` takes Xero's contact webhooks
  (``xero.contact.create`` / ``xero.contact.update``): a contact is a customer,
  a supplier or both;
* ``xero_items_to_sage100`` polls Xero's items with ``If-Modified-Since``
  (Xero sends no webhooks for items).

Whichever side told us, the work is the same (``Synchroniser``): read both
sides as they are now, merge field by field against the last agreed snapshot
(``services.master_data``), write what each side must learn (Xero in batches
of up to 50 under one Idempotency-Key, Sage 100 through the agent), save the
new snapshot. A change notice that only shows what we wrote ourselves (the
webhook after our Xero write, the change-feed event after our Sage write) is
recognised by the fingerprint of what we wrote and ends there: no write.
Both sides changing a field differently is settled by the field's owner, or
waits under Needs attention with both values shown.
"""

from __future__ import annotations

import hashlib
import json
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings

from integrations.connectors.sage100 import changes, keys
from integrations.connectors.sage100 import reader as sage_reader
from integrations.engine.errors import (
    ConflictDetected,
    DuplicateAmbiguous,
    ReferenceMissing,
    SyncError,
    Unavailable,
    ValidationFailed,
)
from integrations.flows.base import Flow, RecordSpec, Run
from integrations.flows.registry import register
from integrations.models import Connection, CrossReference, MasterDataLink, System
from integrations.services import customer_matching
from integrations.services import master_data as engine
from integrations.services import master_data_contacts as contacts_
from integrations.services import master_data_fields as fields_
from integrations.services import master_data_links as links
from integrations.services.master_data_fields import CUSTOMER, ITEM, VENDOR

SAGE, XERO = engine.SAGE100, engine.XERO
XERO_BATCH = 50
# Master data runs on the low queue: workers take high, default, low in that
# order, so a first sync of hundreds of customers never holds up an order.
QUEUE = "low"
CONTACT_TOPICS = frozenset({"xero.contact.create", "xero.contact.update"})
RESOLUTIONS = frozenset({SAGE, XERO})


@dataclass
class Change:
    """One record's part of a batch: which pair, both sides, what to write."""

    run: Run
    origin: str  # the side whose notice made the record: SAGE or XERO
    kind: str = ""
    sage_key: str = ""
    xero_id: str = ""
    link: MasterDataLink | None = None
    sage_row: dict | None = None
    xero_doc: dict | None = None
    sage_values: dict | None = None
    xero_values: dict | None = None
    result: dict | SyncError | None = None
    merged: engine.Merge | None = None
    create_in_sage: dict | None = None
    sage_update: dict | None = None
    xero_document: dict | None = None
    sage_written: dict | None = None
    xero_written: dict | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def open(self) -> bool:
        return self.result is None

    def fail(self, error: SyncError) -> None:
        if self.result is None or isinstance(self.result, dict):
            self.result = error


# -- reading the Sage side ---------------------------------------------------------


def _party_key(kind: str, division: Any, number: Any) -> str:
    if kind == CUSTOMER:
        return keys.display(keys.division(division), keys.customer_no(number))
    return keys.display(keys.division(division, "APDivisionNo"), keys.vendor_no(number))


def sage_key_of(kind: str, row_or_key: dict) -> str:
    """``01-ABF`` for a customer or vendor, the ItemCode for an item."""
    if kind == CUSTOMER:
        return _party_key(kind, row_or_key["ARDivisionNo"], row_or_key["CustomerNo"])
    if kind == VENDOR:
        return _party_key(kind, row_or_key["APDivisionNo"], row_or_key["VendorNo"])
    return keys.item_code(row_or_key["ItemCode"])


def _split(key: str) -> tuple[str, str]:
    division, _, number = key.partition("-")
    return division, number


class SageSide:
    """Sage 100 reads and writes for one kind of master data."""

    TABLES = {CUSTOMER: "AR_Customer", VENDOR: "AP_Vendor", ITEM: "CI_Item"}

    def __init__(self, kind: str, client, connection: Connection, options: dict):
        self.kind = kind
        self.client = client
        self.connection = connection
        self.options = options

    def row(self, key: str) -> dict | None:
        reader = self.client.reader
        if self.kind == ITEM:
            return reader.item(key)
        division, number = _split(key)
        if self.kind == CUSTOMER:
            return reader.customer(division, number)
        rows = reader.select(
            "AP_Vendor",
            "SELECT * FROM AP_Vendor WHERE APDivisionNo = ? AND VendorNo = ?",
            [division, number],
        )
        return rows[0] if rows else None

    def rows(self, wanted: list[str]) -> dict[str, dict]:
        """The rows of many keys, a query per 50 or so (``IN``), not one each:
        a first sync of 300 customers must not spend the connection's budget
        of ODBC calls. Keys Sage does not have are left out."""
        reader = self.client.reader
        if self.kind == ITEM:
            found = reader.items(wanted)
            return {key: found[key] for key in wanted if key in found}
        table = self.TABLES[self.kind]
        column = "CustomerNo" if self.kind == CUSTOMER else "VendorNo"
        numbers = sorted({_split(key)[1] for key in wanted})
        rows: dict[str, dict] = {}
        for chunk in sage_reader.chunks(numbers):
            sql = (
                f"SELECT * FROM {table} WHERE {column} IN "
                f"({sage_reader.marks(len(chunk))})"
            )
            for row in reader.select(table, sql, list(chunk)):
                rows[sage_key_of(self.kind, row)] = row
        return {key: rows[key] for key in wanted if key in rows}

    def by_name(self, name: str) -> dict | None:
        """The one customer or vendor with exactly this name (Sage's 30
        characters); several are a duplicate a person must settle."""
        if not name:
            return None
        table = self.TABLES[self.kind]
        column = "CustomerName" if self.kind == CUSTOMER else "VendorName"
        wanted = fields_.fit(name, 30)
        rows = self.client.reader.select(
            table, f"SELECT * FROM {table} WHERE {column} = ?", [wanted]
        )
        if len(rows) > 1:
            found = [sage_key_of(self.kind, row) for row in rows]
            raise DuplicateAmbiguous(
                f"Several Sage 100 {self.kind}s are named {wanted!r} "
                f"({', '.join(found)}): link the Xero contact to one of them with a "
                f"{self.kind} cross-reference, then press Resubmit.",
                candidates=found,
                field=column,
            )
        return rows[0] if rows else None

    def changed_at(self, row: dict) -> datetime | None:
        """Sage's stamp (server-local) as an aware time, for "newest wins"."""
        moment = changes.stamp(_as_dates(row))
        if moment is None:
            return None
        name = (self.connection.settings or {}).get("timezone") or settings.TIME_ZONE
        try:
            zone = ZoneInfo(str(name))
        except (ZoneInfoNotFoundError, ValueError):
            zone = UTC
        return moment.replace(tzinfo=zone)

    def create(self, values: dict, *, idempotency_key: str) -> dict:
        agent = self.client.agent
        if self.kind == CUSTOMER:
            return agent.create_customer(values, idempotency_key=idempotency_key)
        if self.kind == VENDOR:
            return agent.create_vendor(values, idempotency_key=idempotency_key)
        return agent.create_item(values, idempotency_key=idempotency_key)

    def update(self, key: str, values: dict, *, idempotency_key: str) -> dict:
        agent = self.client.agent
        if self.kind == ITEM:
            return agent.update_item(key, values, idempotency_key=idempotency_key)
        division, number = _split(key)
        if self.kind == CUSTOMER:
            return agent.update_customer(
                division, number, values, idempotency_key=idempotency_key
            )
        return agent.update_vendor(
            division, number, values, idempotency_key=idempotency_key
        )

    def new_record(self, values: dict, name: str) -> dict:
        """Values for a record Xero has and Sage 100 does not, with its key."""
        if self.kind == ITEM:
            return {**self.options.get("item_defaults", {}), **values}
        if self.kind == VENDOR:
            division = keys.division(
                self.options.get("ap_division", "01"), "options.ap_division"
            )
            # No VendorNo: AP_Vendor numbers it from AP_Options.
            return {
                "APDivisionNo": division,
                **self.options.get("vendor_defaults", {}),
                **values,
            }
        division = keys.division(
            self.options.get("ar_division", "01"), "options.ar_division"
        )
        rule = self.options.get("customer_no_rule") or {
            "mode": "sequence",
            "prefix": "XR",
        }
        number = customer_matching.next_customer_no(self.client.reader, rule, name=name)
        return {
            "ARDivisionNo": division,
            "CustomerNo": number,
            **self.options.get("customer_defaults", {}),
            **values,
        }


def _as_dates(row: dict) -> dict:
    """An event's JSON copy carries DateUpdated as ISO text; stamps need a date."""
    day = row.get("DateUpdated")
    if isinstance(day, str) and day:
        try:
            return {**row, "DateUpdated": date.fromisoformat(day[:10])}
        except ValueError:
            return row
    return row


# -- reading the Xero side -----------------------------------------------------------


class XeroSide:
    """Xero reads and writes for one kind of master data."""

    def __init__(self, kind: str, client, connection: Connection | None = None):
        self.kind = kind
        self.client = client
        self._items: list[dict] | None = None
        self.directory = contacts_.Directory(client, connection)

    def id_of(self, document: dict) -> str:
        return str(document.get("ItemID" if self.kind == ITEM else "ContactID") or "")

    def xref_value(self, document: dict) -> str:
        """What the cross-reference keeps: ContactID, or an item's Code."""
        return (
            str(document.get("Code") or "")
            if self.kind == ITEM
            else (self.id_of(document))
        )

    def documents(self, ids: list[str]) -> dict[str, dict]:
        if not ids:
            return {}
        if self.kind == ITEM:
            return {self.id_of(item): item for item in self.items()}
        found = self.client.get_contacts(ids=ids, include_archived=True)
        return {self.id_of(contact): contact for contact in found}

    def items(self) -> list[dict]:
        """Every item, once per batch (``GET /Items`` has no paging)."""
        if self._items is None:
            self._items = list(self.client.get_items())
        return self._items

    def find(self, wanted: list[tuple[str, str]]) -> dict[tuple[str, str], dict]:
        """Existing items for new Sage items, by Code (contacts: ``Synchroniser.
        _match_contacts``, which needs the names Xero has)."""
        by_code = {str(i.get("Code") or "").upper(): i for i in self.items()}
        return {
            (code, name): by_code[code.upper()]
            for code, name in wanted
            if code.upper() in by_code
        }

    def save(self, documents: list[dict], *, idempotency_key: str) -> list:
        if self.kind == ITEM:
            return self.client.save_items(documents, idempotency_key=idempotency_key)
        return self.client.save_contacts(documents, idempotency_key=idempotency_key)


# -- the work ------------------------------------------------------------------------


class Synchroniser:
    """Brings a batch of pairs of one kind into step, both ways, under the lock."""

    def __init__(
        self,
        kind: str,
        *,
        sage: SageSide,
        xero: XeroSide,
        pair: links.Pair,
        options: dict,
    ) -> None:
        self.kind = kind
        self.sage = sage
        self.xero = xero
        self.pair = pair
        self.options = options
        self.entity = fields_.entity(
            kind, fields_.Options.from_options(options, on=date.today())
        )
        self.owners = links.owners(pair)
        self.name_clash = contacts_.name_clash_option(options) if kind != ITEM else ""
        # Xero contacts seen while matching: id → contact; names asked about.
        self._contacts: dict[str, dict] = {}
        self._asked: set[str] = set()
        # Sage rows read for the whole batch at once: key → row; keys asked.
        self._sage_rows: dict[str, dict] = {}
        self._sage_read: set[str] = set()
        self._batch: list[Change] = []

    def run(self, work: list[Change]) -> None:
        """Sets every change's ``result``: target ids, or the error."""
        self._batch = work
        with links.lock(self.pair):
            self._find_links(work)
            self._read_sage_rows(work)
            self._step(work, self._read_sage)
            self._read_xero(work)
            self._match_new(work)
            for change in work:
                self._guarded(change, self._plan)
            self._resolve_names(work)
            self._step(work, self._create_in_sage)
            self._write_xero(work)
            for change in work:
                self._guarded(change, self._update_sage)
            for change in work:
                self._guarded(change, self._save, even_if_failed=True)

    # -- plumbing --
    def _guarded(self, change: Change, step, *, even_if_failed: bool = False):
        if change.open or even_if_failed:
            try:
                step(change)
            except SyncError as exc:
                change.fail(exc)

    def _step(self, work: list[Change], step) -> None:
        for change in work:
            self._guarded(change, step)

    def _key(self, change: Change, what: str, payload: Any) -> str:
        text = json.dumps(payload, sort_keys=True, default=str)
        digest = hashlib.sha256(
            f"{change.run.record.idempotency_key}|{what}|{text}".encode()
        ).hexdigest()
        return f"md-{self.kind}-{what}-{digest[:40]}"

    # -- 1. which pair each change is about --
    def _find_links(self, work: list[Change]) -> None:
        found = links.links(
            self.pair,
            sage_keys=[c.sage_key for c in work],
            xero_ids=[c.xero_id for c in work],
        )
        by_sage = {link.sage_key: link for link in found}
        by_xero = {link.xero_id: link for link in found}
        for change in work:
            link = by_sage.get(change.sage_key) if change.sage_key else None
            link = link or (by_xero.get(change.xero_id) if change.xero_id else None)
            change.link = link
            if link is not None:
                change.sage_key = change.sage_key or link.sage_key
                change.xero_id = change.xero_id or link.xero_id
            elif change.origin == SAGE:
                bound = links.xref_to_xero(self.pair, change.sage_key)
                if bound and self.kind != ITEM:
                    change.xero_id = bound
                elif bound:
                    change.notes.append(f"item cross-reference → {bound}")
                    change.xero_id = self._item_id(bound)
            else:
                bound_value = (
                    self._item_code(change.xero_id)
                    if self.kind == ITEM
                    else change.xero_id
                )
                bound = bound_value and links.xref_to_sage(self.pair, bound_value)
                if bound:
                    change.sage_key = bound
        if self.kind != ITEM:
            self._unshare(work)

    def _unshare(self, work: list[Change]) -> None:
        """A contact is one Sage record's. Procure-to-pay finds a vendor's
        contact by name, so two Sage vendors of one name may be bound to one
        contact: the one linked to it here (or the first by number) keeps it,
        the other is matched afresh and, by ``name_clash``, gets its own
        contact, to which its cross-reference then points."""
        bound = [c for c in work if c.link is None and c.origin == SAGE and c.xero_id]
        if not bound:
            return
        owners = {
            link.xero_id: link.sage_key
            for link in links.links(self.pair, xero_ids=[c.xero_id for c in bound])
        }
        kept: set[str] = set()
        for change in sorted(bound, key=lambda c: c.sage_key):
            owner = owners.get(change.xero_id, change.sage_key)
            if owner != change.sage_key or change.xero_id in kept:
                change.notes.append(
                    f"its cross-reference named contact {change.xero_id}, which is "
                    f"{owner if owner != change.sage_key else 'another record'}'s"
                )
                change.xero_id = ""
            else:
                kept.add(change.xero_id)

    def _item_id(self, code: str) -> str:
        for item in self.xero.items():
            if str(item.get("Code") or "").upper() == code.upper():
                return self.xero.id_of(item)
        return ""

    def _item_code(self, item_id: str) -> str:
        for item in self.xero.items():
            if self.xero.id_of(item) == item_id:
                return str(item.get("Code") or "")
        return ""

    # -- 2. both sides as they are now --
    def _read_sage_rows(self, work: list[Change]) -> None:
        """Every known Sage key of the batch in a few queries."""
        wanted = sorted({c.sage_key for c in work if c.open and c.sage_key})
        if len(wanted) < 2:
            return
        try:
            self._sage_rows = self.sage.rows(wanted)
        except ValidationFailed:
            return  # a key Sage cannot have: read one by one, each fails alone
        self._sage_read = set(wanted)

    def _read_sage(self, change: Change) -> None:
        if not change.sage_key:
            return
        if change.sage_key in self._sage_read:
            row = self._sage_rows.get(change.sage_key)
        else:
            row = self.sage.row(change.sage_key)
        if row is None and change.origin == SAGE:
            change.result = {
                "sage": change.sage_key,
                "skipped": f"{change.sage_key} is no longer in Sage 100.",
            }
            return
        change.sage_row = row
        if row is not None:
            change.sage_values = self.entity.read_sage(row)

    def _read_xero(self, work: list[Change]) -> None:
        wanted = [c.xero_id for c in work if c.open and c.xero_id and not c.xero_doc]
        documents = self.xero.documents(sorted(set(wanted)))
        for change in work:
            if not change.open:
                continue
            if change.xero_doc is None and change.xero_id:
                change.xero_doc = documents.get(change.xero_id)
            if change.xero_doc is None and change.origin == XERO:
                change.result = {
                    "xero": change.xero_id,
                    "skipped": "Xero no longer has this record.",
                }
            elif change.xero_doc is not None:
                change.xero_values = self._xero_values(change, change.xero_doc)
        if self.kind != ITEM:
            # Contacts read afresh keep the copy of names up to date.
            self.xero.directory.remember(c.xero_doc for c in work if c.xero_doc)

    def _xero_values(self, change: Change, document: dict) -> dict:
        """A Xero record's fields; a contact's name without the ``(02-ABF)``
        suffix a name clash gave it, which is Xero's part of the name only."""
        values = self.entity.read_xero(document)
        if self.kind != ITEM and change.sage_key:
            values["name"] = contacts_.without_suffix(values["name"], change.sage_key)
        return values

    # -- 3. counterparts for records never linked --
    def _match_new(self, work: list[Change]) -> None:
        unlinked = [c for c in work if c.open and c.link is None]
        from_sage = [c for c in unlinked if c.origin == SAGE and c.xero_doc is None]
        if self.kind == ITEM:
            self._match_items(from_sage)
        else:
            self._match_contacts([c for c in from_sage if c.open and c.sage_values])
        for change in unlinked:
            if change.origin == XERO and change.sage_row is None:
                self._guarded(change, self._match_in_sage)
        self._refuse_taken(unlinked)

    def _match_items(self, from_sage: list[Change]) -> None:
        wanted = {
            c.sage_key: (c.sage_key, (c.sage_values or {}).get("name", ""))
            for c in from_sage
        }
        found = self.xero.find(list(dict.fromkeys(wanted.values())))
        for change in from_sage:
            document = found.get(wanted[change.sage_key])
            if document is not None:
                change.xero_doc = document
                change.xero_id = self.xero.id_of(document)
                change.xero_values = self._xero_values(change, document)
                change.notes.append("matched an existing Xero record")

    def _lookup(self, wanted: list[tuple[str, list[str]]]) -> None:
        """Xero contacts with these numbers or names, from the copy of the
        list, a few queries, or one read of the whole list (``Directory``)."""
        if self._asked == {"*"}:
            return
        wanted = [
            (number, names)
            for number, names in wanted
            if number or any(n.lower() not in self._asked for n in names)
        ]
        if not wanted:
            return
        names = [n for _, ns in wanted for n in ns]
        for contact in self.xero.directory.lookup(wanted):
            self._contacts[str(contact.get("ContactID"))] = contact
        if self.xero.directory.from_copy or len(wanted) > contacts_.LOOKUPS:
            self._asked = {"*"}  # the whole list is at hand
        else:
            self._asked |= {n.lower() for n in names}

    def _match_contacts(self, changes_: list[Change]) -> None:
        """A new Sage customer's or vendor's contact: the one with its number
        (customers), its suffixed name, or its name when that contact is no
        other record's. A name another record's contact has is a clash, which
        ``_resolve_names`` settles when the new contact is written."""
        if not changes_:
            return
        wanted = []
        for change in changes_:
            name = change.sage_values.get("name", "")
            number = change.sage_key if self.kind == CUSTOMER else ""
            names = [name, contacts_.with_suffix(name, change.sage_key)] if name else []
            wanted.append((number, names))
        self._lookup(wanted)
        numbers = {number.upper() for number, _ in wanted if number}
        named = {name.strip().lower() for _, both in wanted for name in both}
        candidates = [
            contact_id
            for contact_id, contact in self._contacts.items()
            if str(contact.get("ContactNumber") or "").strip().upper() in numbers
            or str(contact.get("Name") or "").strip().lower() in named
        ]
        taken = self._taken(candidates)
        # Contacts other records of this batch have already are not free.
        adopted = {c.xero_id for c in self._batch if c.xero_id}
        for change in changes_:
            contact = self._counterpart(change, taken, adopted)
            if contact is not None:
                change.xero_id = str(contact.get("ContactID"))
                adopted.add(change.xero_id)
        ids = sorted({c.xero_id for c in changes_ if c.xero_id})
        if not ids:
            return
        if self.xero.directory.from_copy:  # the copy keeps names, not values
            documents = self.xero.documents(ids)
        else:
            documents = {i: self._contacts[i] for i in ids}
        for change in changes_:
            if not change.xero_id:
                continue
            document = documents.get(change.xero_id)
            if document is None:  # gone since the copy was made
                self._contacts.pop(change.xero_id, None)
                change.xero_id = ""
                continue
            change.xero_doc = document
            change.xero_values = self._xero_values(change, document)
            change.notes.append("matched an existing Xero record")

    def _taken(self, ids: list[str]) -> dict[str, set[str]]:
        """Contact id → the Sage keys it is linked (or cross-referenced) to."""
        if not ids:
            return {}
        taken: dict[str, set[str]] = {}
        for link in links.links(self.pair, xero_ids=ids):
            taken.setdefault(link.xero_id, set()).add(link.sage_key)
        bound = CrossReference.objects.filter(
            kind=self.kind,
            source_connection_id=self.pair.sage_id,
            target_connection_id=self.pair.xero_id,
            target_value__in=ids,
        ).values_list("target_value", "source_value")
        for contact_id, sage_key in bound:
            taken.setdefault(contact_id, set()).add(sage_key)
        return taken

    def _counterpart(
        self, change: Change, taken: dict[str, set[str]], adopted: set[str]
    ) -> dict | None:
        key = change.sage_key
        name = change.sage_values.get("name", "")
        contacts = list(self._contacts.values())
        if self.kind == CUSTOMER:
            for contact in contacts:
                if (
                    str(contact.get("ContactNumber") or "").strip().upper()
                    == key.upper()
                ):
                    return contact  # if another record has it, _refuse_taken says so

        def free(contact: dict) -> bool:
            contact_id = str(contact.get("ContactID"))
            number = str(contact.get("ContactNumber") or "").strip()
            numbered_else = self.kind == CUSTOMER and number and number != key
            return (
                contact_id not in adopted
                and taken.get(contact_id, set()) <= {key}
                and not numbered_else
            )

        return contacts_.counterpart(name, key, contacts, free)

    def _match_in_sage(self, change: Change) -> None:
        document = change.xero_doc or {}
        row = None
        if self.kind == ITEM:
            code = str(document.get("Code") or "")
            row = self.sage.row(keys.item_code(code, "Code")) if code else None
        else:
            number = str(document.get("ContactNumber") or "")
            if self.kind == CUSTOMER and "-" in number:
                try:
                    row = self.sage.row(_party_key(CUSTOMER, *_split(number)))
                except ValidationFailed:
                    row = None  # a ContactNumber that is not a Sage customer key
            carried = contacts_.suffix_key(str(document.get("Name") or ""))
            if row is None and "-" in carried:
                try:  # "Name (02-ABF)": a name clash's suffix names the record
                    row = self.sage.row(_party_key(self.kind, *_split(carried)))
                except ValidationFailed:
                    row = None
            if row is None:
                row = self.sage.by_name(str(document.get("Name") or ""))
        if row is not None:
            change.sage_row = row
            change.sage_key = sage_key_of(self.kind, row)
            change.sage_values = self.entity.read_sage(row)
            change.xero_values = self._xero_values(change, document)
            change.notes.append("matched an existing Sage 100 record")

    def _refuse_taken(self, unlinked: list[Change]) -> None:
        """A counterpart found by number or name that is linked to another
        record already is not this one's: a person must say which is which."""
        found = links.links(
            self.pair,
            sage_keys=[c.sage_key for c in unlinked if c.open and c.sage_row],
            xero_ids=[c.xero_id for c in unlinked if c.open and c.xero_doc],
        )
        for change in unlinked:
            if not change.open:
                continue
            for link in found:
                other = (link.sage_key == change.sage_key) != (
                    link.xero_id == change.xero_id
                )
                if other and change.sage_row and change.xero_doc:
                    change.fail(
                        DuplicateAmbiguous(
                            f"Sage 100 {self.entity.title} {change.sage_key} and Xero "
                            f"record {change.xero_id} look like the same, but "
                            f"{link.sage_key} ⇄ {link.xero_id} are linked already. "
                            f"Add a {self.kind} cross-reference naming the right "
                            "one, then press Resubmit.",
                            candidates=[link.sage_key, link.xero_id],
                            field="name",
                        )
                    )
                    break

    # -- 4. what each side must learn --
    def _plan(self, change: Change) -> None:
        resolutions = _resolutions(change.run)
        link = change.link
        if link is not None and (change.sage_values is None or not change.xero_doc):
            gone = "Sage 100" if change.sage_values is None else "Xero"
            raise ReferenceMissing(
                f"{link.sage_key} ⇄ Xero {link.xero_id}: the {gone} side of this "
                f"linked {self.entity.title} no longer exists. Restore it, or delete "
                "the link under Master data links to let it be created anew, then "
                "press Resubmit.",
                field="sage_key" if gone == "Sage 100" else "xero_id",
            )
        if change.sage_values is None:
            self._plan_create_in_sage(change)
            return
        if change.xero_values is None:
            self._plan_create_in_xero(change)
            return
        if link is not None and not link.conflicts:
            mine = change.sage_values if change.origin == SAGE else change.xero_values
            written = (
                link.sage_written_hash
                if change.origin == SAGE
                else link.xero_written_hash
            )
            before = link.sage_values if change.origin == SAGE else link.xero_values
            if engine.is_echo(mine, written):
                change.result = self._ids(change, skipped="our own write, ignored")
                return
            if before == mine:
                change.result = self._ids(
                    change, skipped="no synchronised field changed"
                )
                return
        change.merged = engine.merge(
            self.entity.fields,
            sage_now=change.sage_values,
            xero_now=change.xero_values,
            sage_before=link.sage_values if link else None,
            xero_before=link.xero_values if link else None,
            owners={**self.owners, **resolutions},
            sage_changed_at=self.sage.changed_at(change.sage_row or {}),
            xero_changed_at=fields_.xero_updated_at(change.xero_doc or {}),
        )
        if change.merged.to_xero:
            change.xero_document = self._identity(change) | self.entity.write_xero(
                change.merged.to_xero, change.xero_doc or {}
            )
        if change.merged.to_sage:
            change.sage_update = self.entity.write_sage(change.merged.to_sage)

    def _identity(self, change: Change) -> dict:
        document = change.xero_doc or {}
        if self.kind == ITEM:
            return {"ItemID": change.xero_id, "Code": document.get("Code")}
        identity = {"ContactID": change.xero_id}
        if self.kind == CUSTOMER and not document.get("ContactNumber"):
            identity["ContactNumber"] = change.sage_key  # written once, for people
        return identity

    def _plan_create_in_xero(self, change: Change) -> None:
        values = {
            spec.name: spec.to_xero(change.sage_values[spec.name])
            for spec in self.entity.fields
            if not engine.is_blank(change.sage_values.get(spec.name))
        }
        document = self.entity.write_xero(values, {})
        if self.kind == ITEM:
            document = {"Code": change.sage_key, **document}
            for part, option in (
                ("SalesDetails", "xero_sales_account"),
                ("PurchaseDetails", "xero_purchase_account"),
            ):
                if self.options.get(option):
                    document.setdefault(part, {})["AccountCode"] = self.options[option]
        elif self.kind == CUSTOMER:
            document = {"ContactNumber": change.sage_key, **document}
        if not document.get("Name") and self.kind != ITEM:
            raise ValidationFailed(
                f"Sage 100 {self.entity.title} {change.sage_key} has no name; Xero "
                "needs one for a contact.",
                field=self.entity.sage_columns["name"],
            )
        change.xero_document = document

    def _plan_create_in_sage(self, change: Change) -> None:
        values = {
            spec.name: spec.to_sage(change.xero_values[spec.name])
            for spec in self.entity.fields
            if not engine.is_blank(change.xero_values.get(spec.name))
        }
        columns = self.entity.write_sage(values)
        if self.kind == ITEM:
            code = str((change.xero_doc or {}).get("Code") or "")
            columns = {"ItemCode": keys.item_code(code, "Code"), **columns}
        name = change.xero_values.get("name", "")
        if not name and self.kind != ITEM:
            raise ValidationFailed(
                f"Xero contact {change.xero_id} has no name; Sage 100 needs one.",
                field="Name",
            )
        change.create_in_sage = columns

    # -- 5. names Xero can take: unique across its active contacts --
    def _resolve_names(self, work: list[Change]) -> None:
        """A name that another Xero contact has (or another record of this
        batch is given) is suffixed with the Sage number, or the record waits
        for a person, by the option ``name_clash``."""
        if self.kind == ITEM:
            return
        sending = [
            c
            for c in work
            if c.open and c.xero_document is not None and c.xero_document.get("Name")
        ]
        if not sending:
            return
        self._lookup(
            [
                (
                    "",
                    [
                        c.xero_document["Name"],
                        contacts_.with_suffix(c.xero_document["Name"], c.sage_key),
                    ],
                )
                for c in sending
            ]
        )
        claimed: dict[str, Change] = {}
        for change in sending:
            wanted = str(change.xero_document["Name"])

            def holder(name: str, change: Change = change) -> str | None:
                return self._holder(name, change, claimed)

            name, held = contacts_.clear_name(
                wanted, change.sage_key, holder, self.name_clash
            )
            if held is not None:
                change.fail(self._name_taken(change, name, held))
                continue
            if name != wanted:
                change.xero_document["Name"] = name
                change.notes.append(
                    f'Xero has another contact named "{wanted}" ({holder(wanted)}): '
                    f'named "{name}"'
                )
            claimed[name.strip().lower()] = change

    def _holder(
        self, name: str, change: Change, claimed: dict[str, Change]
    ) -> str | None:
        """Who has ``name`` in Xero other than this record's own contact, in
        words; None when nobody."""
        other = claimed.get(name.strip().lower())
        if other is not None and other is not change:
            return f"the contact of Sage 100 {self.entity.title} {other.sage_key}"
        for contact in self._contacts.values():
            contact_id = str(contact.get("ContactID"))
            if (
                contact_id != change.xero_id
                and contacts_.active(contact)
                and contacts_.same_name(contact.get("Name"), name)
            ):
                number = contact.get("ContactNumber")
                return f"contact {contact_id}" + (
                    f", number {number}" if number else ""
                )
        return None

    def _name_taken(self, change: Change, name: str, holder: str) -> SyncError:
        return contacts_.name_taken(
            self.entity.title, self.kind, change.sage_key, name, holder, self.name_clash
        )

    # -- 6. writes: new Sage records, then Xero in batches, then Sage updates --
    def _create_in_sage(self, change: Change) -> None:
        if change.create_in_sage is None:
            return
        name = change.xero_values.get("name", "") if change.xero_values else ""
        values = self.sage.new_record(change.create_in_sage, name)
        with _customer_create_lock(self.kind, self.pair.sage_id):
            answer = self.sage.create(
                values, idempotency_key=self._key(change, "create", values)
            )
        record = answer.get("record") or {}
        change.sage_written = record
        change.sage_row = record
        change.sage_key = sage_key_of(self.kind, record)
        if self.kind == CUSTOMER and not (change.xero_doc or {}).get("ContactNumber"):
            # The contact learns its Sage number, which a person sees in Xero.
            change.xero_document = {
                "ContactID": change.xero_id,
                "ContactNumber": change.sage_key,
            }

    def _write_xero(self, work: list[Change]) -> None:
        sending = [c for c in work if c.open and c.xero_document is not None]
        if not sending:
            return
        documents = [c.xero_document for c in sending]
        key = "md-{}-{}".format(
            self.kind,
            hashlib.sha256(
                json.dumps(
                    [[c.run.record.idempotency_key, c.xero_document] for c in sending],
                    sort_keys=True,
                    default=str,
                ).encode()
            ).hexdigest()[:48],
        )
        what = "item" if self.kind == ITEM else "contact"
        results = self.xero.save(documents, idempotency_key=key)
        for change, result in zip(sending, results, strict=True):
            if result.ok:
                change.xero_written = result.document
                change.xero_doc = result.document
                change.xero_id = self.xero.id_of(result.document)
            else:
                change.fail(self._refused(result.error(kind=what)))
        if self.kind != ITEM:
            self.xero.directory.remember(
                c.xero_written for c in sending if c.xero_written
            )

    def _refused(self, error: SyncError) -> SyncError:
        """Xero refusing a name or number our copy of its contacts thought free
        means the copy is old (a person added a contact): drop it, try again."""
        if (
            self.kind != ITEM
            and isinstance(error, DuplicateAmbiguous)
            and self.xero.directory.from_copy
        ):
            self.xero.directory.forget()
            return Unavailable(
                f"{error.message} Xero has contacts our copy of its list did not; "
                "trying again with a fresh copy.",
                retry_after=5,
            )
        return error

    def _update_sage(self, change: Change) -> None:
        if not change.sage_update:
            return
        answer = self.sage.update(
            change.sage_key,
            change.sage_update,
            idempotency_key=self._key(change, "update", change.sage_update),
        )
        change.sage_written = answer.get("record") or {}

    # -- 7. remember --
    def _save(self, change: Change) -> None:
        if isinstance(change.result, dict) and "skipped" in change.result:
            return
        if not change.sage_key or not change.xero_id:
            return  # nothing was linked (a failure before either side had both)
        sage_row = change.sage_written or change.sage_row
        xero_doc = change.xero_written or change.xero_doc
        if sage_row is None or xero_doc is None:
            return
        wrote = change.sage_written is not None or change.xero_written is not None
        if isinstance(change.result, SyncError) and not wrote:
            return  # failed before any write: nothing new to remember
        sage_after = self.entity.read_sage(sage_row)
        xero_after = self._xero_values(change, xero_doc)
        conflicts = {
            c.field: c.as_json()
            for c in (change.merged.conflicts if change.merged else [])
        }
        failed_sides = set()
        if isinstance(change.result, SyncError):
            if change.sage_update and change.sage_written is None:
                failed_sides.add(SAGE)
            if change.xero_document and change.xero_written is None:
                failed_sides.add(XERO)
        pending = set()
        if change.merged:
            if SAGE in failed_sides:
                pending |= set(change.merged.to_sage)
            if XERO in failed_sides:
                pending |= set(change.merged.to_xero)
        # What each side holds after our writes is the new agreement, even
        # where a side's own defaults or forms make the two differ (Sage fills
        # CountryCode on a new vendor): only a later change on one side counts.
        settled = [
            spec.name
            for spec in self.entity.fields
            if spec.name not in conflicts and spec.name not in pending
        ]
        links.save(
            self.pair,
            change.link,
            links.Outcome(
                sage_key=change.sage_key,
                xero_id=change.xero_id,
                xero_value=self.xero.xref_value(xero_doc),
                sage_after=sage_after,
                xero_after=xero_after,
                settled=settled,
                sage_written=change.sage_written is not None,
                xero_written=change.xero_written is not None,
                conflicts=conflicts,
            ),
        )
        if change.result is not None:
            return
        if conflicts:
            change.result = _conflict(self.kind, change)
            return
        change.result = self._ids(change)

    def _ids(self, change: Change, *, skipped: str = "") -> dict:
        ids: dict[str, Any] = {"sage": change.sage_key, "xero": change.xero_id}
        if skipped:
            ids["skipped"] = skipped
            return ids
        merged = change.merged
        if change.create_in_sage is not None:
            ids["created"] = "sage100"
        elif change.link is None and change.xero_values is None:
            ids["created"] = "xero"
        if merged is not None:
            if merged.to_xero:
                ids["to_xero"] = sorted(merged.to_xero)
            if merged.to_sage:
                ids["to_sage"] = sorted(merged.to_sage)
        if change.notes:
            ids["notes"] = "; ".join(change.notes)
        return ids


def _resolutions(run: Run) -> dict[str, str]:
    """A person's choice for this record: ``{"resolve": {"name": "xero"}}`` in
    the payload (the record page's editor) settles those fields once."""
    chosen = (run.payload or {}).get("resolve") or {}
    if not isinstance(chosen, dict):
        raise ValidationFailed(
            'resolve must be an object such as {"name": "xero"}.', field="resolve"
        )
    for name, side in chosen.items():
        if side not in RESOLUTIONS:
            raise ValidationFailed(
                f"resolve.{name} must be sage100 or xero, not {side!r}.",
                field=f"resolve.{name}",
            )
    return dict(chosen)


def _conflict(kind: str, change: Change) -> ConflictDetected:
    merged = change.merged
    first = merged.conflicts[0].field
    example = json.dumps({"resolve": {first: "xero"}})
    return ConflictDetected(
        f"{change.sage_key} ⇄ Xero {change.xero_id}: {merged.explain()} Make the "
        "two the same in either system and press Resubmit, or choose which side "
        f"wins this field under Master data field owners, or add {example} to the "
        "payload and resubmit. Other fields were synchronised.",
        field=first,
        detail=json.dumps([c.as_json() | {"field": c.field} for c in merged.conflicts]),
    )


def _customer_create_lock(kind: str, sage_id: int):
    """New Sage customers are numbered under the lock the other flows that
    create customers take, so two flows never take the same next number."""
    if kind != CUSTOMER:
        return nullcontext()
    return links.held(
        f"ledgerbridge:lock:sage100-customer-create:{sage_id}",
        "Another worker has been creating a Sage 100 customer for a minute; "
        "trying again shortly.",
        timeout=120,
        wait=60,
    )


# -- the flows -----------------------------------------------------------------------


def _sage_change_spec(kind: str, body: Any, table: str) -> list[RecordSpec]:
    if not isinstance(body, dict) or not isinstance(body.get("key"), dict):
        raise ValidationFailed("A change event needs a key object.", field="key")
    if body.get("change") == "removed":
        return []  # deleting in Sage 100 deletes nothing in Xero
    return [
        RecordSpec(
            source_object_type=table,
            source_id=sage_key_of(kind, body["key"]),
            payload=body,
        )
    ]


class _Sage100ToXero(Flow):
    """A Sage 100 change of one kind → the pair brought into step."""

    kind: str = ""
    table: str = ""
    source, target = System.SAGE100, System.XERO
    batch_size = XERO_BATCH
    rereads_source = True
    queue = QUEUE

    def records_from_event(self, body: Any, *, topic: str) -> list[RecordSpec]:
        return _sage_change_spec(self.kind, body, self.table)

    def transform(self, run: Run, raw: Any) -> dict:
        return {"sage_key": run.record.source_id}

    def load_batch(self, runs: list[Run], documents: list[dict]) -> list:
        run = runs[0]
        config = run.flow_config
        work = [
            Change(run=r, origin=SAGE, sage_key=d["sage_key"])
            for r, d in zip(runs, documents, strict=True)
        ]
        _synchronise(
            self.kind,
            work,
            sage_client=run.source,
            sage_connection=config.source_connection,
            xero_client=run.target,
            xero_connection=config.target_connection,
            options=run.options or {},
        )
        return [change.result for change in work]


def _synchronise(
    kind, work, *, sage_client, sage_connection, xero_client, xero_connection, options
) -> None:
    """Bring ``work`` into step; a record named twice in one batch (two change
    notices of one customer) is synchronised once and shares the outcome."""
    pair = links.Pair(kind, sage_connection.pk, xero_connection.pk)
    first: dict[str, Change] = {}
    repeats: list[tuple[Change, Change]] = []
    for change in work:
        key = change.sage_key or change.xero_id
        if key in first:
            repeats.append((change, first[key]))
        else:
            first[key] = change
    Synchroniser(
        kind,
        sage=SageSide(kind, sage_client, sage_connection, options),
        xero=XeroSide(kind, xero_client, xero_connection),
        pair=pair,
        options=options,
    ).run(list(first.values()))
    for change in first.values():
        if change.result is None:  # no path leaves one unset; retry if it does
            change.result = Unavailable(
                "The master data sync ended without an outcome for this record; "
                "it will be tried again."
            )
    for change, original in repeats:
        change.result = original.result


@register
class Sage100CustomersToXero(_Sage100ToXero):
    name = "sage100_customers_to_xero"
    title = "Sage 100 customers ⇄ Xero contacts (Sage changes)"
    topics = frozenset({"sage100.customer"})
    kind, table = CUSTOMER, "AR_Customer"


@register
class Sage100VendorsToXero(_Sage100ToXero):
    name = "sage100_vendors_to_xero"
    title = "Sage 100 vendors ⇄ Xero supplier contacts (Sage changes)"
    topics = frozenset({"sage100.vendor"})
    kind, table = VENDOR, "AP_Vendor"


@register
class Sage100ItemsToXero(_Sage100ToXero):
    name = "sage100_items_to_xero"
    title = "Sage 100 items ⇄ Xero items (Sage changes)"
    topics = frozenset({"sage100.item"})
    kind, table = ITEM, "CI_Item"


def _tenant_matches(config, event: dict) -> bool:
    tenant = (config.source_connection.settings or {}).get("tenant_id")
    return not tenant or not event.get("tenantId") or event["tenantId"] == tenant


@register
class XeroContactsToSage100(Flow):
    """A Xero contact created or changed → its Sage customer and/or vendor.

    A contact already linked keeps each link in step; a new one becomes a Sage
    customer when Xero marks it a customer (``IsCustomer``), a vendor when a
    supplier (``IsSupplier``); one that is neither yet waits for its first
    invoice or bill, unless ``options["unmarked_contacts"]`` says "customer"
    or "vendor".
    """

    name = "xero_contacts_to_sage100"
    title = "Xero contacts ⇄ Sage 100 customers and vendors (Xero changes)"
    source, target = System.XERO, System.SAGE100
    topics = CONTACT_TOPICS
    batch_size = XERO_BATCH
    rereads_source = True
    queue = QUEUE

    def records_from_event(self, body: Any, *, topic: str) -> list[RecordSpec]:
        if not isinstance(body, dict) or not body.get("resourceId"):
            raise ValidationFailed(
                "A Xero contact event needs a resourceId.", field="resourceId"
            )
        return [
            RecordSpec(
                source_object_type="Contact",
                source_id=str(body["resourceId"]),
                payload=body,
            )
        ]

    def transform(self, run: Run, raw: Any) -> dict:
        if not _tenant_matches(run.flow_config, raw or {}):
            raise ValidationFailed(
                f"This event is for Xero organisation {raw.get('tenantId')}, not "
                "the one this connection reaches.",
                field="tenantId",
            )
        return {"xero_id": run.record.source_id}

    def load_batch(self, runs: list[Run], documents: list[dict]) -> list:
        run = runs[0]
        config = run.flow_config
        xero_client, sage_client = run.source, run.target
        ids = sorted({d["xero_id"] for d in documents})
        contacts = {
            c.get("ContactID"): c
            for c in xero_client.get_contacts(ids=ids, include_archived=True)
        }
        linked = _linked_kinds(
            config.target_connection_id, config.source_connection_id, ids
        )
        unmarked = str(run.option("unmarked_contacts", "skip")).strip().lower()
        by_kind: dict[str, list[Change]] = {CUSTOMER: [], VENDOR: []}
        per_run: list[list[Change]] = []
        for r, document in zip(runs, documents, strict=True):
            contact = contacts.get(document["xero_id"])
            mine: list[Change] = []
            if contact is not None:
                known = linked.get(document["xero_id"], set())
                for kind in _kinds_of(contact, known, unmarked):
                    change = Change(
                        run=r,
                        origin=XERO,
                        kind=kind,
                        xero_id=document["xero_id"],
                        xero_doc=contact,
                    )
                    by_kind[kind].append(change)
                    mine.append(change)
            per_run.append(mine)
        for kind, work in by_kind.items():
            if work:
                _synchronise(
                    kind,
                    work,
                    sage_client=sage_client,
                    sage_connection=config.target_connection,
                    xero_client=xero_client,
                    xero_connection=config.source_connection,
                    options=run.options or {},
                )
        results = []
        for document, mine in zip(documents, per_run, strict=True):
            contact = contacts.get(document["xero_id"])
            if contact is None:
                results.append(
                    {"xero": document["xero_id"], "skipped": "Xero no longer has it."}
                )
            elif not mine:
                results.append(
                    {
                        "xero": document["xero_id"],
                        "skipped": "Not a customer or supplier in Xero yet (no "
                        "invoice or bill): nothing to keep in Sage 100.",
                    }
                )
            else:
                results.append(_combined(mine))
        return results


def _linked_kinds(sage_id: int, xero_id: int, ids: list[str]) -> dict[str, set[str]]:
    """Per contact, the kinds it is linked (or cross-referenced) as already."""
    found: dict[str, set[str]] = {}
    linked = MasterDataLink.objects.filter(
        sage_connection_id=sage_id,
        xero_connection_id=xero_id,
        kind__in=[CUSTOMER, VENDOR],
        xero_id__in=ids,
    ).values_list("kind", "xero_id")
    bound = CrossReference.objects.filter(
        source_connection_id=sage_id,
        target_connection_id=xero_id,
        kind__in=[CUSTOMER, VENDOR],
        target_value__in=ids,
    ).values_list("kind", "target_value")
    for kind, contact in [*linked, *bound]:
        found.setdefault(contact, set()).add(kind)
    return found


def _kinds_of(contact: dict, linked: set[str], unmarked: str) -> list[str]:
    kinds = set(linked)
    if contact.get("IsCustomer"):
        kinds.add(CUSTOMER)
    if contact.get("IsSupplier"):
        kinds.add(VENDOR)
    if not kinds and unmarked in (CUSTOMER, VENDOR):
        kinds.add(unmarked)
    return sorted(kinds)


def _combined(changes_: list[Change]) -> dict | SyncError:
    for change in changes_:
        if isinstance(change.result, SyncError):
            return change.result
    if len(changes_) == 1:
        return changes_[0].result
    combined: dict[str, Any] = {"xero": changes_[0].xero_id}
    for change in changes_:
        combined[change.kind] = change.result
    return combined


@register
class XeroItemsToSage100(Flow):
    """Xero items created or changed → Sage 100 CI_Item, by polling.

    Xero sends no item webhooks: each poll asks for items modified since the
    newest ``UpdatedDateUTC`` seen (``If-Modified-Since``), so a quiet day
    costs one call per poll.
    """

    name = "xero_items_to_sage100"
    title = "Xero items ⇄ Sage 100 items (Xero changes, polled)"
    source, target = System.XERO, System.SAGE100
    batch_size = XERO_BATCH
    rereads_source = True
    queue = QUEUE

    def poll(self, config, *, watermark: str) -> tuple[list[RecordSpec], str]:
        from integrations.engine import clients

        client = clients.build(config.source_connection)
        items = client.get_items(modified_since=watermark or None)
        specs, newest = [], _parse_watermark(watermark)
        for item in items:
            moment = fields_.xero_updated_at(item)
            if moment is not None and (newest is None or moment > newest):
                newest = moment
            specs.append(
                RecordSpec(
                    source_object_type="Item",
                    source_id=str(item.get("ItemID")),
                    source_version=str(item.get("UpdatedDateUTC") or ""),
                    payload=changes.json_safe(item),
                )
            )
        mark = newest.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S") if newest else ""
        return specs, mark or watermark

    def transform(self, run: Run, raw: Any) -> dict:
        return {"xero_id": run.record.source_id}

    def load_batch(self, runs: list[Run], documents: list[dict]) -> list:
        run = runs[0]
        config = run.flow_config
        work = [
            Change(run=r, origin=XERO, xero_id=d["xero_id"])
            for r, d in zip(runs, documents, strict=True)
        ]
        _synchronise(
            ITEM,
            work,
            sage_client=run.target,
            sage_connection=config.target_connection,
            xero_client=run.source,
            xero_connection=config.source_connection,
            options=run.options or {},
        )
        return [change.result for change in work]


def _parse_watermark(text: str) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
