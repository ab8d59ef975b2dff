"""Is this Salesforce account a customer Sage 100 already has?

A duplicate customer splits a company's balance and credit limit in two, and a
wrong match sends an order to someone else: so a match binds only when one
candidate is clearly best, and anything in between goes to a person
(``ambiguous``) with the reasons shown. Scores compare what both sides know;
an attribute one side lacks neither helps nor hurts (its weight is dropped and
the rest re-normalised).

Sage is read with one parameterised SELECT for a small candidate set
(``sage_candidates``), never the whole customer file.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from rapidfuzz import fuzz

from integrations.connectors.sage100 import keys
from integrations.engine.errors import ValidationFailed

# Weights of the attributes present on both sides (re-normalised to sum to 1).
WEIGHTS: dict[str, float] = {"name": 0.45, "phone": 0.2, "email": 0.2, "address": 0.15}
MARGIN = 0.15  # a strong best candidate this far ahead of the next one still binds
MAX_CANDIDATES = 5
SAME_NAME = 0.95  # a name this alike makes a candidate plausible on its own

LEGAL_SUFFIXES = frozenset(
    str.split(
        "inc incorporated llc llp lp ltd limited corp corporation co company plc gmbh "
        "ag kg ohg mbh ug sa sas sarl srl spa bv nv pty pvt oy ab as aps kk"
    )
)
FREE_MAIL = frozenset(
    str.split(
        "gmail.com googlemail.com yahoo.com ymail.com hotmail.com outlook.com live.com "
        "msn.com aol.com icloud.com me.com mac.com gmx.de gmx.net web.de proton.me "
        "protonmail.com mail.com zoho.com yandex.com comcast.net att.net verizon.net "
        "hotmail.co.uk yahoo.co.uk btinternet.com"
    )
)
_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class CustomerFacts:
    """What both systems can tell about a customer; ``key`` is Sage's ``01-ABF``
    (or the source record's id for the candidate being matched)."""

    key: str
    name: str = ""
    address_line1: str = ""
    city: str = ""
    zip_code: str = ""
    phone: str = ""
    email: str = ""


@dataclass(frozen=True)
class Candidate:
    key: str
    score: float  # 0..1, two decimals
    reasons: list[str] = field(default_factory=list)
    name: str = ""
    name_score: float = 0.0  # the name alone, 0..1


@dataclass(frozen=True)
class MatchResult:
    decision: Literal["bind", "ambiguous", "none"]
    best: Candidate | None  # set only when the decision is "bind"
    candidates: list[Candidate]  # plausible ones (score >= weak), best first, ≤ 5


# -- normalising -----------------------------------------------------------------
def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def name_words(name: str) -> list[str]:
    """Lower-case words without punctuation, accents or legal suffixes:
    ``"ACME Corp."`` and ``"Acme Corporation"`` both give ``["acme"]``."""
    text = _ascii(name).lower().replace("&", " and ").replace("'", "")
    words = _WORD.findall(text.replace(".", ""))
    while len(words) > 1 and words[-1] in LEGAL_SUFFIXES:
        words.pop()
    if len(words) > 1 and words[0] == "the":
        words.pop(0)
    return words


def phone_digits(phone: str) -> str:
    """The last ten digits (a US number without its country code); ``""`` when
    fewer than seven digits are given, too few to mean anything."""
    digits = re.sub(r"\D", "", phone or "")
    return digits[-10:] if len(digits) >= 7 else ""


def _zip(zip_code: str) -> str:
    compact = re.sub(r"[\s-]", "", zip_code or "").upper()
    return compact[:5] if compact[:5].isdigit() else compact


def _email(email: str) -> str:
    return (email or "").strip().lower()


# -- scoring -------------------------------------------------------------------
def _name_score(a: str, b: str) -> float | None:
    left, right = " ".join(name_words(a)), " ".join(name_words(b))
    if not left or not right:
        return None
    # token_set_ratio alone gives 100 when one name's words are a subset of the
    # other's ("Acme" vs "Acme Industrial Supply"); averaging with
    # token_sort_ratio keeps such pairs high but below an exact match.
    return (
        fuzz.token_set_ratio(left, right) + fuzz.token_sort_ratio(left, right)
    ) / 200


def _address_score(a: CustomerFacts, b: CustomerFacts) -> tuple[float | None, list]:
    parts, reasons = [], []
    zip_a, zip_b = _zip(a.zip_code), _zip(b.zip_code)
    if zip_a and zip_b:
        parts.append(1.0 if zip_a == zip_b else 0.0)
        reasons.append("ZIP equal" if zip_a == zip_b else "ZIP differs")
    line_a = " ".join(_WORD.findall(_ascii(a.address_line1).lower()))
    line_b = " ".join(_WORD.findall(_ascii(b.address_line1).lower()))
    if line_a and line_b:
        ratio = fuzz.token_sort_ratio(line_a, line_b) / 100
        parts.append(ratio)
        reasons.append(f"address {round(ratio * 100)}%")
    return (sum(parts) / len(parts) if parts else None), reasons


def score(candidate: CustomerFacts, other: CustomerFacts) -> Candidate:
    """How alike two customers are, 0..1, with the reasons in words."""
    scores: dict[str, float] = {}
    reasons: list[str] = []
    name = _name_score(candidate.name, other.name)
    if name is not None:
        scores["name"] = name
        reasons.append(f"name {round(name * 100)}%")
    phone_a, phone_b = phone_digits(candidate.phone), phone_digits(other.phone)
    if phone_a and phone_b:
        scores["phone"] = 1.0 if phone_a == phone_b else 0.0
        reasons.append("phone equal" if phone_a == phone_b else "phone differs")
    email_a, email_b = _email(candidate.email), _email(other.email)
    if "@" in email_a and "@" in email_b:
        domain = email_a.rpartition("@")[2]
        if email_a == email_b:
            scores["email"] = 1.0
            reasons.append("email equal")
        elif domain == email_b.rpartition("@")[2] and domain not in FREE_MAIL:
            scores["email"] = 0.5
            reasons.append(f"same email domain {domain}")
        else:
            scores["email"] = 0.0
            reasons.append("email differs")
    address, address_reasons = _address_score(candidate, other)
    if address is not None:
        scores["address"] = address
        reasons.extend(address_reasons)
    weight = sum(WEIGHTS[attribute] for attribute in scores)
    total = sum(WEIGHTS[attribute] * value for attribute, value in scores.items())
    return Candidate(
        key=other.key,
        score=round(total / weight, 2) if weight else 0.0,
        reasons=reasons,
        name=other.name,
        name_score=round(name or 0.0, 2),
    )


def match_customer(
    candidate: CustomerFacts,
    existing: Iterable[CustomerFacts],
    *,
    strong: float = 0.9,
    weak: float = 0.6,
) -> MatchResult:
    """``bind`` when exactly one customer scores ``strong`` or more and the next
    one is below ``weak`` (or ``MARGIN`` behind); ``ambiguous`` when any other
    customer is plausible (``weak`` or more), so a person chooses; else ``none``.

    A single plausible-but-not-strong candidate is ``ambiguous``, not ``none``:
    creating a customer Sage may already have is the mistake that costs most.
    """
    scored = sorted(
        (score(candidate, other) for other in existing),
        key=lambda c: (-c.score, c.key),
    )
    # The same name is never "none", whatever else differs (another branch, a
    # move, or another company): a person decides rather than a duplicate.
    plausible = [c for c in scored if c.score >= weak or c.name_score >= SAME_NAME][
        :MAX_CANDIDATES
    ]
    if not plausible:
        return MatchResult("none", None, [])
    best = plausible[0]
    runner_up = scored[1].score if len(scored) > 1 else 0.0
    strong_ones = [c for c in scored if c.score >= strong]
    if len(strong_ones) == 1 and (runner_up < weak or best.score - runner_up >= MARGIN):
        return MatchResult("bind", best, plausible)
    return MatchResult("ambiguous", None, plausible)


# -- reading candidates from Sage 100 -----------------------------------------
@dataclass(frozen=True)
class QueryTerms:
    """What to pre-filter Sage's customers by; ``None`` when the candidate
    does not know it."""

    name_word: str | None
    zip_code: str | None
    phone_digits: str | None
    email: str | None

    @property
    def empty(self) -> bool:
        return not (self.name_word or self.zip_code or self.phone_digits or self.email)


_STOP_WORDS = frozenset({"the", "a", "an", "and", "of"})


def candidates_query_terms(candidate: CustomerFacts) -> QueryTerms:
    """The first significant word of the name (not "The", not a suffix, two
    characters or more), the ZIP as given, the phone's digits and the e-mail."""
    word = next(
        (w for w in name_words(candidate.name) if w not in _STOP_WORDS and len(w) > 1),
        None,
    )
    return QueryTerms(
        name_word=word,
        zip_code=(candidate.zip_code or "").strip().upper() or None,
        phone_digits=phone_digits(candidate.phone) or None,
        email=_email(candidate.email) or None,
    )


def sage_candidates(
    reader, facts: CustomerFacts, limit: int = 200
) -> list[CustomerFacts]:
    """Sage 100 customers sharing a name word, the ZIP, the phone or the e-mail.

    One parameterised SELECT on AR_Customer (``reader`` is a ``Sage100Reader``).
    The name is compared with LIKE in the spellings Sage is likely to hold
    (as typed, upper-case, capitalised); the phone with its last seven digits
    separated by ``%`` so "(312) 555-0101" and "312.555.0101" both match; the
    e-mail with LIKE (no wildcards), which ODBC drivers compare without regard
    to case where ``=`` would not.
    Without a row-limit clause (ProvideX does not reliably have one), rows are
    cut to ``limit`` here, those matching the most terms first.
    """
    terms = candidates_query_terms(facts)
    if terms.empty:
        return []
    where: list[str] = []
    params: list[str] = []
    if terms.name_word:
        spellings = _spellings(facts.name, terms.name_word)
        where.extend("CustomerName LIKE ?" for _ in spellings)
        params.extend(f"%{s}%" for s in spellings)
    if terms.zip_code:
        where.append("ZipCode = ?")
        params.append(terms.zip_code)
    if terms.phone_digits:
        where.append("TelephoneNo LIKE ?")
        params.append("%" + "%".join(terms.phone_digits[-7:]) + "%")
    if terms.email:
        where.append("EmailAddress LIKE ?")
        params.append(terms.email)
    rows = reader.select(
        "AR_Customer",
        "SELECT ARDivisionNo, CustomerNo, CustomerName, AddressLine1, City, ZipCode, "
        "TelephoneNo, EmailAddress FROM AR_Customer WHERE " + " OR ".join(where),
        params,
    )
    found = [_facts(row) for row in rows]
    found.sort(key=lambda f: (-_terms_hit(f, terms), f.key))
    return found[:limit]


def _spellings(name: str, word: str) -> list[str]:
    typed = next(
        (w for w in re.findall(r"[^\W_]+", name or "") if _ascii(w).lower() == word),
        word,
    )
    return list(dict.fromkeys([typed, typed.upper(), typed.capitalize()]))


def _facts(row: Mapping) -> CustomerFacts:
    return CustomerFacts(
        key=keys.display(row["ARDivisionNo"], row["CustomerNo"]),
        name=row.get("CustomerName") or "",
        address_line1=row.get("AddressLine1") or "",
        city=row.get("City") or "",
        zip_code=row.get("ZipCode") or "",
        phone=row.get("TelephoneNo") or "",
        email=row.get("EmailAddress") or "",
    )


def _terms_hit(found: CustomerFacts, terms: QueryTerms) -> int:
    return sum(
        (
            bool(terms.name_word and terms.name_word in name_words(found.name)),
            bool(terms.zip_code and _zip(found.zip_code) == _zip(terms.zip_code)),
            bool(
                terms.phone_digits and phone_digits(found.phone) == terms.phone_digits
            ),
            bool(terms.email and _email(found.email) == terms.email),
        )
    )


# -- new customer numbers ------------------------------------------------------
def next_customer_no(reader, rule: Mapping, *, name: str = "") -> str:
    """A free CustomerNo by the flow's rule, checked by Sage's key rules.

    ``{"mode": "sequence", "prefix": "SF", "width": 7}`` → one past the highest
    ``SF`` + digits number in use ("SF00041" → "SF00042"), zero-filled to
    ``width`` characters in all. ``{"mode": "name", "width": 7}`` → the name's
    letters and digits, upper-cased ("ACMEIND"), then "ACMEIN1", "ACMEIN2"…
    while taken. A number is free when no division uses it (Sage indexes
    CustomerNo alone), so the same number never means two customers. The
    name may also come in the rule itself (``rule["name"]``).
    """
    name = name or str(rule.get("name") or "")
    mode = str(rule.get("mode") or "sequence").strip().lower()
    width = _width(rule.get("width", 7))
    if mode == "sequence":
        return _next_in_sequence(reader, str(rule.get("prefix") or "").strip(), width)
    if mode == "name":
        return _next_from_name(reader, name, width)
    raise ValidationFailed(
        f"The customer number rule's mode {mode!r} is not known: use "
        "'sequence' or 'name'.",
        field="customer_no_rule.mode",
    )


def _width(value) -> int:
    try:
        width = int(value)
    except (TypeError, ValueError):
        width = 0
    if not 1 <= width <= 20:
        raise ValidationFailed(
            f"The customer number rule's width must be 1 to 20 (Sage 100's "
            f"CustomerNo length), not {value!r}.",
            field="customer_no_rule.width",
        )
    return width


def _numbers_like(reader, prefix: str) -> set[str]:
    rows = reader.select(
        "AR_Customer",
        "SELECT CustomerNo FROM AR_Customer WHERE CustomerNo LIKE ?",
        [f"{prefix}%"],
    )
    # LIKE's "_" and "%" match more than themselves: keep the true prefixes.
    return {
        row["CustomerNo"].upper()
        for row in rows
        if row["CustomerNo"].upper().startswith(prefix)
    }


def _next_in_sequence(reader, prefix: str, width: int) -> str:
    prefix = keys.customer_no(prefix, "customer_no_rule.prefix") if prefix else ""
    digits = width - len(prefix)
    if digits < 1:
        raise ValidationFailed(
            f"The customer number prefix {prefix!r} leaves no room for a number "
            f"within {width} characters.",
            field="customer_no_rule.width",
        )
    used = [
        int(number[len(prefix) :])
        for number in _numbers_like(reader, prefix)
        if len(number) == width and number[len(prefix) :].isdigit()
    ]
    following = max(used, default=0) + 1
    if following >= 10**digits:
        raise ValidationFailed(
            f"Every customer number from {prefix}{1:0{digits}d} to "
            f"{prefix}{10**digits - 1} is used: widen the rule.",
            field="customer_no_rule.width",
        )
    return keys.customer_no(f"{prefix}{following:0{digits}d}")


def _next_from_name(reader, name: str, width: int) -> str:
    letters = "".join(_WORD.findall(" ".join(name_words(name)))).upper()
    if not letters:
        raise ValidationFailed(
            f"The customer name {name!r} has no letters A-Z or digits to make a "
            "customer number from.",
            field="CustomerName",
        )
    base = letters[:width]
    taken = _numbers_like(reader, base[: max(1, len(base) - 3)])
    if base not in taken:
        return keys.customer_no(base)
    for n in range(1, 1000):
        suffix = str(n)
        number = base[: width - len(suffix)] + suffix
        if len(suffix) < width and number not in taken:
            return keys.customer_no(number)
    raise ValidationFailed(
        f"No free customer number starts with {base[: max(1, width - 3)]!r}: "
        "use a wider rule or the sequence mode.",
        field="customer_no_rule.width",
    )
