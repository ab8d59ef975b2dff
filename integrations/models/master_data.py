"""Two-way master data between Sage 100 and Xero: who owns each field, and what
both sides last agreed on.

A ``MasterDataLink`` pairs one Sage 100 record (customer, vendor or item) with
its Xero counterpart and keeps, per field, the value each side held after the
last sync. A side "changed" a field when its value now differs from that
snapshot; both sides changing the same field is a conflict, settled by the
field's ``MasterDataFieldRule`` (or the built-in default). The fingerprint of
what we last wrote to each side lets the change that our own write causes
(a Xero webhook, a Sage change-feed event) be recognised and ignored.
"""

from django.core.exceptions import ValidationError
from django.db import models
from simple_history.models import HistoricalRecords

from integrations.models.connections import System


class MasterDataKind(models.TextChoices):
    # The same words as the cross-reference kinds the other flows look up.
    CUSTOMER = "customer", "Customers (AR_Customer ⇄ Xero contact)"
    VENDOR = "vendor", "Vendors (AP_Vendor ⇄ Xero supplier contact)"
    ITEM = "item", "Items (CI_Item ⇄ Xero item)"


class FieldOwner(models.TextChoices):
    SAGE100 = "sage100", "Sage 100 wins when both sides changed it"
    XERO = "xero", "Xero wins when both sides changed it"
    NEWEST = "newest", "The later change wins"
    ASK = "ask", "Ask me (the record waits under Needs attention)"
    SAGE100_ONLY = "sage100_only", "Sage 100 only (changes made in Xero are undone)"
    XERO_ONLY = "xero_only", "Xero only (changes made in Sage 100 are undone)"


class _ConnectionPair(models.Model):
    """A kind of master data between one Sage 100 and one Xero connection."""

    kind = models.CharField(max_length=20, choices=MasterDataKind.choices)
    sage_connection = models.ForeignKey(
        "integrations.Connection",
        on_delete=models.CASCADE,
        related_name="+",
        limit_choices_to={"system": System.SAGE100},
    )
    xero_connection = models.ForeignKey(
        "integrations.Connection",
        on_delete=models.CASCADE,
        related_name="+",
        limit_choices_to={"system": System.XERO},
    )

    class Meta:
        abstract = True


class MasterDataLink(_ConnectionPair):
    """One Sage 100 record, its Xero counterpart, and the state of their sync."""

    sage_key = models.CharField(
        max_length=60, help_text="01-ABF for a customer or vendor, the ItemCode."
    )
    xero_id = models.CharField(max_length=64, help_text="The Xero ContactID or ItemID.")
    sage_values = models.JSONField(
        default=dict,
        blank=True,
        help_text="Per field, what Sage 100 held after the last sync.",
    )
    xero_values = models.JSONField(
        default=dict,
        blank=True,
        help_text="Per field, what Xero held after the last sync.",
    )
    sage_written_hash = models.CharField(max_length=64, blank=True)
    sage_written_at = models.DateTimeField(null=True, blank=True)
    xero_written_hash = models.CharField(max_length=64, blank=True)
    xero_written_at = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)
    # Fields waiting for a person: {field: {"sage": ..., "xero": ...}}.
    conflicts = models.JSONField(default=dict, blank=True)
    # Compare-and-set guard: two syncs of one pair never both save a snapshot.
    version = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind", "sage_key"]
        verbose_name = "master data link"
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "sage_connection", "xero_connection", "sage_key"],
                name="masterdatalink_unique_sage_key",
            ),
            models.UniqueConstraint(
                fields=["kind", "sage_connection", "xero_connection", "xero_id"],
                name="masterdatalink_unique_xero_id",
            ),
            models.CheckConstraint(
                condition=~models.Q(sage_key="") & ~models.Q(xero_id=""),
                name="masterdatalink_keys_not_blank",
            ),
        ]
        indexes = [
            models.Index(
                fields=["kind", "xero_connection", "xero_id"],
                name="masterdatalink_xero_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.sage_key} ⇄ {self.xero_id}"


class MasterDataFieldRule(_ConnectionPair):
    """An admin's choice of which side wins a field when both changed it.

    A field without a rule follows the default documented in
    docs/master-data.md (e.g. Sage 100 wins prices, Xero wins email).
    """

    field = models.CharField(max_length=40)
    owner = models.CharField(max_length=20, choices=FieldOwner.choices)
    note = models.CharField(max_length=255, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["kind", "field"]
        verbose_name = "master data field owner"
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "sage_connection", "xero_connection", "field"],
                name="masterdatafieldrule_one_per_field",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.field}: {self.get_owner_display()}"

    def clean(self) -> None:
        from integrations.services import master_data_fields

        if self.kind and self.field:
            names = master_data_fields.field_names(self.kind)
            if self.field not in names:
                raise ValidationError(
                    {
                        "field": f"{self.field!r} is not a synchronised field of "
                        f"{self.get_kind_display().split(' (')[0].lower()}: use one "
                        f"of {', '.join(names)}."
                    }
                )
        if self.sage_connection_id and self.sage_connection.system != System.SAGE100:
            raise ValidationError({"sage_connection": "Choose a Sage 100 connection."})
        if self.xero_connection_id and self.xero_connection.system != System.XERO:
            raise ValidationError({"xero_connection": "Choose a Xero connection."})
