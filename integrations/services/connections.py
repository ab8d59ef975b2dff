"""Connection state changes: re-authorisation needed, and restored."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from integrations.engine import dispatch
from integrations.models import Connection, ConnectionStatus, RecordStatus, SyncRecord


def mark_needs_reauth(connection: Connection, *, reason: str) -> None:
    Connection.objects.filter(pk=connection.pk).update(
        status=ConnectionStatus.NEEDS_REAUTH,
        status_message=reason[:500],
        updated_at=timezone.now(),
    )


def reauthorised(connection: Connection, *, credentials: dict | None = None) -> int:
    """Back to active; records that waited for it are due now. Returns how many."""
    with transaction.atomic():
        if credentials is not None:
            connection.credentials = credentials
        connection.status = ConnectionStatus.ACTIVE
        connection.status_message = ""
        connection.save()
        waiting = SyncRecord.objects.filter(
            status=RecordStatus.RETRY_SCHEDULED,
            flow_config__source_connection=connection,
        ) | SyncRecord.objects.filter(
            status=RecordStatus.RETRY_SCHEDULED,
            flow_config__target_connection=connection,
        )
        pairs = list(waiting.values_list("pk", "attempts"))
        SyncRecord.objects.filter(pk__in=[pk for pk, _ in pairs]).update(
            next_attempt_at=timezone.now()
        )
        dispatch.enqueue_on_commit((pk, attempts + 1) for pk, attempts in pairs)
    return len(pairs)
