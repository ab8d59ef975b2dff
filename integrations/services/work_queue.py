"""The finance staff's work queue: records a person must look at, by cause.

A record belongs here when it needs attention, or when the engine is still
retrying it but a person should know: a connection that must be signed in
again, or a system that has not answered after several tries.
"""

from __future__ import annotations

from django.db.models import (
    Case,
    CharField,
    Count,
    F,
    IntegerField,
    Q,
    QuerySet,
    Value,
    When,
)

from integrations.models import ErrorCategory, RecordStatus, SyncRecord

# Automatic retries after which "still unavailable" becomes a person's business.
UNAVAILABLE_TOO_LONG_ATTEMPTS = 3


class Cause:
    """Why a record waits for a person, in the order the queue shows them."""

    VALIDATION = "validation"
    REFERENTIAL = "referential"
    DUPLICATE = "duplicate"
    AUTH = "auth"
    UNAVAILABLE = "unavailable"
    CONFLICT = "conflict"

    LABELS = {
        VALIDATION: "Wrong or missing data",
        REFERENTIAL: "Missing in the other system",
        DUPLICATE: "Possible duplicate",
        AUTH: "Connection must be signed in again",
        UNAVAILABLE: "System unavailable for too long",
        CONFLICT: "Changed on both sides",
    }
    ORDER = list(LABELS)

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return list(cls.LABELS.items())


def _cause_expression() -> Case:
    retryable = [ErrorCategory.UNAVAILABLE, ErrorCategory.RATE_LIMITED]
    return Case(
        When(error_category=ErrorCategory.AUTH, then=Value(Cause.AUTH)),
        When(error_category__in=retryable, then=Value(Cause.UNAVAILABLE)),
        When(status=RecordStatus.RETRY_SCHEDULED, then=Value(Cause.UNAVAILABLE)),
        default=F("error_category"),
        output_field=CharField(),
    )


def waiting_for_people() -> QuerySet[SyncRecord]:
    """Queue records by cause, oldest first, each annotated with its ``cause``."""
    waits_too_long = Q(status=RecordStatus.RETRY_SCHEDULED) & (
        Q(attempts__gte=UNAVAILABLE_TOO_LONG_ATTEMPTS)
        | Q(error_category=ErrorCategory.AUTH)
    )
    return (
        SyncRecord.objects.filter(
            Q(status=RecordStatus.NEEDS_ATTENTION) | waits_too_long
        )
        .annotate(cause=_cause_expression())
        .select_related(
            "flow_config__source_connection",
            "flow_config__target_connection",
            "assigned_to",
        )
        .annotate(
            cause_rank=Case(
                *(
                    When(cause=cause, then=Value(rank))
                    for rank, cause in enumerate(Cause.ORDER)
                ),
                default=Value(len(Cause.ORDER)),
                output_field=IntegerField(),
            )
        )
        .order_by("cause_rank", "created_at", "pk")
    )


def cause_of(record: SyncRecord) -> str:
    """The same grouping as the queue's, for one record already in memory."""
    cause = getattr(record, "cause", None)
    if cause:
        return cause
    if record.error_category == ErrorCategory.AUTH:
        return Cause.AUTH
    if record.error_category in (ErrorCategory.UNAVAILABLE, ErrorCategory.RATE_LIMITED):
        return Cause.UNAVAILABLE
    if record.status == RecordStatus.RETRY_SCHEDULED:
        return Cause.UNAVAILABLE
    return record.error_category


def cause_counts(queryset: QuerySet[SyncRecord]) -> list[tuple[str, str, int]]:
    """``(cause, label, count)`` for every cause, in queue order, zero included."""
    rows = dict(
        queryset.order_by()
        .values_list("cause")
        .annotate(n=Count("pk"))
        .values_list("cause", "n")
    )
    return [(cause, Cause.LABELS[cause], rows.get(cause, 0)) for cause in Cause.ORDER]
