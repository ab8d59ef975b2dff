"""Which Sage 100 customer a source system's customer is, or a new one.

Shared by the flows that bring orders into Sage 100 (Salesforce, Shopify):
a person's verdicts first (Match decisions), then the fuzzy matcher over a
small candidate set read with one SELECT; a likely duplicate is never
created but raised as ``DuplicateAmbiguous`` listing the candidates, which the
work queue shows with a suggested merge. Creation takes a per-company lock and
looks again under it, so two orders of one new customer make one customer
and two new customers never take the same next number.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from integrations.connectors.sage100 import keys
from integrations.engine.errors import DuplicateAmbiguous, Unavailable
from integrations.services import customer_matching


@dataclass(frozen=True)
class Wanted:
    """The source's customer as Sage would hold it (address in AR_Customer's
    column names: AddressLine1…, City, State, ZipCode, CountryCode)."""

    source_connection_id: int
    target_connection_id: int
    source_id: str  # the source record's id, as people's verdicts name it
    name: str
    label: str = ""  # how messages call it, e.g. "Account Acme" or "Bob Norman"
    email: str = ""
    phone: str = ""
    address: dict = field(default_factory=dict)

    def facts(self) -> customer_matching.CustomerFacts:
        return customer_matching.CustomerFacts(
            key="",
            name=self.name,
            address_line1=self.address.get("AddressLine1", ""),
            city=self.address.get("City", ""),
            zip_code=self.address.get("ZipCode", ""),
            phone=self.phone,
            email=self.email,
        )


def verdicts(
    kind: str, source_connection_id: int, target_connection_id: int, source_id: str
) -> dict[str, str]:
    """People's same/different verdicts on this source record's candidates."""
    from integrations.models import MatchDecision

    return dict(
        MatchDecision.objects.filter(
            kind=kind,
            source_connection_id=source_connection_id,
            target_connection_id=target_connection_id,
            source_value=source_id,
        ).values_list("target_value", "verdict")
    )


def reference(row: dict, action: str, *, write_back: bool = False) -> dict:
    """What a flow keeps about the customer it settled on."""
    return {
        "action": action,
        "division": row["ARDivisionNo"],
        "customer_no": row["CustomerNo"],
        "display": keys.display(row["ARDivisionNo"], row["CustomerNo"]),
        "write_back": write_back,
    }


def match(
    reader,
    wanted: Wanted,
    *,
    thresholds: dict | None = None,
    how_to_fix: str = "",
    field: str = "customer",
) -> dict | None:
    """The one Sage customer this is; None when there is none; DuplicateAmbiguous
    when several could be (a person decides, helped by ``how_to_fix``)."""
    thresholds = thresholds or {}
    said = verdicts(
        "customer",
        wanted.source_connection_id,
        wanted.target_connection_id,
        wanted.source_id,
    )
    same = [key for key, verdict in said.items() if verdict == "same"]
    if same:  # a person said which customer this is
        division, number = keys.customer_ref(same[0])
        found = reader.customer(division or "", number)
        if found is not None:
            return reference(found, "matched", write_back=True)
    facts = wanted.facts()
    candidates = [
        c
        for c in customer_matching.sage_candidates(reader, facts)
        if said.get(c.key) != "different"  # a person kept them apart
    ]
    result = customer_matching.match_customer(
        facts,
        candidates,
        strong=float(thresholds.get("strong", 0.9)),
        weak=float(thresholds.get("weak", 0.6)),
    )
    if result.decision == "bind":
        division, number = keys.customer_ref(result.best.key)
        found = reader.customer(division or "", number)
        ref = reference(found, "matched", write_back=True)
        ref["match"] = {"score": result.best.score, "reasons": result.best.reasons}
        return ref
    if result.decision == "ambiguous":
        listed = "; ".join(
            f"{c.key} ({c.score:.0%}: {', '.join(c.reasons)})"
            for c in result.candidates
        )
        raise DuplicateAmbiguous(
            f"{wanted.label or wanted.name} looks like several Sage 100 customers: "
            f"{listed}. "
            + (
                how_to_fix
                or "Say which one it is (or that it is none of them) under Match "
                "decisions, or add a customer cross-reference, then resubmit."
            ),
            candidates=[c.key for c in result.candidates],
            field=field,
        )
    return None


def create_once(
    lock_name: str,
    *,
    look_again: Callable[[], dict | None],
    create: Callable[[], dict],
) -> dict:
    """One customer creation at a time per Sage company; under the lock, look
    again (another worker may have just created this very customer)."""
    from integrations.engine.dispatch import queue

    lock = queue().connection.lock(
        f"ledgerbridge:lock:sage100-customer-create:{lock_name}",
        timeout=120,
        blocking_timeout=60,
    )
    if not lock.acquire():
        raise Unavailable(
            "Another worker has been creating a Sage 100 customer for a minute; "
            "trying again shortly.",
            retry_after=30,
        )
    try:
        return look_again() or create()
    finally:
        lock.release()


def new_customer(
    reader,
    agent,
    wanted: Wanted,
    *,
    rule: dict,
    division: str,
    idempotency_key: str,
    defaults: dict | None = None,
    extra: dict | None = None,
    reference_column: str = "",
) -> dict:
    """Create the customer with the next free number by ``rule``."""
    division = keys.division(division, "options.division")
    number = customer_matching.next_customer_no(reader, rule, name=wanted.name)
    values = {
        "ARDivisionNo": division,
        "CustomerNo": number,
        "CustomerName": wanted.name[:30],
        **{k: v for k, v in wanted.address.items() if v},
        **(defaults or {}),
        **(extra or {}),
    }
    if wanted.phone:
        values["TelephoneNo"] = wanted.phone[:17]
    if wanted.email:
        values["EmailAddress"] = wanted.email[:250]
    ref = None
    if reference_column:
        values[reference_column] = wanted.source_id
        ref = {"column": reference_column, "value": wanted.source_id}
    result = agent.create_customer(
        values, idempotency_key=idempotency_key, reference=ref
    )
    return reference(result["record"], "created", write_back=True)
