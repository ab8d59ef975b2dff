from django.db import models
from simple_history.models import HistoricalRecords

from integrations.fields import EncryptedJSONField


class System(models.TextChoices):
    SAGE100 = "sage100", "Sage 100"
    SALESFORCE = "salesforce", "Salesforce"
    XERO = "xero", "Xero"
    SHOPIFY = "shopify", "Shopify"
    GENERIC = "generic", "Generic HTTP"


class ConnectionStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    NEEDS_REAUTH = "needs_reauth", "Needs re-authorisation"
    DISABLED = "disabled", "Disabled"


class Connection(models.Model):
    """One account in one external system, with its secrets and API budget."""

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=60, unique=True)
    system = models.CharField(max_length=20, choices=System.choices)
    status = models.CharField(
        max_length=20, choices=ConnectionStatus.choices, default=ConnectionStatus.ACTIVE
    )
    status_message = models.CharField(max_length=500, blank=True)
    settings = models.JSONField(
        default=dict, blank=True, help_text="Non-secret settings: URLs, company code…"
    )
    credentials = EncryptedJSONField(
        blank=True,
        help_text="Secrets (tokens, passwords, signing secrets), encrypted at rest.",
    )
    # The shared per-connection throttle keeps every worker inside these numbers.
    calls_per_minute = models.PositiveIntegerField(null=True, blank=True)
    calls_per_day = models.PositiveIntegerField(null=True, blank=True)
    max_concurrent_calls = models.PositiveIntegerField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    # The latest "Test connection" (by a person or the periodic check).
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_check_ok = models.BooleanField(
        null=True, blank=True, help_text="Empty: never checked, or cannot be."
    )
    last_check_message = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(excluded_fields=["credentials"])

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(calls_per_minute__isnull=True)
                | models.Q(calls_per_minute__gt=0),
                name="connection_calls_per_minute_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(calls_per_day__isnull=True)
                | models.Q(calls_per_day__gt=0),
                name="connection_calls_per_day_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_system_display()})"

    @property
    def signing_secret(self) -> str:
        return str(self.credentials.get("signing_secret", ""))

    @property
    def is_usable(self) -> bool:
        return self.status == ConnectionStatus.ACTIVE
