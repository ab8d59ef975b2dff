from django.db import models
from simple_history.models import HistoricalRecords


class Transform(models.TextChoices):
    NONE = "", "None"
    UPPER = "upper", "Upper-case"
    LOWER = "lower", "Lower-case"
    TRIM = "trim", "Trim spaces"
    TRUNCATE = "truncate", "Truncate to length"
    ZERO_PAD = "zero_pad", "Zero-fill to length"
    DATE_FORMAT = "date_format", "Date format"
    DECIMAL = "decimal", "Decimal number"
    VALUE_MAP = "value_map", "Value map"
    XREF = "xref", "Cross-reference lookup"
    CONCAT = "concat", "Concatenate"
    SPLIT = "split", "Split and pick"
    CURRENCY = "currency", "Currency conversion"
    ADDRESS = "address", "Address standardise"


class FieldMapping(models.Model):
    """source field → target field for one flow, applied in ``position`` order."""

    flow_config = models.ForeignKey(
        "integrations.FlowConfig", on_delete=models.CASCADE, related_name="mappings"
    )
    position = models.PositiveIntegerField(default=0)
    source_field = models.CharField(
        max_length=200, blank=True, help_text="Dotted path, e.g. customer.email"
    )
    target_field = models.CharField(max_length=200)
    transform = models.CharField(
        max_length=20, choices=Transform.choices, blank=True, default=""
    )
    transform_args = models.JSONField(default=dict, blank=True)
    default = models.CharField(max_length=500, blank=True)
    required = models.BooleanField(default=False)
    enabled = models.BooleanField(default=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["flow_config", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["flow_config", "target_field"],
                name="fieldmapping_unique_target_per_flow",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source_field or '(default)'} → {self.target_field}"
