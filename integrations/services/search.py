"""Find records by whatever id a person knows.

Finance staff know an opportunity id, a Shopify order name (#1001), a Xero
invoice number, a Sage sales order number or a customer's name, never our
record id. The runner keeps ``SyncRecord.search_text`` (every such id and name,
lower-case); the source id and the target ids are searched as well so records
from before that field existed are found too.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet, TextField
from django.db.models.functions import Cast

from integrations.models import SyncRecord


def search(queryset: QuerySet[SyncRecord], term: str) -> QuerySet[SyncRecord]:
    """Records matching every word of ``term`` in any of their ids or names.

    ``target_ids`` is JSON; casting it to text lets ``icontains`` match any id
    inside it on both SQLite and PostgreSQL. ``#42`` or ``42`` also finds
    record 42 itself.
    """
    words = term.split()
    if not words:
        return queryset
    queryset = queryset.annotate(_target_ids_text=Cast("target_ids", TextField()))
    whole = term.strip()
    matches = _matches(whole)
    if len(words) > 1:
        every_word = Q()
        for word in words:
            every_word &= _matches(word)
        matches |= every_word
    number = whole.lstrip("#")
    if number.isdigit() and len(number) < 10:
        matches |= Q(pk=int(number))
    return queryset.filter(matches)


def _matches(text: str) -> Q:
    return (
        Q(search_text__contains=text.lower())
        | Q(source_id__icontains=text)
        | Q(idempotency_key__icontains=text)
        | Q(_target_ids_text__icontains=text)
    )
