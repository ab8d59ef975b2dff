from django.core.exceptions import ValidationError
from django.db import models
from simple_history.models import HistoricalRecords


class Trigger(models.TextChoices):
    WEBHOOK = "webhook", "Events (webhooks and change feeds)"
    POLL = "poll", "Poll (we ask the source for changes)"
    SCHEDULE = "schedule", "Schedule"
    MANUAL = "manual", "Manual only"


class FlowConfig(models.Model):
    """An admin's decision to run one registered flow between two connections."""

    name = models.CharField(max_length=100)
    flow = models.CharField(max_length=80, help_text="Registered flow name.")
    source_connection = models.ForeignKey(
        "integrations.Connection", on_delete=models.PROTECT, related_name="+"
    )
    target_connection = models.ForeignKey(
        "integrations.Connection",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    enabled = models.BooleanField(default=True)
    trigger = models.CharField(
        max_length=20, choices=Trigger.choices, default=Trigger.WEBHOOK
    )
    schedule = models.CharField(
        max_length=100,
        blank=True,
        help_text="Cron expression (minute hour day month weekday) for poll/schedule.",
    )
    options = models.JSONField(default=dict, blank=True)
    max_attempts = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Empty: the site default."
    )
    watermark = models.CharField(
        max_length=200, blank=True, help_text="Where the last poll stopped."
    )
    next_run_at = models.DateTimeField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name = "flow"
        constraints = [
            models.UniqueConstraint(
                fields=["flow", "source_connection", "target_connection"],
                name="flowconfig_unique_flow_per_connection_pair",
            ),
            models.CheckConstraint(
                condition=~models.Q(trigger__in=["poll", "schedule"])
                | ~models.Q(schedule=""),
                name="flowconfig_scheduled_trigger_has_schedule",
            ),
        ]
        indexes = [
            # The scheduler's question every tick: which enabled flows are due?
            models.Index(
                fields=["next_run_at"],
                condition=models.Q(enabled=True),
                name="flowconfig_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from integrations.flows import registry

        if self.flow and self.flow not in registry.names():
            raise ValidationError(
                {"flow": f"No flow named {self.flow!r} is installed."}
            )
        topics = (self.options or {}).get("topics")
        if topics is not None and not (
            isinstance(topics, list) and all(isinstance(t, str) for t in topics)
        ):
            raise ValidationError(
                {
                    "options": "topics must be a list of event topics, e.g. "
                    '["sage100.inventory"].'
                }
            )
        if self.schedule:
            from croniter import croniter

            if not croniter.is_valid(self.schedule):
                raise ValidationError(
                    {"schedule": "Not a valid cron expression, e.g. */5 * * * *"}
                )
