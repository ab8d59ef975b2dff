"""Xero contact names for two-way master data: unique names, and the list of
contacts a first sync reads once.

Xero refuses a contact whose Name another ACTIVE contact has ("The contact
name … is already assigned to another contact"); Sage 100 does not mind two
customers (two divisions, or a vendor and a customer) of one name. When a
Sage record's name is taken in Xero by a contact that is not its own, the
flow option ``name_clash`` decides:

* ``suffix`` (the default): the contact is named ``Name (<Sage number>)``,
  e.g. ``American Business Futures (02-ABF)``. The suffix is Xero's part of
  the name only: read back, ``with_suffix``'s form is the Sage name again
  (``without_suffix``), so the Xero → Sage 100 direction never renames the
  Sage record, and a contact renamed in Xero keeps its suffix out of Sage.
* ``attention``: the record waits under Needs attention, naming the contact
  that has the name.

``Directory`` is the organisation's contacts (id, name, number, status),
read once, paged, and kept in Redis for ``DIRECTORY_SECONDS``; our own writes
are added to it, so the batches of a first sync of hundreds of customers do
not read the list again. A contact a person made in Xero meanwhile shows up
as Xero refusing the name: the copy is dropped and the record tried again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from collections.abc import Callable, Iterable

from redis.exceptions import RedisError

SUFFIX, ATTENTION = "suffix", "attention"
NAME_CLASH_OPTIONS = (SUFFIX, ATTENTION)
DEFAULT_NAME_CLASH = SUFFIX
DIRECTORY_SECONDS = 300
# Up to this many wanted contacts are looked up one query each when no copy of
# the list is at hand; more (a first sync) read the whole list once.
LOOKUPS = 5
KEPT = ("ContactID", "Name", "ContactNumber", "ContactStatus")
_SUFFIX = re.compile(r"^(?P<name>.*\S)\s+\((?P<key>[^()]+)\)$")


def name_clash_option(options: dict) -> str:
    from integrations.engine.errors import ValidationFailed

    chosen = str(options.get("name_clash") or DEFAULT_NAME_CLASH).strip().lower()
    if chosen not in NAME_CLASH_OPTIONS:
        raise ValidationFailed(
            f"name_clash must be suffix or attention, not {chosen!r}.",
            field="options.name_clash",
        )
    return chosen


def with_suffix(name: str, sage_key: str) -> str:
    """``American Business Futures (02-ABF)``: the name Xero can take."""
    return f"{name.strip()} ({sage_key})"


def without_suffix(name: str, sage_key: str) -> str:
    """The Sage name inside a suffixed Xero name; any other name as it is."""
    found = _SUFFIX.match(name or "")
    if found and sage_key and found.group("key").strip().upper() == sage_key.upper():
        return found.group("name")
    return name


def suffix_key(name: str) -> str:
    """The Sage number a suffixed name carries (``02-ABF``), or ""."""
    found = _SUFFIX.match(name or "")
    return found.group("key").strip() if found else ""


def same_name(a: str, b: str) -> bool:
    """Xero compares contact names without case or surrounding blanks."""
    return (a or "").strip().lower() == (b or "").strip().lower()


def active(contact: dict) -> bool:
    return (contact.get("ContactStatus") or "ACTIVE") == "ACTIVE"


def _quoted(text: str) -> str:
    """A string literal for Xero's ``where`` (Dynamic LINQ doubles a quote)."""
    return text.replace('"', '""')


def where(number: str, names: Iterable[str]) -> str:
    parts = [f'ContactNumber=="{_quoted(number)}"'] if number else []
    parts += [f'Name=="{_quoted(name)}"' for name in names if name]
    return " OR ".join(parts)


def counterpart(
    name: str, sage_key: str, contacts: Iterable[dict], free: Callable[[dict], bool]
) -> dict | None:
    """The existing contact a new Sage record is, by name: its own suffixed
    name first, then its plain name on an active contact; either only when
    ``free`` (no other record's). None: a new contact is wanted."""
    contacts = list(contacts)
    suffixed = with_suffix(name, sage_key)
    for contact in contacts:
        if same_name(contact.get("Name"), suffixed) and free(contact):
            return contact
    for contact in contacts:
        if (
            name
            and active(contact)
            and same_name(contact.get("Name"), name)
            and free(contact)
        ):
            return contact
    return None


def clear_name(
    name: str, sage_key: str, holder: Callable[[str], str | None], option: str
) -> tuple[str, str | None]:
    """The name a new contact can take, by ``name_clash``: ``(name, None)``;
    or ``(name, who has it)`` when it must wait for a person. ``holder`` says
    who else has a name (another active contact, or another record of the
    batch), None when nobody."""
    held = holder(name)
    if held is None:
        return name, None
    if option == SUFFIX:
        suffixed = with_suffix(name, sage_key)
        return suffixed, holder(suffixed)
    return name, held


def name_taken(
    title: str, kind: str, sage_key: str, name: str, holder: str, option: str
):
    """Needs attention: ``name`` is another contact's and cannot be used."""
    from integrations.engine.errors import DuplicateAmbiguous

    suffixed = with_suffix(name, sage_key)
    or_suffix = (
        f'set the flow option name_clash to "suffix" to name this one "{suffixed}", '
        if option != SUFFIX
        else ""
    )
    return DuplicateAmbiguous(
        f"Sage 100 {title} {sage_key}: Xero already has a contact named "
        f'"{name}" ({holder}), and Xero keeps contact names unique among active '
        f"contacts. Rename one of them, {or_suffix}or link the right contact with "
        f"a {kind} cross-reference; then press Resubmit.",
        candidates=[sage_key, holder],
        field="Name",
    )


class Directory:
    """The organisation's contacts as far as names and numbers go.

    ``lookup`` answers from the Redis copy when there is one; without one,
    a few wanted contacts are asked for one query each and many read the whole
    list (paged) into a new copy. ``fresh`` says the answer came from Xero in
    this batch, so a refusal cannot be blamed on an old copy.
    """

    def __init__(self, client, connection) -> None:
        self.client = client
        self.connection = connection
        self.fresh = False
        self.from_copy = False

    @property
    def key(self) -> str:
        settings = self.connection.settings or {}
        place = f"{settings.get('accounting_url', '')}|{settings.get('tenant_id', '')}"
        digest = hashlib.sha256(place.encode()).hexdigest()[:16]
        return f"ledgerbridge:xero-contacts:{self.connection.pk}:{digest}"

    def lookup(self, wanted: list[tuple[str, list[str]]]) -> list[dict]:
        """Contacts that may matter for ``wanted`` ((number, names) pairs):
        every contact from the copy, or those the queries found."""
        if not wanted:
            return []
        copy = self._copy()
        if copy is not None:
            self.from_copy = True
            return copy
        self.fresh = True
        if len(wanted) <= LOOKUPS:
            found: dict[str, dict] = {}
            for number, names in wanted:
                for contact in self.client.get_contacts(
                    where=where(number, names), include_archived=True
                ):
                    found[str(contact.get("ContactID"))] = contact
            return list(found.values())
        contacts = self.client.get_contacts(include_archived=True)
        self._store(contacts, replace=True)
        return contacts

    def cached(self) -> list[dict] | None:
        """The copy of the list, when one is kept (no call); else None."""
        return self._copy()

    def remember(self, contacts: Iterable[dict]) -> None:
        """Our own writes, added to the copy (when there is one)."""
        entries = {
            str(c["ContactID"]): json.dumps({k: c.get(k) for k in KEPT}, default=str)
            for c in contacts
            if c.get("ContactID")
        }
        if not entries:
            return
        with contextlib.suppress(RedisError):
            redis = _redis()
            if redis.exists(self.key):
                redis.hset(self.key, mapping=entries)

    def forget(self) -> None:
        """Drop the copy: Xero showed it was out of date."""
        with contextlib.suppress(RedisError):
            _redis().delete(self.key)

    def _copy(self) -> list[dict] | None:
        try:
            raw = _redis().hgetall(self.key)
        except RedisError:
            return None
        if not raw:
            return None
        return [
            json.loads(value)
            for name, value in raw.items()
            if (name.decode() if isinstance(name, bytes) else name) != "_"
        ]

    def _store(self, contacts: list[dict], *, replace: bool) -> None:
        entries = {
            str(c["ContactID"]): json.dumps({k: c.get(k) for k in KEPT}, default=str)
            for c in contacts
            if c.get("ContactID")
        }
        entries["_"] = "{}"  # an organisation without contacts still has a copy
        with contextlib.suppress(RedisError):
            pipe = _redis().pipeline()
            if replace:
                pipe.delete(self.key)
            pipe.hset(self.key, mapping=entries)
            pipe.expire(self.key, DIRECTORY_SECONDS)
            pipe.execute()


def forget_all(connection) -> None:
    """Drop every copy of ``connection``'s contacts (its books are gone)."""
    with contextlib.suppress(RedisError):
        redis = _redis()
        for key in redis.scan_iter(f"ledgerbridge:xero-contacts:{connection.pk}:*"):
            redis.delete(key)


def _redis():
    from integrations.engine.dispatch import queue

    return queue().connection
