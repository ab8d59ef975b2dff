from django.db import models
from rest_framework_api_key.models import AbstractAPIKey


class ConnectionAPIKey(AbstractAPIKey):
    """A hashed key an external system uses to call our API, limited by scopes."""

    class Scope(models.TextChoices):
        RECORDS_READ = "records:read", "Read records"
        RECORDS_WRITE = "records:write", "Resubmit and ignore records"
        INBOUND = "inbound", "Send inbound events"
        SAGE100_CREDIT_CHECK = (
            "sage100:credit-check",
            "Check a Sage 100 customer's credit",
        )

    connection = models.ForeignKey(
        "integrations.Connection",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="api_keys",
        help_text="Inbound calls with this key may only target this connection.",
    )
    scopes = models.JSONField(default=list, blank=True)

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "API key"
        verbose_name_plural = "API keys"

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes
