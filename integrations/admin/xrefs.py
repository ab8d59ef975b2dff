"""Cross-reference tables: edited in the list, like a spreadsheet."""

from __future__ import annotations

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from integrations.models import CrossReference


@admin.register(CrossReference)
class CrossReferenceAdmin(SimpleHistoryAdmin):
    list_display = (
        "kind",
        "source_connection",
        "source_value",
        "target_connection",
        "target_value",
        "note",
        "updated_at",
    )
    list_display_links = ("source_value",)
    list_editable = ("target_value", "note")
    list_filter = ("kind", "source_connection", "target_connection")
    search_fields = ("source_value", "target_value", "note")
    search_help_text = "Matches either side's value or the note."
    list_select_related = ("source_connection", "target_connection")
    readonly_fields = ("created_at", "updated_at")
    list_per_page = 100
