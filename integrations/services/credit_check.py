"""The real-time credit check: may this customer buy this much now?

Sage 100 is read live on every call; only the connector client (its column
catalogue and throttle) is reused between calls. The API view is a thin caller.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q

from integrations.connectors.sage100 import keys
from integrations.connectors.sage100.reader import CreditPosition, Sage100Reader
from integrations.engine import clients
from integrations.engine.errors import DuplicateAmbiguous, ValidationFailed
from integrations.models import Connection, CrossReference, XrefKind


@dataclass(frozen=True)
class CreditAnswer:
    position: CreditPosition
    decision: Decision
    matched_by: str  # cross_reference, udf or customer_no


def check_credit(
    connection: Connection, customer: str, amount: Decimal, *, division: str = ""
) -> CreditAnswer:
    """Find the customer in Sage 100, read its credit position, decide.

    Raises CustomerNotFound, DuplicateAmbiguous, or the connector's SyncError
    when Sage 100 cannot be read.
    """
    reader = _client(connection).reader
    row, matched_by = resolve_customer(connection, reader, customer, division)
    position = CreditPosition.from_row(row)
    return CreditAnswer(position, decide(position, amount), matched_by)


@dataclass(frozen=True)
class Decision:
    approved: bool
    reason: str


def decide(position: CreditPosition, amount: Decimal) -> Decision:
    """Approved = active, not on hold, and amount <= available credit (no limit:
    any amount). Sage refuses orders for inactive customers, so do we."""
    who = f"Customer {position.customer}"
    if position.status == "I":
        return Decision(False, f"Declined: {who} is inactive in Sage 100.")
    if position.on_hold:
        return Decision(False, f"Declined: {who} is on credit hold in Sage 100.")
    if position.available_credit is None:
        return Decision(
            True, f"Approved: {who} has no credit limit in Sage 100 (the limit is 0)."
        )
    available = f"{position.available_credit:,.2f}"
    if amount <= position.available_credit:
        return Decision(
            True,
            f"Approved: {amount:,.2f} fits {who}'s available credit of {available}.",
        )
    return Decision(
        False,
        f"Declined: {amount:,.2f} is more than {who}'s available credit of "
        f"{available} (limit {position.credit_limit:,.2f}, balance "
        f"{position.current_balance:,.2f}, open orders "
        f"{position.open_order_amt:,.2f}).",
    )


class CustomerNotFound(Exception):
    pass


def mapped_customers(connection: Connection, value: str) -> set[str]:
    """Sage customers this value is cross-referenced to, in either direction."""
    rows = CrossReference.objects.filter(
        Q(target_connection=connection, source_value=value)
        | Q(source_connection=connection, target_value=value),
        kind=XrefKind.CUSTOMER,
    ).values_list("target_connection_id", "source_value", "target_value")
    return {
        target if target_id == connection.pk and source == value else source
        for target_id, source, target in rows
    }


def resolve_customer(
    connection: Connection, reader: Sage100Reader, value: str, division: str
) -> tuple[dict, str]:
    """Cross-reference, then the connection's id UDF, then the customer number."""
    mapped = mapped_customers(connection, value)
    if len(mapped) > 1:
        raise DuplicateAmbiguous(
            f"{value!r} is cross-referenced to several Sage 100 customers: "
            f"{', '.join(sorted(mapped))}.",
            candidates=sorted(mapped),
            field="customer",
        )
    if mapped:
        sage_ref = mapped.pop()
        try:
            own_division = keys.customer_ref(sage_ref)[0] is not None
        except ValidationFailed as exc:
            raise CustomerNotFound(
                f"{value!r} is cross-referenced to {sage_ref!r}, which cannot be a "
                f"Sage 100 customer: {exc.message}"
            ) from None
        row = reader.find_customer(sage_ref, None if own_division else division or None)
        if row is None:
            raise CustomerNotFound(
                f"{value!r} is cross-referenced to Sage 100 customer {sage_ref}, "
                "which Sage 100 does not have."
            )
        return row, "cross_reference"
    udf = reader.settings.customer_id_udf
    if udf:
        row = reader.customer_by_udf(udf, value)
        if row is not None:
            return row, "udf"
    try:
        keys.customer_ref(value)
    except ValidationFailed as exc:
        raise CustomerNotFound(
            f"No Sage 100 customer matches {value!r}: it is not mapped, and "
            f"{exc.message[0].lower()}{exc.message[1:]}"
        ) from None
    row = reader.find_customer(value, division or None)
    if row is None:
        where = f" in division {division}" if division else ""
        raise CustomerNotFound(
            f"No Sage 100 customer matches {value!r}{where} (by cross-reference"
            f"{', ' + udf if udf else ''} or customer number)."
        )
    return row, "customer_no"


# One client per connection and process: its column cache and throttle are
# reused; a saved change to the connection (new updated_at) builds a new one.
_clients: dict[tuple, object] = {}
_clients_lock = threading.Lock()


def _client(connection: Connection):
    key = (
        connection.pk,
        connection.updated_at,
        json.dumps(connection.settings, sort_keys=True, default=str),
    )
    with _clients_lock:
        client = _clients.get(key)
    if client is None:
        client = clients.build(connection)
        with _clients_lock:
            if len(_clients) > 64:
                _clients.clear()
            _clients[key] = client
    return client
