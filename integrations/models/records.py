"""The record path: inbox event → sync record → attempts."""

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from integrations.models.connections import System


class ErrorCategory(models.TextChoices):
    VALIDATION = "validation", "Validation"
    REFERENTIAL = "referential", "Missing reference"
    DUPLICATE = "duplicate", "Possible duplicate"
    RATE_LIMITED = "rate_limited", "Rate limited"
    UNAVAILABLE = "unavailable", "System unavailable"
    AUTH = "auth", "Authorisation"
    CONFLICT = "conflict", "Conflict"


class RecordStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    RETRY_SCHEDULED = "retry_scheduled", "Retry scheduled"
    NEEDS_ATTENTION = "needs_attention", "Needs attention"
    IGNORED = "ignored", "Ignored"


class AttemptOutcome(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    SKIPPED = "skipped", "Skipped (already up to date)"
    RETRY_SCHEDULED = "retry_scheduled", "Failed, will retry"
    NEEDS_ATTENTION = "needs_attention", "Failed, needs attention"
    LOST = "lost", "Lost (worker stopped; lease expired)"


class InboundEvent(models.Model):
    """The raw body and headers of everything a provider sent us, as received.

    Stored before any parsing so nothing is lost; never edited afterwards.
    """

    connection = models.ForeignKey(
        "integrations.Connection", on_delete=models.PROTECT, related_name="events"
    )
    provider = models.CharField(max_length=20, choices=System.choices)
    topic = models.CharField(max_length=200, blank=True)
    # NULL, not "", for "the provider sends no id": the partial unique
    # constraints below tell the two cases apart.
    provider_event_id = models.CharField(  # noqa: DJ001
        max_length=255, null=True, blank=True
    )
    body_sha256 = models.CharField(max_length=64)
    body = models.BinaryField()
    headers = models.JSONField(default=dict)
    signature_verified = models.BooleanField(default=False)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    deliveries = models.PositiveIntegerField(
        default=1, help_text="How many times the provider delivered this event."
    )
    error = models.TextField(
        blank=True, help_text="Why no record was made from it, in plain words."
    )

    class Meta:
        ordering = ["-received_at"]
        verbose_name = "inbound event"
        constraints = [
            # Providers deliver at least once; the second copy must find the first.
            models.UniqueConstraint(
                fields=["connection", "provider_event_id"],
                condition=models.Q(provider_event_id__isnull=False),
                name="inboundevent_unique_provider_event_id",
            ),
            # Providers without event ids (Xero) are de-duplicated on the body.
            models.UniqueConstraint(
                fields=["connection", "body_sha256"],
                condition=models.Q(provider_event_id__isnull=True),
                name="inboundevent_unique_body_without_event_id",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_provider_display()} {self.topic or 'event'} #{self.pk}"


class SyncRecord(models.Model):
    """One source object that must reach its target exactly once.

    Only ``engine.runner`` and services change ``status``, always by
    compare-and-set, so two workers can never both own a record.
    """

    flow_config = models.ForeignKey(
        "integrations.FlowConfig", on_delete=models.PROTECT, related_name="records"
    )
    flow = models.CharField(max_length=80, db_index=True)
    event = models.ForeignKey(
        InboundEvent,
        on_delete=models.PROTECT,
        related_name="records",
        null=True,
        blank=True,
    )
    source_system = models.CharField(max_length=20, choices=System.choices)
    source_object_type = models.CharField(max_length=80)
    source_id = models.CharField(max_length=255)
    source_version = models.CharField(max_length=255, blank=True)
    idempotency_key = models.CharField(max_length=255)

    status = models.CharField(
        max_length=20, choices=RecordStatus.choices, default=RecordStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=200, blank=True)

    error_category = models.CharField(
        max_length=20, choices=ErrorCategory.choices, blank=True
    )
    error_field = models.CharField(max_length=200, blank=True)
    error_message = models.TextField(blank=True)

    payload = models.JSONField(default=dict, help_text="As received; never edited.")
    payload_override = models.JSONField(
        null=True, blank=True, help_text="Staff corrections; used instead of payload."
    )
    step_state = models.JSONField(
        default=dict, blank=True, help_text="Results of steps already done."
    )
    target_ids = models.JSONField(default=dict, blank=True)
    ignored_reason = models.CharField(max_length=500, blank=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_records",
        help_text="Who is looking after it.",
    )
    transformed = models.JSONField(
        null=True,
        blank=True,
        help_text="The latest attempt's document after the mappings (what would "
        "be written), for the record page.",
    )
    search_text = models.TextField(
        blank=True,
        help_text="Every id and name a person may search by (source and target "
        "ids, document numbers, customer name), lower-case.",
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords(
        excluded_fields=["step_state", "lease_expires_at", "transformed", "search_text"]
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "sync record"
        constraints = [
            models.UniqueConstraint(
                fields=["idempotency_key"], name="syncrecord_unique_idempotency_key"
            ),
            models.CheckConstraint(
                condition=~models.Q(status="retry_scheduled")
                | models.Q(next_attempt_at__isnull=False),
                name="syncrecord_retry_has_next_attempt_at",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="running")
                | models.Q(lease_expires_at__isnull=False),
                name="syncrecord_running_has_lease",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="needs_attention")
                | ~models.Q(error_category=""),
                name="syncrecord_needs_attention_has_category",
            ),
        ]
        indexes = [
            # The sweeper: retries that are due.
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="retry_scheduled"),
                name="syncrecord_due_retry_idx",
            ),
            # The sweeper: running records whose worker may have died.
            models.Index(
                fields=["lease_expires_at"],
                condition=models.Q(status="running"),
                name="syncrecord_lease_idx",
            ),
            # The sweeper and health: pending records by age.
            models.Index(
                fields=["updated_at"],
                condition=models.Q(status="pending"),
                name="syncrecord_pending_age_idx",
            ),
            # Admin list and dashboard: status by flow, newest first.
            models.Index(
                fields=["flow", "status", "-created_at"],
                name="syncrecord_flow_status_idx",
            ),
            # Search by the id a person knows from the source system.
            models.Index(fields=["source_id"], name="syncrecord_source_id_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.flow} {self.source_object_type} {self.source_id}"

    @property
    def effective_payload(self) -> dict:
        return (
            self.payload_override if self.payload_override is not None else self.payload
        )


class SyncAttempt(models.Model):
    """One run of a record's flow: the timeline an auditor replays."""

    record = models.ForeignKey(
        SyncRecord, on_delete=models.CASCADE, related_name="attempt_set"
    )
    number = models.PositiveIntegerField()
    worker = models.CharField(max_length=200, blank=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(
        max_length=20, choices=AttemptOutcome.choices, default=AttemptOutcome.RUNNING
    )
    steps_run = models.JSONField(default=list, blank=True)
    error_category = models.CharField(
        max_length=20, choices=ErrorCategory.choices, blank=True
    )
    error_field = models.CharField(max_length=200, blank=True)
    error_message = models.TextField(blank=True)
    error_detail = models.TextField(blank=True, help_text="Technical detail.")
    api_calls = models.JSONField(default=list, blank=True)
    target_ids = models.JSONField(default=dict, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["record", "number"]
        verbose_name = "sync attempt"
        constraints = [
            models.UniqueConstraint(
                fields=["record", "number"], name="syncattempt_unique_number"
            ),
        ]

    def __str__(self) -> str:
        return f"Attempt {self.number} of record {self.record_id}: {self.outcome}"
