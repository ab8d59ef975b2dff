"""Change feeds: which Sage 100 tables are watched, how often, and how it went.

The buttons call ``services.changefeeds`` and nothing else.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.utils.html import format_html
from django_object_actions import DjangoObjectActions, action
from simple_history.admin import SimpleHistoryAdmin

from integrations.admin.display import relative_time
from integrations.models import ChangeFeed
from integrations.services import changefeeds

# What identifies a feed is fixed once it exists: its watermark and row hashes
# belong to that table, and moving them to another would report false removals.
IDENTITY = ["connection", "table"]
EDITABLE = [
    "mode",
    "enabled",
    "interval_seconds",
    "overlap_seconds",
    "reconcile_every_seconds",
]


def poll_message(feed: ChangeFeed, result: changefeeds.PollResult) -> tuple[int, str]:
    """What a person reads after "Poll now", in plain words."""
    name = f"{feed.connection.name} {feed.table}"
    if result.error:
        return messages.ERROR, f"{name}: Sage 100 was not read. {result.error}"
    if result.skipped:
        return messages.WARNING, f"{name}: {result.skipped}"
    how = "compared the whole table" if result.reconciled else "read the latest rows"
    if not result.emitted:
        return messages.SUCCESS, f"{name}: {how}; nothing changed."
    parts = [
        f"{count} {word}"
        for count, word in (
            (result.created, "new"),
            (result.changed, "changed"),
            (result.removed, "removed"),
        )
        if count
    ]
    return (
        messages.SUCCESS,
        f"{name}: {how}; sent {', '.join(parts)} row(s) to the subscribed flows.",
    )


@admin.register(ChangeFeed)
class ChangeFeedAdmin(DjangoObjectActions, SimpleHistoryAdmin):
    list_display = (
        "connection",
        "table",
        "mode",
        "enabled",
        "interval_seconds",
        "last_polled",
        "error",
        "rows_tracked",
    )
    list_filter = ("enabled", "mode", "table", "connection")
    list_select_related = ("connection",)
    actions = ("poll_selected", "resync_selected")
    change_actions = ("poll_now", "resync")
    readonly_fields = (
        "topic",
        "watermark_shown",
        "next_poll_at",
        "last_polled_at",
        "last_reconciled_at",
        "resync_requested",
        "last_error",
        "created_at",
        "updated_at",
    )

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        return (*IDENTITY, *fields) if obj is not None else fields

    fieldsets = [
        (None, {"fields": ["connection", "table", "topic", "mode", "enabled"]}),
        (
            "When it polls",
            {
                "fields": [
                    "interval_seconds",
                    "overlap_seconds",
                    "reconcile_every_seconds",
                ]
            },
        ),
        (
            "Activity",
            {
                "fields": [
                    "watermark_shown",
                    ("next_poll_at", "last_polled_at"),
                    ("last_reconciled_at", "resync_requested"),
                    "last_error",
                    ("created_at", "updated_at"),
                ]
            },
        ),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(row_count=Count("rows"))

    @admin.display(description="last polled", ordering="last_polled_at")
    def last_polled(self, feed: ChangeFeed) -> str:
        return relative_time(feed.last_polled_at)

    @admin.display(description="last error", ordering="last_error")
    def error(self, feed: ChangeFeed) -> str:
        if not feed.last_error:
            return format_html('<span class="lb-muted">{}</span>', "none")
        return feed.last_error

    @admin.display(description="rows tracked", ordering="row_count")
    def rows_tracked(self, feed: ChangeFeed) -> int:
        return feed.row_count

    @admin.display(description="watermark (Sage time)")
    def watermark_shown(self, feed: ChangeFeed) -> str:
        if feed.watermark is None:
            return "Not polled yet: the first poll reads the whole table."
        key = f", row {feed.watermark_key}" if feed.watermark_key else ""
        return f"{feed.watermark:%Y-%m-%d %H:%M:%S}{key}"

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            super().save_model(request, obj, form, change)
            return
        if {"interval_seconds", "enabled"} & set(form.changed_data):
            obj.next_poll_at = None  # poll on the next tick, then every interval
        # Only what the form edits: the poller may have moved the watermark
        # since this page was loaded.
        obj.save(update_fields=[*EDITABLE, "next_poll_at", "updated_at"])

    # -- buttons ---------------------------------------------------------------

    @action(
        label="Poll now",
        description="Read Sage 100 for changes now and send them to the flows",
        methods=("POST",),
        button_type="form",
    )
    def poll_now(self, request, feed: ChangeFeed) -> None:
        self._require_change(request, feed)
        self._poll(request, feed)

    @action(
        label="Resync this table",
        description="Compare every row with what was last sent, at the next poll",
        methods=("POST",),
        button_type="form",
    )
    def resync(self, request, feed: ChangeFeed) -> None:
        self._require_change(request, feed)
        changefeeds.resync(feed.pk)
        messages.success(request, self._resync_message(feed))

    @admin.action(description="Poll selected feeds now", permissions=["change"])
    def poll_selected(self, request, queryset) -> None:
        for feed in queryset.select_related("connection").order_by("pk"):
            self._poll(request, feed)

    @admin.action(description="Resync selected tables", permissions=["change"])
    def resync_selected(self, request, queryset) -> None:
        for feed in queryset.select_related("connection").order_by("pk"):
            changefeeds.resync(feed.pk)
            messages.success(request, self._resync_message(feed))

    # -- helpers -----------------------------------------------------------------

    def _poll(self, request, feed: ChangeFeed) -> None:
        level, text = poll_message(feed, changefeeds.poll_feed(feed.pk))
        messages.add_message(request, level, text)

    @staticmethod
    def _resync_message(feed: ChangeFeed) -> str:
        return (
            f"{feed.connection.name} {feed.table}: the next poll (within a minute) "
            "compares every row with what was last sent, and sends the differences "
            "and the rows that were removed."
        )

    def _require_change(self, request, feed: ChangeFeed) -> None:
        # django-object-actions only checks that the user is staff.
        if not self.has_change_permission(request, feed):
            raise PermissionDenied
