"""Change feeds: how we notice changes in a system that cannot tell us (Sage 100).

A ChangeFeed polls one table of one connection; ChangeFeedRow remembers the last
version of each row it reported, so a row is reported once per real change no
matter how often the overlap window or a reconciliation reads it again.
"""

from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from simple_history.models import HistoricalRecords

from integrations.models.connections import System


class FeedTable(models.TextChoices):
    AR_CUSTOMER = "AR_Customer", "Customers (AR_Customer)"
    CI_ITEM = "CI_Item", "Items (CI_Item)"
    IM_ITEM_WAREHOUSE = "IM_ItemWarehouse", "Inventory (IM_ItemWarehouse)"
    SO_SALES_ORDER_HEADER = "SO_SalesOrderHeader", "Sales orders (SO_SalesOrderHeader)"
    AR_INVOICE_HISTORY_HEADER = (
        "AR_InvoiceHistoryHeader",
        "Posted invoices (AR_InvoiceHistoryHeader)",
    )
    AP_VENDOR = "AP_Vendor", "Vendors (AP_Vendor)"
    PO_PURCHASE_ORDER_HEADER = (
        "PO_PurchaseOrderHeader",
        "Purchase orders (PO_PurchaseOrderHeader)",
    )
    AP_OPEN_INVOICE = "AP_OpenInvoice", "A/P invoices (AP_OpenInvoice)"


# The topic flows subscribe to (Flow.topics); one per table.
TOPICS = {
    FeedTable.AR_CUSTOMER: "sage100.customer",
    FeedTable.CI_ITEM: "sage100.item",
    FeedTable.IM_ITEM_WAREHOUSE: "sage100.inventory",
    FeedTable.SO_SALES_ORDER_HEADER: "sage100.sales_order",
    FeedTable.AR_INVOICE_HISTORY_HEADER: "sage100.invoice",
    FeedTable.AP_VENDOR: "sage100.vendor",
    FeedTable.PO_PURCHASE_ORDER_HEADER: "sage100.purchase_order",
    FeedTable.AP_OPEN_INVOICE: "sage100.ap_invoice",
}


class FeedMode(models.TextChoices):
    STAMPS = "stamps", "DateUpdated/TimeUpdated stamps (plus periodic reconciliation)"
    HASH = "hash", "Read the whole table every poll and compare row hashes"


def default_mode(table: str) -> str:
    """Inventory quantities move through transactions that may not stamp the row."""
    return FeedMode.HASH if table == FeedTable.IM_ITEM_WAREHOUSE else FeedMode.STAMPS


class ChangeFeed(models.Model):
    """One polled table of one Sage 100 connection, and where its last poll stopped."""

    connection = models.ForeignKey(
        "integrations.Connection",
        on_delete=models.PROTECT,
        related_name="change_feeds",
        limit_choices_to={"system": System.SAGE100},
    )
    table = models.CharField(max_length=40, choices=FeedTable.choices)
    mode = models.CharField(
        max_length=10,
        choices=FeedMode.choices,
        blank=True,
        help_text="Empty: hash for inventory, stamps for everything else.",
    )
    enabled = models.BooleanField(default=True)
    interval_seconds = models.PositiveIntegerField(
        default=60,
        validators=[MinValueValidator(10)],
        help_text="How often the table is polled.",
    )
    overlap_seconds = models.PositiveIntegerField(
        default=120,
        help_text="Each poll re-reads this far behind the watermark, for rows "
        "committed late or stamped by a slow clock.",
    )
    reconcile_every_seconds = models.PositiveIntegerField(
        default=3600,
        help_text="How often the whole table is compared row by row, to catch "
        "changes that did not move the stamps. 0: only when asked.",
    )
    # Where the last poll stopped, in the Sage server's local time.
    watermark_date = models.DateField(null=True, blank=True)
    watermark_seconds = models.PositiveIntegerField(
        null=True, blank=True, help_text="Seconds since midnight."
    )
    watermark_key = models.CharField(max_length=255, blank=True)
    # Bumped by every poll that reports changes: the compare-and-set that stops
    # two pollers from both reporting the same rows.
    version = models.PositiveBigIntegerField(default=0)
    next_poll_at = models.DateTimeField(null=True, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_reconciled_at = models.DateTimeField(null=True, blank=True)
    resync_requested = models.BooleanField(
        default=False, help_text="The next poll compares the whole table."
    )
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Only what a person edits: the poller's bookkeeping would flood the history.
    history = HistoricalRecords(
        excluded_fields=[
            "watermark_date",
            "watermark_seconds",
            "watermark_key",
            "version",
            "next_poll_at",
            "last_polled_at",
            "last_reconciled_at",
            "resync_requested",
            "last_error",
            "updated_at",
        ]
    )

    class Meta:
        ordering = ["connection", "table"]
        verbose_name = "change feed"
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "table"],
                name="changefeed_unique_table_per_connection",
                violation_error_message="This connection already has a feed for "
                "this table.",
            ),
            models.CheckConstraint(
                condition=models.Q(mode__in=["stamps", "hash"]),
                name="changefeed_mode_known",
                violation_error_message="The mode must be stamps or hash.",
            ),
            models.CheckConstraint(
                condition=models.Q(interval_seconds__gt=0),
                name="changefeed_interval_positive",
                violation_error_message="The interval must be at least one second.",
            ),
            # A watermark is a date and a time of day, or nothing at all.
            models.CheckConstraint(
                condition=models.Q(
                    watermark_date__isnull=True, watermark_seconds__isnull=True
                )
                | models.Q(
                    watermark_date__isnull=False,
                    watermark_seconds__isnull=False,
                    watermark_seconds__lt=86400,
                ),
                name="changefeed_watermark_complete",
            ),
        ]
        indexes = [
            # The scheduler's question every tick: which enabled feeds are due?
            models.Index(
                fields=["next_poll_at"],
                condition=models.Q(enabled=True),
                name="changefeed_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.connection.name}: {self.table}"

    def save(self, *args, **kwargs) -> None:
        if not self.mode and self.table:
            self.mode = default_mode(self.table)
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "mode"}
        super().save(*args, **kwargs)

    @property
    def topic(self) -> str:
        return TOPICS.get(self.table, "")

    @property
    def watermark(self) -> datetime | None:
        """The stamp of the last reported row, as a naive Sage-local datetime."""
        if self.watermark_date is None or self.watermark_seconds is None:
            return None
        return datetime.combine(self.watermark_date, time()) + timedelta(
            seconds=self.watermark_seconds
        )

    def reconcile_due(self, now: datetime) -> bool:
        if self.resync_requested or self.last_reconciled_at is None:
            return True
        every = self.reconcile_every_seconds
        return bool(every) and now - self.last_reconciled_at >= timedelta(seconds=every)

    def clean(self) -> None:
        if not self.mode and self.table:
            self.mode = default_mode(self.table)
        if self.connection_id and self.connection.system != System.SAGE100:
            raise ValidationError(
                {
                    "connection": "Change feeds read Sage 100: pick a Sage 100 "
                    "connection."
                }
            )


def watermark_fields(moment: datetime | None, key: str = "") -> dict:
    """The three watermark columns for ``moment`` (seconds dropped below one)."""
    if moment is None:
        return {"watermark_date": None, "watermark_seconds": None, "watermark_key": ""}
    day: date = moment.date()
    seconds = moment.hour * 3600 + moment.minute * 60 + moment.second
    return {
        "watermark_date": day,
        "watermark_seconds": seconds,
        "watermark_key": key[:255],
    }


class ChangeFeedRow(models.Model):
    """The version of one Sage row we last reported: the de-duplication and the
    base a reconciliation compares the table with."""

    feed = models.ForeignKey(ChangeFeed, on_delete=models.CASCADE, related_name="rows")
    key = models.CharField(max_length=255, help_text="Sage's key columns, joined by |.")
    row_hash = models.CharField(max_length=64)
    date_updated = models.DateField(null=True, blank=True)
    time_updated = models.CharField(
        max_length=12, blank=True, help_text="Sage's TimeUpdated, decimal hours."
    )
    seen_at = models.DateTimeField()
    # Chained into the next event's id, so a value that flips back and forth
    # without new stamps never repeats an id (the inbox would drop it).
    last_event_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["feed", "key"]
        verbose_name = "change feed row"
        constraints = [
            # Also the index every poll's "what did we report for these keys?" uses.
            models.UniqueConstraint(
                fields=["feed", "key"], name="changefeedrow_unique_key_per_feed"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.feed.table} {self.key}"
