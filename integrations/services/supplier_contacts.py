"""Which Xero supplier contact a Sage 100 vendor is, for a purchase document.

Two-way master data (``flows/master_data.py``) keeps vendors and supplier
contacts in step; a bill or a purchase order only needs to know the contact.
The same cross-reference table serves both (kind ``vendor``, Sage connection
→ Xero connection, ``01-ACME`` → ContactID), so a contact either one found or
made is found by the other, and both follow one rule for names
(``master_data_contacts``): a vendor's contact is the one with its suffixed
name (``Name (02-ABF)``), else the active one with its name that is no other
vendor's; a new contact takes the name, or, when another contact has it, the
suffixed name (option ``name_clash``: ``suffix``, the default, or
``attention``).

A batch costs a bounded number of calls whatever the number of vendors or the
size of Xero's contact list: the cross-reference first (no call); then the
copy of Xero's contact names master data keeps in Redis (no call) or one
``GET /Contacts?where=Name==… OR …`` per twenty or so vendors; then one
``PUT /Contacts`` for all the new ones. Each answer is kept at once (a found
or made contact as its cross-reference, a name Xero does not have for
``ANSWERS_SECONDS`` in Redis), so a batch stopped by a rate limit half way
does not ask again on its retry.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

from redis.exceptions import RedisError

from integrations.engine.errors import (
    DuplicateAmbiguous,
    ReferenceMissing,
    SyncError,
    Unavailable,
    ValidationFailed,
)
from integrations.models import CrossReference, MasterDataLink
from integrations.services import cross_references, xero_contacts
from integrations.services import master_data_contacts as names_
from integrations.services import master_data_fields as fields_
from integrations.services.master_data import is_blank
from integrations.services.master_data_links import held

KIND = "vendor"
NOTE = "Procure-to-pay: supplier contact"
# How long a name Xero was asked about is taken as answered (as master data's
# copy of the list).
ANSWERS_SECONDS = names_.DIRECTORY_SECONDS


@dataclass(frozen=True)
class Pair:
    sage_id: int
    xero_id: int


def resolve(
    pair: Pair,
    xero,
    reader,
    vendor_keys: list[str],
    *,
    connection=None,
    name_clash: str = names_.SUFFIX,
) -> dict[str, str | SyncError]:
    """ContactID (or the reason there is none) for each ``01-ACME`` vendor key.

    ``connection`` (the Xero connection) finds master data's copy of the
    contact list; without it Xero is asked."""
    wanted = sorted(set(vendor_keys))
    found: dict[str, str | SyncError] = dict(_bound(pair, wanted))
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
        bound = _bound(pair, list(rows))
        found.update(bound)
        rows = {key: row for key, row in rows.items() if key not in bound}
        if rows:
            found.update(_Resolver(pair, xero, connection, name_clash).run(rows))
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


def lookup(name: str) -> str:
    """The ``where`` clause asking Xero for a vendor's contact: its name and
    its suffixed name (``Acme (02-ACME)``) in one, short enough for twenty
    vendors a query."""
    literal = name.strip().replace('"', '""')  # Dynamic LINQ doubles a quote
    return f'Name.StartsWith("{literal}")'


def _bound(pair: Pair, keys: list[str]) -> dict[str, str]:
    """Cross-referenced vendors, less any whose contact is another vendor's:
    before names were kept apart, this flow bound vendors of one name to one
    contact. The one master data links to it (or the first by number) keeps
    it; the other is resolved again and gets its own, as master data does.
    A cross-reference a person entered stands."""
    bound: dict[str, str] = {}
    ours: set[str] = set()
    for key, contact_id, note in CrossReference.objects.filter(
        kind=KIND,
        source_connection_id=pair.sage_id,
        target_connection_id=pair.xero_id,
        source_value__in=[k for k in set(keys) if k],
    ).values_list("source_value", "target_value", "note"):
        bound[key] = contact_id
        if (note or "").startswith(NOTE):
            ours.add(key)
    owners = _owners(pair, {bound[key] for key in ours})
    return {
        key: contact_id
        for key, contact_id in bound.items()
        if key not in ours
        or _owner(owners.get(contact_id, {key}), contact_id, pair) in (None, key)
    }


def _owners(pair: Pair, ids: Iterable[str]) -> dict[str, set[str]]:
    """Contact id → the Sage vendors cross-referenced or linked to it."""
    ids = sorted(set(ids) - {""})
    if not ids:
        return {}
    owners: dict[str, set[str]] = {}
    for contact_id, key in CrossReference.objects.filter(
        kind=KIND,
        source_connection_id=pair.sage_id,
        target_connection_id=pair.xero_id,
        target_value__in=ids,
    ).values_list("target_value", "source_value"):
        owners.setdefault(contact_id, set()).add(key)
    for contact_id, key in _linked(pair, ids).items():
        owners.setdefault(contact_id, set()).add(key)
    return owners


def _linked(pair: Pair, ids: list[str]) -> dict[str, str]:
    return dict(
        MasterDataLink.objects.filter(
            kind=KIND,
            sage_connection_id=pair.sage_id,
            xero_connection_id=pair.xero_id,
            xero_id__in=ids,
        ).values_list("xero_id", "sage_key")
    )


def _owner(keys: set[str], contact_id: str, pair: Pair) -> str | None:
    if len(keys) < 2:
        return None
    return _linked(pair, [contact_id]).get(contact_id) or min(keys)


class _Resolver:
    """The vendors no cross-reference names: found by name, else created."""

    def __init__(self, pair: Pair, xero, connection, name_clash: str) -> None:
        self.pair = pair
        self.xero = xero
        self.name_clash = name_clash
        self.directory = (
            names_.Directory(xero, connection) if connection is not None else None
        )
        place = ""
        if connection is not None:
            settings = connection.settings or {}
            place = "|".join(
                str(settings.get(name, "")) for name in ("accounting_url", "tenant_id")
            )
        digest = hashlib.sha256(place.encode()).hexdigest()[:16]
        self.key = (
            f"ledgerbridge:supplier-contacts:answers:{pair.sage_id}:{pair.xero_id}:"
            f"{digest}"
        )
        # Some answer came from a copy or an earlier attempt, not from Xero now.
        self.remembered = False

    def run(self, rows: dict[str, dict]) -> dict[str, str | SyncError]:
        results: dict[str, str | SyncError] = {}
        documents: dict[str, dict] = {}
        for key in sorted(rows):
            try:
                documents[key] = contact_document(rows[key])
            except SyncError as exc:
                results[key] = exc
        if not documents:
            return results
        contacts = self._look(
            {
                key: [doc["Name"], names_.with_suffix(doc["Name"], key)]
                for key, doc in documents.items()
            }
        )
        owners = _owners(self.pair, (str(c.get("ContactID")) for c in contacts))
        adopted: set[str] = set()
        claimed: dict[str, str] = {}  # lowered name → the vendor given it
        new: dict[str, dict] = {}
        for key, document in documents.items():
            name = str(document["Name"])

            def free(contact: dict, key: str = key) -> bool:
                contact_id = str(contact.get("ContactID"))
                others = owners.get(contact_id, set()) - {key}
                return contact_id not in adopted and not others

            contact = names_.counterpart(name, key, contacts, free)
            if contact is not None:
                contact_id = str(contact["ContactID"])
                adopted.add(contact_id)
                _link(self.pair, key, contact_id, "found by name")
                results[key] = contact_id
                continue

            def holder(text: str, key: str = key) -> str | None:
                other = claimed.get(text.strip().lower())
                if other is not None and other != key:
                    return f"the contact of Sage 100 vendor {other}"
                for contact in contacts:
                    if names_.active(contact) and names_.same_name(
                        contact.get("Name"), text
                    ):
                        return f"contact {contact.get('ContactID')}"
                return None

            chosen, taken = names_.clear_name(name, key, holder, self.name_clash)
            if taken is not None:
                results[key] = names_.name_taken(
                    "vendor", KIND, key, chosen, taken, self.name_clash
                )
                continue
            claimed[chosen.strip().lower()] = key
            new[key] = {**document, "Name": chosen}
        results.update(self._create(new))
        return results

    # -- asking Xero -------------------------------------------------------------
    def _look(self, wanted: dict[str, list[str]]) -> list[dict]:
        """Active contacts with any of these names: from master data's copy of
        the list, from answers kept, or one query per twenty or so vendors.
        Each query's answer is kept before the next is asked."""
        copy = self.directory.cached() if self.directory is not None else None
        if copy is not None:
            self.remembered = True
            named = {n.strip().lower() for names in wanted.values() for n in names}
            return [
                c
                for c in copy
                if names_.active(c)
                and str(c.get("Name") or "").strip().lower() in named
            ]
        answers = self._answers()
        contacts: dict[str, dict] = {}
        # One clause per vendor: Name.StartsWith("Acme") answers for "Acme"
        # and "Acme (02-ACME)" at once, and keeps twenty vendors in one query.
        asking: dict[str, list[str]] = {}
        for name, suffixed in wanted.values():
            if all(n.strip().lower() in answers for n in (name, suffixed)):
                self.remembered = True
                for n in (name, suffixed):
                    for contact in answers[n.strip().lower()]:
                        contacts[str(contact.get("ContactID"))] = contact
            elif name.strip():
                asking.setdefault(lookup(name), []).extend([name, suffixed])
        for where in xero_contacts.queries([[clause] for clause in asking]):
            got = [c for c in self.xero.get_contacts(where=where) if names_.active(c)]
            asked = [n for c in where.split(" OR ") for n in asking.get(c, [])]
            kept = {
                n.strip().lower(): [
                    c for c in got if names_.same_name(c.get("Name"), n)
                ]
                for n in asked
            }
            for found in kept.values():
                for contact in found:
                    contacts[str(contact.get("ContactID"))] = contact
            self._keep(kept)
        return list(contacts.values())

    def _create(self, new: dict[str, dict]) -> dict[str, str | SyncError]:
        if not new:
            return {}
        keys = sorted(new)
        digest = hashlib.sha256(
            "|".join(f"{key}:{new[key]['Name']}" for key in keys).encode()
        ).hexdigest()[:40]
        answers = self.xero.save_contacts(
            [new[key] for key in keys],
            create_only=True,
            idempotency_key=(
                f"lb-suppliers-{self.pair.sage_id}-{self.pair.xero_id}-{digest}"
            ),
        )
        results: dict[str, str | SyncError] = {}
        made: list[dict] = []
        for key, answer in zip(keys, answers, strict=True):
            if answer.ok and answer.document.get("ContactID"):
                contact_id = str(answer.document["ContactID"])
                _link(self.pair, key, contact_id, "created")
                results[key] = contact_id
                made.append(answer.document)
            else:
                results[key] = self._refused(
                    answer.error(kind="contact", doing="creating it")
                )
        if made:
            if self.directory is not None:
                self.directory.remember(made)
            self._keep({str(c.get("Name")).strip().lower(): [c] for c in made})
        return results

    def _refused(self, error: SyncError) -> SyncError:
        """Xero refusing a name that a kept answer said was free: a person made
        that contact meanwhile. Forget what was kept and try again, so the
        retry asks Xero and finds it."""
        if isinstance(error, DuplicateAmbiguous) and self.remembered:
            self._forget()
            return Unavailable(
                f"{error.message} Xero has contacts our kept answers did not; "
                "trying again with fresh ones.",
                retry_after=5,
            )
        return error

    # -- answers kept in Redis ---------------------------------------------------
    def _answers(self) -> dict[str, list[dict]]:
        try:
            raw = _redis().hgetall(self.key)
        except RedisError:
            return {}
        return {
            (name.decode() if isinstance(name, bytes) else name): json.loads(value)
            for name, value in raw.items()
        }

    def _keep(self, answers: dict[str, list[dict]]) -> None:
        entries = {
            name: json.dumps(
                [{k: c.get(k) for k in names_.KEPT} for c in found], default=str
            )
            for name, found in answers.items()
            if name
        }
        if not entries:
            return
        with contextlib.suppress(RedisError):
            pipe = _redis().pipeline()
            pipe.hset(self.key, mapping=entries)
            pipe.expire(self.key, ANSWERS_SECONDS)
            pipe.execute()

    def _forget(self) -> None:
        with contextlib.suppress(RedisError):
            _redis().delete(self.key)
        if self.directory is not None:
            self.directory.forget()


def _link(pair: Pair, key: str, contact_id: str, how: str) -> None:
    cross_references.link(
        KIND,
        pair.sage_id,
        pair.xero_id,
        key,
        contact_id,
        note=f"{NOTE} {how}",
    )


def _redis():
    from integrations.engine.dispatch import queue

    return queue().connection
