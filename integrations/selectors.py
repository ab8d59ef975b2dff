"""Reads for the admin dashboard, record lists and the API.

Plain functions over querysets, so the admin and templates only format what
these return and never build queries of their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q, QuerySet, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from integrations.models import RecordStatus, SyncRecord


def status_counts() -> dict[str, int]:
    """How many records are in each status; every status is present, zero or not."""
    counts = dict.fromkeys(RecordStatus.values, 0)
    rows = SyncRecord.objects.order_by().values_list("status").annotate(n=Count("pk"))
    counts.update(rows)
    return counts


def flow_status_counts() -> dict[str, dict[str, int]]:
    """Records per flow and status: ``{flow: {status: count}}``, flows sorted."""
    table: dict[str, dict[str, int]] = {}
    rows = (
        SyncRecord.objects.order_by()
        .values_list("flow", "status")
        .annotate(n=Count("pk"))
    )
    for flow, status, n in rows:
        table.setdefault(flow, dict.fromkeys(RecordStatus.values, 0))[status] = n
    return dict(sorted(table.items()))


def oldest_needing_attention() -> SyncRecord | None:
    """The record that has waited longest for a person.

    Its age counts from when it arrived, not from its last failure: that is how
    long the business has been waiting for this order or invoice to land.
    """
    return (
        SyncRecord.objects.filter(status=RecordStatus.NEEDS_ATTENTION)
        .order_by("created_at", "pk")
        .first()
    )


@dataclass(frozen=True)
class RetrySummary:
    scheduled: int
    overdue: int
    next_at: datetime | None


def retries_in_progress(*, now: datetime | None = None) -> RetrySummary:
    """Records waiting for an automatic retry; overdue ones point at a stuck sweeper."""
    now = now or timezone.now()
    waiting = SyncRecord.objects.filter(status=RecordStatus.RETRY_SCHEDULED)
    totals = waiting.aggregate(
        scheduled=Count("pk"), overdue=Count("pk", filter=Q(next_attempt_at__lt=now))
    )
    next_at = (
        waiting.filter(next_attempt_at__gte=now)
        .order_by("next_attempt_at")
        .values_list("next_attempt_at", flat=True)
        .first()
    )
    return RetrySummary(totals["scheduled"], totals["overdue"], next_at)


def search_records(queryset: QuerySet[SyncRecord], term: str) -> QuerySet[SyncRecord]:
    """Records whose source id, idempotency key or any target id contains ``term``.

    ``target_ids`` is JSON; casting it to text lets one ``icontains`` match any
    id in it on both SQLite and PostgreSQL.
    """
    term = term.strip()
    if not term:
        return queryset
    return queryset.annotate(target_ids_text=Cast("target_ids", TextField())).filter(
        Q(source_id__icontains=term)
        | Q(idempotency_key__icontains=term)
        | Q(target_ids_text__icontains=term)
    )
