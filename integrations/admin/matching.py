"""Match decisions: a person's verdict on a pair the matcher could not decide."""

from __future__ import annotations

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from integrations.models import MatchDecision


@admin.register(MatchDecision)
class MatchDecisionAdmin(SimpleHistoryAdmin):
    list_display = (
        "kind",
        "source_value",
        "target_value",
        "verdict",
        "score",
        "decided_by",
        "decided_at",
    )
    list_filter = ("kind", "verdict", "source_connection", "target_connection")
    search_fields = ("source_value", "target_value", "reasons")
    search_help_text = "Matches either side's value or the reasons."
    list_select_related = ("source_connection", "target_connection", "decided_by")
    readonly_fields = ("decided_by", "decided_at")
    change_list_template = "admin/integrations/matchdecision/change_list.html"
    fields = (
        "kind",
        ("source_connection", "source_value"),
        ("target_connection", "target_value"),
        "verdict",
        ("score", "reasons"),
        ("decided_by", "decided_at"),
    )

    def save_model(self, request, obj, form, change) -> None:
        obj.decided_by = request.user
        super().save_model(request, obj, form, change)
