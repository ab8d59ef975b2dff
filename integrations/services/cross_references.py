"""Cross-references between any two connections, not only a flow's own pair.

A flow that writes to a third system (order-to-cash writes Shopify's orders to
Sage 100 *and* Xero) keeps one table per pair of connections: Shopify customer
→ Xero contact, Shopify customer → Sage customer, Sage GL account → Xero
account code. ``Run.xref``/``Run.bind`` cover the flow's source → target
pair; these cover the rest. ``link`` writes at once (not with the record's
success) because the write it remembers has already happened: a retry must
find it even if the record later fails.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction

from integrations.models import CrossReference


def lookup(kind: str, source_id: int, target_id: int, value: str) -> str | None:
    """The target value for ``value`` in this pair's table, or None."""
    if not value:
        return None
    return (
        CrossReference.objects.filter(
            kind=kind,
            source_connection_id=source_id,
            target_connection_id=target_id,
            source_value=value,
        )
        .values_list("target_value", flat=True)
        .first()
    )


def either_way(kind: str, one_id: int, other_id: int, value: str) -> str | None:
    """``value`` looked up one → other, else other → one read backwards (an
    admin may have entered the table from either side)."""
    found = lookup(kind, one_id, other_id, value)
    if found or not value:
        return found
    return (
        CrossReference.objects.filter(
            kind=kind,
            source_connection_id=other_id,
            target_connection_id=one_id,
            target_value=value,
        )
        .order_by("id")
        .values_list("source_value", flat=True)
        .first()
    )


def link(
    kind: str, source_id: int, target_id: int, value: str, target_value: str, *,
    note: str = "",
) -> None:  # fmt: skip
    """Remember that ``value`` is ``target_value`` (replacing an older answer)."""
    if not value or not target_value:
        return
    try:
        with transaction.atomic():
            CrossReference.objects.update_or_create(
                kind=kind,
                source_connection_id=source_id,
                target_connection_id=target_id,
                source_value=str(value)[:255],
                defaults={"target_value": str(target_value)[:255], "note": note[:255]},
            )
    except IntegrityError:  # a concurrent worker linked it first: theirs stands
        pass


def many(kind: str, source_id: int, target_id: int, values) -> dict[str, str]:
    """Several lookups in one query: ``{source value: target value}``."""
    wanted = [v for v in set(values) if v]
    if not wanted:
        return {}
    return dict(
        CrossReference.objects.filter(
            kind=kind,
            source_connection_id=source_id,
            target_connection_id=target_id,
            source_value__in=wanted,
        ).values_list("source_value", "target_value")
    )
