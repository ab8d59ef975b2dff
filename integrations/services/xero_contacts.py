"""Which Xero contact a shop's customer is, or a new one.

The same rules as for Sage 100 customers (``customer_matching``), with Xero's
own ways to look: the cross-reference first (no call), then the e-mail
(``where EmailAddress==``), then a name search scored by the fuzzy matcher.
Several plausible contacts are never resolved by guessing: ``DuplicateAmbiguous``
lists them so a person merges or keeps them apart under Match decisions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote

from integrations.engine.errors import DuplicateAmbiguous
from integrations.services import customer_matching, sage_customers

ARCHIVED = "ARCHIVED"
# Characters of ``where`` per GET /Contacts: about 20 people, and a query string
# (once encoded) under the 2,048 characters IIS takes by default.
WHERE_BUDGET = 1400
# The same limit measured once encoded (quotes, spaces and brackets take three
# characters each), leaving room for the URL's other parameters.
ENCODED_BUDGET = 1900


@dataclass(frozen=True)
class Person:
    """The customer as the shop knows it."""

    source_connection_id: int
    xero_connection_id: int
    source_id: str  # the shop's customer id ("" for a guest checkout)
    name: str
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    phone: str = ""
    address: dict | None = None  # neutral: lines, city, state, zip_code, country_code

    def facts(self) -> customer_matching.CustomerFacts:
        address = self.address or {}
        return customer_matching.CustomerFacts(
            key="",
            name=self.name,
            address_line1=(address.get("lines") or [""])[0],
            city=address.get("city", ""),
            zip_code=address.get("zip_code", ""),
            phone=self.phone,
            email=self.email,
        )


def facts(contact: dict) -> customer_matching.CustomerFacts:
    """A Xero contact as the matcher compares it (key = ContactID)."""
    address = next(
        (a for a in contact.get("Addresses") or [] if a.get("AddressLine1")), {}
    )
    phone = next(
        (
            "".join(
                str(p.get(k) or "")
                for k in ("PhoneCountryCode", "PhoneAreaCode", "PhoneNumber")
            )
            for p in contact.get("Phones") or []
            if p.get("PhoneNumber")
        ),
        "",
    )
    return customer_matching.CustomerFacts(
        key=str(contact.get("ContactID") or ""),
        name=str(contact.get("Name") or ""),
        address_line1=str(address.get("AddressLine1") or ""),
        city=str(address.get("City") or ""),
        zip_code=str(address.get("PostalCode") or ""),
        phone=phone,
        email=str(contact.get("EmailAddress") or ""),
    )


def find(client, person: Person, *, bound: str | None, thresholds: dict) -> dict | None:
    """``{"contact_id", "name", "action"}`` for the contact this person is, None
    when Xero has none; DuplicateAmbiguous when several could be."""
    if bound:
        return {"contact_id": bound, "name": person.name, "action": "bound"}
    said = sage_customers.verdicts(
        "contact", person.source_connection_id, person.xero_connection_id,
        person.source_id or person.email,
    )  # fmt: skip
    same = [key for key, verdict in said.items() if verdict == "same"]
    if same:
        return {"contact_id": same[0], "name": person.name, "action": "matched"}
    if person.email and _quotable(person.email):
        found = [
            c
            for c in client.get_contacts(where=f'EmailAddress=="{person.email}"')
            if c.get("ContactStatus") != ARCHIVED
            and said.get(c.get("ContactID")) != "different"
        ]
        if len(found) == 1:
            return _found(found[0], "matched by e-mail")
        if len(found) > 1:
            _ambiguous(person, [facts(c) for c in found], "share its e-mail")
    word = _name_word(person)
    if not word:
        return None
    return _by_name(person, client.get_contacts(search_term=word), said, thresholds)


def find_many(
    client, people: dict[str, Person], *, bound: dict[str, str | None],
    thresholds: dict,
) -> dict[str, dict | DuplicateAmbiguous | None]:  # fmt: skip
    """``find`` for a batch of people (keyed as the caller likes), with one
    ``GET /Contacts`` per twenty or so people Xero must be asked about, not two
    each.

    The query asks for every e-mail (``EmailAddress==``) and every first name
    word (``Name.Contains``) at once; each person is then decided as ``find``
    decides: the e-mail first, then the fuzzy matcher on the contacts whose
    name or e-mail holds the word. An ambiguity is that person's answer, not
    the batch's.
    """
    answers: dict[str, dict | DuplicateAmbiguous | None] = {}
    asking: dict[str, tuple[Person, dict]] = {}
    for key, person in people.items():
        if bound.get(key):
            answers[key] = {"contact_id": bound[key], "name": person.name,
                            "action": "bound"}  # fmt: skip
            continue
        said = sage_customers.verdicts(
            "contact", person.source_connection_id, person.xero_connection_id,
            person.source_id or person.email,
        )  # fmt: skip
        same = [contact for contact, verdict in said.items() if verdict == "same"]
        if same:
            answers[key] = {"contact_id": same[0], "name": person.name,
                            "action": "matched"}  # fmt: skip
        else:
            asking[key] = (person, said)
    contacts: list[dict] = []
    for where in _lookups(person for person, _ in asking.values()):
        contacts.extend(client.get_contacts(where=where))
    for key, (person, said) in asking.items():
        try:
            answers[key] = _decide(person, contacts, said, thresholds)
        except DuplicateAmbiguous as exc:
            answers[key] = exc
    return answers


def _lookups(people) -> list[str]:
    """``where`` texts asking for each person's e-mail and name word."""
    groups = []
    for person in people:
        mine = []
        if person.email and _quotable(person.email):
            mine.append(f'EmailAddress=="{person.email}"')
        word = _name_word(person)
        if word and _quotable(word):
            mine.append(f'Name.Contains("{word}")')
        groups.append(mine)
    return queries(groups)


def queries(groups: Iterable[list[str]]) -> list[str]:
    """``where`` texts OR-ing every group's clauses (a group stays in one
    text), as few as keep each under ``WHERE_BUDGET`` characters, and under
    ``ENCODED_BUDGET`` once encoded: one ``GET /Contacts`` per twenty or so
    contacts wanted."""
    texts: list[str] = []
    clauses: list[str] = []
    for mine in groups:
        if clauses and _too_long(" OR ".join(clauses + mine)):
            texts.append(" OR ".join(clauses))
            clauses = []
        clauses.extend(c for c in mine if c not in clauses)
    if clauses:
        texts.append(" OR ".join(clauses))
    return texts


def _too_long(where: str) -> bool:
    return (
        len(where) > WHERE_BUDGET
        or len(quote(where, safe="")) + len("where=") > ENCODED_BUDGET
    )


def _decide(
    person: Person, contacts: list[dict], said: dict, thresholds: dict
) -> dict | None:
    """One person among contacts read for a batch: as ``find`` decides."""
    if person.email and _quotable(person.email):
        email = person.email.strip().lower()
        found = [
            c
            for c in contacts
            if str(c.get("EmailAddress") or "").strip().lower() == email
            and c.get("ContactStatus") != ARCHIVED
            and said.get(c.get("ContactID")) != "different"
        ]
        found = list({str(c.get("ContactID")): c for c in found}.values())
        if len(found) == 1:
            return _found(found[0], "matched by e-mail")
        if len(found) > 1:
            _ambiguous(person, [facts(c) for c in found], "share its e-mail")
    word = _name_word(person)
    if not word:
        return None
    searched = {
        str(c.get("ContactID")): c
        for c in contacts
        if any(
            word in str(c.get(name) or "").lower()
            for name in ("Name", "FirstName", "LastName", "EmailAddress")
        )
    }
    return _by_name(person, list(searched.values()), said, thresholds)


def _name_word(person: Person) -> str | None:
    return customer_matching.candidates_query_terms(person.facts()).name_word


def _by_name(person: Person, contacts: list[dict], said: dict, thresholds: dict):
    candidates = [
        facts(c)
        for c in contacts
        if c.get("ContactStatus") != ARCHIVED
        and said.get(c.get("ContactID")) != "different"
    ]
    result = customer_matching.match_customer(
        person.facts(),
        candidates,
        strong=float(thresholds.get("strong", 0.9)),
        weak=float(thresholds.get("weak", 0.6)),
    )
    if result.decision == "bind":
        return {
            "contact_id": result.best.key,
            "name": result.best.name,
            "action": "matched",
            "match": {"score": result.best.score, "reasons": result.best.reasons},
        }
    if result.decision == "ambiguous":
        _ambiguous(person, result.candidates, "look alike")
    return None


def new_contact(person: Person) -> dict:
    """The Contact to create (PUT, create only)."""
    address = person.address or {}
    contact: dict = {"Name": person.name[:255]}
    if person.first_name:
        contact["FirstName"] = person.first_name[:255]
    if person.last_name:
        contact["LastName"] = person.last_name[:255]
    if person.email:
        contact["EmailAddress"] = person.email[:255]
    if person.phone:
        contact["Phones"] = [{"PhoneType": "DEFAULT", "PhoneNumber": person.phone[:50]}]
    lines = [line for line in address.get("lines") or [] if line]
    if lines:
        contact["Addresses"] = [
            {
                "AddressType": "POBOX",  # Xero's postal (billing) address
                **{f"AddressLine{n}": text for n, text in enumerate(lines, 1)},
                "City": address.get("city", ""),
                "Region": address.get("state", ""),
                "PostalCode": address.get("zip_code", ""),
                "Country": address.get("country_code", ""),
            }
        ]
    return contact


def _found(contact: dict, how: str) -> dict:
    return {
        "contact_id": contact["ContactID"],
        "name": contact.get("Name", ""),
        "action": "matched",
        "match": {"reasons": [how]},
    }


def _ambiguous(person: Person, candidates, why: str) -> None:
    listed = "; ".join(
        f"{c.key} ({c.name}"
        + (f", {c.score:.0%}: {', '.join(c.reasons)}" if hasattr(c, "score") else "")
        + ")"
        for c in candidates
    )
    raise DuplicateAmbiguous(
        f"Shopify customer {person.name} <{person.email or 'no e-mail'}> and several "
        f"Xero contacts {why}: {listed}. Suggested: merge them in Xero, or say under "
        "Match decisions (kind contact) which one this customer is, or that it is "
        "none of them; then resubmit. No contact was created.",
        candidates=[c.key for c in candidates],
        field="customer",
    )


def _quotable(text: str) -> bool:
    """Xero's where clause takes the value between double quotes."""
    return '"' not in text and "\\" not in text
