"""Find records whose wake-up signal was lost and wake them again.

Redis may be flushed and workers may be killed at any moment; every record is
still in the database, and this is what brings it back. Runs on a schedule.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from integrations.engine import dispatch, retry
from integrations.models import (
    AttemptOutcome,
    ConnectionStatus,
    ErrorCategory,
    RecordStatus,
    SyncAttempt,
    SyncRecord,
)

logger = logging.getLogger(__name__)
BATCH = 2000


@dataclass
class SweepReport:
    leases_expired: int = 0
    gave_up: int = 0
    retries_enqueued: int = 0
    pending_enqueued: int = 0


def _runnable() -> Q:
    """Records whose flow is on and whose connections are usable."""
    inactive = ~Q(flow_config__source_connection__status=ConnectionStatus.ACTIVE) | (
        Q(flow_config__target_connection__isnull=False)
        & ~Q(flow_config__target_connection__status=ConnectionStatus.ACTIVE)
    )
    return Q(flow_config__enabled=True) & ~inactive


def sweep(
    *, now: datetime | None = None, grace_seconds: int | None = None
) -> SweepReport:
    now = now or timezone.now()
    grace = (
        settings.LEDGERBRIDGE["SWEEP_GRACE_SECONDS"]
        if grace_seconds is None
        else grace_seconds
    )
    report = SweepReport()
    _recover_expired_leases(now, report)

    due = SyncRecord.objects.filter(
        _runnable(), status=RecordStatus.RETRY_SCHEDULED, next_attempt_at__lte=now
    ).values_list("pk", "attempts")[:BATCH]
    for pk, attempts in due:
        report.retries_enqueued += dispatch.requeue_if_lost(pk, attempts + 1)

    stale = SyncRecord.objects.filter(
        _runnable(),
        status=RecordStatus.PENDING,
        updated_at__lte=now - timedelta(seconds=grace),
    ).values_list("pk", "attempts")[:BATCH]
    for pk, attempts in stale:
        report.pending_enqueued += dispatch.requeue_if_lost(pk, attempts + 1)
    if any(vars(report).values()):
        logger.info("sweep: %s", report)
    return report


def _recover_expired_leases(now: datetime, report: SweepReport) -> None:
    expired = SyncRecord.objects.filter(
        status=RecordStatus.RUNNING, lease_expires_at__lt=now
    ).values_list("pk", "attempts", "flow_config__max_attempts")[:BATCH]
    for pk, attempts, max_attempts in expired:
        gave_up = retry.attempts_exhausted(attempts, max_attempts=max_attempts)
        message = (
            "The worker stopped (crash, restart or kill) while processing this "
            "record; the sweeper took it back after its lease expired."
        )
        with transaction.atomic():
            changes = {"lease_expires_at": None, "claimed_by": "", "updated_at": now}
            if gave_up:
                changes.update(
                    status=RecordStatus.NEEDS_ATTENTION,
                    error_category=ErrorCategory.UNAVAILABLE,
                    error_field="",
                    error_message=f"Gave up after {attempts} attempts: the worker "
                    "stopped every time while processing this record.",
                    finished_at=now,
                )
            else:
                changes.update(status=RecordStatus.PENDING)
            won = SyncRecord.objects.filter(
                pk=pk, status=RecordStatus.RUNNING, attempts=attempts,
                lease_expires_at__lt=now,
            ).update(**changes)  # fmt: skip
            if not won:
                continue
            SyncAttempt.objects.filter(
                record_id=pk, number=attempts, outcome=AttemptOutcome.RUNNING
            ).update(
                outcome=AttemptOutcome.LOST,
                finished_at=now,
                error_category=ErrorCategory.UNAVAILABLE,
                error_message=message,
            )
            if gave_up:
                from integrations.services import alerts

                report.gave_up += 1
                alerts.record_needs_attention(pk)
            else:
                report.leases_expired += 1
                dispatch.enqueue_on_commit([(pk, attempts + 1)])
