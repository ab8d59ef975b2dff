from django.db import models
from simple_history.models import HistoricalRecords


class XrefKind(models.TextChoices):
    CUSTOMER = "customer", "Customer"
    VENDOR = "vendor", "Vendor"
    ITEM = "item", "Item"
    ORDER = "order", "Order"
    INVOICE = "invoice", "Invoice"
    STATUS = "status", "Status"
    GL_ACCOUNT = "gl_account", "GL account"
    WAREHOUSE = "warehouse", "Warehouse"
    CURRENCY = "currency", "Currency"
    TAX = "tax", "Tax code"
    TERMS = "terms", "Terms code"


class CrossReference(models.Model):
    """A value in one system and its counterpart in another.

    Only the source side is unique: several Salesforce stages may map to one Sage
    order status, but one Salesforce stage never means two.
    """

    kind = models.CharField(max_length=20, choices=XrefKind.choices)
    source_connection = models.ForeignKey(
        "integrations.Connection", on_delete=models.CASCADE, related_name="+"
    )
    target_connection = models.ForeignKey(
        "integrations.Connection", on_delete=models.CASCADE, related_name="+"
    )
    source_value = models.CharField(max_length=255)
    target_value = models.CharField(max_length=255)
    note = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["kind", "source_value"]
        verbose_name = "cross-reference"
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "kind",
                    "source_connection",
                    "target_connection",
                    "source_value",
                ],
                name="crossreference_unique_source_value",
            ),
            models.CheckConstraint(
                condition=~models.Q(source_value="") & ~models.Q(target_value=""),
                name="crossreference_values_not_blank",
            ),
        ]
        indexes = [
            # Reverse lookups: "which Salesforce account is Sage customer 01-ABF?"
            models.Index(
                fields=["kind", "target_connection", "target_value"],
                name="crossreference_reverse_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.source_value} → {self.target_value}"
