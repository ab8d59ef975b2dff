"""Alert rules (editable, audited) and the alerts they raised (read-only)."""

from __future__ import annotations

from django.contrib import admin
from django.db import models
from simple_history.admin import SimpleHistoryAdmin

from integrations.admin.display import ReadOnlyAdminMixin, admin_link
from integrations.models import Alert, AlertRule


@admin.register(AlertRule)
class AlertRuleAdmin(SimpleHistoryAdmin):
    list_display = (
        "name",
        "enabled",
        "flow",
        "category",
        "channel",
        "cooldown_minutes",
    )
    list_filter = ("enabled", "channel", "category")
    search_fields = ("name", "flow", "recipients")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """What was sent and whether it arrived; a log, so nobody edits it."""

    list_display = ("created_at", "rule", "record_link", "short_message", "delivered")
    list_filter = ("rule", "delivered_at")
    search_fields = ("message",)
    list_select_related = ("rule", "record")
    fields = readonly_fields = (
        "rule",
        "record_link",
        "message",
        "created_at",
        "delivered_at",
        "delivery_error",
    )

    @admin.display(description="record")
    def record_link(self, alert: Alert) -> str:
        return admin_link(alert.record)

    @admin.display(description="message")
    def short_message(self, alert: Alert) -> str:
        return alert.message if len(alert.message) <= 80 else alert.message[:79] + "…"

    @admin.display(description="delivered", boolean=True)
    def delivered(self, alert: Alert) -> bool | None:
        if alert.delivered_at:
            return True
        return False if alert.delivery_error else None
