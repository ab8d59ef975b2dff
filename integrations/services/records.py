"""What people do to records: resubmit, ignore, correct the payload.

Each action is a compare-and-set on status and leaves an audit entry naming
who did it and why.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from integrations.engine import dispatch
from integrations.models import RecordStatus, SyncRecord

RESUBMITTABLE = (
    RecordStatus.NEEDS_ATTENTION,
    RecordStatus.RETRY_SCHEDULED,
    RecordStatus.IGNORED,
)
IGNORABLE = (
    RecordStatus.PENDING,
    RecordStatus.NEEDS_ATTENTION,
    RecordStatus.RETRY_SCHEDULED,
)


class ActionRefused(Exception):
    """The record is not in a state that allows the action; says why."""


def _audit(record: SyncRecord, *, actor, reason: str) -> None:
    record.refresh_from_db()
    SyncRecord.history.bulk_history_create(
        [record], update=True, default_user=actor, default_change_reason=reason
    )


def resubmit(record: SyncRecord, *, actor: AbstractBaseUser | None) -> SyncRecord:
    """Run the record again now. Flows load idempotently, so no duplicate results."""
    now = timezone.now()
    with transaction.atomic():
        won = SyncRecord.objects.filter(
            pk=record.pk, status__in=RESUBMITTABLE, attempts=record.attempts
        ).update(
            status=RecordStatus.PENDING,
            next_attempt_at=None,
            finished_at=None,
            ignored_reason="",
            updated_at=now,
        )
        if won != 1:
            record.refresh_from_db()
            raise ActionRefused(
                f"This record is {record.get_status_display().lower()} and cannot be "
                "resubmitted now."
            )
        _audit(record, actor=actor, reason="Resubmitted")
        dispatch.enqueue_on_commit([(record.pk, record.attempts + 1)])
    return record


def rerun_on_new_event(record: SyncRecord) -> bool:
    """A new event for a record that needs attention: the source changed (a rep
    added the missing product line and saved again), so run it again.

    Only for flows that read the source afresh; a record a person ignored, or
    one already waiting for a retry, is left as it is.
    """
    with transaction.atomic():
        won = SyncRecord.objects.filter(
            pk=record.pk,
            status=RecordStatus.NEEDS_ATTENTION,
            attempts=record.attempts,
        ).update(
            status=RecordStatus.PENDING,
            next_attempt_at=None,
            finished_at=None,
            updated_at=timezone.now(),
        )
        if won != 1:
            return False
        _audit(record, actor=None, reason="Run again: the source sent a new event")
        dispatch.enqueue_on_commit([(record.pk, record.attempts + 1)])
    return True


def ignore(
    record: SyncRecord, *, actor: AbstractBaseUser | None, reason: str
) -> SyncRecord:
    if not reason.strip():
        raise ValidationError({"reason": "Say why the record is ignored."})
    with transaction.atomic():
        won = SyncRecord.objects.filter(
            pk=record.pk, status__in=IGNORABLE, attempts=record.attempts
        ).update(
            status=RecordStatus.IGNORED,
            ignored_reason=reason.strip()[:500],
            next_attempt_at=None,
            finished_at=timezone.now(),
            updated_at=timezone.now(),
        )
        if won != 1:
            record.refresh_from_db()
            raise ActionRefused(
                f"This record is {record.get_status_display().lower()} and cannot be "
                "ignored."
            )
        _audit(record, actor=actor, reason=f"Ignored: {reason.strip()}")
    return record


def override_payload(
    record: SyncRecord, *, actor: AbstractBaseUser | None, payload: dict | None
) -> SyncRecord:
    """Store staff corrections beside the untouched original payload."""
    if payload is not None and not isinstance(payload, dict):
        raise ValidationError({"payload_override": "Must be a JSON object."})
    with transaction.atomic():
        won = (
            SyncRecord.objects.filter(pk=record.pk)
            .exclude(status__in=[RecordStatus.RUNNING, RecordStatus.SUCCEEDED])
            .update(payload_override=payload, updated_at=timezone.now())
        )
        if won != 1:
            raise ActionRefused("A running or finished record's payload cannot change.")
        _audit(record, actor=actor, reason="Payload corrected")
    return record
