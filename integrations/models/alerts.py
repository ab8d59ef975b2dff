from datetime import datetime, timedelta

from django.db import models
from django.db.models.functions import Coalesce
from django.utils import timezone
from simple_history.models import HistoricalRecords

from integrations.models.records import ErrorCategory


class AlertChannel(models.TextChoices):
    EMAIL = "email", "Email"
    WEBHOOK = "webhook", "Chat webhook (Slack-compatible JSON)"


class AlertRule(models.Model):
    """When records need attention, who hears about it and how often."""

    name = models.CharField(max_length=100)
    enabled = models.BooleanField(default=True)
    flow = models.CharField(max_length=80, blank=True, help_text="Empty: any flow.")
    category = models.CharField(
        max_length=20,
        choices=ErrorCategory.choices,
        blank=True,
        help_text="Empty: any category.",
    )
    channel = models.CharField(max_length=20, choices=AlertChannel.choices)
    recipients = models.CharField(
        max_length=1000, blank=True, help_text="Email addresses, comma separated."
    )
    webhook_url = models.URLField(blank=True)
    cooldown_minutes = models.PositiveIntegerField(
        default=15, help_text="At most one alert per rule in this window."
    )
    min_count = models.PositiveIntegerField(
        default=1,
        help_text="Alert when at least this many matching records need attention.",
    )
    min_age_minutes = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Alert only about records waiting this long. Empty: at once.",
    )
    daily_digest = models.BooleanField(
        default=False,
        help_text="Also send one summary a day of everything that needs attention.",
    )
    last_digest_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    # The webhook URL is the chat channel's secret: not copied into history.
    history = HistoricalRecords(excluded_fields=["webhook_url"])

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(channel="email") | ~models.Q(recipients=""),
                name="alertrule_email_has_recipients",
            ),
            models.CheckConstraint(
                condition=~models.Q(channel="webhook") | ~models.Q(webhook_url=""),
                name="alertrule_webhook_has_url",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def matches(self, *, flow: str, category: str) -> bool:
        return (not self.flow or self.flow == flow) and (
            not self.category or self.category == category
        )

    @property
    def is_threshold(self) -> bool:
        """Counts or ages records (checked periodically) rather than one at a time."""
        return self.min_count > 1 or bool(self.min_age_minutes)

    def waiting(self, *, now: datetime | None = None) -> models.QuerySet:
        """Records needing attention that this rule is about, annotated with
        ``waiting_since``: when they landed in needs attention."""
        from integrations.models.records import RecordStatus, SyncRecord

        records = SyncRecord.objects.filter(
            status=RecordStatus.NEEDS_ATTENTION
        ).annotate(waiting_since=Coalesce("finished_at", "created_at"))
        if self.flow:
            records = records.filter(flow=self.flow)
        if self.category:
            records = records.filter(error_category=self.category)
        if self.min_age_minutes:
            since = (now or timezone.now()) - timedelta(minutes=self.min_age_minutes)
            records = records.filter(waiting_since__lte=since)
        return records

    def is_cooling_down(self, *, now: datetime | None = None) -> bool:
        """An alert was raised within the cool-down. Daily digests (the alerts
        about no one record) do not count: they must not silence a new failure."""
        since = (now or timezone.now()) - timedelta(minutes=self.cooldown_minutes)
        return self.alerts.filter(created_at__gte=since, record__isnull=False).exists()

    def digest_due(self, *, now: datetime | None = None, hour: int = 7) -> bool:
        """Once a local day, from ``hour`` o'clock on."""
        if not self.daily_digest:
            return False
        local = timezone.localtime(now or timezone.now())
        if local.hour < hour:
            return False
        last = self.last_digest_at
        return last is None or timezone.localtime(last).date() < local.date()


class Alert(models.Model):
    """One notification raised by a rule, and whether it was delivered."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="alerts")
    record = models.ForeignKey(
        "integrations.SyncRecord",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="alerts",
    )
    message = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    delivery_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # Cool-down check: the newest alert of a rule.
            models.Index(fields=["rule", "-created_at"], name="alert_rule_recent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.rule}: {self.message[:60]}"
