from django.db import models
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

    history = HistoricalRecords()

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
