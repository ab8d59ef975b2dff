"""Reads behind the records API, kept out of the views so they stay thin.

A key bound to one connection sees only the records of flows that touch that
connection: a partner's key must not read another partner's orders.
"""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet

from integrations.models import ConnectionAPIKey, SyncAttempt, SyncRecord


def _touches(prefix: str, value) -> Q:
    return Q(**{f"flow_config__source_connection__{prefix}": value}) | Q(
        **{f"flow_config__target_connection__{prefix}": value}
    )


def visible_records(api_key: ConnectionAPIKey | None) -> QuerySet[SyncRecord]:
    """Records the caller may see, newest first (id breaks ties for paging)."""
    records = SyncRecord.objects.select_related(
        "flow_config__source_connection", "flow_config__target_connection"
    ).order_by("-created_at", "-pk")
    if api_key is not None and api_key.connection_id is not None:
        records = records.filter(_touches("id", api_key.connection_id))
    return records


def with_timeline(records: QuerySet[SyncRecord]) -> QuerySet[SyncRecord]:
    return records.prefetch_related(
        Prefetch("attempt_set", queryset=SyncAttempt.objects.order_by("number"))
    )


def filter_records(records: QuerySet[SyncRecord], filters: dict) -> QuerySet:
    """Apply validated ``RecordFilterSerializer`` data."""
    exact = {
        name: filters[name]
        for name in ("status", "flow", "source_id", "error_category")
        if name in filters
    }
    records = records.filter(**exact)
    if "connection" in filters:
        records = records.filter(_touches("slug", filters["connection"]))
    if "created_after" in filters:
        records = records.filter(created_at__gte=filters["created_after"])
    if "created_before" in filters:
        records = records.filter(created_at__lt=filters["created_before"])
    return records
