"""Flows and their field mappings: what admins change without code."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db import models
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from integrations.admin.display import PrettyJSONField
from integrations.flows import registry
from integrations.models import FieldMapping, FlowConfig


def _flow_choices() -> list[tuple[str, str]]:
    # Called per form, so flows registered after start-up (tests, plugins) appear.
    return [("", "---------"), *registry.choices()]


class FlowConfigForm(forms.ModelForm):
    flow = forms.ChoiceField(choices=_flow_choices, help_text="The installed flow.")
    options = PrettyJSONField(rows=6, required=False)

    class Meta:
        model = FlowConfig
        fields = [
            "name",
            "flow",
            "source_connection",
            "target_connection",
            "enabled",
            "trigger",
            "schedule",
            "max_attempts",
            "options",
            "watermark",
        ]

    def clean_options(self):
        return self.cleaned_data["options"] or {}


class FieldMappingInline(admin.TabularInline):
    model = FieldMapping
    extra = 1
    ordering = ("position", "id")
    # Field paths and arguments ({"length": 10}) are short; one-line boxes keep
    # each mapping on one row of the page.
    formfield_overrides = {
        models.CharField: {"widget": forms.TextInput(attrs={"size": 18})},
        models.JSONField: {"widget": forms.TextInput(attrs={"size": 18})},
    }
    fields = (
        "position",
        "source_field",
        "target_field",
        "transform",
        "transform_args",
        "default",
        "required",
        "enabled",
    )


@admin.register(FlowConfig)
class FlowConfigAdmin(SimpleHistoryAdmin):
    form = FlowConfigForm
    inlines = [FieldMappingInline]
    list_display = (
        "name",
        "flow",
        "source_connection",
        "target_connection",
        "enabled",
        "trigger",
        "schedule",
        "next_run_at",
        "record_link",
    )
    list_filter = ("enabled", "trigger", "flow")
    search_fields = ("name", "flow")
    list_select_related = ("source_connection", "target_connection")
    readonly_fields = ("next_run_at", "last_run_at", "created_at", "updated_at")
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "name",
                    "flow",
                    ("source_connection", "target_connection"),
                    "enabled",
                ]
            },
        ),
        ("When it runs", {"fields": ["trigger", "schedule", "max_attempts"]}),
        ("Options", {"fields": ["options", "watermark"]}),
        (
            "Activity",
            {"fields": [("next_run_at", "last_run_at"), ("created_at", "updated_at")]},
        ),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(record_count=Count("records"))

    @admin.display(description="records", ordering="record_count")
    def record_link(self, config: FlowConfig) -> str:
        url = reverse("admin:integrations_syncrecord_changelist")
        return format_html(
            '<a href="{}?flow_config__id__exact={}">{}</a>',
            url,
            config.pk,
            config.record_count,
        )


@admin.register(FieldMapping)
class FieldMappingAdmin(SimpleHistoryAdmin):
    list_display = (
        "flow_config",
        "position",
        "source_field",
        "target_field",
        "transform",
        "required",
        "enabled",
    )
    list_filter = ("flow_config", "transform", "required", "enabled")
    search_fields = ("source_field", "target_field")
    list_select_related = ("flow_config",)
    ordering = ("flow_config", "position", "id")
