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

    def get_fields(self, request, obj=None):
        fields = list(super().get_fields(request, obj))
        if obj is not None and not self.has_change_permission(request, obj):
            # Those who may only look see that a webhook is set, not its secret URL.
            fields = ["webhook" if f == "webhook_url" else f for f in fields]
        return fields

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None and not self.has_change_permission(request, obj):
            readonly.append("webhook")
        return readonly

    @admin.display(description="chat webhook")
    def webhook(self, rule: AlertRule) -> str:
        if not rule.webhook_url:
            return "—"
        host = rule.webhook_url.split("/")[2] if "//" in rule.webhook_url else ""
        return f"set ({host}/…, hidden)"


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
